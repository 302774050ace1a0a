/**
 * The operator console (server-rendered HTML, no script):
 *   GET  /, /dashboard.json, /drift   the dashboard, its live data and drift history (dashboard/dashboard-pages.ts)
 *   GET  /hosts/:host              host detail: drift history (chart and events), last run's resources (attention first, before/after,
 *                                  diff; ?page= for runs of more than 200 resources), recent runs,
 *                                  facts, groups, enrollment
 *   GET  /hosts/:host/runs/:runId  the same page for one stored run
 *   GET  /enrollment               pending keys with approve/reject forms; every agent
 *   POST /enrollment/approve|reject|delete  form posts (admin role, same origin)
 *   /revisions…, /rollouts…        history, diffs, fleet plans, rollouts (server/web/delivery/)
 *   /jobs…, /plans…                job and plan pages (server/web/jobs/)
 *   /inventory…, /software…, /services   inventory, packages and services (server/web/inventory/, software/)
 *   GET  /schedules, POST /schedules/create|delete|enable|disable   schedules (schedule-pages.ts)
 *   GET  /audit, /blobs            the audit log (audit-page.ts), blob storage per bucket (blob-page.ts; linked from the footer)
 *   GET/POST /login, POST /logout
 * Login with an operator token sets an HttpOnly, SameSite=Strict session cookie (Secure under
 * TLS). Every form post must come from the same origin (Origin/Referer check); failed logins are
 * rate-limited per client address. Overview and host pages refresh every 5 s (meta refresh;
 * `?refresh=0` pauses).
 */
import { may, requireRole } from './console-auth.js';
import { isAdmin } from '../domain/roles.js';
import { Router } from '@koa/router';
import { isoAt } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import { hideRedactionDigests } from '../domain/secret-digests.js';
import type { RunReport } from '../../schemas/report.js';
import type { Services } from '../services/services.js';
import type { Operator } from '../services/operator-auth-service.js';
import type { AppContext, AppState } from '../api/app-state.js';
import { sessionCookie } from '../api/auth.js';
import { readRawBody, requireMediaType } from '../api/body.js';
import { requestSignal } from '../api/request-signal.js';
import { schedulePages } from './schedule-pages.js';
import { auditPages } from './audit-page.js';
import { mountBlobPage } from './blob-page.js';
import { factRows, runView } from './run-model.js';
import { enrollmentView, errorView, hostView, loginView } from './views.js';
import { chartAssets, hostDrift, mountDashboardPages } from './dashboard/dashboard-pages.js';
import type { ConsoleKit } from './console-kit.js';
import { scriptPages } from './scripts/script-pages.js';
import { mountUserPages } from './users/user-pages.js';
import { mountJobPages } from './jobs/job-pages.js';
import { mountPlanPages } from './jobs/plan-pages.js';
import { mountDeliveryPages } from './delivery/delivery-pages.js';
import { consolePortsOf, type ConsolePorts } from './console-ports.js';
import { mountInventoryPages } from './inventory/inventory-pages.js';
import { mountSoftwarePages } from './software/software-pages.js';
import { mountManifestPages } from './manifests/manifest-pages.js';
import { mountAssets } from './assets.js';

const refreshSeconds = 5;
const hostNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** ?page= of a run's resources (1 when absent or not a page number). */
function pageQuery(ctx: AppContext): number {
  const raw = ctx.query['page'];
  return typeof raw === 'string' && /^[1-9][0-9]{0,6}$/.test(raw) ? Number(raw) : 1;
}

function sameOrigin(ctx: AppContext): boolean {
  const origin = ctx.get('origin') || ctx.get('referer');
  if (!origin) return false;
  try {
    return new URL(origin).host === ctx.host;
  } catch {
    return false;
  }
}

/** Scripts and styles only from this origin (the asset route); no inline script, no eval (ADR 0019). */
export const consoleCsp = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function html(ctx: AppContext, body: string, status = 200): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Content-Security-Policy', consoleCsp);
  ctx.set('Cache-Control', 'no-store');
  // Same-origin form posts must carry a real Origin (no-referrer would make it "null").
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.body = body;
}

