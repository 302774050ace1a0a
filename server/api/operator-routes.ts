/**
 * Routes operators call with a bearer token: agents (approve, revoke, reject), bootstrap and
 * operator tokens, revisions, hosts, groups, variables, catalog preview, reports, compliance.
 * `read` routes take any role; `write` routes need admin.
 */
import {
  agentListSchema,
  agentViewSchema,
  approveRequestSchema,
  bootstrapTokenRequestSchema,
  bootstrapTokenResponseSchema,
  operatorTokenListSchema,
  operatorTokenRequestSchema,
  operatorTokenResponseSchema,
  operatorTokenRevokeSchema,
  type ApproveRequest,
  type BootstrapTokenRequest,
  type OperatorTokenRequest,
} from '../../schemas/api/agents.js';
import { complianceHistorySchema, complianceSummarySchema } from '../../schemas/api/compliance.js';
import { hostListSchema, hostViewSchema } from '../../schemas/api/hosts.js';
import { revisionDiffSchema, revisionListSchema, revisionUploadSchema, revisionViewSchema, type RevisionUpload } from '../../schemas/api/revision.js';
import { runReportSchema, type RunReport } from '../../schemas/report.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import { isoAt } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import { redactDeep } from '../domain/redact-paths.js';
import { hideRedactionDigests, hideSensitiveDigests } from '../domain/secret-digests.js';
import { assertHostName } from '../domain/host-name.js';
import type { LastRunSummary } from '../domain/compliance.js';
import type { AgentRecord } from '../services/enrollment-service.js';
import { filesFromJson, filesFromTarGz } from '../services/repository-files.js';
import type { RevisionInfo } from '../services/revision-service.js';
import type { HistoryEntry } from '../services/git/git-service.js';
import { activateRevision } from '../services/activate-revision.js';
import { byFields } from '../services/audit-log.js';
import { diffRevisions } from '../services/git/revision-diff.js';
import type { Services } from '../services/services.js';
import type { AppContext, OperatorPrincipal } from './app-state.js';
import { jsonBody, readRawBody, requireMediaType } from './body.js';
import { requestSignal } from './request-signal.js';
import { auditActorOf, errorResponse, operatorOf } from './route-helpers.js';
import type { RouteSpec } from './route-spec.js';

const approveGuard: Guard<ApproveRequest> = compileGuard(approveRequestSchema);
const bootstrapGuard: Guard<BootstrapTokenRequest> = compileGuard(bootstrapTokenRequestSchema);
const operatorTokenGuard: Guard<OperatorTokenRequest> = compileGuard(operatorTokenRequestSchema);
const revisionGuard: Guard<RevisionUpload> = compileGuard(revisionUploadSchema);
const rejectSchema = {
  $id: 'urn:stead:api:reject-request',
  type: 'object',
  additionalProperties: false,
  required: ['fingerprint'],
  properties: { fingerprint: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
} as const;
const rejectGuard: Guard<{ fingerprint: string }> = compileGuard(rejectSchema);

const err = errorResponse;
const uploadLimit = 64 * 1024 * 1024;
const gzipTypes = ['application/gzip', 'application/x-gzip', 'application/x-tar+gzip', 'application/tar+gzip'];

function operator(ctx: AppContext): OperatorPrincipal {
  return operatorOf(ctx);
}

function hostParam(ctx: AppContext): string {
  const h = ctx.params['host'];
  assertHostName(h);
  return h;
}

/** An optional JSON body: an empty body counts as {}. */
async function optionalJson<T>(ctx: AppContext, guard: Guard<T>): Promise<T> {
  const raw = await readRawBody(ctx, 64 * 1024);
  if (raw.length === 0) return {} as T;
  return jsonBody(ctx, guard, 64 * 1024);
}

function intQuery(ctx: AppContext, name: string, def: number, min: number, max: number): number {
  const v = ctx.query[name];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !/^-?\d{1,15}$/.test(v)) throw new ApiError('BAD_REQUEST', `query parameter ${name} must be an integer`);
  const n = Number(v);
  if (n < min || n > max) throw new ApiError('BAD_REQUEST', `query parameter ${name} must be between ${min} and ${max}`);
  return n;
}

