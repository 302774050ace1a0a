/**
 * The inventory (CMDB) API (ADR 0018): search, one host, patch/delete its store record,
 * lifecycle events, import/export, dynamic groups and settings. Reading takes any operator
 * role; writing needs admin (readonly tokens get 403). Every write is in the audit log
 * (InventoryService records it).
 */
import {
  importResultSchema,
  inventoryGroupSchema,
  inventoryHostDetailSchema,
  inventoryHostListSchema,
  inventoryPatchSchema,
  inventorySettingsSchema,
  type InventoryGroup,
  type InventoryPatch,
  type InventorySettings,
} from '../../schemas/api/inventory.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import { ApiError } from '../domain/errors.js';
import { assertHostName } from '../domain/host-name.js';
import type { Actor } from '../services/inventory/inventory-service.js';
import type { AppContext } from './app-state.js';
import { jsonBody, readRawBody, requireMediaType } from './body.js';
import { requestSignal } from './request-signal.js';
import { errorResponse, operatorOf } from './route-helpers.js';
import type { RouteSpec } from './route-spec.js';

const err = errorResponse;
const patchGuard: Guard<InventoryPatch> = compileGuard(inventoryPatchSchema);
const groupGuard: Guard<InventoryGroup> = compileGuard(inventoryGroupSchema);
const settingsGuard: Guard<InventorySettings> = compileGuard(inventorySettingsSchema);

/** Largest import body (ADR 0018 §3). */
export const inventoryImportLimit = 64 * 1024 * 1024;
const smallBody = 64 * 1024;

function actor(ctx: AppContext): Actor {
  const p = operatorOf(ctx);
  return { name: p.name, address: ctx.ip, scope: p.scope };
}

function hostParam(ctx: AppContext): string {
  const h = ctx.params['host'];
  assertHostName(h);
  return h;
}

function groupParam(ctx: AppContext): string {
  const g = ctx.params['name'] ?? '';
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(g)) throw new ApiError('BAD_REQUEST', 'an inventory group name is lowercase letters, digits, "_" or "-" (at most 64)');
  return g;
}

function oneQuery(ctx: AppContext, name: string): string | undefined {
  const v = ctx.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ApiError('BAD_REQUEST', `query parameter ${name} may be given once`);
  return v;
}

function choice<T extends string>(ctx: AppContext, name: string, values: readonly T[], dflt: T): T {
  const v = oneQuery(ctx, name);
  if (v === undefined || v === '') return dflt;
  if (!(values as readonly string[]).includes(v)) throw new ApiError('BAD_REQUEST', `query parameter ${name} must be ${values.join(' or ')}`);
  return v as T;
}

function signal(ctx: AppContext): AbortSignal {
  return AbortSignal.any([requestSignal(ctx), AbortSignal.timeout(120_000)]);
}

