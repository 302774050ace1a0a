/**
 * Software and services routes (ADR 0018 §5–§7): operators track packages, services, collector
 * scripts and the collection interval, read the tables and launch upgrades and service actions;
 * agents fetch the tracking config (signed, ETag) and PUT their inventory report (signed).
 * Every write is in the audit log (SoftwareService records it).
 */
import { agentInventoryReportSchema, collectorSchema, inventoryAckSchema, trackingConfigSchema, type AgentInventoryReport, type Collector } from '../../schemas/inventory-protocol.js';
import {
  collectorListSchema,
  packageManager,
  packageStatus,
  packageTableSchema,
  packageUpgradeRequestSchema,
  serviceActionByPathSchema,
  serviceActionRequestSchema,
  serviceTableSchema,
  softwareActionResultSchema,
  softwareHostSchema,
  softwareSettingsSchema,
  trackedListSchema,
  trackedPackageSchema,
  trackedServiceSchema,
  type PackageManager,
  type SoftwareSettings,
  type TrackedPackage,
  type TrackedService,
} from '../../schemas/api/software.js';
import type { RolloutPolicy } from '../../schemas/api/rollouts.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import type { VersionStatus } from '../../schemas/version-order.js';
import { ApiError } from '../domain/errors.js';
import { hostNamePatternSource } from '../domain/host-name.js';
import type { SoftwareActor } from '../services/software/software-service.js';
import { ownHost } from './agent-routes.js';
import type { AppContext } from './app-state.js';
import { jsonBody } from './body.js';
import { checkProtocol } from './protocol.js';
import { answerNotModified, errorResponse as err, operatorOf } from './route-helpers.js';
import type { RouteSpec } from './route-spec.js';

type UpgradeRequest = { targets?: string; policy?: RolloutPolicy; version?: string };
type ActionRequest = { action: 'start' | 'stop' | 'restart'; targets: string; policy?: RolloutPolicy; includeInactive?: boolean };
type ActionByPath = Omit<ActionRequest, 'action'>;

const trackedPackageGuard: Guard<TrackedPackage> = compileGuard(trackedPackageSchema);
const trackedServiceGuard: Guard<TrackedService> = compileGuard(trackedServiceSchema);
const collectorGuard: Guard<Collector> = compileGuard(collectorSchema);
const settingsGuard: Guard<SoftwareSettings> = compileGuard(softwareSettingsSchema);
const reportGuard: Guard<AgentInventoryReport> = compileGuard(agentInventoryReportSchema);
const upgradeGuard: Guard<UpgradeRequest> = compileGuard(packageUpgradeRequestSchema) as Guard<UpgradeRequest>;
const actionGuard: Guard<ActionRequest> = compileGuard(serviceActionRequestSchema) as Guard<ActionRequest>;
const actionByPathGuard: Guard<ActionByPath> = compileGuard(serviceActionByPathSchema) as Guard<ActionByPath>;

/** Largest inventory report: 1,000 packages, 500 services, 2,000 virtuals with attributes fit well within. */
export const inventoryReportMaxBytes = 4 * 1024 * 1024;
const smallBody = 64 * 1024;
const collectorBody = 128 * 1024;

const managers = packageManager.enum as readonly string[];
const statuses = packageStatus.enum as readonly string[];
const nameRe = /^[A-Za-z0-9@][A-Za-z0-9@+._/-]{0,127}$/;
const serviceRe = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$/;
const collectorRe = /^[a-z0-9][a-z0-9_-]{0,63}$/;
// Host names follow the one rule of server/domain/host-name.ts (as every other route does).
const hostRe = new RegExp(hostNamePatternSource);

function actor(ctx: AppContext): SoftwareActor {
  const p = operatorOf(ctx);
  return { name: p.name, role: p.role, scope: p.scope, address: ctx.ip };
}

function param(ctx: AppContext, name: string, re: RegExp, what: string): string {
  const v = ctx.params[name] ?? '';
  if (!re.test(v)) throw new ApiError('BAD_REQUEST', `${v.slice(0, 100)} is not a ${what}`);
  return v;
}

