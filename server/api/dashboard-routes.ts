/**
 * The dashboard and drift history for operators (any role): GET /api/v1/dashboard,
 * /api/v1/drift (events of a host, a resource, a kind, since a time; cursor pages),
 * /api/v1/drift/top (most drifted resources over a window) and /api/v1/drift/days (events per day).
 */
import { dashboardSchema, driftDaysSchema, driftEventListSchema, topDriftedSchema } from '../../schemas/api/dashboard.js';
import { isoAt } from '../domain/clock.js';
import { parseWindow, type DriftKind } from '../domain/drift.js';
import { ApiError } from '../domain/errors.js';
import { assertHostName } from '../domain/host-name.js';
import type { Dashboard } from '../services/dashboard-service.js';
import type { DriftEventView, TopDrifted } from '../services/drift-service.js';
import type { HostCompliance } from '../services/compliance-service.js';
import type { AppContext } from './app-state.js';
import { intQuery, stringQuery } from './operator-routes.js';
import { requestSignal } from './request-signal.js';
import { errorResponse } from './route-helpers.js';
import type { RouteSpec } from './route-spec.js';

const err = errorResponse;
const windowPattern = /^[1-9][0-9]{0,4}[mhdw]$/;

/** ?since= as a window ("7d", "48h", "2w", "30m") or an RFC 3339 time; ms since epoch. */
export function sinceQuery(ctx: AppContext, nowMs: number, def: number | undefined): number | undefined {
  const raw = ctx.query['since'];
  if (raw === undefined) return def;
  if (typeof raw !== 'string') throw new ApiError('BAD_REQUEST', 'since must be given once');
  if (windowPattern.test(raw)) return nowMs - parseWindow(raw)!;
  const t = /^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (!Number.isFinite(t)) throw new ApiError('BAD_REQUEST', 'since is a window such as 7d, 48h, 2w, 30m, or an RFC 3339 time');
  return t;
}

export function hostLine(h: HostCompliance): Record<string, unknown> {
  return {
    host: h.host,
    state: h.state,
    groups: h.groups,
    ...(h.lastRun ? { lastRunAt: isoAt(h.lastRun.receivedAtMs), runId: h.lastRun.runId, failed: h.lastRun.failed, corrective: h.lastRun.corrective } : {}),
  };
}

export function topLine(x: TopDrifted): Record<string, unknown> {
  return { resource: x.resource, events: x.events, hosts: x.hosts, byKind: x.byKind, lastAt: isoAt(x.lastAt) };
}

export function eventLine(e: DriftEventView): Record<string, unknown> {
  return { host: e.host, resource: e.resource, kind: e.kind, runId: e.runId, at: isoAt(e.at), startedAt: isoAt(e.startedAt), mode: e.mode, corrective: e.corrective, changed: e.properties, ...(e.error !== undefined ? { error: e.error } : {}) };
}

/** The dashboard as the API (and the console's live endpoint) answers it. */
export function dashboardBody(d: Dashboard): Record<string, unknown> {
  return {
    at: isoAt(d.at),
    ...(d.revision !== undefined ? { revision: d.revision } : {}),
    fleet: d.fleet,
    failing: { total: d.failing.total, hosts: d.failing.hosts.map(hostLine) },
    drifted: { total: d.drifted.total, hosts: d.drifted.hosts.map(hostLine) },
    jobs: { total: d.jobs.total, items: d.jobs.items },
    rollouts: {
      total: d.rollouts.total,
      items: d.rollouts.items.map((r) => ({ id: r.id, kind: r.kind, state: r.state, ...(r.revision !== undefined ? { revision: r.revision } : {}), createdAt: r.createdAt, createdBy: r.createdBy, batch: r.current + 1, batches: r.batches.length, hosts: r.hosts, failures: r.failures })),
    },
    topDrifted: { since: isoAt(d.topDrifted.sinceMs), items: d.topDrifted.items.map(topLine) },
  };
}

function resourceQuery(ctx: AppContext): string | undefined {
  return stringQuery(ctx, 'resource', /^[^\u0000-\u001f]{1,600}$/);
}

function hostQuery(ctx: AppContext): string | undefined {
  const h = ctx.query['host'];
  if (h === undefined) return undefined;
  if (typeof h !== 'string') throw new ApiError('BAD_REQUEST', 'host must be given once');
  assertHostName(h);
  return h;
}

