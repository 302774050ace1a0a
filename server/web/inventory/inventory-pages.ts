/**
 * The console's inventory pages (ADR 0018; server-rendered, no script):
 *   GET  /inventory                        hosts sorted by name: filter box (?filter=EXPR), pages (?after=)
 *   GET  /inventory/hosts/:host            one host: the record compared (effective, store, repository,
 *                                          agent; mismatches flagged), facts, lifecycle history and the
 *                                          change form, groups with why, what runs on it (a "ran on this
 *                                          host" list first when it is faulty), its packages and services
 *   POST /inventory/hosts/:host/lifecycle  fields lifecycle, reason (admin, same origin)
 *   GET  /inventory/import                 the upload form
 *   POST /inventory/import                 multipart upload (file or pasted text): a dry run, showing what
 *                                          would be added/changed/removed or the refused lines
 *   POST /inventory/import/apply           applies the file of that dry run (field stash)
 *   GET  /inventory/export?format=csv|json  the store's records as a download (the import's formats)
 * Data comes through the InventoryPort (and the SoftwarePort for the host's software); a refusal
 * of the service is shown on the page with its status.
 */
import { scopeTest } from '../../domain/scope.js';
import { may, requireRole } from '../console-auth.js';
import type { Router } from '@koa/router';
import type { AppContext, AppState } from '../../api/app-state.js';
import { readRawBody } from '../../api/body.js';
import { requestSignal } from '../../api/request-signal.js';
import { ApiError } from '../../domain/errors.js';
import type { Operator } from '../../services/operator-auth-service.js';
import { hostName } from '../../../schemas/api/fragments.js';
import type { ImportResult } from '../../../schemas/api/inventory.js';
import type { ConsoleKit } from '../console-kit.js';
import type { ConsolePorts } from '../console-ports.js';
import { refusal } from '../jobs/job-pages.js';
import { sendPage } from '../jobs/send-page.js';
import { errorView } from '../views.js';
import { ImportStash } from './import-stash.js';
import type { ImportOptions, InventoryActor } from './inventory-port.js';
import { hostPageModel, hostRows, lifecycleStates } from './inventory-model.js';
import { multipartBoundary, parseMultipart } from './multipart.js';
import { hostListView, importView, inventoryHostView, unavailableView } from './inventory-views.js';

const pageSize = 100;
/** The import route's bound (ADR 0018 §3), plus room for the form's other fields. */
const importBodyLimit = 64 * 1024 * 1024 + 64 * 1024;
const hostPattern = new RegExp(hostName.pattern);
const cursorPattern = /^[A-Za-z0-9_.:@-]{1,512}$/;
const stashPattern = /^[0-9a-f]{32}$/;
const softwareRows = 500;

function actor(op: Operator, ctx: AppContext): InventoryActor {
  return { name: op.name, role: op.role, scope: op.scope, address: ctx.ip };
}

function q(ctx: AppContext, name: string): string | undefined {
  const v = ctx.query[name];
  return typeof v === 'string' ? v : undefined;
}

const doneText: Record<string, string> = { lifecycle: 'Lifecycle changed.' };

/** The counts of an import result: exact when the service gives them, else the lists' lengths. */
function counts(r: ImportResult): { added: number; changed: number; removed: number } {
  return r.counts ?? { added: r.added.length, changed: r.changed.length, removed: r.removed.length };
}