/** The page context every view shares (nav, operator, refresh). */
function frame(ctx: AppContext, services: Services, op: Operator, nav: string, pendingCount: number, refreshable: boolean): Record<string, unknown> {
  const paused = ctx.query['refresh'] === '0';
  const q = new URLSearchParams(ctx.querystring);
  q.set('refresh', '0');
  const pauseQuery = q.toString();
  q.delete('refresh');
  return {
    operator: op.name,
    role: op.role,
    nav,
    pendingCount,
    refreshable,
    refresh: refreshable && !paused ? refreshSeconds : 0,
    pauseQuery,
    resumeQuery: q.toString(),
    now: isoAt(services.clock.now()),
  };
}

function pendingKeys(agents: Awaited<ReturnType<Services['enrollment']['list']>>): { host: string; status: string; fingerprint: string; createdAt: string; rotation: boolean }[] {
  const out = [];
  for (const a of agents) {
    const approved = a.keys.some((k) => k.status === 'approved');
    for (const k of a.keys) if (k.status === 'pending') out.push({ host: a.host, status: a.status, fingerprint: k.fingerprint, createdAt: isoAt(k.createdAt), rotation: approved });
  }
  return out;
}

export function consoleRouter(services: Services, opts: { secureCookies: boolean; ports?: ConsolePorts }): Router<AppState> {
  const router = new Router<AppState>();
  const failures = new Map<string, { count: number; since: number }>();
  // The session is read from the store (cached a few seconds) before any page runs, so pages
  // ask for their operator synchronously.
  const sessions = new WeakMap<object, Operator>();
  router.use(async (ctx, next) => {
    const sid = ctx.cookies.get(sessionCookie);
    const op = sid ? await services.operators.session(sid) : undefined;
    if (op) sessions.set(ctx, op);
    await next();
  });

  /** The session's operator, or a redirect to /login (undefined). */
  const operator = (ctx: AppContext): Operator | undefined => {
    const op = sessions.get(ctx);
    if (!op) {
      if (ctx.method === 'GET') ctx.redirect('/login');
      else throw new ApiError('UNAUTHENTICATED', 'log in first');
      return undefined;
    }
    ctx.state.principal = { kind: 'operator', name: op.name, role: op.role, ...(op.scope ? { scope: op.scope } : {}), via: 'session' };
    return op;
  };

  const readForm = async (ctx: AppContext, limit = 8 * 1024): Promise<URLSearchParams> => {
    if (!sameOrigin(ctx)) throw new ApiError('FORBIDDEN', 'cross-origin form post refused');
    requireMediaType(ctx, ['application/x-www-form-urlencoded']);
    return new URLSearchParams((await readRawBody(ctx, limit)).toString('utf8'));
  };

  const kit: ConsoleKit = {
    services,
    operator,
    readForm,
    sameOrigin,
    html,
    async frame(ctx, op, nav, refreshable = false) {
      return frame(ctx, services, op, nav, pendingKeys(await services.enrollment.list()).length, refreshable);
    },
  };
  mountAssets(router);
  scriptPages(router, kit);
  mountUserPages(router, kit);
  mountJobPages(router, kit);
  mountPlanPages(router, kit);
  mountDeliveryPages(router, kit);
  const ports = opts.ports ?? consolePortsOf(services);
  mountInventoryPages(router, kit, ports);
  mountSoftwarePages(router, kit, ports);
  mountManifestPages(router, kit);
  mountBlobPage(router, kit);

  mountDashboardPages(router, kit);

  const hostPage = async (ctx: AppContext, host: string, runId: string | undefined): Promise<void> => {
    const op = operator(ctx);
    if (!op) return;
    const signal = requestSignal(ctx);
    const agents = await services.enrollment.list();
    const pending = pendingKeys(agents).length;
    if (!hostNamePattern.test(host)) {
      html(ctx, errorView({ ...frame(ctx, services, op, 'overview', pending, false), title: 'Not found', heading: 'No such host', message: `${host} is not a valid host name.` }), 404);
      return;
    }
    const [hosts, state, runs, drift] = await Promise.all([services.compliance.hosts(signal), services.hostStates.get(host), services.reports.list({ host, limit: 25 }), hostDrift(services, host, signal)]);
    const h = hosts.find((x) => x.host === host);
    const agent = agents.find((a) => a.host === host);
    if (!h && !agent && !state) {
      html(ctx, errorView({ ...frame(ctx, services, op, 'overview', pending, false), title: 'Not found', heading: 'No such host', message: `The server knows no host named ${host}.` }), 404);
      return;
    }
    const wanted = runId ?? h?.lastRun?.runId;
    const stored = wanted !== undefined ? await services.reports.getJson(host, wanted) : undefined;
    // Readonly operators get no digest of redacted (secret) values (ADR 0008).
    const report = stored === undefined ? undefined : (JSON.parse(isAdmin(op.role) ? stored : hideRedactionDigests(stored)) as RunReport);
    if (runId !== undefined && !report) {
      html(ctx, errorView({ ...frame(ctx, services, op, 'overview', pending, false), title: 'Not found', heading: 'No such run', message: `No stored run ${runId} for ${host} (raw reports are kept for the retention period).` }), 404);
      return;
    }
    html(
      ctx,
      hostView({
        ...frame(ctx, services, op, 'overview', pending, runId === undefined),
        ...chartAssets,
        hostDrift: drift,
        title: host,
        host,
        state: h?.state ?? 'unknown',
        groups: h?.groups ?? [],
        inInventory: h?.inInventory ?? false,
        enrollment: agent?.status,
        lastRunAt: h?.lastRun ? isoAt(h.lastRun.receivedAtMs) : undefined,
        factsUpdatedAt: state?.factsUpdatedAt !== undefined ? isoAt(state.factsUpdatedAt) : undefined,
        viewingRun: runId !== undefined,
        run: report ? runView(report, pageQuery(ctx)) : undefined,
        runs: runs.map((r) => ({ ...r, startedAt: isoAt(r.startedAt) })),
        facts: factRows(state?.facts),
      }),
    );
  };

  router.get('/hosts/:host', async (ctx) => {
    ctx.state.routeName = '/hosts/:host';
    await hostPage(ctx, ctx.params['host'] ?? '', undefined);
  });

  router.get('/hosts/:host/runs/:runId', async (ctx) => {
    ctx.state.routeName = '/hosts/:host/runs/:runId';
    await hostPage(ctx, ctx.params['host'] ?? '', ctx.params['runId'] ?? '');
  });

  const enrollmentPage = async (ctx: AppContext, op: Operator, extra: { flash?: string; error?: string }, status = 200): Promise<void> => {
    const agents = await services.enrollment.list();
    const pending = pendingKeys(agents);
    html(
      ctx,
      enrollmentView({
        ...frame(ctx, services, op, 'enrollment', pending.length, false),
        title: 'Enrollment',
        canWrite: may(op, 'fleet'),
        pending,
        agents: agents.map((a) => ({ host: a.host, status: a.status, keys: a.keys })),
        ...extra,
      }),
      status,
    );
  };

  router.get('/enrollment', async (ctx) => {
    ctx.state.routeName = '/enrollment';
    const op = operator(ctx);
    if (!op) return;
    const done = typeof ctx.query['done'] === 'string' ? ctx.query['done'] : undefined;
    await enrollmentPage(ctx, op, done === 'approved' || done === 'rejected' || done === 'deleted' ? { flash: `Key ${done}.` } : {});
  });

  const doneOf = { approve: 'approved', reject: 'rejected', delete: 'deleted' } as const;
  for (const action of ['approve', 'reject', 'delete'] as const) {
    router.post(`/enrollment/${action}`, async (ctx) => {
      ctx.state.routeName = `/enrollment/${action}`;
      const form = await readForm(ctx);
      const op = operator(ctx);
      if (!op) return;
      requireRole(op, 'fleet', 'approve, reject or delete agent keys');
      const host = form.get('host') ?? '';
      const fingerprint = form.get('fingerprint') ?? '';
      if (!fingerprint) throw new ApiError('BAD_REQUEST', 'fingerprint is required');
      try {
        const by = { name: op.name, address: ctx.ip };
        if (action === 'approve') await services.enrollment.approve(host, fingerprint, by);
        else if (action === 'reject') await services.enrollment.reject(host, fingerprint, by);
        else await services.enrollment.deleteKey(host, fingerprint, by);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        await enrollmentPage(ctx, op, { error: `${host}: ${err.message}` }, err.status);
        return;
      }
      ctx.state.log.info('console enrollment', { action, host, fingerprint, operator: op.name });
      ctx.status = 303;
      ctx.redirect(`/enrollment?done=${doneOf[action]}`);
    });
  }

  auditPages(router, {
    services,
    operator,
    async render(ctx, op, nav, body, ctxObj, status = 200) {
      const agents = await services.enrollment.list();
      html(ctx, body({ ...frame(ctx, services, op, nav, pendingKeys(agents).length, false), ...ctxObj }), status);
    },
  });

  schedulePages(router, {
    services,
    operator,
    readForm,
    async render(ctx, op, nav, body, ctxObj, status = 200) {
      const agents = await services.enrollment.list();
      html(ctx, body({ ...frame(ctx, services, op, nav, pendingKeys(agents).length, false), ...ctxObj }), status);
    },
  });

  router.get('/login', async (ctx) => {
    ctx.state.routeName = '/login';
    html(ctx, loginView({ title: 'Log in' }));
  });

  router.post('/login', async (ctx) => {
    ctx.state.routeName = '/login';
    if (!sameOrigin(ctx)) throw new ApiError('FORBIDDEN', 'cross-origin form post refused');
    const ip = ctx.ip;
    const now = services.clock.now();
    const f = failures.get(ip);
    if (f && now - f.since < 60_000 && f.count >= 10) throw new ApiError('FORBIDDEN', 'too many failed logins; wait a minute');
    requireMediaType(ctx, ['application/x-www-form-urlencoded']);
    const form = new URLSearchParams((await readRawBody(ctx, 8 * 1024)).toString('utf8'));
    const token = form.get('token') ?? '';
    const user = (form.get('user') ?? '').trim();
    let session;
    try {
      // A user name and password, or (the second form) an operator token.
      session = token !== '' ? await services.operators.login(token, ip) : await services.operators.loginPassword(user, form.get('password') ?? '', ip);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      const cur = f && now - f.since < 60_000 ? f : { count: 0, since: now };
      cur.count++;
      failures.set(ip, cur);
      if (failures.size > 10_000) failures.clear();
      html(ctx, loginView({ title: 'Log in', user, error: token !== '' ? 'That token is not valid.' : 'The user name or password is not right.' }), 401);
      return;
    }
    failures.delete(ip);
    ctx.cookies.set(sessionCookie, session.sessionId, { httpOnly: true, sameSite: 'strict', secure: opts.secureCookies, path: '/', expires: new Date(session.expiresAt), overwrite: true });
    ctx.redirect('/');
  });

  router.post('/logout', async (ctx) => {
    ctx.state.routeName = '/logout';
    if (!sameOrigin(ctx)) throw new ApiError('FORBIDDEN', 'cross-origin form post refused');
    const sid = ctx.cookies.get(sessionCookie);
    if (sid) await services.operators.logout(sid, ctx.ip);
    ctx.cookies.set(sessionCookie, '', { httpOnly: true, sameSite: 'strict', secure: opts.secureCookies, path: '/', expires: new Date(0), overwrite: true });
    ctx.redirect('/login');
  });

  return router;
}
