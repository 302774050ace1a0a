/**
 * Saved job plans (ADR 0014): list, create, read, update (versioned), delete. Reading takes any
 * operator role; writing needs admin. Running a plan (POST /api/v1/plans/:id/run) belongs to
 * the job routes: they build the launch body with services.plans.toLaunchBody().
 */
import { planListSchema, planViewSchema, planWriteSchema, type PlanWrite } from '../../schemas/api/plans.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import { isoAt } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import type { PlanRecord } from '../services/jobs/plan-service.js';
import type { AppContext } from './app-state.js';
import { jsonBody } from './body.js';
import { auditActorOf, errorResponse, operatorOf } from './route-helpers.js';
import type { RouteSpec } from './route-spec.js';

const planGuard: Guard<PlanWrite> = compileGuard(planWriteSchema);
const err = errorResponse;

/** Largest plan body (a files step may carry content inline). */
export const planBodyLimit = 8 * 1024 * 1024;

export function planView(p: PlanRecord): unknown {
  return {
    id: p.id,
    name: p.name,
    ...(p.description !== undefined ? { description: p.description } : {}),
    targets: p.targets,
    ...(p.vars !== undefined ? { vars: p.vars } : {}),
    steps: p.steps,
    version: p.version,
    createdAt: isoAt(p.createdAt),
    createdBy: p.createdBy,
    updatedAt: isoAt(p.updatedAt),
    updatedBy: p.updatedBy,
  };
}

function operatorName(ctx: AppContext): string {
  return operatorOf(ctx).name;
}

function planId(ctx: AppContext): string {
  const id = ctx.params['id'] ?? '';
  if (!/^pl_[A-Za-z0-9_-]{1,64}$/.test(id)) throw new ApiError('BAD_REQUEST', 'a plan id is "pl_" and up to 64 letters, digits, "_" or "-"');
  return id;
}

function versionQuery(ctx: AppContext): number | undefined {
  const v = ctx.query['version'];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[1-9]\d{0,8}$/.test(v)) throw new ApiError('BAD_REQUEST', 'query parameter version must be a positive integer');
  return Number(v);
}

const body = { types: ['application/json'], limit: planBodyLimit, schema: planWriteSchema } as const;

export const planRoutes: readonly RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/v1/plans',
    auth: 'read',
    tag: 'plans',
    summary: 'Saved job plans, by name (without their steps).',
    responses: { 200: { description: 'plans', schema: planListSchema } },
    async handler(ctx, s) {
      ctx.body = {
        plans: (await s.plans.list()).map((p) => ({ id: p.id, name: p.name, ...(p.description !== undefined ? { description: p.description } : {}), targets: p.targets, version: p.version, steps: p.steps.length, updatedAt: isoAt(p.updatedAt) })),
      };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/plans',
    auth: 'write',
    audit: ['plan.create'],
    tag: 'plans',
    summary: 'Save a new plan (version 1).',
    body,
    responses: { 201: { description: 'the plan', schema: planViewSchema }, 400: err('invalid plan'), 409: err('the name is taken'), 413: err('too large') },
    async handler(ctx, s) {
      const input = await jsonBody(ctx, planGuard, planBodyLimit);
      if (input.version !== undefined) throw new ApiError('BAD_REQUEST', 'a new plan has no version yet: leave "version" out');
      const p = await s.plans.create(input, auditActorOf(ctx));
      ctx.state.log.info('plan created', { plan: p.id, name: p.name, operator: p.createdBy });
      ctx.status = 201;
      ctx.body = planView(p);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/plans/:id',
    auth: 'read',
    tag: 'plans',
    summary: 'One plan: its current version, or ?version=N.',
    query: { version: { description: 'an earlier version', schema: { type: 'integer', minimum: 1 } } },
    responses: { 200: { description: 'the plan', schema: planViewSchema }, 400: err('not a plan id'), 404: err('unknown plan or version') },
    async handler(ctx, s) {
      const id = planId(ctx);
      const version = versionQuery(ctx);
      const p = await s.plans.get(id, version);
      if (!p) throw new ApiError('NOT_FOUND', version !== undefined ? `plan ${id} has no version ${version}` : `no plan ${id}`);
      ctx.body = planView(p);
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/plans/:id',
    auth: 'write',
    audit: ['plan.update'],
    tag: 'plans',
    summary: 'Save a new version of a plan; with "version", only if that is still the current one.',
    body,
    responses: { 200: { description: 'the plan', schema: planViewSchema }, 400: err('invalid plan'), 404: err('unknown plan'), 409: err('the plan has moved on, or the name is taken') },
    async handler(ctx, s) {
      const id = planId(ctx);
      const input = await jsonBody(ctx, planGuard, planBodyLimit);
      const p = await s.plans.update(id, input, auditActorOf(ctx));
      ctx.state.log.info('plan updated', { plan: p.id, version: p.version, operator: p.updatedBy });
      ctx.body = planView(p);
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/plans/:id',
    auth: 'write',
    audit: ['plan.delete'],
    tag: 'plans',
    summary: 'Delete a plan and its versions (jobs launched from it stay).',
    responses: { 204: { description: 'deleted' }, 400: err('not a plan id'), 404: err('unknown plan') },
    async handler(ctx, s) {
      const id = planId(ctx);
      if (!(await s.plans.delete(id, auditActorOf(ctx)))) throw new ApiError('NOT_FOUND', `no plan ${id}`);
      ctx.state.log.info('plan deleted', { plan: id, operator: operatorName(ctx) });
      ctx.status = 204;
    },
  },
];