export function mountInventoryPages(router: Router<AppState>, kit: ConsoleKit, ports: ConsolePorts): void {
  const send = sendPage(kit);
  const stash = new ImportStash(() => kit.services.clock.now());

  const unavailable = (ctx: AppContext, op: Operator): Promise<void> =>
    send(ctx, op, { nav: 'inventory', refreshable: false, status: 503 }, (frame) => unavailableView({ ...frame, title: 'Inventory', heading: 'Inventory', message: 'This server has no inventory service.' }));

  const notFound = (ctx: AppContext, op: Operator, message: string): Promise<void> =>
    send(ctx, op, { nav: 'inventory', refreshable: false, status: 404 }, (frame) => errorView({ ...frame, title: 'Not found', heading: 'No such host', message }));

  router.get('/inventory', async (ctx) => {
    ctx.state.routeName = '/inventory';
    const op = kit.operator(ctx);
    if (!op) return;
    const port = ports.inventory;
    if (!port) return unavailable(ctx, op);
    const filter = (q(ctx, 'filter') ?? '').trim();
    const after = q(ctx, 'after');
    if (filter.length > 4096) throw new ApiError('BAD_REQUEST', 'filter: at most 4096 characters');
    if (after !== undefined && !cursorPattern.test(after)) throw new ApiError('BAD_REQUEST', 'after: not a host cursor');
    let list;
    try {
      list = await port.list({ ...(filter ? { filter } : {}), ...(after ? { after } : {}), limit: pageSize }, requestSignal(ctx));
    } catch (err) {
      const r = refusal(err);
      if (!r) throw err;
      await send(ctx, op, { nav: 'inventory', refreshable: false, status: r.status }, (frame) => hostListView({ ...frame, title: 'Inventory', filter, hosts: [], total: 0, error: r.message }));
      return;
    }
    await send(ctx, op, { nav: 'inventory', refreshable: false }, (frame) =>
      hostListView({ ...frame, title: 'Inventory', filter, after, hosts: hostRows(list), total: list.total, next: list.next }),
    );
  });

  const hostPage = async (ctx: AppContext, op: Operator, host: string, extra: { flash?: string; error?: string }, status = 200): Promise<void> => {
    const port = ports.inventory;
    if (!port) return unavailable(ctx, op);
    if (!hostPattern.test(host) || host.length > 253) return notFound(ctx, op, `${host.slice(0, 64)} is not a valid host name.`);
    const sw = ports.software;
    const [d, software] = await Promise.all([
      port.detail(host, requestSignal(ctx)),
      sw
        ? Promise.all([sw.packages({ host, limit: softwareRows }), sw.services({ host, limit: softwareRows })]).then(
            ([p, s]) => ({ packages: p.packages, services: s.services }),
            // The record is what this page is for: a software table that fails is left out, not fatal.
            () => undefined,
          )
        : undefined,
    ]);
    if (!d) return notFound(ctx, op, `The inventory knows no host named ${host}.`);
    const m = hostPageModel(d, software);
    await send(ctx, op, { nav: 'inventory', refreshable: false, status }, (frame) =>
      // A scoped operator sees the lifecycle form only for hosts inside its scope (the service refuses the rest).
      inventoryHostView({ ...frame, title: host, m, states: lifecycleStates, canWrite: may(op, 'write') && scopeTest(op.scope)(d.effective as { business?: string; idc?: string }), ...extra }),
    );
  };

  router.get('/inventory/hosts/:host', async (ctx) => {
    ctx.state.routeName = '/inventory/hosts/:host';
    const op = kit.operator(ctx);
    if (!op) return;
    const done = q(ctx, 'done');
    await hostPage(ctx, op, ctx.params['host'] ?? '', done && doneText[done] ? { flash: doneText[done] } : {});
  });

  router.post('/inventory/hosts/:host/lifecycle', async (ctx) => {
    ctx.state.routeName = '/inventory/hosts/:host/lifecycle';
    const op = kit.operator(ctx);
    if (!op) return;
    const form = await kit.readForm(ctx);
    requireRole(op, 'write', 'change a lifecycle');
    const host = ctx.params['host'] ?? '';
    const port = ports.inventory;
    if (!port) return unavailable(ctx, op);
    if (!hostPattern.test(host)) throw new ApiError('NOT_FOUND', 'no such host');
    const state = lifecycleStates.find((s) => s === form.get('lifecycle'));
    if (!state) throw new ApiError('BAD_REQUEST', `lifecycle: one of ${lifecycleStates.join(', ')}`);
    const reason = (form.get('reason') ?? '').trim();
    if (reason.length > 1024) throw new ApiError('BAD_REQUEST', 'reason: at most 1024 characters');
    try {
      await port.patch(host, { lifecycle: state, ...(reason ? { reason } : {}) }, actor(op, ctx));
    } catch (err) {
      const r = refusal(err);
      if (!r) throw err;
      return hostPage(ctx, op, host, { error: r.message }, r.status);
    }
    ctx.state.log.info('console lifecycle', { host, lifecycle: state, operator: op.name });
    ctx.status = 303;
    ctx.redirect(`/inventory/hosts/${encodeURIComponent(host)}?done=lifecycle`);
  });

  const importPage = (ctx: AppContext, op: Operator, extra: Record<string, unknown>, status = 200): Promise<void> =>
    send(ctx, op, { nav: 'inventory', refreshable: false, status }, (frame) => importView({ ...frame, title: 'Import hosts', canWrite: may(op, 'write'), ...extra }));

  router.get('/inventory/import', async (ctx) => {
    ctx.state.routeName = '/inventory/import';
    const op = kit.operator(ctx);
    if (!op) return;
    if (!ports.inventory) return unavailable(ctx, op);
    await importPage(ctx, op, {});
  });

  /** Runs the import and shows its answer (a refusal of the service on the same page). */
  const runImport = async (ctx: AppContext, op: Operator, body: Buffer, opts: ImportOptions): Promise<void> => {
    const port = ports.inventory;
    if (!port) return unavailable(ctx, op);
    let result: ImportResult;
    try {
      result = await port.importFile(body, opts, actor(op, ctx));
    } catch (err) {
      const r = refusal(err);
      if (!r) throw err;
      return importPage(ctx, op, { error: r.message }, r.status);
    }
    const ok = result.problems.length === 0;
    const token = opts.dryRun && ok && may(op, 'write') ? stash.put({ owner: op.name, body, format: opts.format, mode: opts.mode }) : undefined;
    ctx.state.log.info('console import', { operator: op.name, dryRun: opts.dryRun, applied: result.applied, problems: result.problems.length, ...counts(result) });
    await importPage(ctx, op, { result, counts: counts(result), stash: token, ...(result.applied ? { flash: 'The import was applied.' } : {}) }, ok ? 200 : 422);
  };

  router.post('/inventory/import', async (ctx) => {
    ctx.state.routeName = '/inventory/import';
    const op = kit.operator(ctx);
    if (!op) return;
    if (!kit.sameOrigin(ctx)) throw new ApiError('FORBIDDEN', 'cross-origin form post refused');
    requireRole(op, 'write', 'import hosts');
    const boundary = multipartBoundary(ctx.get('content-type'));
    if (!boundary) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be multipart/form-data');
    const parts = parseMultipart(await readRawBody(ctx, importBodyLimit), boundary);
    const field = (name: string): string => parts.find((p) => p.name === name && p.filename === undefined)?.data.toString('utf8').slice(0, 64) ?? '';
    const file = parts.find((p) => p.name === 'file' && p.filename !== undefined && p.data.length > 0);
    const text = parts.find((p) => p.name === 'text' && p.filename === undefined && p.data.length > 0);
    const body = file?.data ?? text?.data;
    if (!body || body.toString('utf8').trim() === '') return importPage(ctx, op, { error: 'Choose a file or paste its content.' }, 400);
    const fmt = field('format');
    const format: ImportOptions['format'] = fmt === 'csv' || fmt === 'json' ? fmt : /\.json$/i.test(file?.filename ?? '') || (!file && /^\s*[[{]/.test(body.subarray(0, 64).toString('utf8'))) ? 'json' : 'csv';
    const mode: ImportOptions['mode'] = field('mode') === 'replace' ? 'replace' : 'merge';
    await runImport(ctx, op, Buffer.from(body), { format, dryRun: true, mode });
  });

  router.get('/inventory/export', async (ctx) => {
    ctx.state.routeName = '/inventory/export';
    const op = kit.operator(ctx);
    if (!op) return;
    const port = ports.inventory;
    if (!port) return unavailable(ctx, op);
    const format = q(ctx, 'format') === 'json' ? 'json' : 'csv';
    const text = await port.exportFile(format);
    ctx.status = 200;
    ctx.type = format === 'json' ? 'application/json; charset=utf-8' : 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', `attachment; filename="inventory.${format}"`);
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = text;
  });

  router.post('/inventory/import/apply', async (ctx) => {
    ctx.state.routeName = '/inventory/import/apply';
    const op = kit.operator(ctx);
    if (!op) return;
    const form = await kit.readForm(ctx);
    requireRole(op, 'write', 'import hosts');
    const token = form.get('stash') ?? '';
    const entry = stashPattern.test(token) ? stash.take(token, op.name) : undefined;
    if (!entry) return importPage(ctx, op, { error: 'That dry run has expired or was already applied: upload the file again.' }, 410);
    await runImport(ctx, op, entry.body, { format: entry.format, mode: entry.mode, dryRun: false });
  });
}