function stringQuery(ctx: AppContext, name: string, pattern: RegExp): string | undefined {
  const v = ctx.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !pattern.test(v)) throw new ApiError('BAD_REQUEST', `query parameter ${name} is not valid (must match ${pattern.source})`);
  return v;
}

export function agentView(a: AgentRecord): unknown {
  return {
    host: a.host,
    status: a.status,
    keys: a.keys.map((k) => ({ fingerprint: k.fingerprint, status: k.status, createdAt: isoAt(k.createdAt), ...(k.approvedAt !== undefined ? { approvedAt: isoAt(k.approvedAt) } : {}), ...(k.expiresAt !== undefined ? { expiresAt: isoAt(k.expiresAt) } : {}), ...(k.via !== undefined ? { via: k.via } : {}) })),
  };
}

function revisionView(r: RevisionInfo | HistoryEntry): unknown {
  const h = r as HistoryEntry;
  return {
    id: r.id,
    createdAt: isoAt(r.createdAt),
    createdBy: r.createdBy,
    ...(r.message !== undefined ? { message: r.message } : {}),
    fileCount: r.fileCount,
    live: r.live,
    ...(h.commit !== undefined ? { commit: h.commit } : {}),
    ...(h.parent !== undefined ? { parent: h.parent } : {}),
    ...(h.author !== undefined ? { author: h.author } : {}),
  };
}

/** A revision named in a path: its id, a unique prefix, or "live". */
async function revisionParam(s: Services, ref: string): Promise<string> {
  if (ref === 'live') {
    const id = await s.revisions.liveId();
    if (id === undefined) throw new ApiError('NO_LIVE_REVISION', 'no revision is live yet');
    return id;
  }
  return s.revisions.resolveId(ref);
}

export function lastRunView(r: LastRunSummary): unknown {
  return { runId: r.runId, at: isoAt(r.atMs), receivedAt: isoAt(r.receivedAtMs), outcome: r.outcome, mode: r.mode, catalogId: r.catalogId, revision: r.revision, corrective: r.corrective, changed: r.changed, failed: r.failed };
}

