/**
 * The console's job pages (server-rendered, no script; ADR 0014):
 *   GET  /jobs                   jobs newest first (?before= pages), state, progress, who/when
 *   GET  /jobs/new               the launch form; POST /jobs/new with action=preview re-renders it
 *                                with the resolved hosts, who cannot run and the audit verdict;
 *                                action=launch launches and redirects to the job (admin); with
 *                                "Deliver in batches" filled it starts a job rollout instead and
 *                                redirects to the rollout (/rollouts/:id)
 *   GET  /jobs/:id               steps with counts, progress bar, hosts (?state=, ?page=) and their
 *                                output; refreshes itself while the job runs (?refresh=0 pauses)
 *   POST /jobs/:id/cancel|redo|confirm   actions (admin, same origin)
 * Services are called directly through the JobsPort; a refusal from a service (ApiError or a
 * schema error) is shown on the page with its status.
 */
import { may, requireRole } from '../console-auth.js';
import { isAdmin } from '../../domain/roles.js';
import type { Router } from '@koa/router';
import { SchemaError } from '../../../schemas/validate.js';
import { ApiError } from '../../domain/errors.js';
import type { AppContext, AppState } from '../../api/app-state.js';
import type { Operator } from '../../services/operator-auth-service.js';
import { requestSignal } from '../../api/request-signal.js';
import type { ConsoleKit } from '../console-kit.js';
import { sendPage } from './send-page.js';
import { cannotRun, jobPageModel, summaryRow } from './job-model.js';
import { errorView } from '../views.js';
import { jobsListView, jobView, launchView } from './job-views.js';
import { emptyLaunch, launchBody, launchFormLimit, launchPolicy, readLaunchFields, type LaunchFields } from './launch-form.js';
import { jobsPort, type Actor, type AuditFinding, type JobsApi, type PreviewAnswer } from './jobs-port.js';

const jobIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const cursorPattern = /^[A-Za-z0-9_.:-]{1,128}$/;
const pageSize = 50;
const previewShown = 500;
const maxPickItems = 200;


/** Messages of errors a service refuses with (shown on the page), else undefined (rethrown). */
export function refusal(err: unknown): { status: number; message: string } | undefined {
  if (err instanceof ApiError) return { status: err.status, message: err.message };
  if (err instanceof SchemaError) return { status: 400, message: err.message };
  return undefined;
}

function actor(op: Operator, ctx: AppContext): Actor {
  return { name: op.name, role: op.role, scope: op.scope, address: ctx.ip };
}

function queryString(ctx: AppContext, name: string): string | undefined {
  const v = ctx.query[name];
  return typeof v === 'string' ? v : undefined;
}

/** The audit verdicts of a preview, flattened to one list of findings and whether any blocks. */
export function auditSummary(preview: Pick<PreviewAnswer, 'audit'> | undefined): { blocked: boolean; findings: AuditFinding[] } | undefined {
  if (!preview) return undefined;
  const findings: AuditFinding[] = [];
  let blocked = false;
  for (const v of preview.audit) {
    if (v.verdict === 'block') blocked = true;
    for (const f of v.findings) {
      findings.push(f);
      if (f.mode === 'block') blocked = true;
    }
  }
  return { blocked, findings };
}

