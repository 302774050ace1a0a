/**
 * createApp builds the Koa application from services: request ids and access logs, JSON
 * errors, metrics, the /api/v1 route table (every route with its declared auth), /healthz,
 * /metrics, /api/v1/openapi.json and the console. No I/O at import or construction.
 */
import Koa from 'koa';
import { Router } from '@koa/router';
import type { Logger } from './log.js';
import type { Services } from './services/services.js';
import type { AppState, AppContext } from './api/app-state.js';
import { agentRoutes } from './api/agent-routes.js';
import { operatorRoutes } from './api/operator-routes.js';
import { planRoutes } from './api/plan-routes.js';
import { scriptRoutes } from './api/script-routes.js';
import { auditRoutes } from './api/audit-routes.js';
import { scheduleRoutes } from './api/schedule-routes.js';
import { jobAgentRoutes, jobRoutes } from './api/job-routes.js';
import { fleetPlanRoutes } from './api/fleet-plan-routes.js';
import { inventoryRoutes } from './api/inventory-routes.js';
import { rolloutRoutes } from './api/rollout-routes.js';
import { softwareRoutes } from './api/software-routes.js';
import { userRoutes } from './api/user-routes.js';
import { dashboardRoutes } from './api/dashboard-routes.js';
import { blobRoutes } from './api/blob-routes.js';
import { manifestRoutes } from './api/manifest-routes.js';
import { authenticateAgent, authenticateOperator, type AuthDeps } from './api/auth.js';
import { errorMiddleware } from './api/error-middleware.js';
import { requestId } from './api/request-id.js';
import { createMetrics, type Metrics } from './api/metrics.js';
import { buildOpenApi } from './api/openapi.js';
import { ByteBudget } from './domain/byte-budget.js';
import { pathRedactor } from './domain/redact-paths.js';
import { defaultBodyLimit, type RouteSpec } from './api/route-spec.js';
import { consoleRouter } from './web/console-routes.js';
import type { ConsolePorts } from './web/console-ports.js';
import { gitMiddleware } from './api/git-routes.js';
import { runAudited } from './api/audit-check.js';

export interface AppOptions {
  readonly services: Services;
  readonly log: Logger;
  readonly version?: string;
  /** Largest accepted clock difference of a signed request. Default 5 min. */
  readonly skewMs?: number;
  /** Collect process metrics (off in tests that build many apps). Default true. */
  readonly defaultMetrics?: boolean;
  /** The console cookie gets `Secure` (set when serving TLS). */
  readonly secureCookies?: boolean;
  /** Request-body bytes held at once before their senders are authenticated (503 beyond). Default 32 MiB. */
  readonly unauthenticatedBodyBytes?: number;
  /** Directories never shown to clients (the data directory, configured and resolved): "<data-dir>" instead. */
  readonly privateDirs?: readonly string[];
  /** What the console's inventory, software and services pages read through (absent: adapters over services.inventory / services.software). */
  readonly consolePorts?: ConsolePorts;
  /** A change route that succeeds without recording its declared audit actions answers 500 (tests); otherwise it is logged. */
  readonly strictAudit?: boolean;
}

/** Default of AppOptions.unauthenticatedBodyBytes. */
export const defaultUnauthenticatedBodyBytes = 32 * 1024 * 1024;

export interface SteadApp {
  readonly app: Koa<AppState>;
  /** Every API route, for the census test and the OpenAPI document. */
  readonly routes: readonly RouteSpec[];
  /** Body bytes held before authentication (body.ts). */
  readonly bodyBudget: ByteBudget;
  readonly metrics: Metrics;
  /**
   * Resolves when no request handler runs (true), or false after `ms`. Shutdown awaits it before
   * closing the store: a handler whose client went away (a long poll ended by shutdown) still
   * finishes its store calls, which would fail on a closed store.
   */
  idle(ms: number): Promise<boolean>;
}