export const operatorRoutes: readonly RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/v1/agents',
    auth: 'read',
    tag: 'agents',
    summary: 'Every enrolled host and its keys.',
    responses: { 200: { description: 'agents', schema: agentListSchema } },
    async handler(ctx, s) {
      ctx.body = { agents: (await s.enrollment.list()).map(agentView) };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/agents/:host',
    auth: 'read',
    tag: 'agents',
    summary: 'One host\'s enrollment.',
    responses: { 200: { description: 'agent', schema: agentViewSchema }, 404: err('not enrolled') },
    async handler(ctx, s) {
      const a = await s.enrollment.get(hostParam(ctx));
      if (!a) throw new ApiError('NOT_FOUND', 'no agent has enrolled under this host name');
      ctx.body = agentView(a);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/agents/:host/approve',
    auth: 'write',
    audit: ['agent.approve'],
    tag: 'agents',
    summary: 'Approve a pending key (the only one, or the named fingerprint; approving a second key retires the first).',
    body: { types: ['application/json'], limit: 64 * 1024, schema: approveRequestSchema, optional: true },
    responses: { 200: { description: 'agent', schema: agentViewSchema }, 404: err('unknown host or key'), 409: err('ambiguous: name the fingerprint') },
    async handler(ctx, s) {
      const host = hostParam(ctx);
      const body = await optionalJson(ctx, approveGuard);
      ctx.body = agentView(await s.enrollment.approve(host, body.fingerprint, auditActorOf(ctx)));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/agents/:host/revoke',
    auth: 'write',
    audit: ['agent.revoke'],
    tag: 'agents',
    summary: 'Revoke a host: every later request it signs gets 403.',
    responses: { 200: { description: 'agent', schema: agentViewSchema }, 404: err('unknown host') },
    async handler(ctx, s) {
      ctx.body = agentView(await s.enrollment.revoke(hostParam(ctx), auditActorOf(ctx)));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/agents/:host/reject',
    auth: 'write',
    audit: ['agent.reject'],
    tag: 'agents',
    summary: 'Reject a pending key for good.',
    body: { types: ['application/json'], limit: 64 * 1024, schema: rejectSchema },
    responses: { 200: { description: 'agent', schema: agentViewSchema }, 404: err('unknown host or key') },
    async handler(ctx, s) {
      const host = hostParam(ctx);
      const body = await jsonBody(ctx, rejectGuard, 64 * 1024);
      ctx.body = agentView(await s.enrollment.reject(host, body.fingerprint, auditActorOf(ctx)));
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/agents/:host/keys/:fingerprint',
    auth: 'write',
    audit: ['agent.delete-key'],
    tag: 'agents',
    summary: 'Delete a key (pending, rejected, retired, or the approved key of a revoked host). Deleting the last key forgets the host.',
    responses: { 200: { description: 'the host after the deletion', schema: agentViewSchema }, 204: { description: 'the last key was deleted: the host is forgotten' }, 400: err('not a fingerprint'), 404: err('unknown host or key'), 409: err('the approved key of a host that is not revoked') },
    async handler(ctx, s) {
      const host = hostParam(ctx);
      const fingerprint = ctx.params['fingerprint'] ?? '';
      if (!/^[0-9a-f]{64}$/.test(fingerprint)) throw new ApiError('BAD_REQUEST', 'the fingerprint must be 64 lowercase hex characters (GET /api/v1/agents/:host lists them)');
      const after = await s.enrollment.deleteKey(host, fingerprint, auditActorOf(ctx));
      ctx.state.log.info('agent key deleted', { host, fingerprint, operator: operator(ctx).name });
      if (after) ctx.body = agentView(after);
      else ctx.status = 204;
    },
  },
  {
    method: 'POST',
    path: '/api/v1/bootstrap-tokens',
    auth: 'write',
    audit: ['bootstrap-token.create'],
    tag: 'agents',
    summary: 'Create a single-use, expiring bootstrap token (optionally bound to one host name).',
    body: { types: ['application/json'], limit: 64 * 1024, schema: bootstrapTokenRequestSchema, optional: true },
    responses: { 201: { description: 'token (shown once)', schema: bootstrapTokenResponseSchema } },
    async handler(ctx, s) {
      const body = await optionalJson(ctx, bootstrapGuard);
      const t = await s.enrollment.createBootstrapToken({ ...(body.ttlSeconds !== undefined ? { ttlSeconds: body.ttlSeconds } : {}), ...(body.host !== undefined ? { host: body.host } : {}) }, auditActorOf(ctx));
      ctx.status = 201;
      ctx.body = { token: t.token, expiresAt: isoAt(t.expiresAt), ...(t.host !== undefined ? { host: t.host } : {}) };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/operator-tokens',
    auth: 'write',
    audit: ['token.create'],
    tag: 'operators',
    summary: 'Create an operator token with role admin or readonly.',
    body: { types: ['application/json'], limit: 64 * 1024, schema: operatorTokenRequestSchema },
    responses: { 201: { description: 'token (shown once)', schema: operatorTokenResponseSchema }, 409: err('a token with this name exists (revoked ones included)') },
    async handler(ctx, s) {
      const body = await jsonBody(ctx, operatorTokenGuard, 64 * 1024);
      const token = await s.operators.createToken(body.name, body.role);
      // Recorded here until the users lane records tokens in OperatorAuthService (same action and target; never the token itself): on merge, keep theirs.
      await s.auditLog.record({ ...byFields(auditActorOf(ctx)), action: 'token.create', target: `token:${body.name}`, after: { name: body.name, role: body.role } });
      ctx.status = 201;
      ctx.body = { name: body.name, role: body.role, token };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/operator-tokens',
    auth: 'write',
    tag: 'operators',
    summary: 'List operator tokens (names, roles, revoked or not; never the tokens). Admin only.',
    responses: { 200: { description: 'tokens', schema: operatorTokenListSchema } },
    async handler(ctx, s) {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { tokens: (await s.operators.list()).map((t) => ({ name: t.name, role: t.role, createdAt: isoAt(t.createdAt), revoked: t.revoked })) };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/operator-tokens/:name/revoke',
    auth: 'write',
    audit: ['token.revoke'],
    tag: 'operators',
    summary: 'Revoke every token of this name and end its console sessions (other servers notice within their 5 s token cache).',
    responses: { 200: { description: 'revoked', schema: operatorTokenRevokeSchema }, 404: err('no token has this name') },
    async handler(ctx, s) {
      const name = ctx.params['name'] ?? '';
      if (!(await s.operators.list()).some((t) => t.name === name)) throw new ApiError('NOT_FOUND', `no operator token is named ${JSON.stringify(name.slice(0, 64))}`);
      const revoked = await s.operators.revokeByName(name);
      await s.auditLog.record({ ...byFields(auditActorOf(ctx)), action: 'token.revoke', target: `token:${name}`, after: { revoked } });
      ctx.body = { name, revoked };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/revisions',
    auth: 'write',
    audit: ['revision.publish'],
    tag: 'revisions',
    summary: 'Publish a repository (JSON map of files, or a tar.gz) as a new revision after validating it as a whole. On failure the live revision is unchanged and every error is listed. With `rollout` (JSON only) the revision is stored without going live and delivered in batches; the answer then carries `rollout: { id, state, batches }`.',
    body: { types: ['application/json', ...gzipTypes], limit: uploadLimit, schema: revisionUploadSchema },
    responses: { 201: { description: 'published and live, or stored with a rollout started', schema: revisionViewSchema }, 400: err('unsafe paths, bad archive, bad batch expression'), 409: err('ROLLOUT_ACTIVE: a revision rollout is active'), 413: err('too large'), 415: err('not JSON or gzip'), 422: err('the repository has errors; details.problems lists them with file/line/path') },
    async handler(ctx, s) {
      const op = operator(ctx);
      const type = requireMediaType(ctx, ['application/json', ...gzipTypes]);
      let files: Map<string, Buffer>;
      let message: string | undefined;
      let rollout: RevisionUpload['rollout'];
      if (type === 'application/json') {
        const body = await jsonBody(ctx, revisionGuard, uploadLimit);
        files = filesFromJson(body.files, body.encoding);
        message = body.message;
        rollout = body.rollout;
      } else {
        files = await filesFromTarGz(await readRawBody(ctx, uploadLimit));
        const m = ctx.get('x-stead-message');
        if (m) message = m.slice(0, 1000);
      }
      // One revision rollout at a time (ADR 0017): publishing while one is active is refused (409 ROLLOUT_ACTIVE).
      await s.rollouts.assertNoActiveRevision();
      const meta = { createdBy: op.name, address: ctx.ip, ...(message !== undefined ? { message } : {}) };
      const previous = await s.revisions.liveId();
      // A commit on the manifest history as well (ADR 0017), when the server has git.
      const publish = async (opts: { makeLive?: boolean; check?: (revision: string) => Promise<void> }) => {
        if (s.git) return s.git.publish(files, meta, requestSignal(ctx), opts);
        const r = await s.revisions.publish(files, meta, requestSignal(ctx), { makeLive: false });
        await opts.check?.(r.id);
        return opts.makeLive === false ? r : s.revisions.activate(r.id);
      };
      if (rollout === undefined) {
        const r = await publish({});
        // Its plan against the revision live before it, computed and stored in the background (ADR 0017 §2).
        void s.fleetPlans.planPublished(r.id, previous);
        ctx.status = 201;
        ctx.body = revisionView(r);
        return;
      }
      // A rollout that could not start (no host to deliver to, a bad policy) refuses the publish before the revision enters the history.
      const r = await publish({ makeLive: false, check: (id) => (id === previous ? Promise.resolve() : s.rollouts.checkRevision({ revision: id, previous, policy: rollout })) });
      if (r.id === previous) throw new ApiError('CONFLICT', `revision ${r.id.slice(0, 12)} is already live: there is nothing to roll out`);
      const ro = await s.rollouts.startRevision({ revision: r.id, previous, policy: rollout, ...('commit' in r && typeof r.commit === 'string' ? { commit: r.commit } : {}) }, { name: op.name, address: ctx.ip });
      void s.fleetPlans.planPublished(r.id, previous);
      ctx.status = 201;
      ctx.body = { ...(revisionView(r) as object), rollout: { id: ro.id, state: ro.state, batches: ro.batches } };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/revisions',
    auth: 'read',
    tag: 'revisions',
    summary: 'The manifest history, newest first: one entry per commit (push, upload or activation) with its commit, parent and author; a revision appears again when it was re-activated.',
    query: { limit: { description: 'at most this many (1-500, default 50)', schema: { type: 'integer', minimum: 1, maximum: 500 } } },
    responses: { 200: { description: 'revisions', schema: revisionListSchema } },
    async handler(ctx, s) {
      const limit = intQuery(ctx, 'limit', 50, 1, 500);
      ctx.body = { revisions: (s.git ? await s.git.list(limit) : await s.revisions.list(limit)).map(revisionView) };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/revisions/:a/diff/:b',
    auth: 'read',
    tag: 'revisions',
    summary: 'What changes from revision a to revision b, file by file (unified diffs, bounded). Each is an id, a unique prefix of at least 12 hex characters, or "live".',
    responses: { 200: { description: 'the files that differ', schema: revisionDiffSchema }, 400: err('not an id'), 404: err('unknown'), 409: err('a prefix matches several revisions') },
    async handler(ctx, s) {
      const a = await revisionParam(s, ctx.params['a'] ?? '');
      const b = await revisionParam(s, ctx.params['b'] ?? '');
      const d = diffRevisions(await s.revisions.files(a), await s.revisions.files(b));
      ctx.body = { a, b, files: d.files, ...(d.truncated ? { truncated: true } : {}) };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/revisions/:id',
    auth: 'read',
    tag: 'revisions',
    summary: 'One revision and its files: its id, a unique prefix of at least 12 hex characters, or "live".',
    responses: { 200: { description: 'revision' }, 400: err('not an id'), 404: err('unknown'), 409: err('the prefix matches several revisions') },
    async handler(ctx, s) {
      let id = ctx.params['id'] ?? '';
      if (id === 'live') {
        id = (await s.revisions.liveId()) ?? '';
        if (id === '') throw new ApiError('NO_LIVE_REVISION', 'no revision is live yet');
      }
      id = await s.revisions.resolveId(id);
      const r = await s.revisions.get(id);
      if (!r) throw new ApiError('NOT_FOUND', `no revision ${id}`);
      ctx.body = { ...(revisionView(r) as object), files: r.files };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/revisions/:id/activate',
    auth: 'write',
    audit: ['revision.activate'],
    tag: 'revisions',
    summary: 'Make an earlier (validated) revision live again (a rollback): its id, or a unique prefix of at least 12 hex characters (as the console shows it). The history gets a new commit whose tree equals that revision.',
    responses: { 200: { description: 'live', schema: revisionViewSchema }, 400: err('not an id'), 404: err('unknown'), 409: err('the prefix matches several revisions, or a revision rollout is in progress (ROLLOUT_ACTIVE)') },
    async handler(ctx, s) {
      const id = await s.revisions.resolveId(ctx.params['id'] ?? '');
      ctx.body = revisionView(await activateRevision(s, id, auditActorOf(ctx)));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/hosts',
    auth: 'read',
    tag: 'hosts',
    summary: 'Every host: inventory of the live revision, enrollment, last run and compliance.',
    responses: { 200: { description: 'hosts', schema: hostListSchema } },
    async handler(ctx, s) {
      const signal = requestSignal(ctx);
      const [hosts, agents] = await Promise.all([s.compliance.hosts(signal), s.enrollment.list()]);
      const enrolled = new Map(agents.map((a) => [a.host, a.status]));
      const names = new Set([...hosts.map((h) => h.host), ...enrolled.keys()]);
      const byName = new Map(hosts.map((h) => [h.host, h]));
      ctx.body = {
        hosts: [...names].sort().map((name) => {
          const h = byName.get(name);
          return {
            host: name,
            inInventory: h?.inInventory ?? false,
            groups: [...(h?.groups ?? [])],
            ...(enrolled.has(name) ? { enrollment: enrolled.get(name) } : {}),
            compliance: h?.state ?? 'unknown',
            ...(h?.lastRun ? { lastRun: lastRunView(h.lastRun) } : {}),
          };
        }),
      };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/hosts/:host',
    auth: 'read',
    tag: 'hosts',
    summary: 'One host.',
    responses: { 200: { description: 'host', schema: hostViewSchema }, 404: err('unknown host') },
    async handler(ctx, s) {
      const name = hostParam(ctx);
      const h = (await s.compliance.hosts(requestSignal(ctx))).find((x) => x.host === name);
      const a = await s.enrollment.get(name);
      if (!h && !a) throw new ApiError('NOT_FOUND', `unknown host ${name}`);
      const st = await s.hostStates.get(name);
      ctx.body = {
        host: name,
        inInventory: h?.inInventory ?? false,
        groups: [...(h?.groups ?? [])],
        ...(a ? { enrollment: a.status } : {}),
        compliance: h?.state ?? 'unknown',
        ...(h?.lastRun ? { lastRun: lastRunView(h.lastRun) } : {}),
        ...(st?.factsUpdatedAt !== undefined ? { factsUpdatedAt: isoAt(st.factsUpdatedAt) } : {}),
      };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/hosts/:host/facts',
    auth: 'read',
    tag: 'hosts',
    summary: 'The facts a host last sent.',
    responses: { 200: { description: 'facts' }, 404: err('none') },
    async handler(ctx, s) {
      const facts = await s.hostStates.facts(hostParam(ctx));
      if (!facts) throw new ApiError('NOT_FOUND', 'this host has not sent facts');
      ctx.body = facts;
    },
  },
  {
    method: 'GET',
    path: '/api/v1/hosts/:host/preview',
    auth: 'read',
    tag: 'hosts',
    summary: 'Compile the host\'s catalog from the live revision now (not cached); problems are returned, not thrown.',
    responses: { 200: { description: '{ revision, catalog?, problems }' }, 404: err('no live revision or host not in inventory') },
    async handler(ctx, s) {
      const r = await s.catalogs.preview(hostParam(ctx), requestSignal(ctx));
      const redact = ctx.state.redactPaths ?? ((x: string) => x);
      // Readonly operators get no digest of secret-bearing content (ADR 0008).
      const catalog = r.catalog && operator(ctx).role !== 'admin' ? hideSensitiveDigests(r.catalog) : r.catalog;
      ctx.body = { revision: r.revision, ...(catalog ? { catalog } : {}), problems: redactDeep(r.problems, redact) };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/hosts/:host/variables',
    auth: 'read',
    tag: 'hosts',
    summary: 'The host\'s merged variables: ?view=yaml (default) or flat; ?explain=<key> tells which layer set a key.',
    query: {
      view: { description: 'yaml or flat', schema: { enum: ['yaml', 'flat'] } },
      explain: { description: 'a dotted key to explain', schema: { type: 'string', maxLength: 512 } },
    },
    responses: { 200: { description: 'variables' }, 404: err('no live revision or host not in inventory') },
    async handler(ctx, s) {
      const host = hostParam(ctx);
      const view = stringQuery(ctx, 'view', /^(yaml|flat)$/) ?? 'yaml';
      const explain = stringQuery(ctx, 'explain', /^[^\u0000-\u001f]{1,512}$/);
      const signal = requestSignal(ctx);
      const live = await s.revisions.live(signal);
      if (!live) throw new ApiError('NO_LIVE_REVISION', 'no manifest revision has been published yet');
      if (!live.loaded.hosts.some((h) => h.name === host)) throw new ApiError('NOT_FOUND', `host ${host} is not in the inventory of the live revision`);
      const v = await live.loaded.variables(host, await s.hostStates.facts(host));
      if (explain !== undefined) {
        ctx.body = { host, revision: live.id, key: explain, explain: (await v.explain(explain)) ?? null };
      } else if (view === 'flat') {
        ctx.body = { host, revision: live.id, flat: v.flat };
      } else {
        ctx.type = 'application/yaml';
        ctx.body = v.yaml;
      }
    },
  },
  {
    method: 'GET',
    path: '/api/v1/groups',
    auth: 'read',
    tag: 'hosts',
    summary: 'Groups of the live revision with their hosts and compliance.',
    responses: { 200: { description: '{ groups: [{ name, hosts, compliance }] }' } },
    async handler(ctx, s) {
      const signal = requestSignal(ctx);
      const live = await s.revisions.live(signal);
      const members = new Map<string, string[]>();
      for (const h of live?.loaded.hosts ?? []) for (const g of h.groups) members.set(g, [...(members.get(g) ?? []), h.name]);
      const summary = await s.compliance.summary(signal);
      const byScope = new Map(summary.groups.map((b) => [b.scope, b]));
      ctx.body = { groups: [...members.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, hosts]) => ({ name, hosts: hosts.sort(), compliance: byScope.get(`group:${name}`) })) };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/reports',
    auth: 'read',
    tag: 'reports',
    summary: 'Recent reports (summaries), newest first; ?host= and ?outcome= filter.',
    query: {
      host: { description: 'only this host', schema: { type: 'string' } },
      outcome: { description: 'in-sync, changed, would-change or failed', schema: { enum: ['in-sync', 'changed', 'would-change', 'failed'] } },
      limit: { description: '1-1000, default 50', schema: { type: 'integer' } },
    },
    responses: { 200: { description: '{ reports: [...] }' } },
    async handler(ctx, s) {
      const host = stringQuery(ctx, 'host', /^[A-Za-z0-9_.-]{1,253}$/);
      const outcome = stringQuery(ctx, 'outcome', /^(in-sync|changed|would-change|failed)$/);
      const limit = intQuery(ctx, 'limit', 50, 1, 1000);
      const list = await s.reports.list({ ...(host !== undefined ? { host } : {}), ...(outcome !== undefined ? { outcome } : {}), limit });
      ctx.body = { reports: list.map((r) => ({ ...r, startedAt: isoAt(r.startedAt), receivedAt: isoAt(r.receivedAt) })) };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/hosts/:host/reports/:runId',
    auth: 'read',
    tag: 'reports',
    summary: 'One report: the whole of it, or with ?limit= (and ?offset=) a page of its resources; X-Stead-Resources-Total then counts them all.',
    query: {
      offset: { description: 'first resource of the page (0-based), default 0', schema: { type: 'integer', minimum: 0 } },
      limit: { description: 'resources per page, 1-1000; without it the whole report', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
    },
    responses: { 200: { description: 'the report (resources of the page only, when paged)', schema: runReportSchema }, 400: err('bad runId, offset or limit'), 404: err('unknown') },
    async handler(ctx, s) {
      const host = hostParam(ctx);
      const runId = ctx.params['runId'] ?? '';
      if (!/^[A-Za-z0-9._-]{1,128}$/.test(runId)) throw new ApiError('BAD_REQUEST', 'runId must be 1-128 characters of [A-Za-z0-9._-]');
      const paged = ctx.query['limit'] !== undefined || ctx.query['offset'] !== undefined;
      const offset = intQuery(ctx, 'offset', 0, 0, 10_000_000);
      const limit = intQuery(ctx, 'limit', 100, 1, 1000);
      const stored = await s.reports.getJson(host, runId);
      if (stored === undefined) throw new ApiError('NOT_FOUND', `no report ${runId} for ${host}`);
      // Readonly operators get no digest of redacted (secret) values (ADR 0008).
      const json = operator(ctx).role === 'admin' ? stored : hideRedactionDigests(stored);
      ctx.type = 'application/json';
      if (!paged) {
        // The stored text as is: no parse and no serialisation on the event loop.
        ctx.body = json;
        return;
      }
      const r = JSON.parse(json) as RunReport;
      ctx.set('X-Stead-Resources-Total', String(r.resources.length));
      ctx.body = { ...r, resources: r.resources.slice(offset, offset + limit) };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/compliance',
    auth: 'read',
    tag: 'compliance',
    summary: 'Fleet, group and resource compliance now.',
    responses: { 200: { description: 'summary', schema: complianceSummarySchema } },
    async handler(ctx, s) {
      const r = await s.compliance.summary(requestSignal(ctx));
      ctx.body = { at: isoAt(r.at), fleet: r.fleet, groups: r.groups, resources: r.resources };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/compliance/history',
    auth: 'read',
    tag: 'compliance',
    summary: 'Hourly compliance of a scope ("fleet", "group:<name>", "resource:<id>") over ?days= (default 7).',
    query: {
      scope: { description: 'default fleet', schema: { type: 'string' } },
      days: { description: '1-400, default 7', schema: { type: 'integer' } },
    },
    responses: { 200: { description: 'history', schema: complianceHistorySchema } },
    async handler(ctx, s) {
      const scope = stringQuery(ctx, 'scope', /^(fleet|group:[^\u0000-\u001f]{1,200}|resource:[^\u0000-\u001f]{1,600})$/) ?? 'fleet';
      const days = intQuery(ctx, 'days', 7, 1, 400);
      const to = s.clock.now() + 3_600_000;
      const points = await s.compliance.history(scope, to - days * 86_400_000, to);
      ctx.body = { scope, points: points.map((p) => ({ ...p, hour: isoAt(p.hour) })) };
    },
  },
];

