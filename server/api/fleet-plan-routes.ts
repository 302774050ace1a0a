/**
 * The fleet plan routes (ADR 0017 §2): the plan of a stored revision against a base (default:
 * the live revision), the plan of an upload (validated, not stored), and the surprises reported
 * after publishing. Planning an upload needs admin: its templates are rendered with the
 * server's secrets, exactly as publishing would.
 */
import { fleetPlanSchema, surpriseListSchema, type FleetPlan } from '../../schemas/api/fleet-plan.js';
import { revisionUploadSchema } from '../../schemas/api/revision.js';
import { ApiError } from '../domain/errors.js';
import { redactDeep } from '../domain/redact-paths.js';
import type { Services } from '../services/services.js';
import type { AppContext } from './app-state.js';
import { requestSignal } from './request-signal.js';
import { gzipUploadTypes, readRevisionUpload, revisionUploadLimit } from './revision-upload.js';
import { errorResponse } from './route-helpers.js';
import type { RouteSpec } from './route-spec.js';

const err = errorResponse;

/** A revision named in a path or query: its id, a unique prefix of at least 12 hex characters, or "live". */
async function revisionRef(s: Services, ref: string): Promise<string> {
  if (ref === 'live') {
    const live = await s.revisions.liveId();
    if (live === undefined) throw new ApiError('NO_LIVE_REVISION', 'no revision is live yet');
    return live;
  }
  const id = await s.revisions.resolveId(ref);
  if (!(await s.revisions.get(id))) throw new ApiError('NOT_FOUND', `no revision ${id}`);
  return id;
}

async function baseQuery(ctx: AppContext, s: Services): Promise<string | undefined> {
  const b = ctx.query['base'];
  if (b === undefined) return undefined;
  if (typeof b !== 'string' || b.length > 64) throw new ApiError('BAD_REQUEST', 'query parameter base must be one revision id (or a unique prefix of at least 12 hex characters, or "live")');
  return revisionRef(s, b);
}

/** Compiler problems may name the server's directories: they pass the path redactor. */
function shown(ctx: AppContext, plan: FleetPlan): FleetPlan {
  const redact = ctx.state.redactPaths;
  if (!redact) return plan;
  return { ...plan, hosts: plan.hosts.map((h) => (h.problems ? { ...h, problems: redactDeep(h.problems, redact) as typeof h.problems } : h)) };
}

const baseParam = { base: { description: 'the revision compared against: an id, a unique prefix of at least 12 hex characters, or "live" (default: the live revision)', schema: { type: 'string' } } };

export const fleetPlanRoutes: readonly RouteSpec[] = [
  {
    method: 'POST',
    path: '/api/v1/revisions/plan',
    auth: 'write',
    audit: { none: 'computes a plan; nothing is stored' },
    tag: 'revisions',
    summary: 'The fleet plan of an upload (the body of publishing: JSON map of files or a tar.gz), validated but not stored: every host compiled under it and under the base, with per-host resource changes and diffs of rendered files (secret-bearing files show none).',
    body: { types: ['application/json', ...gzipUploadTypes], limit: revisionUploadLimit, schema: revisionUploadSchema },
    query: baseParam,
    responses: { 200: { description: 'the plan', schema: fleetPlanSchema }, 400: err('unsafe paths, bad archive, bad base'), 404: err('no such base revision'), 413: err('too large'), 415: err('not JSON or gzip'), 422: err('the repository has errors that are not one host\'s (details.problems)'), 503: err('too many plans at once, or the plan outran its deadline') },
    async handler(ctx, s) {
      const base = await baseQuery(ctx, s);
      const { files } = await readRevisionUpload(ctx);
      ctx.body = shown(ctx, await s.fleetPlans.planUpload(files, base, requestSignal(ctx)));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/revisions/:id/plan',
    auth: 'read',
    tag: 'revisions',
    summary: 'The fleet plan of a stored revision against ?base= (default: the live revision): how many hosts change, which resources, diffs of rendered files (secret-bearing files show none), hosts whose catalog would fail. The plan stored when the revision was published is answered when its base is the one asked.',
    query: baseParam,
    responses: { 200: { description: 'the plan', schema: fleetPlanSchema }, 400: err('not a revision id'), 404: err('no such revision, or nothing live'), 409: err('a prefix matches several revisions'), 503: err('too many plans at once, or the plan outran its deadline') },
    async handler(ctx, s) {
      const id = await revisionRef(s, ctx.params['id'] ?? '');
      const base = await baseQuery(ctx, s);
      ctx.body = shown(ctx, await s.fleetPlans.planRevision(id, base, requestSignal(ctx)));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/revisions/:id/surprises',
    auth: 'read',
    tag: 'revisions',
    summary: 'Changes that hosts running this revision reported and its stored plan did not predict (drift, or an unplanned change), newest first (at most 1000).',
    responses: { 200: { description: 'surprises', schema: surpriseListSchema }, 400: err('not a revision id'), 404: err('no such revision'), 409: err('a prefix matches several revisions') },
    async handler(ctx, s) {
      ctx.body = await s.fleetPlans.surprises(await revisionRef(s, ctx.params['id'] ?? ''));
    },
  },
];
