/**
 * The console's change-delivery pages (ADR 0017; server-rendered, no script):
 *   GET  /revisions                    history, newest first: commit, author, message, live; compare form
 *   GET  /revisions/diff?from=&to=     the compare form's target: redirects to the diff page
 *   GET  /revisions/:id                one revision; plan, diff with the previous, make live (admin)
 *   GET  /revisions/:a/diff/:b         per-file unified diff from a to b
 *   GET  /revisions/:id/plan           the fleet plan (?base=, default the live revision) and surprises
 *   POST /revisions/:id/activate       make an old revision live again (admin, same origin)
 *   GET  /rollouts                     rollouts, newest first (?before= pages), a bar of batches each
 *   GET  /rollouts/:id                 batches with bars, failures, the gate; refreshes while not finished
 *   POST /rollouts/:id/continue|pause|abort|rollback   actions (admin, same origin), field reason
 * Services are called through the DeliveryPort; a refusal is shown on the page with its status.
 */
import { may, requireRole } from '../console-auth.js';
import type { Router } from '@koa/router';
import type { AppContext, AppState } from '../../api/app-state.js';
import { ApiError } from '../../domain/errors.js';
import { requestSignal } from '../../api/request-signal.js';
import type { Operator } from '../../services/operator-auth-service.js';
import type { ConsoleKit } from '../console-kit.js';
import { sendPage } from '../jobs/send-page.js';
import { refusal } from '../jobs/job-pages.js';
import { errorView } from '../views.js';
import { deliveryPort, type Actor, type HistoryEntry, type RolloutAction } from './delivery-port.js';
import { diffModel, historyRows, planModel, rolloutModel, SHORT, type HistoryRow } from './delivery-model.js';
import { diffView, historyView, planView, revisionView, rolloutsListView, rolloutView } from './delivery-views.js';

const historyLimit = 100;
const rolloutsPage = 50;
const refPattern = /^(live|[0-9a-f]{12,64})$/;
const rolloutIdPattern = /^[A-Za-z0-9_.:-]{1,128}$/;
const cursorPattern = /^[A-Za-z0-9_.:-]{1,128}$/;
const actions: readonly RolloutAction[] = ['continue', 'pause', 'abort', 'rollback'];
const doneText: Record<string, string> = {
  continue: 'Continued: the next batch starts.',
  pause: 'Paused: no new batch starts until you resume.',
  abort: 'Aborted: every host goes back to the previous revision.',
  rollback: 'Rolled back: the previous revision is live again.',
  activated: 'That revision is live again.',
};

function actor(op: Operator, ctx: AppContext): Actor {
  return { name: op.name, role: op.role, scope: op.scope, address: ctx.ip };
}

function q(ctx: AppContext, name: string): string | undefined {
  const v = ctx.query[name];
  return typeof v === 'string' ? v : undefined;
}

