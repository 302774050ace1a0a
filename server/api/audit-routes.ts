/**
 * The script safety audit over HTTP (issue 9): check a script before launching it, and read or
 * change the rule settings (admin). The audit itself runs off the event loop (AuditService).
 */
import { auditCheckRequestSchema, auditRulesUpdateSchema, auditRulesViewSchema, auditVerdictSchema, type AuditCheckRequest, type AuditRulesUpdate } from '../../schemas/api/audit.js';
import { auditEventListSchema } from '../../schemas/api/audit-events.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import { ApiError } from '../domain/errors.js';
import { parseTimeBound } from '../domain/time-bound.js';
import type { AuditEvent, AuditSearch } from '../services/audit-log.js';
import type { AuditRulesState } from '../services/audit-service.js';
import type { AppContext } from './app-state.js';
import { jsonBody } from './body.js';
import { requestSignal } from './request-signal.js';
import { errorResponse, operatorOf } from './route-helpers.js';
import type { RouteSpec } from './route-spec.js';

const checkGuard: Guard<AuditCheckRequest> = compileGuard(auditCheckRequestSchema);
const rulesGuard: Guard<AuditRulesUpdate> = compileGuard(auditRulesUpdateSchema);
const err = errorResponse;

/** A script of 1 MiB, JSON-escaped, fits. */
const checkLimit = 8 * 1024 * 1024;

function rulesView(s: AuditRulesState): unknown {
  return { rules: s.rules, ...(s.updatedBy !== undefined ? { updatedBy: s.updatedBy } : {}), ...(s.updatedAtMs !== undefined ? { updatedAt: new Date(s.updatedAtMs).toISOString() } : {}) };
}

function operatorName(ctx: AppContext): string {
  return operatorOf(ctx).name;
}

function textQuery(ctx: AppContext, name: string, max: number): string | undefined {
  const v = ctx.query[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new ApiError('BAD_REQUEST', `query parameter ${name} is given more than once`);
  if (v.length > max) throw new ApiError('BAD_REQUEST', `query parameter ${name} is longer than ${max} characters`);
  return v;
}

/** The filters of GET /api/v1/audit/events from the query string (400 for a bad one). */
export function auditSearchOf(ctx: AppContext, now: number): AuditSearch {
  const time = (name: string): number | undefined => {
    const v = textQuery(ctx, name, 40);
    if (v === undefined) return undefined;
    const t = parseTimeBound(v, now);
    if (t === undefined) throw new ApiError('BAD_REQUEST', `query parameter ${name} must be an ISO 8601 time or an age like 90m, 24h, 7d`);
    return t;
  };
  const limitText = textQuery(ctx, 'limit', 6);
  if (limitText !== undefined && (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 500)) throw new ApiError('BAD_REQUEST', 'query parameter limit must be an integer 1-500');
  const f: Record<string, unknown> = {
    actor: textQuery(ctx, 'actor', 200),
    action: textQuery(ctx, 'action', 100),
    target: textQuery(ctx, 'target', 400),
    q: textQuery(ctx, 'q', 200),
    since: time('since'),
    until: time('until'),
    cursor: textQuery(ctx, 'cursor', 300),
    limit: limitText === undefined ? undefined : Number(limitText),
  };
  for (const k of Object.keys(f)) if (f[k] === undefined) delete f[k];
  return f as AuditSearch;
}

/** An audit event as the API shows it. */
export function auditEventView(e: AuditEvent): Record<string, unknown> {
  return {
    id: e.id,
    at: new Date(e.at).toISOString(),
    actor: e.actor,
    action: e.action,
    target: e.target,
    ...(e.address !== undefined ? { address: e.address } : {}),
    ...(e.before !== undefined ? { before: e.before } : {}),
    ...(e.after !== undefined ? { after: e.after } : {}),
    ...(e.details !== undefined ? { details: e.details } : {}),
  };
}

export const auditRoutes: readonly RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/v1/audit/events',
    auth: 'read',
    tag: 'audit',
    summary: 'The audit log: every change operators made (who, what, on what, when, from which address, before/after), newest first. Filters are ANDed; page with the answer\'s next as cursor. Any operator may read it.',
    query: {
      actor: { description: 'exactly this actor (an operator name, "system", "schedule:<name>")', schema: { type: 'string', maxLength: 200 } },
      action: { description: 'exactly this action, or a prefix ending in "." or "*" (job. → job.launch, job.cancel, …)', schema: { type: 'string', maxLength: 100 } },
      target: { description: 'exactly this target (job:<id>, host:<name>, …), or a prefix ending in "*"', schema: { type: 'string', maxLength: 400 } },
      q: { description: 'case-insensitive text anywhere in the event; examines at most 5000 events per call (a short page with next means: keep paging)', schema: { type: 'string', maxLength: 200 } },
      since: { description: 'not before: ISO 8601 time or an age (90m, 24h, 7d, 2w)', schema: { type: 'string', maxLength: 40 } },
      until: { description: 'before: ISO 8601 time or an age', schema: { type: 'string', maxLength: 40 } },
      cursor: { description: 'the next of the previous page', schema: { type: 'string', maxLength: 300 } },
      limit: { description: 'events per page (1-500, default 50)', schema: { type: 'integer', minimum: 1, maximum: 500 } },
    },
    responses: { 200: { description: 'a page of events', schema: auditEventListSchema }, 400: err('a bad filter or cursor') },
    async handler(ctx, s) {
      const page = await s.auditLog.search({ ...auditSearchOf(ctx, s.clock.now()), signal: requestSignal(ctx) });
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { events: page.events.map(auditEventView), ...(page.next !== undefined ? { next: page.next } : {}), ...(page.scanned !== undefined ? { scanned: page.scanned } : {}) };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/audit/check',
    auth: 'read',
    tag: 'audit',
    summary: 'Audit a shell or Python script against the rule set; nothing runs. The verdict lists each finding with its rule, mode, line and column.',
    body: { types: ['application/json'], limit: checkLimit, schema: auditCheckRequestSchema },
    responses: { 200: { description: 'the verdict', schema: auditVerdictSchema }, 400: err('not a {lang, source} body') },
    async handler(ctx, s) {
      const body = await jsonBody(ctx, checkGuard, checkLimit);
      ctx.body = await s.audit.check({ lang: body.lang, source: body.source });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/audit/rules',
    auth: 'read',
    tag: 'audit',
    summary: 'Every audit rule with its description, default mode and effective mode.',
    responses: { 200: { description: 'the rules', schema: auditRulesViewSchema } },
    async handler(ctx, s) {
      ctx.body = rulesView(await s.audit.view());
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/audit/rules',
    auth: 'admin',
    audit: ['audit-rules.set'],
    tag: 'audit',
    summary: 'Replace the rule settings (scan, block or off per rule; a rule not listed runs in its default mode).',
    body: { types: ['application/json'], limit: 64 * 1024, schema: auditRulesUpdateSchema },
    responses: { 200: { description: 'the rules', schema: auditRulesViewSchema }, 400: err('unknown rule, or parse-error') },
    async handler(ctx, s) {
      const body = await jsonBody(ctx, rulesGuard, 64 * 1024);
      ctx.body = rulesView(await s.audit.setRules(body.rules, { name: operatorName(ctx), address: ctx.ip }));
    },
  },
];
