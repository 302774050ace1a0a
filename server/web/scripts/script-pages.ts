/**
 * Console pages of the script library and execution accounts:
 *   GET  /scripts                    list: search (?q=), tag and kind filters, pages (?page=)
 *   GET  /scripts/new, POST          the editor for a new script (admin)
 *   GET  /scripts/:id                source of the latest (or ?version=) version, parameters, versions, diff and clone forms
 *   GET  /scripts/:id/diff           unified diff of ?from= and ?to=
 *   GET  /scripts/:id/edit, POST     the editor: saving is a new version (user scripts, admin)
 *   POST /scripts/:id/clone|delete   (admin)
 *   GET  /accounts, POST /accounts, POST /accounts/:name/delete
 * Form posts are same-origin only (ConsoleKit.readForm) and need the admin role; a refused
 * save re-renders the editor with the operator's input and the reason.
 * The session is checked before a form is read, so a large editor body is never held for an
 * unauthenticated sender.
 */
import { may, requireRole } from '../console-auth.js';
import { isAdmin } from '../../domain/roles.js';
import type { Router } from '@koa/router';
import { MAX_SCRIPT_SOURCE_BYTES } from '../../../schemas/api/scripts.js';
import type { AppContext, AppState } from '../../api/app-state.js';
import { isoAt } from '../../domain/clock.js';
import { ApiError } from '../../domain/errors.js';
import type { Operator } from '../../services/operator-auth-service.js';
import type { ScriptParamDecl } from '../../services/scripts/script-model.js';
import type { ScriptDetail } from '../../services/scripts/script-service.js';
import type { ConsoleKit } from '../console-kit.js';
import { diffLines } from '../run-model.js';
import { accountsView, scriptDiffView, scriptEditView, scriptListView, scriptView } from './script-views.js';

const pageSize = 50;
/** An urlencoded editor form: the source (1 MiB) may triple when percent-encoded. */
const editorFormLimit = 3 * MAX_SCRIPT_SOURCE_BYTES + 64 * 1024;
const blankParamRows = 3;
const maxDiffLines = 5000;

interface EditorInput {
  name: string;
  lang: string;
  description: string;
  tags: string;
  source: string;
  message: string;
  params: { name: string; required: boolean; default: string; description: string }[];
}

function q(ctx: AppContext, name: string): string {
  const v = ctx.query[name];
  return typeof v === 'string' ? v : '';
}

function version(ctx: AppContext, name: string): number | undefined {
  const v = q(ctx, name);
  return /^[1-9][0-9]{0,6}$/.test(v) ? Number(v) : undefined;
}

/** A path parameter of the matched route (always present there). */
function param(ctx: AppContext, name: string): string {
  return String(ctx.params[name]);
}

/** The script library is shared by the whole fleet; execution accounts are admin-only (ADR 0020). */
function requireAdmin(op: Operator, what: string): void {
  requireRole(op, what.includes('account') ? 'admin' : 'fleet', what);
}

/** Parameter rows of the editor: the declared ones, then blank rows to fill in. */
function paramRows(params: readonly ScriptParamDecl[]): EditorInput['params'] {
  return [...params.map((p) => ({ name: p.name, required: p.required ?? false, default: p.default ?? '', description: p.description ?? '' })), ...Array.from({ length: blankParamRows }, () => ({ name: '', required: false, default: '', description: '' }))];
}

/** The editor's fields from a posted form; rows without a name are dropped. */
function editorInput(form: URLSearchParams): EditorInput {
  const names = form.getAll('pname');
  const required = form.getAll('prequired');
  const defaults = form.getAll('pdefault');
  const descriptions = form.getAll('pdescription');
  const params = names.slice(0, 60).map((n, i) => ({ name: n.trim(), required: required[i] === 'yes', default: defaults[i] ?? '', description: (descriptions[i] ?? '').trim() }));
  return {
    name: (form.get('name') ?? '').trim(),
    lang: form.get('lang') ?? 'shell',
    description: (form.get('description') ?? '').trim(),
    tags: form.get('tags') ?? '',
    // Browsers send CRLF line ends from a textarea; scripts keep LF.
    source: (form.get('source') ?? '').replace(/\r\n/g, '\n'),
    message: (form.get('message') ?? '').trim(),
    params: params.filter((p) => p.name !== ''),
  };
}

