/**
 * Rollout routes (ADR 0017 §3): list and show rollouts, start a job rollout, and the operator
 * actions continue, pause, abort and rollback. Revision rollouts start by publishing with
 * `rollout` (POST /api/v1/revisions, operator-routes.ts).
 */
import { jobRolloutRequestSchema, rolloutActionSchema, rolloutListSchema, rolloutViewSchema, type JobRolloutRequest, type RolloutAction } from '../../schemas/api/rollouts.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import { ApiError } from '../domain/errors.js';
import type { RolloutActor } from '../services/rollouts/rollout-service.js';
import type { AppContext } from './app-state.js';
import { jsonBody, readRawBody } from './body.js';
import { launchBodyLimit } from './job-routes.js';
import { errorResponse, operatorOf } from './route-helpers.js';
import type { RouteSpec } from './route-spec.js';

const jobRolloutGuard: Guard<JobRolloutRequest> = compileGuard(jobRolloutRequestSchema);
const actionGuard: Guard<RolloutAction> = compileGuard(rolloutActionSchema);
const err = errorResponse;
const idRe = /^[A-Za-z0-9_-]{1,64}$/;

function actor(ctx: AppContext): RolloutActor {
  const p = operatorOf(ctx);
  return { name: p.name, address: ctx.ip, scope: p.scope };
}

function idParam(ctx: AppContext): string {
  const id = ctx.params['id'] ?? '';
  if (!idRe.test(id)) throw new ApiError('BAD_REQUEST', 'a rollout id is 1-64 letters, digits, "_" or "-"');
  return id;
}

async function actionBody(ctx: AppContext): Promise<RolloutAction> {
  const raw = await readRawBody(ctx, 64 * 1024);
  if (raw.length === 0) return {};
  return jsonBody(ctx, actionGuard, 64 * 1024);
}

function action(name: 'continue' | 'pause' | 'abort' | 'rollback', summary: string, conflictWhy: string): RouteSpec {
  return {
    method: 'POST',
    path: `/api/v1/rollouts/:id/${name}`,
    auth: 'write',
    audit: [`rollout.${name}`],
    tag: 'rollouts',
    summary,
    body: { types: ['application/json'], limit: 64 * 1024, schema: rolloutActionSchema, optional: true },
    responses: { 200: { description: 'the rollout', schema: rolloutViewSchema }, 400: err('not an id, bad body'), 404: err('no such rollout'), 409: err(conflictWhy) },
    async handler(ctx, s) {
      const id = idParam(ctx);
      const body = await actionBody(ctx);
      ctx.body = await s.rollouts[name](id, actor(ctx), body.reason);
    },
  };
}

export const rolloutRoutes: readonly RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/v1/rollouts',
    auth: 'read',
    tag: 'rollouts',
    summary: 'Rollouts (of revisions and of jobs), newest first.',
    query: {
      limit: { description: 'at most this many (1-500, default 50)', schema: { type: 'integer', minimum: 1, maximum: 500 } },
      before: { description: 'cursor: the `next` of the previous page', schema: { type: 'string', maxLength: 64 } },
    },
    responses: { 200: { description: 'rollouts', schema: rolloutListSchema }, 400: err('bad query') },
    async handler(ctx, s) {
      const l = ctx.query['limit'];
      let limit = 50;
      if (l !== undefined) {
        if (typeof l !== 'string' || !/^\d{1,3}$/.test(l) || Number(l) < 1 || Number(l) > 500) throw new ApiError('BAD_REQUEST', 'query parameter limit must be an integer between 1 and 500');
        limit = Number(l);
      }
      const b = ctx.query['before'];
      if (b !== undefined && (typeof b !== 'string' || !idRe.test(b))) throw new ApiError('BAD_REQUEST', 'query parameter before must be a rollout id');
      ctx.body = await s.rollouts.list({ limit, ...(typeof b === 'string' ? { before: b } : {}) });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/rollouts/:id',
    auth: 'read',
    tag: 'rollouts',
    summary: 'One rollout with its batches, failures and threshold.',
    responses: { 200: { description: 'the rollout', schema: rolloutViewSchema }, 400: err('not an id'), 404: err('no such rollout') },
    async handler(ctx, s) {
      ctx.body = await s.rollouts.get(idParam(ctx));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/rollouts',
    auth: 'write',
    audit: ['rollout.start'],
    tag: 'rollouts',
    summary: 'Run a job batch by batch: each batch is one ordinary job on the batch hosts, with the policy\'s gates, probes and failure threshold. (Revisions roll out by publishing with `rollout`.)',
    body: { types: ['application/json'], limit: launchBodyLimit, schema: jobRolloutRequestSchema },
    responses: { 201: { description: 'started', schema: rolloutViewSchema }, 400: err('invalid body, batch expression (with the position) or selector, no runnable host, a blocked script without approval') },
    async handler(ctx, s) {
      const body = await jsonBody(ctx, jobRolloutGuard, launchBodyLimit);
      ctx.status = 201;
      ctx.body = await s.rollouts.startJob(body.job, body.policy, actor(ctx));
    },
  },
  action('continue', 'Continue a waiting rollout (the manual gate or the timer) or a paused one: the next batch starts (a paused failed batch is not re-run).', 'the rollout is not waiting or paused'),
  action('pause', 'Pause a running or waiting rollout: no further batch starts until continue (hosts already delivered keep the new revision).', 'the rollout is not running or waiting'),
  action('abort', 'Abort a rollout: revisions — every host returns to the previous revision (live never moved); jobs — the running batch job is cancelled.', 'the rollout is already over'),
  action('rollback', 'Roll back a revision rollout: after completion the previous revision becomes live again; before, every host returns to it.', 'a job rollout, nothing was live before, or already rolled back or aborted'),
];