export function mountJobPages(router: Router<AppState>, kit: ConsoleKit): void {
  const services = kit.services;
  const port = jobsPort(services);
  const send = sendPage(kit);

  router.get('/jobs', async (ctx) => {
    ctx.state.routeName = '/jobs';
    const op = kit.operator(ctx);
    if (!op) return;
    const before = queryString(ctx, 'before');
    if (before !== undefined && !cursorPattern.test(before)) throw new ApiError('BAD_REQUEST', 'before: not a job cursor');
    const list = await port.jobs.list({ limit: pageSize, ...(before ? { before } : {}) });
    const now = services.clock.now();
    await send(ctx, op, { nav: 'jobs', refreshable: list.jobs.some((j) => j.state === 'running' || j.state === 'paused') }, (frame) =>
      jobsListView({
        ...frame,
        title: 'Jobs',
        canWrite: may(op, 'write'),
        jobs: list.jobs.map((j) => summaryRow(j, now)),
        next: list.next,
        newest: before !== undefined,
      }),
    );
  });

  /** Groups, IDCs and tags known from the live revision's inventory, as pick-lists. */
  const picks = async (ctx: AppContext, checked: readonly string[]): Promise<Record<string, { value: string; label: string; checked: boolean }[]>> => {
    const live = await services.revisions.live(requestSignal(ctx)).catch(() => undefined);
    const groups = new Set<string>();
    const idcs = new Set<string>();
    const tags = new Set<string>();
    for (const h of live?.loaded.hosts ?? []) {
      for (const g of h.groups) groups.add(g);
      if (h.idc !== undefined) idcs.add(h.idc);
      for (const t of h.tags ?? []) tags.add(t);
    }
    const list = (kind: string, names: Set<string>): { value: string; label: string; checked: boolean }[] =>
      [...names]
        .sort()
        .slice(0, maxPickItems)
        .map((n) => ({ value: `${kind}:${n}`, label: n, checked: checked.includes(`${kind}:${n}`) }));
    return { groups: list('group', groups), idcs: list('idc', idcs), tags: list('tag', tags) };
  };

  const launchPage = async (ctx: AppContext, op: Operator, f: LaunchFields, extra: { preview?: PreviewAnswer; error?: string }, status = 200): Promise<void> => {
    const [pickLists, accounts, scripts] = await Promise.all([picks(ctx, f.picks), port.accounts(), port.scripts()]);
    let preview: { count: number; shown: number; hosts: string[]; cannot: { host: string; reason: string }[] } | undefined;
    if (extra.preview) {
      const hosts = [...new Set(extra.preview.targets.flatMap((t) => t.hosts))].sort();
      const [agents, compliance] = await Promise.all([services.enrollment.list(), services.compliance.hosts(requestSignal(ctx))]);
      // The service names who cannot run (not enrolled, pending, revoked); the console adds agents that went quiet.
      const named = new Set(extra.preview.unavailable.map((u) => u.host));
      const more = cannotRun(hosts, new Map(agents.map((a) => [a.host, a.status])), new Set(compliance.filter((h) => h.state === 'not-reporting').map((h) => h.host))).filter((c) => !named.has(c.host));
      const cannot = [...extra.preview.unavailable, ...more];
      preview = { count: hosts.length, shown: Math.min(hosts.length, previewShown), hosts: hosts.slice(0, previewShown), cannot: cannot.slice(0, previewShown) };
    }
    await send(ctx, op, { nav: 'jobs', refreshable: false, status }, (frame) =>
      launchView({
        ...frame,
        title: 'Launch a job',
        canWrite: may(op, 'write'),
        isAdmin: isAdmin(op.role),
        f,
        picks: pickLists,
        accounts,
        scripts,
        preview,
        audit: auditSummary(extra.preview),
        error: extra.error,
      }),
    );
  };

  router.get('/jobs/new', async (ctx) => {
    ctx.state.routeName = '/jobs/new';
    const op = kit.operator(ctx);
    if (!op) return;
    const f = { ...emptyLaunch };
    const targets = queryString(ctx, 'targets');
    if (targets !== undefined && targets.length <= 4096) f.targets = targets;
    await launchPage(ctx, op, f, {});
  });

  router.post('/jobs/new', async (ctx) => {
    ctx.state.routeName = '/jobs/new';
    const op = kit.operator(ctx);
    if (!op) return;
    const form = await kit.readForm(ctx, launchFormLimit);
    const launching = form.get('action') === 'launch';
    if (launching) requireRole(op, 'write', 'launch jobs');
    let f: LaunchFields;
    try {
      f = readLaunchFields(form);
    } catch (err) {
      const r = refusal(err);
      if (!r) throw err;
      await launchPage(ctx, op, { ...emptyLaunch }, { error: r.message }, r.status);
      return;
    }
    const jobs = port.jobs;
    let preview: PreviewAnswer | undefined;
    try {
      const body = launchBody(f);
      const policy = launchPolicy(f);
      if (!launching) {
        preview = await jobs.preview(body, actor(op, ctx));
        await launchPage(ctx, op, f, { preview });
        return;
      }
      if (policy) {
        // Deliver in batches: a job rollout, each batch one ordinary job (ADR 0017 §3).
        const r = await port.rollout(body, policy, actor(op, ctx));
        ctx.state.log.info('console job rollout', { rollout: r.id, operator: op.name, targets: f.targets, batches: policy.batches, approved: f.approve });
        ctx.status = 303;
        ctx.redirect(`/rollouts/${encodeURIComponent(r.id)}`);
        return;
      }
      const job = await jobs.launch(body, actor(op, ctx));
      ctx.state.log.info('console job launch', { job: job.id, operator: op.name, targets: f.targets, dryRun: f.dryRun, approved: f.approve });
      ctx.status = 303;
      ctx.redirect(`/jobs/${encodeURIComponent(job.id)}`);
    } catch (err) {
      const r = refusal(err);
      if (!r) throw err;
      // A refused launch shows the preview too when it can be had (the audit finding, the hosts).
      if (launching) preview = await (async () => jobs.preview(launchBody(f), actor(op, ctx)))().catch(() => undefined);
      await launchPage(ctx, op, f, { error: r.message, ...(preview ? { preview } : {}) }, r.status);
    }
  });

  const jobPage = async (ctx: AppContext, op: Operator, id: string, extra: { flash?: string; error?: string }, status = 200): Promise<void> => {
    const job = jobIdPattern.test(id) ? await port.jobs.get(id, { output: true }) : undefined;
    if (!job) {
      await send(ctx, op, { nav: 'jobs', refreshable: false, status: 404 }, (frame) => errorView({ ...frame, title: 'Not found', heading: 'No such job', message: `The server knows no job ${id.slice(0, 64)}.` }));
      return;
    }
    const pageRaw = queryString(ctx, 'page');
    const stateRaw = queryString(ctx, 'state');
    const m = jobPageModel(job, { page: pageRaw && /^[1-9][0-9]{0,5}$/.test(pageRaw) ? Number(pageRaw) : 1, ...(stateRaw !== undefined ? { state: stateRaw } : {}), now: services.clock.now() });
    const base = `/jobs/${encodeURIComponent(job.id)}`;
    const href = (q: Record<string, string>): string => {
      const p = new URLSearchParams(q);
      if (queryString(ctx, 'refresh') === '0') p.set('refresh', '0');
      const s = p.toString();
      return s ? `${base}?${s}` : base;
    };
    await send(ctx, op, { nav: 'jobs', refreshable: m.live, status }, (frame) =>
      jobView({
        ...frame,
        title: job.name ?? job.id,
        canWrite: may(op, 'write'),
        m,
        pageHref: (n: number) => href({ ...(m.filter ? { state: m.filter } : {}), page: String(n) }),
        filterHref: (s: string) => href(s ? { state: s } : {}),
        ...extra,
      }),
    );
  };

  router.get('/jobs/:id', async (ctx) => {
    ctx.state.routeName = '/jobs/:id';
    const op = kit.operator(ctx);
    if (!op) return;
    const done = queryString(ctx, 'done');
    const flash = done === 'cancelled' ? 'Cancel requested.' : done === 'continued' ? 'The job continues.' : done === 'stopped' ? 'The job was stopped at the confirmation.' : undefined;
    await jobPage(ctx, op, ctx.params['id'] ?? '', flash ? { flash } : {});
  });

  /** A job action: admin only, same origin; a refusal re-renders the job page with the message. */
  const action = (name: 'cancel' | 'redo' | 'confirm', run: (jobs: JobsApi, id: string, form: URLSearchParams, by: Actor) => Promise<string>): void => {
    router.post(`/jobs/:id/${name}`, async (ctx) => {
      ctx.state.routeName = `/jobs/:id/${name}`;
      const op = kit.operator(ctx);
      if (!op) return;
      const form = await kit.readForm(ctx);
      requireRole(op, 'write', `${name} jobs`);
      const id = ctx.params['id'] ?? '';
      if (!jobIdPattern.test(id)) throw new ApiError('NOT_FOUND', `no job ${id.slice(0, 64)}`);
      let to: string;
      try {
        to = await run(port.jobs, id, form, actor(op, ctx));
      } catch (err) {
        const r = refusal(err);
        if (!r || r.status === 404) throw err;
        await jobPage(ctx, op, id, { error: r.message }, r.status);
        return;
      }
      ctx.state.log.info('console job action', { action: name, job: id, operator: op.name, to });
      ctx.status = 303;
      ctx.redirect(to);
    });
  };

  action('cancel', async (jobs, id, _form, by) => {
    await jobs.cancel(id, by);
    return `/jobs/${encodeURIComponent(id)}?done=cancelled`;
  });

  action('redo', async (jobs, id, form, by) => {
    const hosts = form.get('hosts');
    if (hosts !== 'failed' && hosts !== 'all') throw new ApiError('BAD_REQUEST', 'hosts must be failed or all');
    const job = await jobs.redo(id, { hosts }, by);
    return `/jobs/${encodeURIComponent(job.id)}`;
  });

  action('confirm', async (jobs, id, form, by) => {
    const step = form.get('step') ?? '';
    const what = form.get('action');
    if (!/^[0-9]{1,3}$/.test(step)) throw new ApiError('BAD_REQUEST', 'step must be a step number');
    if (what !== 'continue' && what !== 'stop') throw new ApiError('BAD_REQUEST', 'action must be continue or stop');
    await jobs.confirm(id, { step: Number(step), action: what }, by);
    return `/jobs/${encodeURIComponent(id)}?done=${what === 'continue' ? 'continued' : 'stopped'}`;
  });
}
