/**
 * Job routes (docs/adr/0014-jobs.md): the operator API (preview, launch, list, get, cancel,
 * redo, confirm; bearer token, `write` = admin) and the agent job channel (long-poll, start,
 * result; signed, own host only).
 */
import { jobConfirmSchema, jobLaunchSchema, jobListSchema, jobPreviewSchema, jobRedoSchema, jobViewSchema, type JobConfirm, type JobLaunch, type JobRedo } from '../../schemas/api/jobs.js';
import { planRunSchema, type PlanRun } from '../../schemas/api/plans.js';
import { jobPollResponseSchema, jobProtocolSchemas, jobResultAckSchema, jobResultSchema, jobStartResponseSchema, type JobResult } from '../../schemas/job-protocol.js';
import { compileGuard, registerSchemas, type Guard } from '../../schemas/validate.js';
import { ApiError } from '../domain/errors.js';
import { maxPollWaitSeconds } from '../services/jobs/job-channel.js';
import type { Actor } from '../services/jobs/job-service.js';
import { ownHost } from './agent-routes.js';
import type { AppContext } from './app-state.js';
import { jsonBody, readRawBody } from './body.js';
import { requestSignal } from './request-signal.js';
import { errorResponse, operatorOf } from './route-helpers.js';
import type { RouteSpec } from './route-spec.js';

registerSchemas(jobProtocolSchemas);
const launchGuard: Guard<JobLaunch> = compileGuard(jobLaunchSchema);
const planRunGuard: Guard<PlanRun> = compileGuard(planRunSchema);
const redoGuard: Guard<JobRedo> = compileGuard(jobRedoSchema);
const confirmGuard: Guard<JobConfirm> = compileGuard(jobConfirmSchema);
const resultGuard: Guard<JobResult> = compileGuard(jobResultSchema);

const err = errorResponse;
/**
 * A launch carries whole scripts and files, and is stored as one job document: kept under
 * MongoDB's 16 MB document limit. Larger files belong in the file-distribution blobs.
 */
export const launchBodyLimit = 12 * 1024 * 1024;
/** A result carries stdout and stderr (1 MiB each) and file outcomes. */
export const resultBodyLimit = 4 * 1024 * 1024;
const jobIdRe = /^[A-Za-z0-9_-]{1,64}$/;
const dispatchIdRe = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,319}$/;

function actor(ctx: AppContext): Actor {
  return { principal: operatorOf(ctx), address: ctx.ip };
}

function jobIdParam(ctx: AppContext): string {
  const id = ctx.params['id'] ?? '';
  if (!jobIdRe.test(id)) throw new ApiError('BAD_REQUEST', 'a job id is 1-64 letters, digits, "_" or "-"');
  return id;
}

function dispatchIdParam(ctx: AppContext): string {
  const id = ctx.params['id'] ?? '';
  if (!dispatchIdRe.test(id)) throw new ApiError('BAD_REQUEST', 'not a dispatch id');
  return id;
}

function intQuery(ctx: AppContext, name: string, def: number, min: number, max: number): number {
  const v = ctx.query[name];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !/^\d{1,6}$/.test(v)) throw new ApiError('BAD_REQUEST', `query parameter ${name} must be an integer`);
  const n = Number(v);
  if (n < min || n > max) throw new ApiError('BAD_REQUEST', `query parameter ${name} must be between ${min} and ${max}`);
  return n;
}

