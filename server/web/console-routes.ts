/**
 * The read-only console: GET / lists hosts with their compliance state, last run and drift,
 * auto-refreshing. Login with an operator token sets an HttpOnly, SameSite=Strict session
 * cookie (Secure under TLS). Form posts must come from the same origin (Origin/Referer check),
 * and failed logins are rate-limited per client address.
 */
import { Router } from '@koa/router';
import { isoAt } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import type { Services } from '../services/services.js';
import type { AppContext, AppState } from '../api/app-state.js';
import { sessionCookie } from '../api/auth.js';
import { readRawBody, requireMediaType } from '../api/body.js';
import { requestSignal } from '../api/request-signal.js';
import { hostsView, loginView } from './views.js';

const refreshSeconds = 5;

function sameOrigin(ctx: AppContext): boolean {
  const origin = ctx.get('origin') || ctx.get('referer');
  if (!origin) return false;
  try {
    return new URL(origin).host === ctx.host;
  } catch {
    return false;
  }
}

function html(ctx: AppContext, body: string, status = 200): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

export function consoleRouter(services: Services, opts: { secureCookies: boolean }): Router<AppState> {
  const router = new Router<AppState>();
  const failures = new Map<string, { count: number; since: number }>();

  router.get('/', async (ctx) => {
    ctx.state.routeName = '/';
    const sid = ctx.cookies.get(sessionCookie);
    const op = sid ? services.operators.session(sid) : undefined;
    if (!op) {
      ctx.redirect('/login');
      return;
    }
    ctx.state.principal = { kind: 'operator', name: op.name, role: op.role, via: 'session' };
    const signal = requestSignal(ctx);
    const [hosts, agents, summary, live] = await Promise.all([services.compliance.hosts(signal), services.enrollment.list(), services.compliance.summary(signal), services.revisions.live(signal)]);
    const enrolled = new Map(agents.map((a) => [a.host, a.status]));
    const names = [...new Set([...hosts.map((h) => h.host), ...enrolled.keys()])].sort();
    const byName = new Map(hosts.map((h) => [h.host, h]));
    html(
      ctx,
      hostsView({
        title: 'Hosts',
        operator: op.name,
        refresh: refreshSeconds,
        now: isoAt(services.clock.now()),
        revision: live?.id.slice(0, 12),
        fleet: summary.fleet,
        hosts: names.map((name) => {
          const h = byName.get(name);
          const r = h?.lastRun;
          return {
            host: name,
            state: h?.state ?? 'unknown',
            groups: h?.groups ?? [],
            enrollment: enrolled.get(name),
            lastRunAt: r ? isoAt(r.receivedAtMs) : undefined,
            outcome: r?.outcome,
            corrective: r?.corrective ?? '',
            changed: r?.changed ?? '',
            failed: r?.failed ?? '',
          };
        }),
      }),
    );
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
    let session;
    try {
      session = await services.operators.login(token);
    } catch {
      const cur = f && now - f.since < 60_000 ? f : { count: 0, since: now };
      cur.count++;
      failures.set(ip, cur);
      if (failures.size > 10_000) failures.clear();
      html(ctx, loginView({ title: 'Log in', error: 'That token is not valid.' }), 401);
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
    if (sid) services.operators.logout(sid);
    ctx.cookies.set(sessionCookie, '', { httpOnly: true, sameSite: 'strict', secure: opts.secureCookies, path: '/', expires: new Date(0), overwrite: true });
    ctx.redirect('/login');
  });

  return router;
}
