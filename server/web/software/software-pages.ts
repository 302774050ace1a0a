/**
 * The console's software and services pages (ADR 0018 §6–7; server-rendered, no script):
 *   GET  /software                                     tracked packages, each with its fleet chart
 *   GET  /software/packages/:manager/:name             per host: installed against approved, up to date
 *                                                      or not (?after= pages); the fleet chart; the
 *                                                      "upgrade to approved" form with batch settings
 *   POST /software/packages/:manager/:name/upgrade     fields targets, version, batches, gate, waitBetween,
 *                                                      maxFailures (admin, same origin) → the rollout or job
 *   GET  /services                                     state per host and service (?name=, ?host=, ?after=),
 *                                                      drift flagged; start/stop/restart per row and, for one
 *                                                      service, on a target selector with batches
 *   POST /services/:name/action                        fields action, targets, includeInactive, batches…
 * Data comes through the SoftwarePort; a refusal of the service is shown on the page.
 */
import { may, requireRole } from '../console-auth.js';
import type { Router } from '@koa/router';
import type { AppContext, AppState } from '../../api/app-state.js';
import { ApiError } from '../../domain/errors.js';
import type { Operator } from '../../services/operator-auth-service.js';
import { hostName } from '../../../schemas/api/fragments.js';
import { packageManager, packageUpgradeRequestSchema, serviceActionRequestSchema, trackedPackageSchema, trackedServiceSchema, type PackageManager, type PackageUpgradeRequest, type ServiceActionRequest, type SoftwareActionResult } from '../../../schemas/api/software.js';
import { compileGuard, type Guard } from '../../../schemas/validate.js';
import type { ConsoleKit } from '../console-kit.js';
import type { ConsolePorts } from '../console-ports.js';
import type { InventoryActor } from '../inventory/inventory-port.js';
import { refusal } from '../jobs/job-pages.js';
import { emptyLaunch, launchPolicy } from '../jobs/launch-form.js';
import { sendPage } from '../jobs/send-page.js';
import { errorView } from '../views.js';
import { unavailableView } from '../inventory/inventory-views.js';
import { packageSummaries, serviceRows } from './software-model.js';
import { packageView, servicesView, softwareListView } from './software-views.js';

const pageSize = 100;
const cursorPattern = /^[A-Za-z0-9_.:@+~/-]{1,2048}$/;
const pkgPattern = new RegExp(trackedPackageSchema.properties.name.pattern);
const servicePattern = new RegExp(trackedServiceSchema.properties.name.pattern);
const hostPattern = new RegExp(hostName.pattern);
const managers = packageManager.enum as readonly PackageManager[];
const actions = ['start', 'stop', 'restart'] as const;
const upgradeGuard: Guard<PackageUpgradeRequest> = compileGuard(packageUpgradeRequestSchema);
const actionGuard: Guard<ServiceActionRequest> = compileGuard(serviceActionRequestSchema);

function actor(op: Operator, ctx: AppContext): InventoryActor {
  return { name: op.name, role: op.role, scope: op.scope, address: ctx.ip };
}

function q(ctx: AppContext, name: string): string | undefined {
  const v = ctx.query[name];
  return typeof v === 'string' ? v : undefined;
}

/** The batch part of a form as a rollout policy (undefined: no batches), with the job launch form's rules and messages. */
function policyOf(form: URLSearchParams): ReturnType<typeof launchPolicy> {
  return launchPolicy({
    ...emptyLaunch,
    batches: (form.get('batches') ?? '').trim(),
    gate: form.get('gate') === 'manual' ? 'manual' : 'auto',
    waitBetween: (form.get('waitBetween') ?? '').trim(),
    maxFailures: (form.get('maxFailures') ?? '').trim(),
  });
}

/** Where an action's answer is shown: its rollout, else its job. */
function resultPath(r: SoftwareActionResult): string | undefined {
  if (r.rollout) return `/rollouts/${encodeURIComponent(r.rollout)}`;
  if (r.job) return `/jobs/${encodeURIComponent(r.job)}`;
  return undefined;
}