export const dashboardRoutes: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/v1/dashboard',
    auth: 'read',
    tag: 'compliance',
    summary: 'The dashboard: fleet compliance now, failing and drifted hosts, running jobs and rollouts, the most drifted resources over ?since= (default 7d).',
    query: {
      since: { description: 'window of the top-drifted list: 7d (default), 48h, 2w, … or an RFC 3339 time', schema: { type: 'string' } },
      limit: { description: 'rows per list, 1-100 (default 10)', schema: { type: 'integer' } },
    },
    responses: { 200: { description: 'dashboard', schema: dashboardSchema }, 400: err('bad since or limit') },
    async handler(ctx, s) {
      const now = s.clock.now();
      const since = sinceQuery(ctx, now, now - 7 * 86_400_000)!;
      const limit = intQuery(ctx, 'limit', 10, 1, 100);
      ctx.body = dashboardBody(await s.dashboard.summary(requestSignal(ctx), { windowMs: Math.max(0, now - since), limit }));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/drift',
    auth: 'read',
    tag: 'compliance',
    summary: 'Drift events (detected, repaired, failed), newest first: of a host, a resource (across hosts) or a kind, since a time; kept after the host is back in sync, for the drift retention.',
    query: {
      host: { description: 'one host', schema: { type: 'string' } },
      resource: { description: 'one resource id ("type:title")', schema: { type: 'string' } },
      kind: { description: 'detected, repaired or failed', schema: { type: 'string', enum: ['detected', 'repaired', 'failed'] } },
      since: { description: 'a window (7d, 48h, …) or an RFC 3339 time', schema: { type: 'string' } },
      cursor: { description: 'the next of the previous page', schema: { type: 'string' } },
      limit: { description: '1-1000, default 100', schema: { type: 'integer' } },
    },
    responses: { 200: { description: 'events', schema: driftEventListSchema }, 400: err('bad query') },
    async handler(ctx, s) {
      const host = hostQuery(ctx);
      const resource = resourceQuery(ctx);
      const kind = stringQuery(ctx, 'kind', /^(detected|repaired|failed)$/) as DriftKind | undefined;
      const since = sinceQuery(ctx, s.clock.now(), undefined);
      const cursor = stringQuery(ctx, 'cursor', /^[A-Za-z0-9_-]{1,1400}$/);
      const limit = intQuery(ctx, 'limit', 100, 1, 1000);
      const page = await s.drift.list({ ...(host !== undefined ? { host } : {}), ...(resource !== undefined ? { resource } : {}), ...(kind !== undefined ? { kind } : {}), ...(since !== undefined ? { sinceMs: since } : {}), ...(cursor !== undefined ? { cursor } : {}), limit });
      ctx.body = { events: page.events.map(eventLine), ...(page.next !== undefined ? { next: page.next } : {}) };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/drift/top',
    auth: 'read',
    tag: 'compliance',
    summary: 'The most drifted resources over ?since= (default 7d): drift events and distinct hosts per resource.',
    query: {
      since: { description: 'a window (7d, 48h, …) or an RFC 3339 time; default 7d', schema: { type: 'string' } },
      limit: { description: '1-100, default 10', schema: { type: 'integer' } },
    },
    responses: { 200: { description: 'top drifted', schema: topDriftedSchema }, 400: err('bad query') },
    async handler(ctx, s) {
      const now = s.clock.now();
      const since = sinceQuery(ctx, now, now - 7 * 86_400_000)!;
      const limit = intQuery(ctx, 'limit', 10, 1, 100);
      ctx.body = { since: isoAt(since), resources: (await s.drift.top(since, limit, requestSignal(ctx))).map(topLine) };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/drift/days',
    auth: 'read',
    tag: 'compliance',
    summary: 'Drift events per UTC day and kind since ?since= (default 30d), of the fleet, one host or one resource.',
    query: {
      since: { description: 'a window (30d default) or an RFC 3339 time', schema: { type: 'string' } },
      host: { description: 'one host', schema: { type: 'string' } },
      resource: { description: 'one resource id', schema: { type: 'string' } },
    },
    responses: { 200: { description: 'per day', schema: driftDaysSchema }, 400: err('bad query') },
    async handler(ctx, s) {
      const now = s.clock.now();
      const since = sinceQuery(ctx, now, now - 30 * 86_400_000)!;
      const host = hostQuery(ctx);
      const resource = resourceQuery(ctx);
      const days = await s.drift.perDay(since, { ...(host !== undefined ? { host } : {}), ...(resource !== undefined ? { resource } : {}) }, requestSignal(ctx));
      ctx.body = { since: isoAt(since), days: days.map((d) => ({ day: isoAt(d.day).slice(0, 10), counts: d.counts })) };
    },
  },
];
