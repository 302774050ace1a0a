/**
 * The script library and execution accounts (issue 9, ADR 0014): /api/v1/scripts and
 * /api/v1/accounts. `read` routes take any operator; changes need `write` (admin).
 */
import {
  accountCreateRequestSchema,
  accountListSchema,
  accountViewSchema,
  MAX_SCRIPT_SOURCE_BYTES,
  scriptCloneRequestSchema,
  scriptCreateRequestSchema,
  scriptDiffSchema,
  scriptListSchema,
  scriptVersionRequestSchema,
  scriptViewSchema,
  type AccountCreateRequest,
  type ScriptCloneRequest,
  type ScriptCreateRequest,
  type ScriptVersionRequest,
} from '../../schemas/api/scripts.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import { isoAt } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import type { ExecAccountRecord } from '../services/scripts/account-service.js';
import type { ScriptDetail, ScriptRecord, VersionInfo } from '../services/scripts/script-service.js';
import type { AppContext, OperatorPrincipal } from './app-state.js';
import { jsonBody, readRawBody, requireMediaType } from './body.js';
import { errorResponse, operatorOf } from './route-helpers.js';
import type { RouteSpec } from './route-spec.js';

const createGuard: Guard<ScriptCreateRequest> = compileGuard(scriptCreateRequestSchema);
const versionGuard: Guard<ScriptVersionRequest> = compileGuard(scriptVersionRequestSchema);
const cloneGuard: Guard<ScriptCloneRequest> = compileGuard(scriptCloneRequestSchema);
const accountGuard: Guard<AccountCreateRequest> = compileGuard(accountCreateRequestSchema);

const err = errorResponse;
/** A JSON body carries the source escaped: room for 1 MiB of source plus escaping and the rest. */
const scriptBodyLimit = 3 * MAX_SCRIPT_SOURCE_BYTES;
const uploadTypes = ['text/x-shellscript', 'text/x-python', 'text/plain'];

function operator(ctx: AppContext): OperatorPrincipal {
  return operatorOf(ctx);
}

