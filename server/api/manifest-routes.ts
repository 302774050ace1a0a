/**
 * Editing the manifest repository (issue 12; docs/manifest-repository.md, docs/api.md):
 * reading the live tree and files, the quick check of a file as it is typed and the flattened
 * variable key table (any operator), and drafts — file changes on the live revision owned by one
 * operator — previewed, planned, committed to the manifest history and published (an operator
 * who may publish: admin, or an operator without a scope).
 */
import {
  manifestCheckRequestSchema,
  manifestCheckSchema,
  manifestCommitRequestSchema,
  manifestDraftListSchema,
  manifestDraftSchema,
  manifestDraftWriteSchema,
  manifestFileSchema,
  manifestPreviewRequestSchema,
  manifestPreviewSchema,
  manifestPublishRequestSchema,
  manifestTreeSchema,
  manifestVarEditSchema,
  manifestVarTableSchema,
  type ManifestCheckRequest,
  type ManifestCommitRequest,
  type ManifestDraftWrite,
  type ManifestPreviewRequest,
  type ManifestPublishRequest,
  type ManifestVarEdit,
} from '../../schemas/api/manifests.js';
import { fleetPlanSchema } from '../../schemas/api/fleet-plan.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import { isoAt } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import { assertHostName } from '../domain/host-name.js';
import { redactDeep } from '../domain/redact-paths.js';
import type { Draft, ManifestDrafts } from '../services/manifests/manifest-drafts.js';
import { editVarTable, readVarTable } from '../services/manifests/var-table.js';
import { mayPublish } from '../services/manifests/may-publish.js';
import type { Services } from '../services/services.js';
import type { AppContext } from './app-state.js';
import { jsonBody } from './body.js';
import { requestSignal } from './request-signal.js';
import { errorResponse, operatorOf } from './route-helpers.js';
import type { RouteSpec } from './route-spec.js';

const err = errorResponse;
const bodyLimit = 2 * 1024 * 1024;
const checkGuard: Guard<ManifestCheckRequest> = compileGuard(manifestCheckRequestSchema);
const previewGuard: Guard<ManifestPreviewRequest> = compileGuard(manifestPreviewRequestSchema);
const writeGuard: Guard<ManifestDraftWrite> = compileGuard(manifestDraftWriteSchema);
const varEditGuard: Guard<ManifestVarEdit> = compileGuard(manifestVarEditSchema);
const commitGuard: Guard<ManifestCommitRequest> = compileGuard(manifestCommitRequestSchema);
const publishGuard: Guard<ManifestPublishRequest> = compileGuard(manifestPublishRequestSchema);

function drafts(s: Services): ManifestDrafts {
  if (!s.manifestDrafts) throw new ApiError('NOT_FOUND', 'this server does not edit manifests');
  return s.manifestDrafts;
}

/** The operator, refused unless they may publish (admin, or an operator without a scope). */
function publisher(ctx: AppContext): { name: string; address: string } {
  const op = operatorOf(ctx);
  const why = mayPublish(op);
  if (why !== undefined) throw new ApiError('FORBIDDEN', why);
  return { name: op.name, address: ctx.ip };
}

function q(ctx: AppContext, name: string): string | undefined {
  const v = ctx.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > 1024) throw new ApiError('BAD_REQUEST', `query parameter ${name} must be given once, at most 1024 characters`);
  return v;
}

function required(ctx: AppContext, name: string): string {
  const v = q(ctx, name);
  if (v === undefined || v === '') throw new ApiError('BAD_REQUEST', `query parameter ${name} is required`);
  return v;
}

/** A draft in the API's shape (times as RFC 3339). */
export function draftView(d: Draft): unknown {
  return { ...d, createdAt: isoAt(d.createdAt), updatedAt: isoAt(d.updatedAt) };
}

/** Compiler problems may name the server's directories: they pass the path redactor. */
function shown<T>(ctx: AppContext, v: T): T {
  const redact = ctx.state.redactPaths;
  return redact ? (redactDeep(v, redact) as T) : v;
}

const draftParam = { draft: { description: 'a draft id of yours: read the file as the draft has it', schema: { type: 'string' } } };

