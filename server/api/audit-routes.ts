/**
 * The script safety audit over HTTP (issue 9): check a script before launching it, and read or
 * change the rule settings (admin). The audit itself runs off the event loop (AuditService).
 */
import { auditCheckRequestSchema, auditRulesUpdateSchema, auditRulesViewSchema, auditVerdictSchema, type AuditCheckRequest, type AuditRulesUpdate } from '../../schemas/api/audit.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import type { AuditRulesState } from '../services/audit-service.js';
import type { AppContext } from './app-state.js';
import { jsonBody } from './body.js';
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

export const auditRoutes: readonly RouteSpec[] = [
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
    tag: 'audit',
    summary: 'Replace the rule settings (scan, block or off per rule; a rule not listed runs in its default mode).',
    body: { types: ['application/json'], limit: 64 * 1024, schema: auditRulesUpdateSchema },
    responses: { 200: { description: 'the rules', schema: auditRulesViewSchema }, 400: err('unknown rule, or parse-error') },
    async handler(ctx, s) {
      const body = await jsonBody(ctx, rulesGuard, 64 * 1024);
      ctx.body = rulesView(await s.audit.setRules(body.rules, operatorName(ctx)));
    },
  },
];
