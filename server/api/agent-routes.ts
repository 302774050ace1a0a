/**
 * Routes agents call: enrollment (public), status (pending allowed), and — for approved hosts
 * only, each on the caller's own host — catalog, blobs, reports and facts.
 */
import { agentStatusSchema, enrollRequestSchema, enrollResponseSchema, type EnrollRequest } from '../../schemas/api/enroll.js';
import { errorBodySchema } from '../../schemas/api/error.js';
import { factsAckSchema, reportAckSchema } from '../../schemas/api/hosts.js';
import { catalogSchema } from '../../schemas/catalog.js';
import { runReportSchema, type RunReport } from '../../schemas/report.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import { ApiError } from '../domain/errors.js';
import { reportQuotaDefaults } from '../domain/report-quota.js';
import type { AgentPrincipal, AppContext } from './app-state.js';
import { jsonBody } from './body.js';
import { checkProtocol } from './protocol.js';
import { serveBlob, serveBlobLimited } from './blob-response.js';
import { requestSignal } from './request-signal.js';
import type { RouteSpec } from './route-spec.js';
import { answerNotModified } from './route-helpers.js';

const enrollGuard: Guard<EnrollRequest> = compileGuard(enrollRequestSchema);
const reportGuard: Guard<RunReport> = compileGuard(runReportSchema);
const factsSchema = {
  $id: 'urn:stead:api:facts',
  type: 'object',
  maxProperties: 512,
  description: 'The agent\'s facts as one JSON object (hostname, os, ips, ...). Keys __proto__, constructor and prototype are refused.',
} as const;
const factsGuard: Guard<Record<string, unknown>> = compileGuard(factsSchema);

const err = (description: string) => ({ description, schema: errorBodySchema });

/** The host in the path must be the signed identity: anything else is 403, whatever exists. */
export function ownHost(ctx: AppContext): AgentPrincipal {
  const p = ctx.state.principal;
  if (!p || p.kind !== 'agent') throw new ApiError('UNAUTHENTICATED', 'a signed agent request is required');
  const host = ctx.params['host'];
  if (host !== p.host) throw new ApiError('FORBIDDEN', `host ${p.host} may only use its own resources`);
  return p;
}

function agent(ctx: AppContext): AgentPrincipal {
  const p = ctx.state.principal;
  if (!p || p.kind !== 'agent') throw new ApiError('UNAUTHENTICATED', 'a signed agent request is required');
  return p;
}