export const inventoryRoutes: readonly RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/v1/inventory/hosts',
    auth: 'read',
    tag: 'inventory',
    summary: 'Hosts of the inventory (store records merged over the live revision), filtered, sorted by hostname, one page at a time.',
    query: {
      filter: { description: 'A filter expression, e.g. "idc=sz and tag:canary and lifecycle=online" (docs/inventory.md).', schema: { type: 'string', maxLength: 4096 } },
      after: { description: 'The cursor: the `next` of the previous page.', schema: { type: 'string', maxLength: 253 } },
      limit: { description: 'Hosts per page (1-1000, default 100).', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
    },
    responses: { 200: { description: 'one page', schema: inventoryHostListSchema }, 400: err('a bad filter (details.column)') },
    async handler(ctx, s) {
      const limitText = oneQuery(ctx, 'limit');
      if (limitText !== undefined && !/^[1-9]\d{0,3}$/.test(limitText)) throw new ApiError('BAD_REQUEST', 'limit must be an integer from 1 to 1000');
      const after = oneQuery(ctx, 'after');
      if (after !== undefined && after.length > 253) throw new ApiError('BAD_REQUEST', 'after is a hostname');
      ctx.body = await s.inventory.list({ filter: oneQuery(ctx, 'filter'), after, limit: limitText === undefined ? undefined : Math.min(Number(limitText), 1000) }, signal(ctx));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/inventory/hosts/:host',
    auth: 'read',
    tag: 'inventory',
    summary: 'One host: the merged record, the store and repository records, facts, mismatches, groups with why, lifecycle history, children and virtual resources.',
    responses: { 200: { description: 'the host', schema: inventoryHostDetailSchema }, 400: err('not a host name'), 404: err('no inventory has this host') },
    async handler(ctx, s) {
      const host = hostParam(ctx);
      const d = await s.inventory.detail(host, signal(ctx));
      if (!d) throw new ApiError('NOT_FOUND', `no inventory record of ${host} (neither the store nor the live revision has it)`);
      ctx.body = d;
    },
  },
  {
    method: 'PATCH',
    path: '/api/v1/inventory/hosts/:host',
    auth: 'write',
    audit: ['inventory.patch'],
    tag: 'inventory',
    summary: 'Set fields of the host\'s store record (null removes one), creating it when missing; a lifecycle change is recorded (and may launch the on-online plan).',
    body: { types: ['application/json'], limit: smallBody, schema: inventoryPatchSchema },
    responses: { 200: { description: '{ record, event? }' }, 400: err('invalid patch'), 409: err('concurrent changes') },
    async handler(ctx, s) {
      const host = hostParam(ctx);
      const patch = await jsonBody(ctx, patchGuard, smallBody);
      const out = await s.inventory.patch(host, patch, actor(ctx));
      ctx.state.log.info('inventory record changed', { host, operator: operatorOf(ctx).name, fields: Object.keys(patch) });
      ctx.body = out;
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/inventory/hosts/:host',
    auth: 'write',
    audit: ['inventory.delete'],
    tag: 'inventory',
    summary: 'Remove the host\'s store record (a repository record of it stays).',
    responses: { 204: { description: 'removed' }, 404: err('no store record') },
    async handler(ctx, s) {
      const host = hostParam(ctx);
      if (!(await s.inventory.remove(host, actor(ctx)))) throw new ApiError('NOT_FOUND', `the store has no record of ${host}`);
      ctx.status = 204;
    },
  },
  {
    method: 'GET',
    path: '/api/v1/inventory/hosts/:host/events',
    auth: 'read',
    tag: 'inventory',
    summary: 'Lifecycle transitions of a host, newest first.',
    query: { limit: { description: 'At most this many (1-1000, default 100).', schema: { type: 'integer', minimum: 1, maximum: 1000 } } },
    responses: { 200: { description: '{ events: [lifecycle events] }' } },
    async handler(ctx, s) {
      const host = hostParam(ctx);
      const limitText = oneQuery(ctx, 'limit');
      if (limitText !== undefined && !/^[1-9]\d{0,3}$/.test(limitText)) throw new ApiError('BAD_REQUEST', 'limit must be an integer from 1 to 1000');
      ctx.body = { events: await s.inventory.events(host, limitText === undefined ? 100 : Number(limitText)) };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/inventory/import',
    auth: 'write',
    audit: ['inventory.import'],
    tag: 'inventory',
    summary: 'Import a CSV or JSON file of records: every row is checked first; any problem and nothing is imported. dryRun=true says what would be added, changed and removed.',
    query: {
      format: { description: 'csv (default when the body is text/csv) or json.', schema: { enum: ['csv', 'json'] } },
      dryRun: { description: 'true: write nothing, answer what would happen.', schema: { type: 'boolean' } },
      mode: { description: 'merge (default) or replace (store records absent from the file are removed).', schema: { enum: ['merge', 'replace'] } },
    },
    body: { types: ['text/csv', 'application/json', 'text/plain', 'application/octet-stream'], limit: inventoryImportLimit },
    responses: { 200: { description: 'the result (applied, or the problems)', schema: importResultSchema }, 400: err('bad query'), 413: err('larger than 64 MiB'), 415: err('unsupported media type') },
    async handler(ctx, s) {
      const type = requireMediaType(ctx, ['text/csv', 'application/json', 'text/plain', 'application/octet-stream']);
      const format = choice(ctx, 'format', ['csv', 'json'] as const, type === 'application/json' ? 'json' : 'csv');
      const dryRun = choice(ctx, 'dryRun', ['true', 'false'] as const, 'false') === 'true';
      const mode = choice(ctx, 'mode', ['merge', 'replace'] as const, 'merge');
      const raw = await readRawBody(ctx, inventoryImportLimit);
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
      } catch {
        throw new ApiError('BAD_REQUEST', 'the file is not valid UTF-8');
      }
      const result = await s.inventory.import(text, { format, dryRun, mode }, actor(ctx));
      ctx.state.log.info('inventory import', { operator: operatorOf(ctx).name, format, dryRun, mode, applied: result.applied, problems: result.problems.length, ...result.counts });
      ctx.body = result;
    },
  },
  {
    method: 'GET',
    path: '/api/v1/inventory/export',
    auth: 'read',
    tag: 'inventory',
    summary: 'The store records as CSV or JSON (the import formats).',
    query: { format: { description: 'csv (default) or json.', schema: { enum: ['csv', 'json'] } } },
    responses: { 200: { description: 'the file', type: 'text/csv' } },
    async handler(ctx, s) {
      const format = choice(ctx, 'format', ['csv', 'json'] as const, 'csv');
      ctx.type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json';
      ctx.set('Content-Disposition', `attachment; filename="inventory.${format}"`);
      ctx.body = await s.inventory.export(format);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/inventory/groups',
    auth: 'read',
    tag: 'inventory',
    summary: 'Dynamic inventory groups (stored filters) with their member counts.',
    responses: { 200: { description: '{ groups: [inventory groups] }' } },
    async handler(ctx, s) {
      ctx.body = { groups: await s.inventory.listGroups() };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/inventory/groups/:name',
    auth: 'read',
    tag: 'inventory',
    summary: 'One dynamic group and its member hosts.',
    responses: { 200: { description: 'the group with hosts' }, 404: err('no such group') },
    async handler(ctx, s) {
      const name = groupParam(ctx);
      const g = await s.inventory.getGroup(name);
      if (!g) throw new ApiError('NOT_FOUND', `no inventory group ${name}`);
      ctx.body = g;
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/inventory/groups/:name',
    auth: 'fleet',
    audit: ['inventory.group.put'],
    tag: 'inventory',
    summary: 'Create or replace a dynamic group (a filter); the name may not be a repository group\'s.',
    body: { types: ['application/json'], limit: smallBody, schema: inventoryGroupSchema },
    responses: { 200: { description: 'replaced', schema: inventoryGroupSchema }, 201: { description: 'created', schema: inventoryGroupSchema }, 400: err('bad filter or name'), 409: err('a repository group has the name') },
    async handler(ctx, s) {
      const name = groupParam(ctx);
      const body = await jsonBody(ctx, groupGuard, smallBody);
      if (body.name !== name) throw new ApiError('BAD_REQUEST', `the body names group ${JSON.stringify(body.name)} but the path ${name}`);
      const { members: _m, ...g } = body;
      const out = await s.inventory.putGroup(g, actor(ctx));
      ctx.status = out.created ? 201 : 200;
      ctx.body = out.group;
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/inventory/groups/:name',
    auth: 'fleet',
    audit: ['inventory.group.delete'],
    tag: 'inventory',
    summary: 'Delete a dynamic group.',
    responses: { 204: { description: 'deleted' }, 404: err('no such group') },
    async handler(ctx, s) {
      const name = groupParam(ctx);
      if (!(await s.inventory.deleteGroup(name, actor(ctx)))) throw new ApiError('NOT_FOUND', `no inventory group ${name}`);
      ctx.status = 204;
    },
  },
  {
    method: 'GET',
    path: '/api/v1/inventory/settings',
    auth: 'read',
    tag: 'inventory',
    summary: 'Inventory settings (the on-online plan).',
    responses: { 200: { description: 'settings', schema: inventorySettingsSchema } },
    async handler(ctx, s) {
      ctx.body = await s.inventory.settings();
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/inventory/settings',
    auth: 'admin',
    audit: ['inventory.settings'],
    tag: 'inventory',
    summary: 'Set the inventory settings.',
    body: { types: ['application/json'], limit: smallBody, schema: inventorySettingsSchema },
    responses: { 200: { description: 'settings', schema: inventorySettingsSchema }, 400: err('invalid'), 404: err('no such plan') },
    async handler(ctx, s) {
      const body = await jsonBody(ctx, settingsGuard, smallBody);
      if (typeof body.onOnlinePlan === 'string' && (await s.plans.resolveId(body.onOnlinePlan)) === undefined) throw new ApiError('NOT_FOUND', `no saved plan ${JSON.stringify(body.onOnlinePlan.slice(0, 80))}`);
      ctx.body = await s.inventory.putSettings(body, actor(ctx));
    },
  },
];