export const manifestRoutes: readonly RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/v1/manifests/tree',
    auth: 'read',
    tag: 'manifests',
    summary: 'The files of the live revision (path, size, kind); with ?draft= the draft\'s base with its changes marked.',
    query: draftParam,
    responses: { 200: { description: 'the tree', schema: manifestTreeSchema }, 404: err('no such draft') },
    async handler(ctx, s) {
      const t = await drafts(s).tree(q(ctx, 'draft'), operatorOf(ctx).name);
      ctx.body = { ...t, ...(t.draft ? { draft: draftView(t.draft) } : {}) };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/manifests/file',
    auth: 'read',
    tag: 'manifests',
    summary: 'One text file of the live revision (or of a draft of yours).',
    query: { path: { description: 'the file, relative to the repository root', schema: { type: 'string' } }, ...draftParam },
    responses: { 200: { description: 'the file', schema: manifestFileSchema }, 400: err('not a repository path'), 404: err('no such file or draft'), 415: err('not UTF-8 text') },
    async handler(ctx, s) {
      ctx.body = await drafts(s).read(required(ctx, 'path'), q(ctx, 'draft'), operatorOf(ctx).name);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/manifests/check',
    auth: 'read',
    tag: 'manifests',
    summary: 'The quick check of a file\'s text in the context of the repository (live, or a draft of yours), as the console does while you type: YAML syntax and shapes with line, column and JSON pointer, references, template syntax. No host is compiled (the plan and the commit do that).',
    body: { types: ['application/json'], limit: bodyLimit, schema: manifestCheckRequestSchema },
    responses: { 200: { description: 'the problems', schema: manifestCheckSchema }, 400: err('not a repository path'), 404: err('no such draft'), 413: err('too large') },
    async handler(ctx, s) {
      const b = await jsonBody(ctx, checkGuard, bodyLimit);
      ctx.body = shown(ctx, await drafts(s).check(b.path, b.content, requestSignal(ctx), b.draft, operatorOf(ctx).name));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/manifests/vars',
    auth: 'read',
    tag: 'manifests',
    summary: 'The flattened variable key table of a file (vars/global.yaml, groups/*.yaml, inventory/*.yaml with ?host=), live or from a draft of yours.',
    query: { path: { description: 'the file', schema: { type: 'string' } }, host: { description: 'inventory files: whose variables (default: the first host)', schema: { type: 'string' } }, ...draftParam },
    responses: { 200: { description: 'the table', schema: manifestVarTableSchema }, 400: err('not a variables file, or it does not parse'), 404: err('no such file, host or draft') },
    async handler(ctx, s) {
      const path = required(ctx, 'path');
      const host = q(ctx, 'host');
      if (host !== undefined) assertHostName(host);
      const f = await drafts(s).read(path, q(ctx, 'draft'), operatorOf(ctx).name);
      ctx.body = readVarTable(path, f.content, host);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/manifests/drafts',
    auth: 'read',
    tag: 'manifests',
    summary: 'Your drafts, newest first.',
    responses: { 200: { description: 'drafts', schema: manifestDraftListSchema } },
    async handler(ctx, s) {
      ctx.body = { drafts: (await drafts(s).list(operatorOf(ctx).name)).map(draftView) };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/manifests/drafts',
    auth: 'write',
    audit: { none: 'a private draft changes nothing until it is committed (revision.publish)' },
    tag: 'manifests',
    summary: 'Start a draft on the live revision and the head of the manifest history (needs the right to publish: admin, or an operator without a scope).',
    responses: { 201: { description: 'the new draft', schema: manifestDraftSchema }, 403: err('may not publish'), 409: err('too many open drafts') },
    async handler(ctx, s) {
      const op = publisher(ctx);
      ctx.status = 201;
      ctx.body = draftView(await drafts(s).create(op.name));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/manifests/drafts/:id',
    auth: 'read',
    tag: 'manifests',
    summary: 'One draft of yours: its base, state and changed files.',
    responses: { 200: { description: 'the draft', schema: manifestDraftSchema }, 404: err('no such draft of yours') },
    async handler(ctx, s) {
      ctx.body = draftView(await drafts(s).get(ctx.params['id'] ?? '', operatorOf(ctx).name));
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/manifests/drafts/:id',
    auth: 'write',
    audit: { none: 'a private draft changes nothing until it is committed (revision.publish)' },
    tag: 'manifests',
    summary: 'Discard a draft of yours (a committed commit stays in the history).',
    responses: { 204: { description: 'discarded' }, 404: err('no such draft of yours'), 409: err('committed but not published') },
    async handler(ctx, s) {
      const op = publisher(ctx);
      await drafts(s).discard(ctx.params['id'] ?? '', op.name);
      ctx.status = 204;
    },
  },
  {
    method: 'POST',
    path: '/api/v1/manifests/drafts/:id/files',
    auth: 'write',
    audit: { none: 'a private draft changes nothing until it is committed (revision.publish)' },
    tag: 'manifests',
    summary: 'Write a file into a draft (content), delete it (delete: true), or drop the draft\'s change to it (revert: true).',
    body: { types: ['application/json'], limit: bodyLimit, schema: manifestDraftWriteSchema },
    responses: { 200: { description: 'the draft', schema: manifestDraftSchema }, 400: err('not a repository path, or nothing to do'), 404: err('no such draft or file'), 409: err('the draft is committed'), 413: err('too large') },
    async handler(ctx, s) {
      const op = publisher(ctx);
      const b = await jsonBody(ctx, writeGuard, bodyLimit);
      const id = ctx.params['id'] ?? '';
      const svc = drafts(s);
      if (b.revert === true) ctx.body = draftView(await svc.revert(id, op.name, b.path));
      else if (b.delete === true) ctx.body = draftView(await svc.remove(id, op.name, b.path));
      else if (b.content !== undefined) ctx.body = draftView(await svc.write(id, op.name, b.path, b.content));
      else throw new ApiError('BAD_REQUEST', 'give content, delete: true or revert: true');
    },
  },
  {
    method: 'POST',
    path: '/api/v1/manifests/drafts/:id/vars',
    auth: 'write',
    audit: { none: 'a private draft changes nothing until it is committed (revision.publish)' },
    tag: 'manifests',
    summary: 'Edit a file\'s variables by flattened key (set or remove); the file\'s new text (comments kept) is written into the draft. Answers the new table and text.',
    body: { types: ['application/json'], limit: bodyLimit, schema: manifestVarEditSchema },
    responses: { 200: { description: 'the new table', schema: manifestVarTableSchema }, 400: err('not a key, not YAML, a secret, or the file does not parse'), 404: err('no such draft, file or key') },
    async handler(ctx, s) {
      const op = publisher(ctx);
      const b = await jsonBody(ctx, varEditGuard, bodyLimit);
      if (b.host !== undefined) assertHostName(b.host);
      const id = ctx.params['id'] ?? '';
      const svc = drafts(s);
      const f = await svc.read(b.path, id, op.name);
      const content = editVarTable(b.path, f.content, b.edits, b.host);
      await svc.write(id, op.name, b.path, content);
      ctx.body = { ...readVarTable(b.path, content, b.host), content };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/manifests/preview',
    auth: 'write',
    audit: { none: 'a preview renders; nothing is stored' },
    tag: 'manifests',
    summary: 'A template rendered for one host with its variables and last facts, in the compile worker as catalogs are (bounded time and size), from the live revision or a draft, optionally with new text. A result that depends on a secret is withheld. Needs the right to publish (templates render with the server\'s secrets).',
    body: { types: ['application/json'], limit: bodyLimit, schema: manifestPreviewRequestSchema },
    responses: { 200: { description: 'the rendering, or why it failed (ok: false, problems)', schema: manifestPreviewSchema }, 400: err('not a template'), 403: err('may not publish'), 404: err('no such host, template or draft') },
    async handler(ctx, s) {
      const op = publisher(ctx);
      const b = await jsonBody(ctx, previewGuard, bodyLimit);
      assertHostName(b.host);
      ctx.body = shown(ctx, await drafts(s).preview(b.template, b.host, requestSignal(ctx), { ...(b.content !== undefined ? { content: b.content } : {}), ...(b.draft !== undefined ? { draftId: b.draft } : {}), owner: op.name }));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/manifests/drafts/:id/plan',
    auth: 'write',
    tag: 'manifests',
    summary: 'The fleet plan of a draft against the live revision: every host compiled under both (as POST /api/v1/revisions/plan).',
    responses: { 200: { description: 'the plan', schema: fleetPlanSchema }, 404: err('no such draft of yours'), 422: err('the repository has errors that are not one host\'s (details.problems)'), 503: err('too many plans at once') },
    async handler(ctx, s) {
      const op = publisher(ctx);
      ctx.body = shown(ctx, await drafts(s).plan(ctx.params['id'] ?? '', op.name, requestSignal(ctx)));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/manifests/drafts/:id/commit',
    auth: 'fleet',
    audit: ['revision.publish'],
    tag: 'manifests',
    summary: 'Commit a draft to the manifest history (the history git push writes; validated as a push is, by you as author). Not live unless publish: true (at once) or rollout (in batches).',
    body: { types: ['application/json'], limit: 64 * 1024, schema: manifestCommitRequestSchema },
    responses: { 200: { description: 'the committed (or published) draft', schema: manifestDraftSchema }, 400: err('the draft changes nothing, or a bad policy'), 404: err('no such draft of yours'), 409: err('main moved since the draft began, a rollout is active, or the draft is not open'), 422: err('the repository does not compile (details.problems)') },
    async handler(ctx, s) {
      const op = publisher(ctx);
      const b = await jsonBody(ctx, commitGuard, 64 * 1024);
      const mode = b.rollout !== undefined ? { rollout: b.rollout } : b.publish === true ? { now: true as const } : undefined;
      ctx.body = draftView(await drafts(s).commit(ctx.params['id'] ?? '', op, b.message, requestSignal(ctx), mode));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/manifests/drafts/:id/publish',
    auth: 'fleet',
    audit: ['revision.publish', 'rollout.start'],
    tag: 'manifests',
    summary: 'Publish a committed draft: in batches with rollout (answers the draft with its rollout id), else live at once. Refused when another commit followed it.',
    body: { types: ['application/json'], limit: 64 * 1024, schema: manifestPublishRequestSchema, optional: true },
    responses: { 200: { description: 'the published draft', schema: manifestDraftSchema }, 400: err('a bad policy'), 404: err('no such draft of yours'), 409: err('not committed, another commit followed, or a rollout is active') },
    async handler(ctx, s) {
      const op = publisher(ctx);
      const b = ctx.request.length ? await jsonBody(ctx, publishGuard, 64 * 1024) : {};
      ctx.body = draftView(await drafts(s).publish(ctx.params['id'] ?? '', op, b.rollout !== undefined ? { rollout: b.rollout } : { now: true }));
    },
  },
];