function managerParam(ctx: AppContext): PackageManager {
  const m = ctx.params['manager'] ?? '';
  if (!managers.includes(m)) throw new ApiError('BAD_REQUEST', `unknown package manager ${m.slice(0, 40)} (${managers.join(', ')})`);
  return m as PackageManager;
}

function query(ctx: AppContext, name: string, re: RegExp, what: string): string | undefined {
  const v = ctx.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !re.test(v)) throw new ApiError('BAD_REQUEST', `query parameter ${name} must be ${what}`);
  return v;
}

function limitQuery(ctx: AppContext): number | undefined {
  const l = query(ctx, 'limit', /^\d{1,4}$/, 'an integer between 1 and 5000');
  if (l === undefined) return undefined;
  const n = Number(l);
  if (n < 1 || n > 5000) throw new ApiError('BAD_REQUEST', 'query parameter limit must be an integer between 1 and 5000');
  return n;
}

const pageQuery = {
  limit: { description: 'at most this many rows (1-5000, default 500)', schema: { type: 'integer', minimum: 1, maximum: 5000 } },
  after: { description: 'cursor: the `next` of the previous page', schema: { type: 'string', maxLength: 2000 } },
} as const;

function actionRoute(action: 'start' | 'stop' | 'restart'): RouteSpec {
  return {
    method: 'POST',
    path: `/api/v1/software/services/:name/${action}`,
    auth: 'write',
    audit: [`software.service-${action}`],
    tag: 'software',
    summary: `${action[0]!.toUpperCase()}${action.slice(1)} a tracked service on the targets: an audited job (systemctl ${action} UNIT, or the tracked commands of a process service), a job rollout when policy is given. Hosts whose lifecycle is not online are left out unless includeInactive.`,
    body: { types: ['application/json'], limit: smallBody, schema: serviceActionByPathSchema },
    responses: { 201: { description: 'the job or rollout', schema: softwareActionResultSchema }, 400: err('bad body, bad selector, no runnable host, or the safety audit blocks the script'), 403: err('a viewer, or a host outside the scope'), 404: err('the service is not tracked') },
    async handler(ctx, s) {
      const name = param(ctx, 'name', serviceRe, 'service name');
      const body = await jsonBody(ctx, actionByPathGuard, smallBody);
      ctx.status = 201;
      ctx.body = await s.software.serviceAction(name, { ...body, action }, actor(ctx));
    },
  };
}