export function mountSoftwarePages(router: Router<AppState>, kit: ConsoleKit, ports: ConsolePorts): void {
  const send = sendPage(kit);

  const unavailable = (ctx: AppContext, op: Operator, nav: string): Promise<void> =>
    send(ctx, op, { nav, refreshable: false, status: 503 }, (frame) => unavailableView({ ...frame, title: 'Software', heading: nav === 'services' ? 'Services' : 'Software', message: 'This server has no software service.' }));

  router.get('/software', async (ctx) => {
    ctx.state.routeName = '/software';
    const op = kit.operator(ctx);
    if (!op) return;
    const port = ports.software;
    if (!port) return unavailable(ctx, op, 'software');
    // The fleet view and the tracked list come with any page of rows: ask for the smallest.
    const t = await port.packages({ limit: 1 });
    await send(ctx, op, { nav: 'software', refreshable: false }, (frame) => softwareListView({ ...frame, title: 'Software', packages: packageSummaries(t) }));
  });

  const packagePage = async (ctx: AppContext, op: Operator, manager: string, name: string, extra: Record<string, unknown>, status = 200): Promise<void> => {
    const port = ports.software;
    if (!port) return unavailable(ctx, op, 'software');
    const m = managers.find((x) => x === manager);
    const after = q(ctx, 'after');
    if (after !== undefined && !cursorPattern.test(after)) throw new ApiError('BAD_REQUEST', 'after: not a cursor');
    const notFound = (): Promise<void> =>
      send(ctx, op, { nav: 'software', refreshable: false, status: 404 }, (frame) => errorView({ ...frame, title: 'Not found', heading: 'No such package', message: `No tracked package ${manager.slice(0, 16)}/${name.slice(0, 128)}.` }));
    if (!m || !pkgPattern.test(name)) return notFound();
    const t = await port.packages({ name, manager: m, limit: pageSize, ...(after ? { after } : {}) });
    const p = packageSummaries(t).find((s) => s.name === name && s.manager === m);
    if (!p) return notFound();
    await send(ctx, op, { nav: 'software', refreshable: false, status }, (frame) =>
      packageView({ ...frame, title: `${name} (${m})`, p, rows: t.packages, next: t.next, after, canWrite: may(op, 'write'), ...extra }),
    );
  };

  router.get('/software/packages/:manager/:name', async (ctx) => {
    ctx.state.routeName = '/software/packages/:manager/:name';
    const op = kit.operator(ctx);
    if (!op) return;
    await packagePage(ctx, op, ctx.params['manager'] ?? '', ctx.params['name'] ?? '', {});
  });

  router.post('/software/packages/:manager/:name/upgrade', async (ctx) => {
    ctx.state.routeName = '/software/packages/:manager/:name/upgrade';
    const op = kit.operator(ctx);
    if (!op) return;
    const form = await kit.readForm(ctx);
    requireRole(op, 'write', 'upgrade packages');
    const port = ports.software;
    if (!port) return unavailable(ctx, op, 'software');
    const manager = managers.find((x) => x === ctx.params['manager']);
    const name = ctx.params['name'] ?? '';
    if (!manager || !pkgPattern.test(name)) throw new ApiError('NOT_FOUND', 'no such package');
    const fields = { targets: (form.get('targets') ?? '').trim(), version: (form.get('version') ?? '').trim(), batches: (form.get('batches') ?? '').trim(), gate: form.get('gate') ?? 'auto', waitBetween: form.get('waitBetween') ?? '', maxFailures: form.get('maxFailures') ?? '' };
    let result: SoftwareActionResult;
    try {
      const policy = policyOf(form);
      const req = { ...(fields.targets ? { targets: fields.targets } : {}), ...(fields.version ? { version: fields.version } : {}), ...(policy ? { policy } : {}) };
      upgradeGuard.assert(req);
      result = await port.upgrade(manager, name, req, actor(op, ctx));
    } catch (err) {
      const r = refusal(err);
      if (!r) throw err;
      return packagePage(ctx, op, manager, name, { error: r.message, form: fields }, r.status);
    }
    ctx.state.log.info('console package upgrade', { manager, name, operator: op.name, job: result.job, rollout: result.rollout, hosts: result.hosts.length });
    const to = resultPath(result);
    ctx.status = 303;
    ctx.redirect(to ?? `/software/packages/${encodeURIComponent(manager)}/${encodeURIComponent(name)}`);
  });

  const servicesPage = async (ctx: AppContext, op: Operator, extra: Record<string, unknown>, status = 200, only?: { name?: string }): Promise<void> => {
    const port = ports.software;
    if (!port) return unavailable(ctx, op, 'services');
    const name = only?.name ?? (q(ctx, 'name') ?? '').trim();
    const host = (q(ctx, 'host') ?? '').trim();
    const after = q(ctx, 'after');
    if (name && !servicePattern.test(name)) throw new ApiError('BAD_REQUEST', 'name: not a service name');
    if (host && !hostPattern.test(host)) throw new ApiError('BAD_REQUEST', 'host: not a host name');
    if (after !== undefined && !cursorPattern.test(after)) throw new ApiError('BAD_REQUEST', 'after: not a cursor');
    const t = await port.services({ ...(name ? { name } : {}), ...(host ? { host } : {}), ...(after ? { after } : {}), limit: pageSize });
    const rows = serviceRows(t.services);
    const base = new URLSearchParams();
    if (name) base.set('name', name);
    if (host) base.set('host', host);
    await send(ctx, op, { nav: 'services', refreshable: false, status }, (frame) =>
      servicesView({
        ...frame,
        title: 'Services',
        tracked: t.tracked ?? [],
        rows,
        name,
        host,
        after,
        next: t.next,
        baseQuery: base.toString(),
        drift: rows.filter((r) => r.drift === true).length,
        defaultTargets: host ? `host:${host}` : '',
        canWrite: may(op, 'write'),
        ...extra,
      }),
    );
  };

  router.get('/services', async (ctx) => {
    ctx.state.routeName = '/services';
    const op = kit.operator(ctx);
    if (!op) return;
    await servicesPage(ctx, op, {});
  });

  router.post('/services/:name/action', async (ctx) => {
    ctx.state.routeName = '/services/:name/action';
    const op = kit.operator(ctx);
    if (!op) return;
    const form = await kit.readForm(ctx);
    requireRole(op, 'write', 'start, stop or restart services');
    const port = ports.software;
    if (!port) return unavailable(ctx, op, 'services');
    const name = ctx.params['name'] ?? '';
    if (!servicePattern.test(name)) throw new ApiError('NOT_FOUND', 'no such service');
    const action = actions.find((a) => a === form.get('action'));
    const fields = { targets: (form.get('targets') ?? '').trim(), includeInactive: form.get('includeInactive') === '1', batches: (form.get('batches') ?? '').trim(), gate: form.get('gate') ?? 'auto', waitBetween: form.get('waitBetween') ?? '', maxFailures: form.get('maxFailures') ?? '' };
    let result: SoftwareActionResult;
    try {
      if (!action) throw new ApiError('BAD_REQUEST', 'action: start, stop or restart');
      if (!fields.targets) throw new ApiError('BAD_REQUEST', 'targets: write a target selector (host:a1, group:web, …)');
      const policy = policyOf(form);
      const req = { action, targets: fields.targets, ...(fields.includeInactive ? { includeInactive: true } : {}), ...(policy ? { policy } : {}) };
      actionGuard.assert(req);
      result = await port.serviceAction(name, req, actor(op, ctx));
    } catch (err) {
      const r = refusal(err);
      if (!r) throw err;
      return servicesPage(ctx, op, { error: r.message, form: fields }, r.status, { name });
    }
    ctx.state.log.info('console service action', { service: name, action, targets: fields.targets, operator: op.name, job: result.job, rollout: result.rollout });
    ctx.status = 303;
    ctx.redirect(resultPath(result) ?? `/services?name=${encodeURIComponent(name)}`);
  });
}