function declared(input: EditorInput): ScriptParamDecl[] {
  return input.params.map((p) => ({ name: p.name, ...(p.description ? { description: p.description } : {}), ...(p.required ? { required: true } : {}), ...(p.default !== '' ? { default: p.default } : {}) }));
}

function tagList(tags: string): string[] {
  return tags.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
}

/** BAD_REQUEST for a field the schema would refuse and the service does not check. */
function checkLine(value: string, what: string, max: number): void {
  if (value.length > max || /[\u0000-\u001f\u007f]/.test(value)) throw new ApiError('BAD_REQUEST', `${what}: one line of at most ${max} characters`);
}

export function scriptPages(router: Router<AppState>, kit: ConsoleKit): void {
  const { services } = kit;

  const page = async (ctx: AppContext, op: Operator, nav: string, title: string): Promise<Record<string, unknown>> => ({ ...(await kit.frame(ctx, op, nav)), title, canWrite: may(op, 'fleet'), isAdmin: isAdmin(op.role) });

  const notFound = async (ctx: AppContext, op: Operator, err: ApiError): Promise<void> => {
    kit.html(ctx, scriptListView({ ...(await page(ctx, op, 'scripts', 'Scripts')), error: err.message, scripts: [], tags: [], total: 0, page: 1, pages: 1 }), err.status);
  };

  router.get('/scripts', async (ctx) => {
    ctx.state.routeName = '/scripts';
    const op = kit.operator(ctx);
    if (!op) return;
    const search = q(ctx, 'q').slice(0, 200).replace(/[\u0000-\u001f\u007f]/g, ' ');
    const kind = q(ctx, 'kind') === 'base' || q(ctx, 'kind') === 'user' ? (q(ctx, 'kind') as 'base' | 'user') : undefined;
    const tag = /^[a-z0-9][a-z0-9._-]{0,31}$/.test(q(ctx, 'tag')) ? q(ctx, 'tag') : undefined;
    const pageNo = version(ctx, 'page') ?? 1;
    const [r, tags] = await Promise.all([services.scripts.list({ q: search, ...(kind ? { kind } : {}), ...(tag ? { tag } : {}), limit: pageSize, offset: (pageNo - 1) * pageSize }), services.scripts.tags()]);
    const pages = Math.max(1, Math.ceil(r.total / pageSize));
    const link = (n: number): string => new URLSearchParams({ q: search, kind: kind ?? '', tag: tag ?? '', page: String(n) }).toString();
    const flash = q(ctx, 'done') === 'deleted' ? 'Script deleted.' : undefined;
    kit.html(
      ctx,
      scriptListView({
        ...(await page(ctx, op, 'scripts', 'Scripts')),
        q: search,
        kind: kind ?? '',
        tag,
        tags: tags.slice(0, 200),
        scripts: r.scripts.map((s) => ({ ...s, updatedAt: isoAt(s.updatedAt) })),
        total: r.total,
        page: pageNo,
        pages,
        prevQuery: link(pageNo - 1),
        nextQuery: link(pageNo + 1),
        ...(flash ? { flash } : {}),
      }),
    );
  });

  const editor = async (ctx: AppContext, op: Operator, fields: { id?: string; next?: number; input: EditorInput; error?: string }, status = 200): Promise<void> => {
    const { id, next, input, error } = fields;
    kit.html(
      ctx,
      scriptEditView({
        ...(await page(ctx, op, 'scripts', id ? `Edit ${id}` : 'New script')),
        id,
        next,
        action: id ? `/scripts/${id}/edit` : '/scripts/new',
        ...input,
        params: [...input.params, ...paramRows([])],
        ...(error ? { error } : {}),
      }),
      status,
    );
  };

  router.get('/scripts/new', async (ctx) => {
    ctx.state.routeName = '/scripts/new';
    const op = kit.operator(ctx);
    if (!op) return;
    requireAdmin(op, 'create scripts');
    await editor(ctx, op, { input: { name: '', lang: 'shell', description: '', tags: '', source: '#!/bin/sh\nset -eu\n', message: '', params: [] } });
  });

  router.post('/scripts/new', async (ctx) => {
    ctx.state.routeName = '/scripts/new';
    const op = kit.operator(ctx)!; // a post without a session throws UNAUTHENTICATED
    const form = await kit.readForm(ctx, editorFormLimit);
    requireAdmin(op, 'create scripts');
    const input = editorInput(form);
    let d: ScriptDetail;
    try {
      if (input.lang !== 'shell' && input.lang !== 'python') throw new ApiError('BAD_REQUEST', 'the language is shell or python');
      checkLine(input.name, 'name', 100);
      checkLine(input.message, 'version message', 500);
      d = await services.scripts.create({ name: input.name, lang: input.lang, source: input.source, description: input.description, tags: tagList(input.tags), params: declared(input), ...(input.message ? { message: input.message } : {}) }, { name: op.name, address: ctx.ip });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      await editor(ctx, op, { input, error: err.message }, err.status);
      return;
    }
    ctx.state.log.info('console: script created', { script: d.script.id, operator: op.name });
    ctx.status = 303;
    ctx.redirect(`/scripts/${d.script.id}?done=created`);
  });

  router.get('/scripts/:id', async (ctx) => {
    ctx.state.routeName = '/scripts/:id';
    const op = kit.operator(ctx);
    if (!op) return;
    let d: ScriptDetail;
    try {
      d = await services.scripts.get(param(ctx, 'id'), version(ctx, 'version'));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      await notFound(ctx, op, err);
      return;
    }
    const done = q(ctx, 'done');
    const flash = done === 'created' ? 'Script created.' : done === 'saved' ? `Version ${d.version.version} saved.` : done === 'unchanged' ? 'Nothing versioned changed: no new version (description and tags saved).' : done === 'cloned' ? 'Cloned.' : undefined;
    const shown = d.version.version;
    kit.html(
      ctx,
      scriptView({
        ...(await page(ctx, op, 'scripts', d.script.name)),
        s: d.script,
        v: { ...d.version, createdAt: isoAt(d.version.createdAt) },
        source: d.version.source,
        params: paramRows(d.version.params).slice(0, d.version.params.length),
        versions: d.versions.map((x) => ({ ...x, createdAt: isoAt(x.createdAt) })),
        diffFrom: shown > 1 ? shown - 1 : shown,
        diffTo: shown > 1 ? shown : Math.min(2, d.script.latest),
        ...(flash ? { flash } : {}),
      }),
    );
  });

  router.get('/scripts/:id/diff', async (ctx) => {
    ctx.state.routeName = '/scripts/:id/diff';
    const op = kit.operator(ctx);
    if (!op) return;
    const id = param(ctx, 'id');
    try {
      const to = version(ctx, 'to') ?? (await services.scripts.get(id)).script.latest;
      const from = version(ctx, 'from') ?? Math.max(1, to - 1);
      const r = await services.scripts.diff(id, from, to);
      const d = diffLines(r.diff, maxDiffLines);
      kit.html(ctx, scriptDiffView({ ...(await page(ctx, op, 'scripts', `${id} diff`)), id, from, to, paramsChanged: r.paramsChanged, lines: d.lines, truncated: d.truncated }));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      await notFound(ctx, op, err);
    }
  });

  router.get('/scripts/:id/edit', async (ctx) => {
    ctx.state.routeName = '/scripts/:id/edit';
    const op = kit.operator(ctx);
    if (!op) return;
    requireAdmin(op, 'edit scripts');
    let d: ScriptDetail;
    try {
      d = await services.scripts.get(param(ctx, 'id'));
      if (d.script.kind === 'base') throw new ApiError('FORBIDDEN', `${d.script.id} is a base script (read-only): clone it to change it`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      await notFound(ctx, op, err);
      return;
    }
    const v = d.version;
    await editor(ctx, op, {
      id: d.script.id,
      next: d.script.latest + 1,
      input: { name: d.script.name, lang: d.script.lang, description: d.script.description, tags: d.script.tags.join(', '), source: v.source, message: '', params: paramRows(v.params).slice(0, v.params.length) },
    });
  });

  router.post('/scripts/:id/edit', async (ctx) => {
    ctx.state.routeName = '/scripts/:id/edit';
    const op = kit.operator(ctx)!; // a post without a session throws UNAUTHENTICATED
    const form = await kit.readForm(ctx, editorFormLimit);
    requireAdmin(op, 'edit scripts');
    const id = param(ctx, 'id');
    const input = editorInput(form);
    let created: boolean;
    try {
      checkLine(input.message, 'version message', 500);
      created = (await services.scripts.addVersion(id, { source: input.source, params: declared(input), description: input.description, tags: tagList(input.tags), ...(input.message ? { message: input.message } : {}) }, { name: op.name, address: ctx.ip })).created;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === 'NOT_FOUND' || err.code === 'FORBIDDEN') {
        await notFound(ctx, op, err);
        return;
      }
      const cur = await services.scripts.get(id);
      await editor(ctx, op, { id, next: cur.script.latest + 1, input: { ...input, name: cur.script.name, lang: cur.script.lang }, error: err.message }, err.status);
      return;
    }
    ctx.state.log.info('console: script saved', { script: id, created, operator: op.name });
    ctx.status = 303;
    ctx.redirect(`/scripts/${id}?done=${created ? 'saved' : 'unchanged'}`);
  });

  router.post('/scripts/:id/clone', async (ctx) => {
    ctx.state.routeName = '/scripts/:id/clone';
    const op = kit.operator(ctx)!; // a post without a session throws UNAUTHENTICATED
    const form = await kit.readForm(ctx);
    requireAdmin(op, 'clone scripts');
    const id = param(ctx, 'id');
    const v = form.get('version') ?? '';
    try {
      const name = (form.get('name') ?? '').trim();
      checkLine(name, 'name', 100);
      const d = await services.scripts.clone(id, { name, ...(/^[1-9][0-9]{0,6}$/.test(v) ? { version: Number(v) } : {}) }, { name: op.name, address: ctx.ip });
      ctx.state.log.info('console: script cloned', { from: id, script: d.script.id, operator: op.name });
      ctx.status = 303;
      ctx.redirect(`/scripts/${d.script.id}?done=cloned`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      await notFound(ctx, op, err);
    }
  });

  router.post('/scripts/:id/delete', async (ctx) => {
    ctx.state.routeName = '/scripts/:id/delete';
    const op = kit.operator(ctx)!; // a post without a session throws UNAUTHENTICATED
    await kit.readForm(ctx);
    requireAdmin(op, 'delete scripts');
    const id = param(ctx, 'id');
    try {
      await services.scripts.delete(id, { name: op.name, address: ctx.ip });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      await notFound(ctx, op, err);
      return;
    }
    ctx.state.log.info('console: script deleted', { script: id, operator: op.name });
    ctx.status = 303;
    ctx.redirect('/scripts?done=deleted');
  });

  const accountsPage = async (ctx: AppContext, op: Operator, extra: Record<string, unknown>, status = 200): Promise<void> => {
    const accounts = await services.accounts.list();
    kit.html(ctx, accountsView({ ...(await page(ctx, op, 'accounts', 'Accounts')), canWrite: isAdmin(op.role), accounts, form: {}, ...extra }), status);
  };

  router.get('/accounts', async (ctx) => {
    ctx.state.routeName = '/accounts';
    const op = kit.operator(ctx);
    if (!op) return;
    const done = q(ctx, 'done');
    await accountsPage(ctx, op, done === 'added' || done === 'deleted' ? { flash: `Account ${done}.` } : {});
  });

  router.post('/accounts', async (ctx) => {
    ctx.state.routeName = '/accounts';
    const op = kit.operator(ctx)!; // a post without a session throws UNAUTHENTICATED
    const form = await kit.readForm(ctx);
    requireAdmin(op, 'add execution accounts');
    const input = { name: (form.get('name') ?? '').trim(), user: (form.get('user') ?? '').trim(), description: (form.get('description') ?? '').trim() };
    try {
      const a = await services.accounts.create({ name: input.name, user: input.user, ...(input.description ? { description: input.description } : {}) }, { name: op.name, address: ctx.ip });
      ctx.state.log.info('console: execution account created', { account: a.name, user: a.user, operator: op.name });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      await accountsPage(ctx, op, { error: err.message, form: input }, err.status);
      return;
    }
    ctx.status = 303;
    ctx.redirect('/accounts?done=added');
  });

  router.post('/accounts/:name/delete', async (ctx) => {
    ctx.state.routeName = '/accounts/:name/delete';
    const op = kit.operator(ctx)!; // a post without a session throws UNAUTHENTICATED
    await kit.readForm(ctx);
    requireAdmin(op, 'delete execution accounts');
    const name = param(ctx, 'name');
    try {
      await services.accounts.delete(name, { name: op.name, address: ctx.ip });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      await accountsPage(ctx, op, { error: err.message }, err.status);
      return;
    }
    ctx.state.log.info('console: execution account deleted', { account: name, operator: op.name });
    ctx.status = 303;
    ctx.redirect('/accounts?done=deleted');
  });
}