function systemRoutes(metrics: Metrics, getRoutes: () => readonly RouteSpec[], version: string): RouteSpec[] {
  let openapi: string | undefined;
  return [
    {
      method: 'GET',
      path: '/healthz',
      auth: 'public',
      tag: 'system',
      summary: 'Liveness: 200 while the process serves requests.',
      responses: { 200: { description: '{ status: "ok" }' } },
      async handler(ctx) {
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { status: 'ok' };
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      auth: 'read',
      tag: 'system',
      summary: 'Prometheus metrics (operator token).',
      responses: { 200: { description: 'text exposition format', type: 'text/plain' } },
      async handler(ctx) {
        ctx.type = metrics.registry.contentType;
        ctx.body = await metrics.registry.metrics();
      },
    },
    {
      method: 'GET',
      path: '/api/v1/openapi.json',
      auth: 'public',
      tag: 'system',
      summary: 'This API as an OpenAPI 3.1 document.',
      responses: { 200: { description: 'OpenAPI 3.1' } },
      async handler(ctx) {
        openapi ??= JSON.stringify(buildOpenApi(getRoutes(), version));
        ctx.type = 'application/json';
        ctx.body = openapi;
      },
    },
  ];
}

export function createApp(opts: AppOptions): SteadApp {
  const { services, log } = opts;
  const version = opts.version ?? '0.1.0';
  const metrics = createMetrics(services, { defaultMetrics: opts.defaultMetrics ?? true });
  let routes: RouteSpec[] = [];
  routes = [...systemRoutes(metrics, () => routes, version), ...agentRoutes, ...jobAgentRoutes, ...operatorRoutes, ...jobRoutes, ...planRoutes, ...scriptRoutes, ...auditRoutes, ...scheduleRoutes, ...fleetPlanRoutes, ...rolloutRoutes, ...inventoryRoutes, ...softwareRoutes, ...userRoutes, ...dashboardRoutes, ...blobRoutes, ...manifestRoutes];
  const deps: AuthDeps = { enrollment: services.enrollment, operators: services.operators, nonces: services.nonces, clock: services.clock, skewMs: opts.skewMs ?? 5 * 60_000 };

  const bodyBudget = new ByteBudget(opts.unauthenticatedBodyBytes ?? defaultUnauthenticatedBodyBytes);

  const app = new Koa<AppState>({ proxy: false });
  app.silent = true;
  let running = 0;
  let settled: (() => void)[] = [];
  app.use(async (_ctx, next) => {
    running++;
    try {
      await next();
    } finally {
      if (--running === 0) for (const f of settled.splice(0)) f();
    }
  });
  const idle = (ms: number): Promise<boolean> => {
    if (running === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => { clearTimeout(timer); resolve(true); };
      const timer = setTimeout(() => { settled = settled.filter((f) => f !== done); resolve(false); }, ms);
      timer.unref();
      settled.push(done);
    });
  };
  app.use(requestId(log));
  const redactPaths = pathRedactor(opts.privateDirs ?? []);
  app.use(async (ctx, next) => {
    ctx.state.bodyBudget = bodyBudget;
    ctx.state.redactPaths = redactPaths;
    await next();
  });
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const route = ctx.state.routeName ?? 'unmatched';
      metrics.requests.inc({ method: ctx.method, route, status: String(ctx.status) });
      metrics.duration.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  });
  app.use(errorMiddleware());
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    await next();
  });

  const router = new Router<AppState>();
  for (const spec of routes) {
    if (!spec.auth) throw new Error(`route ${spec.method} ${spec.path} declares no auth`);
    const limit = spec.body?.configuredLimit?.(services) ?? spec.body?.limit ?? defaultBodyLimit;
    const mw = async (ctx: AppContext): Promise<void> => {
      ctx.state.routeName = spec.path;
      switch (spec.auth) {
        case 'public':
          break;
        case 'agent':
        case 'agent-any':
          await authenticateAgent(ctx, deps, spec.auth === 'agent-any', limit);
          break;
        case 'read':
        case 'write':
        case 'fleet':
        case 'admin':
          await authenticateOperator(ctx, deps, spec.auth, false);
          break;
      }
      await runAudited(spec, ctx, () => spec.handler(ctx, services), { strict: opts.strictAudit === true, log: ctx.state.log });
    };
    router.register(spec.path, [spec.method], mw as never);
  }
  const web = consoleRouter(services, { secureCookies: opts.secureCookies ?? false, ...(opts.consolePorts ? { ports: opts.consolePorts } : {}) });
  app.use(gitMiddleware(services, log));
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use(web.routes());
  app.use(web.allowedMethods());
  return { app, routes, metrics, bodyBudget, idle };
}