export const jobRoutes: readonly RouteSpec[] = [
  {
    method: 'POST',
    path: '/api/v1/jobs/preview',
    auth: 'read',
    tag: 'jobs',
    summary: 'Who each step of a launch body would target, who cannot run, and the safety audit of every script; nothing runs.',
    body: { types: ['application/json'], limit: launchBodyLimit, schema: jobLaunchSchema },
    responses: { 200: { description: 'preview', schema: jobPreviewSchema }, 400: err('invalid body or selector (with the position), unknown script or account, no runnable host') },
    async handler(ctx, s) {
      const body = await jsonBody(ctx, launchGuard, launchBodyLimit);
      ctx.body = await s.jobs.preview(body, actor(ctx));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/jobs',
    auth: 'write',
    audit: ['job.launch'],
    tag: 'jobs',
    summary: 'Launch a job. 400 names the rule and line when the safety audit blocks a script and the body has no approve (admin approval is written to the audit log).',
    body: { types: ['application/json'], limit: launchBodyLimit, schema: jobLaunchSchema },
    responses: { 201: { description: 'the job', schema: jobViewSchema }, 400: err('invalid body or selector, blocked by the audit, no runnable host') },
    async handler(ctx, s) {
      const body = await jsonBody(ctx, launchGuard, launchBodyLimit);
      ctx.status = 201;
      ctx.body = await s.jobs.launch(body, actor(ctx));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/plans/:id/run',
    auth: 'write',
    audit: ['job.launch'],
    tag: 'jobs',
    summary: 'Launch a job from a saved plan, named by its id or its name (its steps, targets and variables; the body overrides targets, variables, dry run, name or version). Answers like POST /api/v1/jobs.',
    body: { types: ['application/json'], limit: 64 * 1024, schema: planRunSchema, optional: true },
    responses: { 201: { description: 'the job', schema: jobViewSchema }, 400: err('invalid body or selector, blocked by the audit, no runnable host'), 404: err('no such plan or version') },
    async handler(ctx, s) {
      const given = ctx.params['id'] ?? '';
      const id = await s.plans.resolveId(given);
      if (id === undefined) throw new ApiError('NOT_FOUND', `no plan with the id or name ${JSON.stringify(given.slice(0, 100))} (GET /api/v1/plans lists them)`);
      const raw = await readRawBody(ctx, 64 * 1024);
      const over: PlanRun = raw.length === 0 ? {} : await jsonBody(ctx, planRunGuard, 64 * 1024);
      const { approve, ...overrides } = over;
      const body = await s.plans.toLaunchBody(id, overrides);
      ctx.status = 201;
      ctx.body = await s.jobs.launch({ ...(body as JobLaunch), ...(approve ? { approve } : {}) }, actor(ctx));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/jobs',
    auth: 'read',
    tag: 'jobs',
    summary: 'Jobs, newest first; pass `next` as `before` for the next page.',
    query: { limit: { description: '1-500, default 50', schema: { type: 'integer' } }, before: { description: 'a job id: jobs older than it', schema: { type: 'string' } } },
    responses: { 200: { description: 'jobs', schema: jobListSchema }, 400: err('bad query') },
    async handler(ctx, s) {
      const before = ctx.query['before'];
      if (before !== undefined && (typeof before !== 'string' || !jobIdRe.test(before))) throw new ApiError('BAD_REQUEST', 'query parameter before must be a job id');
      ctx.body = await s.jobs.list({ limit: intQuery(ctx, 'limit', 50, 1, 500), ...(before !== undefined ? { before } : {}) });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/jobs/:id',
    auth: 'read',
    tag: 'jobs',
    summary: 'One job: steps, hosts and their results; stdout/stderr only with output=true.',
    query: { output: { description: 'true: include stdout and stderr', schema: { type: 'boolean' } } },
    responses: { 200: { description: 'the job', schema: jobViewSchema }, 404: err('no such job') },
    async handler(ctx, s) {
      const output = ctx.query['output'];
      if (output !== undefined && output !== 'true' && output !== 'false') throw new ApiError('BAD_REQUEST', 'query parameter output must be true or false');
      ctx.body = await s.jobs.get(jobIdParam(ctx), output === 'true');
    },
  },
  {
    method: 'POST',
    path: '/api/v1/jobs/:id/cancel',
    auth: 'write',
    audit: ['job.cancel'],
    tag: 'jobs',
    summary: 'Cancel a running or paused job: unstarted hosts are cancelled at once, running ones are told to stop.',
    responses: { 200: { description: 'the job', schema: jobViewSchema }, 404: err('no such job'), 409: err('the job already finished') },
    async handler(ctx, s) {
      const id = jobIdParam(ctx);
      await readRawBody(ctx, 64 * 1024);
      ctx.body = await s.jobs.cancel(id, actor(ctx));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/jobs/:id/redo',
    auth: 'write',
    audit: ['job.redo'],
    tag: 'jobs',
    summary: 'A new job (redoOf) that reruns the failed or all hosts of a finished job, optionally only chosen steps.',
    body: { types: ['application/json'], limit: 64 * 1024, schema: jobRedoSchema },
    responses: { 201: { description: 'the new job', schema: jobViewSchema }, 400: err('invalid body, no failed host'), 404: err('no such job'), 409: err('the job has not finished') },
    async handler(ctx, s) {
      const id = jobIdParam(ctx);
      const body = await jsonBody(ctx, redoGuard, 64 * 1024);
      ctx.status = 201;
      ctx.body = await s.jobs.redo(id, body, actor(ctx));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/jobs/:id/confirm',
    auth: 'write',
    audit: ['job.confirm'],
    tag: 'jobs',
    summary: 'Answer a waiting step (a confirm step, or a failure under the pause policy): continue or stop.',
    body: { types: ['application/json'], limit: 64 * 1024, schema: jobConfirmSchema },
    responses: { 200: { description: 'the job', schema: jobViewSchema }, 404: err('no such job'), 409: err('the job does not wait for that step') },
    async handler(ctx, s) {
      const id = jobIdParam(ctx);
      const body = await jsonBody(ctx, confirmGuard, 64 * 1024);
      ctx.body = await s.jobs.confirm(id, body, actor(ctx));
    },
  },
];

export const jobAgentRoutes: readonly RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/v1/hosts/:host/jobs',
    auth: 'agent',
    tag: 'agents',
    summary: `Long-poll for job work: answers at once with work not yet started and running work to cancel, else after wait seconds (0-${maxPollWaitSeconds}, default 25) with empty lists. A newer poll of the host replaces a waiting one.`,
    query: { wait: { description: `seconds to wait for work, 0-${maxPollWaitSeconds} (default 25)`, schema: { type: 'integer' } } },
    responses: { 200: { description: 'work and cancels', schema: jobPollResponseSchema }, 400: err('bad wait'), 403: err('another host, pending or revoked') },
    async handler(ctx, s) {
      const p = ownHost(ctx);
      const wait = intQuery(ctx, 'wait', 25, 0, maxPollWaitSeconds);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = await s.jobs.channel.poll(p.host, wait, requestSignal(ctx));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/hosts/:host/jobs/:id/start',
    auth: 'agent',
    tag: 'agents',
    summary: 'Claim a dispatch before spawning it: run true once it moved to running (again true for a retry by the same host), else run false with the reason.',
    responses: { 200: { description: 'whether to run', schema: jobStartResponseSchema }, 400: err('bad dispatch id'), 403: err('another host') },
    async handler(ctx, s) {
      const p = ownHost(ctx);
      const id = dispatchIdParam(ctx);
      await readRawBody(ctx, 64 * 1024);
      ctx.body = await s.jobs.channel.start(p.host, id);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/hosts/:host/jobs/:id/result',
    auth: 'agent',
    tag: 'agents',
    summary: 'Deliver the result of a dispatch. The first result is kept; a re-sent one answers duplicate: true.',
    body: { types: ['application/json'], limit: resultBodyLimit, schema: jobResultSchema },
    responses: { 200: { description: 'stored or duplicate', schema: jobResultAckSchema }, 400: err('invalid result'), 403: err('another host'), 404: err('no such dispatch for this host') },
    async handler(ctx, s) {
      const p = ownHost(ctx);
      const id = dispatchIdParam(ctx);
      const result = await jsonBody(ctx, resultGuard, resultBodyLimit);
      ctx.body = await s.jobs.channel.result(p.host, id, result);
    },
  },
];