/** An integer query parameter in [min, max], `def` when absent. */
export function intParam(ctx: AppContext, name: string, def: number | undefined, min: number, max: number): number | undefined {
  const v = ctx.query[name];
  if (v === undefined || v === '') return def;
  if (typeof v !== 'string' || !/^\d{1,9}$/.test(v)) throw new ApiError('BAD_REQUEST', `query parameter ${name} must be a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new ApiError('BAD_REQUEST', `query parameter ${name} must be between ${min} and ${max}`);
  return n;
}

/** A string query parameter matching `pattern`, undefined when absent or empty. */
export function strParam(ctx: AppContext, name: string, pattern: RegExp): string | undefined {
  const v = ctx.query[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || !pattern.test(v)) throw new ApiError('BAD_REQUEST', `query parameter ${name} is not valid (must match ${pattern.source})`);
  return v;
}

export function summaryView(s: ScriptRecord): Record<string, unknown> {
  return { id: s.id, name: s.name, description: s.description, lang: s.lang, kind: s.kind, tags: [...s.tags], latest: s.latest, createdAt: isoAt(s.createdAt), updatedAt: isoAt(s.updatedAt), ...(s.clonedFrom ? { clonedFrom: { ...s.clonedFrom } } : {}) };
}

function versionView(v: VersionInfo): Record<string, unknown> {
  return { version: v.version, author: v.author, createdAt: isoAt(v.createdAt), ...(v.message !== undefined ? { message: v.message } : {}), sha256: v.sha256 };
}

export function scriptView(d: ScriptDetail, created?: boolean): Record<string, unknown> {
  return { ...summaryView(d.script), version: versionView(d.version), source: d.version.source, params: d.version.params.map((p) => ({ ...p })), versions: d.versions.map(versionView), ...(created !== undefined ? { created } : {}) };
}

function accountView(a: ExecAccountRecord): Record<string, unknown> {
  return { name: a.name, user: a.user, ...(a.description !== undefined ? { description: a.description } : {}), builtin: a.builtin, createdAt: isoAt(a.createdAt) };
}

const idOf = (ctx: AppContext): string => ctx.params['id'] ?? '';

/** The source of an upload: strict UTF-8. */
function uploadText(raw: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new ApiError('BAD_REQUEST', 'the uploaded script is not valid UTF-8 text');
  }
}

/** The language of an upload: ?lang=, else the media type, else the shebang. */
function uploadLang(ctx: AppContext, type: string, source: string): 'shell' | 'python' {
  const q = strParam(ctx, 'lang', /^(shell|python)$/);
  if (q === 'shell' || q === 'python') return q;
  if (type === 'text/x-python') return 'python';
  if (type === 'text/x-shellscript') return 'shell';
  const shebang = /^#!([^\n]{0,200})/.exec(source)?.[1] ?? '';
  if (/python/.test(shebang)) return 'python';
  if (/\b(sh|bash|dash|ksh|zsh)\b/.test(shebang)) return 'shell';
  throw new ApiError('BAD_REQUEST', 'say the language with ?lang=shell or ?lang=python (a text/plain upload without a shebang)');
}

export const scriptRoutes: readonly RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/v1/scripts',
    auth: 'read',
    tag: 'scripts',
    summary: 'Scripts in the library, base scripts first then by name; ?q= searches name, description and tags.',
    query: {
      q: { description: 'words that must all occur (case-insensitive) in the id, name, description or tags', schema: { type: 'string', maxLength: 200 } },
      tag: { description: 'only scripts with this tag', schema: { type: 'string' } },
      kind: { description: 'base or user', schema: { enum: ['base', 'user'] } },
      limit: { description: '1-500, default 50', schema: { type: 'integer', minimum: 1, maximum: 500 } },
      offset: { description: 'first match of the page, default 0', schema: { type: 'integer', minimum: 0 } },
    },
    responses: { 200: { description: 'a page of scripts', schema: scriptListSchema }, 400: err('bad query') },
    async handler(ctx, s) {
      const q = strParam(ctx, 'q', /^[^\u0000-\u001f\u007f]{1,200}$/);
      const tag = strParam(ctx, 'tag', /^[a-z0-9][a-z0-9._-]{0,31}$/);
      const kind = strParam(ctx, 'kind', /^(base|user)$/) as 'base' | 'user' | undefined;
      const limit = intParam(ctx, 'limit', 50, 1, 500)!;
      const offset = intParam(ctx, 'offset', 0, 0, 1_000_000)!;
      const r = await s.scripts.list({ ...(q !== undefined ? { q } : {}), ...(tag !== undefined ? { tag } : {}), ...(kind !== undefined ? { kind } : {}), limit, offset });
      ctx.body = { scripts: r.scripts.map(summaryView), total: r.total, limit, offset };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/scripts',
    auth: 'fleet',
    audit: ['script.create'],
    tag: 'scripts',
    summary: 'Create a user script (version 1): a JSON body, or an upload of the file itself (text/x-shellscript, text/x-python or text/plain with ?name= and, when the type does not say, ?lang=; optional ?description=, ?tags=a,b, ?message=).',
    body: { types: ['application/json', ...uploadTypes], limit: scriptBodyLimit, schema: scriptCreateRequestSchema },
    query: {
      name: { description: 'uploads: the script name (its slug is the id)', schema: { type: 'string', maxLength: 100 } },
      lang: { description: 'uploads: shell or python', schema: { enum: ['shell', 'python'] } },
      description: { description: 'uploads: what it does', schema: { type: 'string', maxLength: 2000 } },
      tags: { description: 'uploads: comma-separated tags', schema: { type: 'string' } },
      message: { description: 'uploads: version message', schema: { type: 'string', maxLength: 500 } },
    },
    responses: { 201: { description: 'created', schema: scriptViewSchema }, 400: err('invalid'), 409: err('the id (slug of the name) is taken'), 413: err('source over 1 MiB'), 415: err('not JSON or a script type') },
    async handler(ctx, s) {
      const op = operator(ctx);
      const type = requireMediaType(ctx, ['application/json', ...uploadTypes]);
      let input: ScriptCreateRequest;
      if (type === 'application/json') {
        input = await jsonBody(ctx, createGuard, scriptBodyLimit);
      } else {
        const name = strParam(ctx, 'name', /^[^\u0000-\u001f\u007f]{1,100}$/);
        if (name === undefined) throw new ApiError('BAD_REQUEST', 'an upload needs ?name=');
        const source = uploadText(await readRawBody(ctx, MAX_SCRIPT_SOURCE_BYTES));
        const description = strParam(ctx, 'description', /^[^\u0000-\u0008\u000b-\u001f\u007f]{1,2000}$/);
        const tags = strParam(ctx, 'tags', /^[a-z0-9._,-]{1,700}$/);
        const message = strParam(ctx, 'message', /^[^\u0000-\u001f\u007f]{1,500}$/);
        input = { name, lang: uploadLang(ctx, type, source), source, ...(description !== undefined ? { description } : {}), ...(tags !== undefined ? { tags: tags.split(',').filter((t) => t !== '') } : {}), ...(message !== undefined ? { message } : {}) };
      }
      const d = await s.scripts.create(input, { name: op.name, address: ctx.ip });
      ctx.state.log.info('script created', { script: d.script.id, operator: op.name });
      ctx.status = 201;
      ctx.set('Location', `/api/v1/scripts/${d.script.id}`);
      ctx.body = scriptView(d);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/scripts/:id',
    auth: 'read',
    tag: 'scripts',
    summary: 'A script with the source of its latest version (or ?version=N) and the list of its versions.',
    query: { version: { description: 'a version number; default the latest', schema: { type: 'integer', minimum: 1 } } },
    responses: { 200: { description: 'the script', schema: scriptViewSchema }, 400: err('bad id or version'), 404: err('unknown script or version') },
    async handler(ctx, s) {
      ctx.body = scriptView(await s.scripts.get(idOf(ctx), intParam(ctx, 'version', undefined, 1, 1_000_000)));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/scripts/:id/versions',
    auth: 'fleet',
    audit: ['script.version', 'script.update'],
    tag: 'scripts',
    summary: 'Save a new version of a user script: created only when the source or the parameters changed (201, else 200 with created false); description and tags are updated either way.',
    body: { types: ['application/json'], limit: scriptBodyLimit, schema: scriptVersionRequestSchema },
    responses: { 200: { description: 'nothing versioned changed', schema: scriptViewSchema }, 201: { description: 'a new version', schema: scriptViewSchema }, 403: err('a base script'), 404: err('unknown script'), 409: err('too many versions, or concurrent saves') },
    async handler(ctx, s) {
      const op = operator(ctx);
      const body = await jsonBody(ctx, versionGuard, scriptBodyLimit);
      const r = await s.scripts.addVersion(idOf(ctx), body, { name: op.name, address: ctx.ip });
      if (r.created) ctx.state.log.info('script version saved', { script: r.script.id, version: r.version.version, operator: op.name });
      ctx.status = r.created ? 201 : 200;
      ctx.body = scriptView(r, r.created);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/scripts/:id/diff',
    auth: 'read',
    tag: 'scripts',
    summary: 'Unified diff of the sources of two versions (?from=&to=; to defaults to the latest, from to the one before it).',
    query: {
      from: { description: 'older version', schema: { type: 'integer', minimum: 1 } },
      to: { description: 'newer version', schema: { type: 'integer', minimum: 1 } },
    },
    responses: { 200: { description: 'the diff', schema: scriptDiffSchema }, 400: err('bad versions, or too different to diff in time'), 404: err('unknown script or version') },
    async handler(ctx, s) {
      const id = idOf(ctx);
      const to = intParam(ctx, 'to', undefined, 1, 1_000_000) ?? (await s.scripts.get(id)).script.latest;
      const from = intParam(ctx, 'from', Math.max(1, to - 1), 1, 1_000_000)!;
      const r = await s.scripts.diff(id, from, to);
      ctx.body = { id, from, to, diff: r.diff, paramsChanged: r.paramsChanged };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/scripts/:id/clone',
    auth: 'fleet',
    audit: ['script.create'],
    tag: 'scripts',
    summary: 'Create a user script from a version of another (base or user): its source, parameters, language, and by default description and tags.',
    body: { types: ['application/json'], limit: 64 * 1024, schema: scriptCloneRequestSchema },
    responses: { 201: { description: 'the new script', schema: scriptViewSchema }, 404: err('unknown script or version'), 409: err('the new id is taken') },
    async handler(ctx, s) {
      const op = operator(ctx);
      const body = await jsonBody(ctx, cloneGuard, 64 * 1024);
      const d = await s.scripts.clone(idOf(ctx), body, { name: op.name, address: ctx.ip });
      ctx.state.log.info('script cloned', { from: idOf(ctx), script: d.script.id, operator: op.name });
      ctx.status = 201;
      ctx.set('Location', `/api/v1/scripts/${d.script.id}`);
      ctx.body = scriptView(d);
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/scripts/:id',
    auth: 'fleet',
    audit: ['script.delete'],
    tag: 'scripts',
    summary: 'Delete a user script and all its versions (base scripts cannot be deleted).',
    responses: { 204: { description: 'deleted' }, 403: err('a base script'), 404: err('unknown script') },
    async handler(ctx, s) {
      const op = operator(ctx);
      await s.scripts.delete(idOf(ctx), { name: op.name, address: ctx.ip });
      ctx.state.log.info('script deleted', { script: idOf(ctx), operator: op.name });
      ctx.status = 204;
    },
  },
  {
    method: 'GET',
    path: '/api/v1/accounts',
    auth: 'read',
    tag: 'scripts',
    summary: 'Execution accounts: the run-as users a job may choose.',
    responses: { 200: { description: 'accounts', schema: accountListSchema } },
    async handler(ctx, s) {
      ctx.body = { accounts: (await s.accounts.list()).map(accountView) };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/accounts',
    auth: 'admin',
    audit: ['account.create'],
    tag: 'scripts',
    summary: 'Add an execution account (an alias for a POSIX user on the hosts).',
    body: { types: ['application/json'], limit: 64 * 1024, schema: accountCreateRequestSchema },
    responses: { 201: { description: 'created', schema: accountViewSchema }, 400: err('invalid'), 409: err('the name is taken') },
    async handler(ctx, s) {
      const op = operator(ctx);
      const body = await jsonBody(ctx, accountGuard, 64 * 1024);
      const a = await s.accounts.create(body, { name: op.name, address: ctx.ip });
      ctx.state.log.info('execution account created', { account: a.name, user: a.user, operator: op.name });
      ctx.status = 201;
      ctx.body = accountView(a);
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/accounts/:name',
    auth: 'admin',
    audit: ['account.delete'],
    tag: 'scripts',
    summary: 'Remove an execution account (root is built in and stays).',
    responses: { 204: { description: 'deleted' }, 404: err('unknown account'), 409: err('the built-in root account') },
    async handler(ctx, s) {
      const op = operator(ctx);
      const name = ctx.params['name'] ?? '';
      await s.accounts.delete(name, { name: op.name, address: ctx.ip });
      ctx.state.log.info('execution account deleted', { account: name, operator: op.name });
      ctx.status = 204;
    },
  },
];