export function mountDeliveryPages(router: Router<AppState>, kit: ConsoleKit): void {
  const port = deliveryPort(kit.services);
  const send = sendPage(kit);

  const notFound = async (ctx: AppContext, op: Operator, nav: string, heading: string, message: string, status = 404): Promise<void> =>
    send(ctx, op, { nav, refreshable: false, status }, (frame) => errorView({ ...frame, title: 'Not found', heading, message }));

  /** A history row for one revision, with the entry before it (for "diff with the previous"). */
  const rowOf = async (ref: string): Promise<HistoryRow | undefined> => {
    if (!refPattern.test(ref)) return undefined;
    const r = await port.revision(ref);
    if (!r) return undefined;
    const rows = historyRows(await port.history(historyLimit));
    return rows.find((x) => x.id === r.id) ?? historyRows([r as HistoryEntry])[0];
  };

  router.get('/revisions', async (ctx) => {
    ctx.state.routeName = '/revisions';
    const op = kit.operator(ctx);
    if (!op) return;
    const rows = historyRows(await port.history(historyLimit));
    const done = q(ctx, 'done');
    await send(ctx, op, { nav: 'revisions', refreshable: false }, (frame) =>
      historyView({ ...frame, title: 'Revisions', rows, canWrite: may(op, 'fleet'), ...(done && doneText[done] ? { flash: doneText[done] } : {}) }),
    );
  });

  router.get('/revisions/diff', async (ctx) => {
    ctx.state.routeName = '/revisions/diff';
    const op = kit.operator(ctx);
    if (!op) return;
    const from = q(ctx, 'from') ?? '';
    const to = q(ctx, 'to') ?? '';
    if (!refPattern.test(from) || !refPattern.test(to)) throw new ApiError('BAD_REQUEST', 'from and to must be revision ids');
    ctx.redirect(`/revisions/${encodeURIComponent(from)}/diff/${encodeURIComponent(to)}`);
  });

  router.get('/revisions/:id', async (ctx) => {
    ctx.state.routeName = '/revisions/:id';
    const op = kit.operator(ctx);
    if (!op) return;
    const ref = ctx.params['id'] ?? '';
    const r = await rowOf(ref);
    if (!r) return notFound(ctx, op, 'revisions', 'No such revision', `The server knows no revision ${ref.slice(0, 64)}.`);
    await send(ctx, op, { nav: 'revisions', refreshable: false }, (frame) => revisionView({ ...frame, title: `Revision ${r.short}`, r, canWrite: may(op, 'fleet') }));
  });

  router.get('/revisions/:a/diff/:b', async (ctx) => {
    ctx.state.routeName = '/revisions/:a/diff/:b';
    const op = kit.operator(ctx);
    if (!op) return;
    const [from, to] = await Promise.all([rowOf(ctx.params['a'] ?? ''), rowOf(ctx.params['b'] ?? '')]);
    if (!from || !to) return notFound(ctx, op, 'revisions', 'No such revision', `The server knows no revision ${(!from ? ctx.params['a'] : ctx.params['b'])?.slice(0, 64)}.`);
    if (!port.diff) return notFound(ctx, op, 'revisions', 'No diffs here', 'This server keeps no git history of revisions, so it cannot diff them.', 503);
    let files;
    try {
      files = await port.diff(from.id, to.id, requestSignal(ctx));
    } catch (err) {
      const r = refusal(err);
      if (!r) throw err;
      return notFound(ctx, op, 'revisions', 'No diff', r.message, r.status);
    }
    const d = diffModel(files);
    await send(ctx, op, { nav: 'revisions', refreshable: false }, (frame) => diffView({ ...frame, title: `Diff ${from.short}…${to.short}`, from, to, d }));
  });

  router.get('/revisions/:id/plan', async (ctx) => {
    ctx.state.routeName = '/revisions/:id/plan';
    const op = kit.operator(ctx);
    if (!op) return;
    const rev = await rowOf(ctx.params['id'] ?? '');
    if (!rev) return notFound(ctx, op, 'revisions', 'No such revision', `The server knows no revision ${(ctx.params['id'] ?? '').slice(0, 64)}.`);
    const baseRef = q(ctx, 'base');
    let base: string | undefined;
    if (baseRef !== undefined && baseRef !== '') {
      const b = await rowOf(baseRef);
      if (!b) return notFound(ctx, op, 'revisions', 'No such revision', `The server knows no base revision ${baseRef.slice(0, 64)}.`);
      base = b.id;
    }
    if (!port.plan) return notFound(ctx, op, 'revisions', 'No plans here', 'This server cannot compute fleet plans.', 503);
    let plan;
    let surprises;
    try {
      [plan, surprises] = await Promise.all([port.plan(rev.id, base, requestSignal(ctx)), port.surprises ? port.surprises(rev.id) : undefined]);
    } catch (err) {
      const r = refusal(err);
      if (!r) throw err;
      return notFound(ctx, op, 'revisions', 'No plan', r.message, r.status);
    }
    const live = (await port.revision('live'))?.id;
    const m = planModel(plan);
    await send(ctx, op, { nav: 'revisions', refreshable: false }, (frame) =>
      planView({ ...frame, title: `Plan of ${rev.short}`, rev, plan, m, baseIsLive: plan.base !== null && plan.base === live, surprises: rev.live || surprises?.planned ? surprises : undefined }),
    );
  });

  router.post('/revisions/:id/activate', async (ctx) => {
    ctx.state.routeName = '/revisions/:id/activate';
    const op = kit.operator(ctx);
    if (!op) return;
    await kit.readForm(ctx);
    requireRole(op, 'fleet', 'make a revision live');
    const r = await rowOf(ctx.params['id'] ?? '');
    if (!r || !port.activate) throw new ApiError('NOT_FOUND', `no revision ${(ctx.params['id'] ?? '').slice(0, 64)}`);
    await port.activate(r.id, actor(op, ctx));
    ctx.state.log.info('console revision activate', { revision: r.id, operator: op.name });
    ctx.status = 303;
    ctx.redirect('/revisions?done=activated');
  });

  router.get('/rollouts', async (ctx) => {
    ctx.state.routeName = '/rollouts';
    const op = kit.operator(ctx);
    if (!op) return;
    const before = q(ctx, 'before');
    if (before !== undefined && !cursorPattern.test(before)) throw new ApiError('BAD_REQUEST', 'before: not a rollout cursor');
    if (!port.rollouts) {
      await send(ctx, op, { nav: 'rollouts', refreshable: false, status: 503 }, (frame) => rolloutsListView({ ...frame, title: 'Rollouts', rollouts: [], unavailable: 'This server has no rollout engine.' }));
      return;
    }
    const list = await port.rollouts.list({ limit: rolloutsPage, ...(before ? { before } : {}) });
    const rollouts = list.rollouts.map(rolloutModel);
    await send(ctx, op, { nav: 'rollouts', refreshable: rollouts.some((r) => r.r.state === 'running' || r.r.state === 'waiting') }, (frame) =>
      rolloutsListView({ ...frame, title: 'Rollouts', rollouts, next: list.next }),
    );
  });

  const rolloutPage = async (ctx: AppContext, op: Operator, id: string, extra: { flash?: string; error?: string }, status = 200): Promise<void> => {
    const r = rolloutIdPattern.test(id) && port.rollouts ? await port.rollouts.get(id) : undefined;
    if (!r) return notFound(ctx, op, 'rollouts', 'No such rollout', `The server knows no rollout ${id.slice(0, 64)}.`);
    const m = rolloutModel(r);
    await send(ctx, op, { nav: 'rollouts', refreshable: m.live, status }, (frame) => rolloutView({ ...frame, title: `Rollout ${r.id}`, m, canWrite: may(op, r.kind === 'revision' ? 'fleet' : 'write'), ...extra }));
  };

  router.get('/rollouts/:id', async (ctx) => {
    ctx.state.routeName = '/rollouts/:id';
    const op = kit.operator(ctx);
    if (!op) return;
    const done = q(ctx, 'done');
    await rolloutPage(ctx, op, ctx.params['id'] ?? '', done && doneText[done] ? { flash: doneText[done] } : {});
  });

  for (const action of actions) {
    router.post(`/rollouts/:id/${action}`, async (ctx) => {
      ctx.state.routeName = `/rollouts/:id/${action}`;
      const op = kit.operator(ctx);
      if (!op) return;
      const form = await kit.readForm(ctx);
      requireRole(op, 'write', `${action} rollouts`);
      const id = ctx.params['id'] ?? '';
      if (!rolloutIdPattern.test(id) || !port.rollouts) throw new ApiError('NOT_FOUND', `no rollout ${id.slice(0, 64)}`);
      const reasonRaw = (form.get('reason') ?? '').trim();
      if (reasonRaw.length > 1000) throw new ApiError('BAD_REQUEST', 'reason: at most 1000 characters');
      try {
        await port.rollouts.act(id, action, reasonRaw === '' ? undefined : reasonRaw, actor(op, ctx));
      } catch (err) {
        const r = refusal(err);
        if (!r || r.status === 404) throw err;
        await rolloutPage(ctx, op, id, { error: r.message }, r.status);
        return;
      }
      ctx.state.log.info('console rollout action', { action, rollout: id, operator: op.name });
      ctx.status = 303;
      ctx.redirect(`/rollouts/${encodeURIComponent(id)}?done=${action}`);
    });
  }
}

export { SHORT };