export const agentRoutes: readonly RouteSpec[] = [
  {
    method: 'POST',
    path: '/api/v1/agents/enroll',
    auth: 'public',
    tag: 'agents',
    summary: 'Enroll an agent key for a host. 201 approved (valid bootstrap token), 202 pending an operator.',
    body: { types: ['application/json'], limit: 64 * 1024, schema: enrollRequestSchema },
    responses: { 201: { description: 'approved', schema: enrollResponseSchema }, 202: { description: 'pending', schema: enrollResponseSchema }, 400: err('invalid body, host name or key; UNSUPPORTED_PROTOCOL'), 403: err('bootstrap token invalid, or key rejected'), 409: err('concurrent change; ENROLLMENT_SLOTS_FULL: the host name has no free pending slot (ADR 0009)'), 429: err('too many enrollments without a token from this address'), 503: err('SERVER_BUSY: the budget of bodies of unknown senders is full; retry after Retry-After seconds') },
    async handler(ctx, s) {
      checkProtocol(ctx);
      const req = await jsonBody(ctx, enrollGuard, 64 * 1024);
      if (req.bootstrapToken === undefined && !s.enrollLimiter.take(ctx.ip)) throw new ApiError('RATE_LIMITED', 'too many enrollments from this address; retry in a minute');
      // Facts in the enrollment body are ignored: enrollment is unauthenticated, facts come
      // only over signed requests (PUT /hosts/:host/facts).
      const r = await s.enrollment.enroll({ host: req.host, publicKey: req.publicKey, ...(req.bootstrapToken !== undefined ? { bootstrapToken: req.bootstrapToken } : {}) });
      ctx.status = r.status === 'approved' ? 201 : 202;
      ctx.body = r;
    },
  },
  {
    method: 'GET',
    path: '/api/v1/agents/status',
    auth: 'agent-any',
    tag: 'agents',
    summary: 'Enrollment status of the signing key (allowed while pending).',
    responses: { 200: { description: 'status', schema: agentStatusSchema }, 401: err('unsigned, bad signature, stale time or reused nonce'), 403: err('revoked') },
    async handler(ctx) {
      const p = agent(ctx);
      ctx.body = { host: p.host, status: p.status, fingerprint: p.fingerprint };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/hosts/:host/catalog',
    auth: 'agent',
    tag: 'agents',
    summary: 'The catalog of the calling host. ETag is the catalog id; If-None-Match gives 304.',
    responses: { 200: { description: 'the catalog', schema: catalogSchema }, 304: { description: 'unchanged' }, 403: err('another host, pending or revoked'), 404: err('no live revision, or host not in the inventory'), 422: err('the catalog does not compile') },
    async handler(ctx, s) {
      const p = ownHost(ctx);
      const served = await s.catalogs.forHost(p.host, requestSignal(ctx));
      // The agent refetches its tracking config when this differs from the version it holds (ADR 0018 §5).
      // A tracking config that cannot be read now does not cost the agent its catalog.
      const tracking = await s.software.trackingVersion().catch(() => undefined);
      if (tracking !== undefined) ctx.set('X-Stead-Tracking', tracking);
      // A new revision that leaves this host's resources alone keeps the catalog id (the ETag),
      // but the agent's copy still names the old revision, so its runs would never count for a
      // revision rollout's batch. While the host's newest run names another revision than the one
      // served, the catalog is sent again instead of a 304 (once: its next run names the new one).
      const last = (await s.reports.lastRuns()).get(p.host);
      const staleRevision = last !== undefined && last.catalogId === served.etag && last.revision !== served.catalogRevision;
      if (staleRevision) {
        ctx.set('ETag', `"${served.etag}"`);
        ctx.set('Cache-Control', 'private, no-cache');
      } else if (answerNotModified(ctx, served.etag)) return;
      ctx.type = 'application/json';
      ctx.body = served.body;
    },
  },
  {
    method: 'GET',
    path: '/api/v1/blobs/:sha256',
    auth: 'agent',
    tag: 'agents',
    summary: 'A blob referenced by the calling host\'s current catalog, or by a job dispatch offered to or running on it, by sha256 (supports Range).',
    responses: { 200: { description: 'the bytes', type: 'application/octet-stream' }, 206: { description: 'a range', type: 'application/octet-stream' }, 400: err('id is not 64 lowercase hex'), 404: err('not referenced by the caller\'s catalog or its in-flight job dispatches'), 416: err('range not satisfiable') },
    async handler(ctx, s) {
      const p = agent(ctx);
      const id = ctx.params['sha256'] ?? '';
      if (!/^[0-9a-f]{64}$/.test(id)) throw new ApiError('BAD_REQUEST', 'blob id must be 64 lowercase hex characters (sha256)');
      const signal = requestSignal(ctx);
      const where = await s.catalogs.blobFor(p.host, id, signal);
      if (where === undefined) {
        // A files step's blob, while a dispatch addressed to this host that references it is in flight.
        if (await s.jobs.channel.blobFor(p.host, id)) return serveBlobLimited(ctx, s.jobTransfers, s.jobs.channel.blobStore, id, signal);
        throw new ApiError('NOT_FOUND', `blob ${id} is not referenced by the catalog of ${p.host} or by a job dispatched to it`);
      }
      await serveBlob(ctx, where === 'store' ? s.catalogs.blobStore : where, id, signal);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/hosts/:host/reports',
    auth: 'agent',
    tag: 'agents',
    summary: 'Deliver a run report. Idempotent on runId: a re-sent report is 200 with duplicate: true and stored once. Limited in size (413) and, per host, in rate (429 with Retry-After): see docs/server.md.',
    body: { types: ['application/json'], limit: reportQuotaDefaults.maxBytes, configuredLimit: (s) => s.reportQuota.maxBytes, schema: runReportSchema },
    responses: {
      200: { description: 'stored (or already stored)', schema: reportAckSchema },
      400: err('invalid report'),
      403: err('another host, or report.host is not the signer'),
      413: err('the report is larger than the server\'s report limit (--report-max-bytes, default 4 MiB); the agent sends a shortened report instead'),
      422: err('FULL_REPORT_REQUIRED: a compact report the server cannot check against the catalog it served under its catalogId (unknown catalog, or counts, ids, order or digest do not match); send the full report (ADR 0021)'),
      429: err('this host sent more reports than its rate allows (--reports-per-hour); retry after Retry-After seconds'),
      503: err('SERVER_BUSY: sent without X-Stead-Body-Sha256 while the budget of bodies of unknown senders is full; retry after Retry-After seconds'),
    },
    async handler(ctx, s) {
      const p = ownHost(ctx);
      // The rate is checked before the body is read: a refused report costs no parsing.
      const quota = s.reportQuota.take(p.host);
      if (!quota.ok) {
        throw new ApiError('RATE_LIMITED', `host ${p.host} sent more than ${s.reportQuota.burst} reports at once or ${s.reportQuota.perHour} per hour; the report stays queued on the agent, retry in ${Math.ceil(quota.retryAfterMs / 1000)} s`).retryAfter(quota.retryAfterMs / 1000);
      }
      const report = await jsonBody(ctx, reportGuard, s.reportQuota.maxBytes);
      ctx.body = await s.reports.ingest(p.host, report);
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/hosts/:host/facts',
    auth: 'agent',
    tag: 'agents',
    summary: 'Replace the calling host\'s facts (a JSON object). They feed compilation only where the repository allows.',
    body: { types: ['application/json'], limit: 256 * 1024, schema: factsSchema },
    responses: { 200: { description: 'stored', schema: factsAckSchema }, 400: err('not an object, or forbidden keys'), 403: err('another host') },
    async handler(ctx, s) {
      const p = ownHost(ctx);
      const facts = await jsonBody(ctx, factsGuard, 256 * 1024);
      ctx.body = { host: p.host, changed: await s.hostStates.putFacts(p.host, facts) };
    },
  },
];

export const agentBodyLimits: Readonly<Record<string, number>> = Object.fromEntries(agentRoutes.filter((r) => r.body).map((r) => [`${r.method} ${r.path}`, r.body!.limit]));