export const softwareRoutes: readonly RouteSpec[] = [
  // ------------------------------------------------------------------ agents
  {
    method: 'GET',
    path: '/api/v1/hosts/:host/tracking',
    auth: 'agent',
    tag: 'agents',
    summary: 'The tracking config of the calling host (tracked packages, services, collector scripts, interval). ETag is its version; If-None-Match gives 304.',
    responses: { 200: { description: 'the config', schema: trackingConfigSchema }, 304: { description: 'unchanged' }, 403: err('another host, pending or revoked') },
    async handler(ctx, s) {
      checkProtocol(ctx);
      ownHost(ctx);
      const config = await s.software.trackingConfig();
      if (answerNotModified(ctx, config.version)) return;
      ctx.body = config;
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/hosts/:host/inventory',
    auth: 'agent',
    tag: 'agents',
    summary: 'Replace the calling host\'s inventory report (packages, services, virtual resources, errors). The answer carries the current tracking config version: refetch when it differs.',
    body: { types: ['application/json'], limit: inventoryReportMaxBytes, schema: agentInventoryReportSchema },
    responses: { 200: { description: 'stored', schema: inventoryAckSchema }, 400: err('invalid report'), 403: err('another host'), 413: err('larger than 4 MiB'), 429: err('more than 20 reports from this host in a minute; retry after Retry-After seconds') },
    async handler(ctx, s) {
      checkProtocol(ctx);
      const p = ownHost(ctx);
      // The rate is checked before the body is read: a refused report costs no parsing.
      if (!s.software.takeReport(p.host)) throw new ApiError('RATE_LIMITED', `host ${p.host} sent more inventory reports this minute than allowed; retry in a minute`).retryAfter(60);
      const report = await jsonBody(ctx, reportGuard, inventoryReportMaxBytes);
      ctx.body = await s.software.ingest(p.host, report);
    },
  },
  // ------------------------------------------------------------------ tables
  {
    method: 'GET',
    path: '/api/v1/software/packages',
    auth: 'read',
    tag: 'software',
    summary: 'Tracked packages per host (installed against approved, ordered as the manager orders versions), the tracked list, and the fleet view: per package, how many hosts run each version.',
    query: {
      host: { description: 'only this host', schema: { type: 'string' } },
      name: { description: 'only this package', schema: { type: 'string' } },
      manager: { description: 'only this manager', schema: packageManager },
      status: { description: 'only rows with this status', schema: packageStatus },
      ...pageQuery,
    },
    responses: { 200: { description: 'the table', schema: packageTableSchema }, 400: err('bad query') },
    async handler(ctx, s) {
      const host = query(ctx, 'host', hostRe, 'a host name');
      const name = query(ctx, 'name', nameRe, 'a package name');
      const manager = query(ctx, 'manager', /^[a-z]{1,16}$/, 'a package manager');
      if (manager !== undefined && !managers.includes(manager)) throw new ApiError('BAD_REQUEST', `query parameter manager must be one of ${managers.join(', ')}`);
      const status = query(ctx, 'status', /^[a-z-]{1,16}$/, 'a package status');
      if (status !== undefined && !statuses.includes(status)) throw new ApiError('BAD_REQUEST', `query parameter status must be one of ${statuses.join(', ')}`);
      const limit = limitQuery(ctx);
      const after = query(ctx, 'after', /^[A-Za-z0-9_-]{1,2000}$/, 'the `next` cursor of a previous page');
      ctx.body = await s.software.packageTable({
        ...(host !== undefined ? { host } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(manager !== undefined ? { manager: manager as PackageManager } : {}),
        ...(status !== undefined ? { status: status as VersionStatus } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(after !== undefined ? { after } : {}),
      });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/software/packages/:manager/:name',
    auth: 'read',
    tag: 'software',
    summary: 'One tracked package: a row per reporting host, and how many hosts run each version.',
    query: { status: { description: 'only rows with this status', schema: packageStatus }, ...pageQuery },
    responses: { 200: { description: 'the table', schema: packageTableSchema }, 400: err('bad manager, name or query'), 404: err('not tracked') },
    async handler(ctx, s) {
      const manager = managerParam(ctx);
      const name = param(ctx, 'name', nameRe, 'package name');
      const status = query(ctx, 'status', /^[a-z-]{1,16}$/, 'a package status');
      if (status !== undefined && !statuses.includes(status)) throw new ApiError('BAD_REQUEST', `query parameter status must be one of ${statuses.join(', ')}`);
      const limit = limitQuery(ctx);
      const after = query(ctx, 'after', /^[A-Za-z0-9_-]{1,2000}$/, 'the `next` cursor of a previous page');
      const table = await s.software.packageTable({ name, manager, ...(status !== undefined ? { status: status as VersionStatus } : {}), ...(limit !== undefined ? { limit } : {}), ...(after !== undefined ? { after } : {}) });
      if (table.tracked.length === 0) throw new ApiError('NOT_FOUND', `package ${manager}/${name} is not tracked`);
      ctx.body = table;
    },
  },
  {
    method: 'GET',
    path: '/api/v1/software/services',
    auth: 'read',
    tag: 'software',
    summary: 'Tracked services per host: state, pid, uptime, user, drift (stopped or failed without an operator asking) and the last action.',
    query: {
      host: { description: 'only this host', schema: { type: 'string' } },
      name: { description: 'only this service', schema: { type: 'string' } },
      drift: { description: 'true: only drift; false: only no drift', schema: { type: 'boolean' } },
      ...pageQuery,
    },
    responses: { 200: { description: 'the table', schema: serviceTableSchema }, 400: err('bad query') },
    async handler(ctx, s) {
      const host = query(ctx, 'host', hostRe, 'a host name');
      const name = query(ctx, 'name', serviceRe, 'a service name');
      const drift = query(ctx, 'drift', /^(true|false)$/, 'true or false');
      const limit = limitQuery(ctx);
      const after = query(ctx, 'after', /^[A-Za-z0-9_-]{1,2000}$/, 'the `next` cursor of a previous page');
      ctx.body = await s.software.serviceTable({ ...(host !== undefined ? { host } : {}), ...(name !== undefined ? { name } : {}), ...(drift !== undefined ? { drift: drift === 'true' } : {}), ...(limit !== undefined ? { limit } : {}), ...(after !== undefined ? { after } : {}) });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/software/hosts/:host',
    auth: 'read',
    tag: 'software',
    summary: 'One host: its tracked packages and services, virtual resources and collection errors from its last report.',
    responses: { 200: { description: 'the host', schema: softwareHostSchema }, 400: err('bad host name') },
    async handler(ctx, s) {
      ctx.body = await s.software.hostView(param(ctx, 'host', hostRe, 'host name'));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/software/tracked',
    auth: 'read',
    tag: 'software',
    summary: 'The tracked packages and services.',
    responses: { 200: { description: 'the lists', schema: trackedListSchema } },
    async handler(ctx, s) {
      ctx.body = await s.software.tracked();
    },
  },
  // ------------------------------------------------------------------ tracking
  {
    method: 'PUT',
    path: '/api/v1/software/packages/:manager/:name',
    auth: 'fleet',
    audit: ['software.track-package'],
    tag: 'software',
    summary: 'Track a package (with its approved version; artifacts: path and known versions by sha256). 201 new, 200 replaced.',
    body: { types: ['application/json'], limit: smallBody, schema: trackedPackageSchema },
    responses: { 200: { description: 'replaced', schema: trackedPackageSchema }, 201: { description: 'tracked', schema: trackedPackageSchema }, 400: err('bad body, or it names another package'), 403: err('a viewer, or a host outside the scope') },
    async handler(ctx, s) {
      const manager = managerParam(ctx);
      const name = param(ctx, 'name', nameRe, 'package name');
      const body = await jsonBody(ctx, trackedPackageGuard, smallBody);
      ctx.status = (await s.software.trackPackage(manager, name, body, actor(ctx))) ? 201 : 200;
      ctx.body = body;
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/software/packages/:manager/:name',
    auth: 'fleet',
    audit: ['software.untrack-package'],
    tag: 'software',
    summary: 'Stop tracking a package.',
    responses: { 204: { description: 'untracked' }, 403: err('a viewer, or a host outside the scope'), 404: err('not tracked') },
    async handler(ctx, s) {
      await s.software.untrackPackage(managerParam(ctx), param(ctx, 'name', nameRe, 'package name'), actor(ctx));
      ctx.status = 204;
    },
  },
  {
    method: 'POST',
    path: '/api/v1/software/packages/:manager/:name/upgrade',
    auth: 'write',
    audit: ['software.upgrade'],
    tag: 'software',
    summary: 'Upgrade to approved: a job rollout whose one step is a resources step (the package at the approved version) over the targets, by default every reporting host that is outdated or lacks it. dpkg packages only.',
    body: { types: ['application/json'], limit: smallBody, schema: packageUpgradeRequestSchema },
    responses: { 201: { description: 'the rollout', schema: softwareActionResultSchema }, 400: err('bad body, no approved version, not dpkg, nothing to upgrade, too many hosts for a default selector'), 403: err('a viewer, or a host outside the scope'), 404: err('not tracked') },
    async handler(ctx, s) {
      const manager = managerParam(ctx);
      const name = param(ctx, 'name', nameRe, 'package name');
      const body = await jsonBody(ctx, upgradeGuard, smallBody);
      ctx.status = 201;
      ctx.body = await s.software.upgrade(manager, name, body, actor(ctx));
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/software/services/:name',
    auth: 'fleet',
    audit: ['software.track-service'],
    tag: 'software',
    summary: 'Track a service (a systemd unit or a process pattern). 201 new, 200 replaced.',
    body: { types: ['application/json'], limit: smallBody, schema: trackedServiceSchema },
    responses: { 200: { description: 'replaced', schema: trackedServiceSchema }, 201: { description: 'tracked', schema: trackedServiceSchema }, 400: err('bad body'), 403: err('a viewer, or a host outside the scope') },
    async handler(ctx, s) {
      const name = param(ctx, 'name', serviceRe, 'service name');
      const body = await jsonBody(ctx, trackedServiceGuard, smallBody);
      ctx.status = (await s.software.trackService(name, body, actor(ctx))) ? 201 : 200;
      ctx.body = body;
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/software/services/:name',
    auth: 'fleet',
    audit: ['software.untrack-service'],
    tag: 'software',
    summary: 'Stop tracking a service.',
    responses: { 204: { description: 'untracked' }, 403: err('a viewer, or a host outside the scope'), 404: err('not tracked') },
    async handler(ctx, s) {
      await s.software.untrackService(param(ctx, 'name', serviceRe, 'service name'), actor(ctx));
      ctx.status = 204;
    },
  },
  {
    method: 'POST',
    path: '/api/v1/software/services/:name/actions',
    auth: 'write',
    audit: ['software.service-start', 'software.service-stop', 'software.service-restart'],
    tag: 'software',
    summary: 'Start, stop or restart a tracked service on the targets (the action in the body); as …/start, …/stop, …/restart.',
    body: { types: ['application/json'], limit: smallBody, schema: serviceActionRequestSchema },
    responses: { 201: { description: 'the job or rollout', schema: softwareActionResultSchema }, 400: err('bad body, bad selector, no runnable host'), 403: err('a viewer, or a host outside the scope'), 404: err('the service is not tracked') },
    async handler(ctx, s) {
      const name = param(ctx, 'name', serviceRe, 'service name');
      const body = await jsonBody(ctx, actionGuard, smallBody);
      ctx.status = 201;
      ctx.body = await s.software.serviceAction(name, body, actor(ctx));
    },
  },
  actionRoute('start'),
  actionRoute('stop'),
  actionRoute('restart'),
  {
    method: 'GET',
    path: '/api/v1/software/collectors',
    auth: 'admin',
    tag: 'software',
    summary: 'Collector scripts (admin only: they run as root on every agent).',
    responses: { 200: { description: 'the collectors', schema: collectorListSchema }, 403: err('not an admin') },
    async handler(ctx, s) {
      ctx.body = { collectors: await s.software.collectors() };
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/software/collectors/:name',
    auth: 'admin',
    audit: ['software.put-collector'],
    tag: 'software',
    summary: 'Define a collector script (admin only). Agents run it each interval and report the virtual resources it prints. 201 new, 200 replaced.',
    body: { types: ['application/json'], limit: collectorBody, schema: collectorSchema },
    responses: { 200: { description: 'replaced', schema: collectorSchema }, 201: { description: 'created', schema: collectorSchema }, 400: err('bad body'), 403: err('not an admin') },
    async handler(ctx, s) {
      const name = param(ctx, 'name', collectorRe, 'collector name');
      const body = await jsonBody(ctx, collectorGuard, collectorBody);
      ctx.status = (await s.software.putCollector(name, body, actor(ctx))) ? 201 : 200;
      ctx.body = body;
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/software/collectors/:name',
    auth: 'admin',
    audit: ['software.delete-collector'],
    tag: 'software',
    summary: 'Remove a collector script (admin only).',
    responses: { 204: { description: 'removed' }, 403: err('not an admin'), 404: err('no such collector') },
    async handler(ctx, s) {
      await s.software.deleteCollector(param(ctx, 'name', collectorRe, 'collector name'), actor(ctx));
      ctx.status = 204;
    },
  },
  {
    method: 'GET',
    path: '/api/v1/software/settings',
    auth: 'read',
    tag: 'software',
    summary: 'How agents collect: interval, virtual resources on or off.',
    responses: { 200: { description: 'the settings', schema: softwareSettingsSchema } },
    async handler(ctx, s) {
      ctx.body = await s.software.settings();
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/software/settings',
    auth: 'admin',
    audit: ['software.settings'],
    tag: 'software',
    summary: 'Set how agents collect (they pick it up with the tracking config).',
    body: { types: ['application/json'], limit: smallBody, schema: softwareSettingsSchema },
    responses: { 200: { description: 'the settings', schema: softwareSettingsSchema }, 400: err('bad body'), 403: err('a viewer, or a host outside the scope') },
    async handler(ctx, s) {
      const body = await jsonBody(ctx, settingsGuard, smallBody);
      ctx.body = await s.software.putSettings(body, actor(ctx));
    },
  },
];
