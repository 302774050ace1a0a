/**
 * The console's plan pages (ADR 0014 saved plans):
 *   GET  /plans           saved plans: name, steps, default targets
 *   GET  /plans/:id       the plan's steps (kind, failure policy, target override) and a Run form
 *   POST /plans/:id/run   runs it (admin, same origin), optionally with other targets → the job page
 */
import { may, requireRole } from '../console-auth.js';
import type { Router } from '@koa/router';
import { ApiError } from '../../domain/errors.js';
import type { AppContext, AppState } from '../../api/app-state.js';
import type { Operator } from '../../services/operator-auth-service.js';
import { errorView } from '../views.js';
import type { ConsoleKit } from '../console-kit.js';
import { sendPage } from './send-page.js';
import { refusal } from './job-pages.js';
import { timeText } from './job-model.js';
import { planView, plansView } from './job-views.js';
import { jobsPort, type PlanView } from './jobs-port.js';

const planIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function mountPlanPages(router: Router<AppState>, kit: ConsoleKit): void {
  const services = kit.services;
  const port = jobsPort(services);
  const send = sendPage(kit);

  router.get('/plans', async (ctx) => {
    ctx.state.routeName = '/plans';
    const op = kit.operator(ctx);
    if (!op) return;
    const plans = await port.plans.list();
    await send(ctx, op, { nav: 'plans', refreshable: false }, (frame) =>
      plansView({
        ...frame,
        title: 'Plans',
        canWrite: may(op, 'write'),
        plans: plans.map((p) => ({ ...p, updated: timeText(p.updatedAt) ?? '' })),
      }),
    );
  });

  const notFound = async (ctx: AppContext, op: Operator, id: string): Promise<void> =>
    send(ctx, op, { nav: 'plans', refreshable: false, status: 404 }, (frame) => errorView({ ...frame, title: 'Not found', heading: 'No such plan', message: `The server knows no plan ${id.slice(0, 128)}.` }));

  const planPage = async (ctx: AppContext, op: Operator, plan: PlanView, extra: { error?: string; targets?: string }, status = 200): Promise<void> =>
    send(ctx, op, { nav: 'plans', refreshable: false, status }, (frame) =>
      planView({ ...frame, title: plan.name, canWrite: may(op, 'write'), plan, updated: timeText(plan.updatedAt), targets: extra.targets ?? '', error: extra.error }),
    );

  router.get('/plans/:id', async (ctx) => {
    ctx.state.routeName = '/plans/:id';
    const op = kit.operator(ctx);
    if (!op) return;
    const id = ctx.params['id'] ?? '';
    const plan = planIdPattern.test(id) ? await port.plans.get(id) : undefined;
    if (!plan) return notFound(ctx, op, id);
    await planPage(ctx, op, plan, {});
  });

  router.post('/plans/:id/run', async (ctx) => {
    ctx.state.routeName = '/plans/:id/run';
    const op = kit.operator(ctx);
    if (!op) return;
    const form = await kit.readForm(ctx);
    requireRole(op, 'write', 'run plans');
    const id = ctx.params['id'] ?? '';
    const plan = planIdPattern.test(id) ? await port.plans.get(id) : undefined;
    if (!plan) throw new ApiError('NOT_FOUND', `no plan ${id.slice(0, 128)}`);
    const targets = (form.get('targets') ?? '').trim();
    if (targets.length > 4096) throw new ApiError('BAD_REQUEST', 'the target selector is longer than 4096 characters');
    try {
      const job = await port.plans.run(id, { ...(targets ? { targets } : {}), ...(form.get('dryRun') === 'on' ? { dryRun: true } : {}) }, { name: op.name, role: op.role, scope: op.scope, address: ctx.ip });
      ctx.state.log.info('console plan run', { plan: id, job: job.id, operator: op.name, targets });
      ctx.status = 303;
      ctx.redirect(`/jobs/${encodeURIComponent(job.id)}`);
    } catch (err) {
      const r = refusal(err);
      if (!r) throw err;
      await planPage(ctx, op, plan, { error: r.message, targets }, r.status);
    }
  });
}
