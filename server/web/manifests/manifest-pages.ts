/**
 * The console's manifest editor (issue 12; server-rendered, editor.js enhances):
 *   GET  /manifests                      files of the live revision (or ?draft=), your drafts
 *   POST /manifests/drafts               start a draft
 *   GET  /manifests/edit?path=&draft=&host=   edit a file; the quick check of its text; a template's preview
 *   POST /manifests/save|revert|delete   write / undo / delete a file in the draft (a draft is started when none is given)
 *   GET  /manifests/vars?path=&draft=&host=   the key table and the YAML view
 *   POST /manifests/vars                 set or remove one key (into the draft)
 *   GET  /manifests/drafts/:id           changes, commit form, publish form
 *   GET  /manifests/drafts/:id/plan      the fleet plan of the draft
 *   POST /manifests/drafts/:id/commit|publish|discard
 *   POST /manifests/check, /manifests/preview   JSON for editor.js (session cookie, same origin)
 * Every change goes through ManifestDrafts, as the API's; changes need an operator who may publish.
 */
import type { Router } from '@koa/router';
import type { FleetPlan } from '../../../schemas/api/fleet-plan.js';
import type { AppContext, AppState } from '../../api/app-state.js';
import { requestSignal } from '../../api/request-signal.js';
import { isoAt } from '../../domain/clock.js';
import { ApiError } from '../../domain/errors.js';
import { isValidHostName } from '../../domain/host-name.js';
import type { Operator } from '../../services/operator-auth-service.js';
import { kindOf, type Draft, type FileCheck, type ManifestDrafts, type Preview, type PublishMode } from '../../services/manifests/manifest-drafts.js';
import { mayPublish } from '../../services/manifests/may-publish.js';
import { editVarTable, holdsVariables, readVarTable, type VarTable } from '../../services/manifests/var-table.js';
import type { ConsoleKit } from '../console-kit.js';
import { planModel } from '../delivery/delivery-model.js';
import { refusal } from '../jobs/job-pages.js';
import { emptyLaunch, launchPolicy } from '../jobs/launch-form.js';
import { sendPage } from '../jobs/send-page.js';
import { errorView } from '../views.js';
import { mountEditorEndpoints } from './editor-endpoints.js';
import { manifestDraftView, manifestEditView, manifestListView, manifestPlanView, manifestVarsView } from './manifest-views.js';

const draftPattern = /^d-[0-9a-z]{6,40}$/;
const formLimit = 1536 * 1024;

function q(ctx: AppContext, name: string): string | undefined {
  const v = ctx.query[name];
  return typeof v === 'string' && v !== '' ? v.slice(0, 1024) : undefined;
}

function draftQuery(v: string | undefined | null): string | undefined {
  return v && draftPattern.test(v) ? v : undefined;
}

function editUrl(path: string, draft: string | undefined, extra = ''): string {
  return `/manifests/edit?path=${encodeURIComponent(path)}${draft ? `&draft=${encodeURIComponent(draft)}` : ''}${extra}`;
}

function gutter(content: string): string {
  const n = Math.max(1, content.split('\n').length);
  return Array.from({ length: n }, (_, i) => String(i + 1)).join('\n');
}

interface PolicyForm {
  batches: string;
  gate: 'auto' | 'manual';
  waitBetween: string;
  maxFailures: string;
}

function policyForm(form: URLSearchParams): PolicyForm {
  const s = (k: string, max: number): string => (form.get(k) ?? '').trim().slice(0, max);
  return { batches: s('batches', 200), gate: form.get('gate') === 'manual' ? 'manual' : 'auto', waitBetween: s('waitBetween', 10), maxFailures: s('maxFailures', 12) };
}

function policyOf(f: PolicyForm): PublishMode | undefined {
  const p = launchPolicy({ ...emptyLaunch, ...f });
  return p ? { rollout: p } : undefined;
}

export function mountManifestPages(router: Router<AppState>, kit: ConsoleKit): void {
  const send = sendPage(kit);
  const svc = (): ManifestDrafts => {
    if (!kit.services.manifestDrafts) throw new ApiError('NOT_FOUND', 'this server does not edit manifests');
    return kit.services.manifestDrafts;
  };
  const canPublish = (op: Operator): boolean => mayPublish(op) === undefined;
  const mustPublish = (op: Operator): void => {
    const why = mayPublish(op);
    if (why !== undefined) throw new ApiError('FORBIDDEN', why);
  };
  const showError = async (ctx: AppContext, op: Operator, heading: string, err: unknown): Promise<void> => {
    const r = refusal(err);
    if (!r) throw err;
    await send(ctx, op, { nav: 'manifests', refreshable: false, status: r.status }, (frame) => errorView({ ...frame, title: heading, heading, message: r.message }));
  };
  /** The draft named, or the operator's newest open draft (undefined: none). */
  const draftOf = async (op: Operator, id: string | undefined): Promise<Draft | undefined> => {
    if (id !== undefined) return svc().get(id, op.name);
    return (await svc().list(op.name, 20)).find((d) => d.state === 'open');
  };

  router.get('/manifests', async (ctx) => {
    ctx.state.routeName = '/manifests';
    const op = kit.operator(ctx);
    if (!op) return;
    try {
      const draft = await draftOf(op, draftQuery(q(ctx, 'draft')));
      const tree = await svc().tree(draft?.state === 'open' ? draft.id : undefined, op.name);
      const drafts = (await svc().list(op.name, 20)).map((d) => ({ ...d, updated: isoAt(d.updatedAt) }));
      const files = tree.files.map((f) => ({ ...f, vars: holdsVariables(f.path) && f.draft !== 'delete' }));
      const done = q(ctx, 'done');
      await send(ctx, op, { nav: 'manifests', refreshable: false }, (frame) =>
        manifestListView({ ...frame, title: 'Manifests', files, revision: tree.revision, draft: draft?.state === 'open' ? draft : undefined, drafts, canPublish: canPublish(op), ...(done === 'discarded' ? { flash: 'The draft is discarded.' } : {}) }),
      );
    } catch (err) {
      await showError(ctx, op, 'Manifests', err);
    }
  });

  router.post('/manifests/drafts', async (ctx) => {
    ctx.state.routeName = '/manifests/drafts';
    const op = kit.operator(ctx);
    if (!op) return;
    await kit.readForm(ctx);
    mustPublish(op);
    const d = await svc().create(op.name);
    ctx.status = 303;
    ctx.redirect(`/manifests?draft=${encodeURIComponent(d.id)}`);
  });

  const editPage = async (ctx: AppContext, op: Operator, path: string, draftId: string | undefined, opts: { content?: string; flash?: string; error?: string; status?: number } = {}): Promise<void> => {
    const draft = await draftOf(op, draftId);
    const open = draft?.state === 'open' ? draft : undefined;
    let content = opts.content;
    let exists = true;
    let changed: string | undefined;
    if (content === undefined) {
      try {
        const f = await svc().read(path, open?.id, op.name);
        content = f.content;
        changed = f.draft;
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 404) throw err;
        content = '';
        exists = false;
      }
    } else changed = open?.changes.find((c) => c.path === path) ? 'write' : undefined;
    const check: FileCheck = await svc().check(path, content, requestSignal(ctx), open?.id, op.name);
    const template = path.startsWith('templates/');
    let hosts: string[] = [];
    let preview: Preview | undefined;
    const host = q(ctx, 'host');
    if (template) {
      const live = await kit.services.revisions.live(requestSignal(ctx));
      hosts = live ? live.loaded.hosts.map((h) => h.name) : [];
      if (host !== undefined && isValidHostName(host) && canPublish(op) && exists) {
        try {
          preview = await svc().preview(path, host, requestSignal(ctx), { ...(open ? { draftId: open.id } : {}), owner: op.name });
        } catch (err) {
          const r = refusal(err);
          if (!r) throw err;
          preview = { template: path, host, ok: false, problems: [{ code: 'PREVIEW', message: r.message }] };
        }
      }
    }
    const saved = q(ctx, 'saved');
    await send(ctx, op, { nav: 'manifests', refreshable: false, ...(opts.status !== undefined ? { status: opts.status } : {}) }, (frame) =>
      manifestEditView({
        ...frame,
        title: path,
        scripts: ['editor.js'],
        path,
        kind: kindOf(path),
        content,
        gutter: gutter(content),
        check,
        draft: open,
        changed,
        exists,
        vars: holdsVariables(path),
        template,
        hosts,
        host: host ?? hosts[0],
        preview,
        canPublish: canPublish(op),
        ...(opts.flash ? { flash: opts.flash } : saved ? { flash: check.ok ? 'Saved to the draft. No problems found.' : 'Saved to the draft, with the problems below: the commit will refuse them.' } : {}),
        ...(opts.error ? { error: opts.error } : {}),
      }),
    );
  };

  router.get('/manifests/edit', async (ctx) => {
    ctx.state.routeName = '/manifests/edit';
    const op = kit.operator(ctx);
    if (!op) return;
    const path = q(ctx, 'path') ?? '';
    try {
      await editPage(ctx, op, path, draftQuery(q(ctx, 'draft')));
    } catch (err) {
      await showError(ctx, op, 'Edit', err);
    }
  });

  /** The draft a form names, or a new one (saving without a draft starts one). */
  const formDraft = async (op: Operator, form: URLSearchParams): Promise<string> => {
    const id = draftQuery(form.get('draft'));
    if (id) {
      const d = await svc().get(id, op.name);
      if (d.state === 'open') return d.id;
    }
    return (await svc().current(op.name)).id;
  };

  router.post('/manifests/save', async (ctx) => {
    ctx.state.routeName = '/manifests/save';
    const op = kit.operator(ctx);
    if (!op) return;
    const form = await kit.readForm(ctx, formLimit);
    mustPublish(op);
    const path = form.get('path') ?? '';
    const content = (form.get('content') ?? '').replace(/\r\n/g, '\n');
    let id: string | undefined;
    try {
      id = await formDraft(op, form);
      await svc().write(id, op.name, path, content);
    } catch (err) {
      const r = refusal(err);
      if (!r) throw err;
      return editPage(ctx, op, path, id, { content, error: r.message, status: r.status });
    }
    ctx.status = 303;
    ctx.redirect(editUrl(path, id, '&saved=1'));
  });

  for (const action of ['revert', 'delete'] as const) {
    router.post(`/manifests/${action}`, async (ctx) => {
      ctx.state.routeName = `/manifests/${action}`;
      const op = kit.operator(ctx);
      if (!op) return;
      const form = await kit.readForm(ctx, formLimit);
      mustPublish(op);
      const path = form.get('path') ?? '';
      const id = await formDraft(op, form);
      if (action === 'revert') await svc().revert(id, op.name, path);
      else await svc().remove(id, op.name, path);
      ctx.status = 303;
      ctx.redirect(action === 'revert' ? editUrl(path, id) : `/manifests?draft=${encodeURIComponent(id)}`);
    });
  }

  const varsPage = async (ctx: AppContext, op: Operator, path: string, draftId: string | undefined, host: string | undefined, extra: { flash?: string; error?: string; status?: number } = {}): Promise<void> => {
    const draft = await draftOf(op, draftId);
    const open = draft?.state === 'open' ? draft : undefined;
    const f = await svc().read(path, open?.id, op.name);
    let table: VarTable;
    let error = extra.error;
    try {
      table = readVarTable(path, f.content, host);
    } catch (err) {
      const r = refusal(err);
      if (!r) throw err;
      table = { path, rows: [] };
      error = r.message;
    }
    await send(ctx, op, { nav: 'manifests', refreshable: false, ...(extra.status !== undefined ? { status: extra.status } : {}) }, (frame) =>
      manifestVarsView({ ...frame, title: `Variables of ${path}`, path, table, content: f.content, draft: open, canPublish: canPublish(op), ...(extra.flash ? { flash: extra.flash } : {}), ...(error ? { error } : {}) }),
    );
  };

  router.get('/manifests/vars', async (ctx) => {
    ctx.state.routeName = '/manifests/vars';
    const op = kit.operator(ctx);
    if (!op) return;
    const host = q(ctx, 'host');
    try {
      await varsPage(ctx, op, q(ctx, 'path') ?? '', draftQuery(q(ctx, 'draft')), host !== undefined && isValidHostName(host) ? host : undefined, q(ctx, 'saved') ? { flash: 'Saved to the draft.' } : {});
    } catch (err) {
      await showError(ctx, op, 'Variables', err);
    }
  });

  router.post('/manifests/vars', async (ctx) => {
    ctx.state.routeName = '/manifests/vars';
    const op = kit.operator(ctx);
    if (!op) return;
    const form = await kit.readForm(ctx, 128 * 1024);
    mustPublish(op);
    const path = form.get('path') ?? '';
    const hostRaw = form.get('host') ?? '';
    const host = hostRaw !== '' && isValidHostName(hostRaw) ? hostRaw : undefined;
    const key = (form.get('key') ?? '').trim();
    const remove = form.get('op') === 'remove';
    let id: string | undefined;
    try {
      id = await formDraft(op, form);
      const f = await svc().read(path, id, op.name);
      const content = editVarTable(path, f.content, [remove ? { key } : { key, value: form.get('value') ?? '' }], host);
      await svc().write(id, op.name, path, content);
    } catch (err) {
      const r = refusal(err);
      if (!r) throw err;
      return varsPage(ctx, op, path, id, host, { error: r.message, status: r.status });
    }
    ctx.status = 303;
    ctx.redirect(`/manifests/vars?path=${encodeURIComponent(path)}&draft=${encodeURIComponent(id)}${host ? `&host=${encodeURIComponent(host)}` : ''}&saved=1`);
  });

  const draftPage = async (ctx: AppContext, op: Operator, id: string, extra: { flash?: string; error?: string; status?: number; f?: Record<string, unknown> } = {}): Promise<void> => {
    const draft = await svc().get(id, op.name);
    const f = { message: '', publish: 'none', ...policyFormDefaults, ...extra.f };
    await send(ctx, op, { nav: 'manifests', refreshable: false, ...(extra.status !== undefined ? { status: extra.status } : {}) }, (frame) =>
      manifestDraftView({ ...frame, title: `Draft ${draft.id}`, draft, created: isoAt(draft.createdAt), f, canPublish: canPublish(op), ...(extra.flash ? { flash: extra.flash } : {}), ...(extra.error ? { error: extra.error } : {}) }),
    );
  };
  const policyFormDefaults: PolicyForm = { batches: '', gate: 'auto', waitBetween: '', maxFailures: '' };

  router.get('/manifests/drafts/:id', async (ctx) => {
    ctx.state.routeName = '/manifests/drafts/:id';
    const op = kit.operator(ctx);
    if (!op) return;
    const done = q(ctx, 'done');
    try {
      await draftPage(ctx, op, ctx.params['id'] ?? '', done === 'committed' ? { flash: 'Committed: the commit is in the manifest history. Publish it when you are ready.' } : done === 'published' ? { flash: 'Published: it is live on every host.' } : {});
    } catch (err) {
      await showError(ctx, op, 'Draft', err);
    }
  });

  router.get('/manifests/drafts/:id/plan', async (ctx) => {
    ctx.state.routeName = '/manifests/drafts/:id/plan';
    const op = kit.operator(ctx);
    if (!op) return;
    try {
      mustPublish(op);
      const draft = await svc().get(ctx.params['id'] ?? '', op.name);
      let plan: FleetPlan | undefined;
      let problems: unknown[] = [];
      try {
        plan = await svc().plan(draft.id, op.name, requestSignal(ctx));
      } catch (err) {
        if (!(err instanceof ApiError) || err.code !== 'REVISION_INVALID') throw err;
        problems = ((err.details as { problems?: unknown[] } | undefined)?.problems ?? []).slice(0, 100);
      }
      const m = plan ? planModel(plan) : undefined;
      await send(ctx, op, { nav: 'manifests', refreshable: false, ...(plan ? {} : { status: 422 }) }, (frame) => manifestPlanView({ ...frame, title: 'Plan of the draft', draft, plan, m, problems }));
    } catch (err) {
      await showError(ctx, op, 'Plan', err);
    }
  });

  router.post('/manifests/drafts/:id/commit', async (ctx) => {
    ctx.state.routeName = '/manifests/drafts/:id/commit';
    const op = kit.operator(ctx);
    if (!op) return;
    const form = await kit.readForm(ctx, 16 * 1024);
    mustPublish(op);
    const id = ctx.params['id'] ?? '';
    const message = (form.get('message') ?? '').trim().slice(0, 1000);
    const publish = form.get('publish') === 'now' ? 'now' : form.get('publish') === 'batches' ? 'batches' : 'none';
    const pf = policyForm(form);
    let d: Draft;
    try {
      if (message === '') throw new ApiError('BAD_REQUEST', 'write a commit message');
      const mode = publish === 'now' ? ({ now: true } as const) : publish === 'batches' ? policyOf(pf) : undefined;
      if (publish === 'batches' && !mode) throw new ApiError('BAD_REQUEST', 'write the batches (such as 1,10%,100%) to publish as a rollout');
      d = await svc().commit(id, { name: op.name, address: ctx.ip }, message, requestSignal(ctx), mode);
    } catch (err) {
      const r = refusal(err);
      if (!r || r.status === 404) throw err;
      const problems = err instanceof ApiError ? ((err.details as { problems?: { file?: string; line?: number; message: string }[] } | undefined)?.problems ?? []) : [];
      const detail = problems.slice(0, 5).map((p) => `${p.file ?? ''}${p.line ? `:${p.line}` : ''} ${p.message}`).join(' · ');
      return draftPage(ctx, op, id, { error: `${r.message}${detail && !r.message.includes(detail) ? ` — ${detail}` : ''}`, status: r.status, f: { message, publish, ...pf } });
    }
    ctx.state.log.info('console manifest commit', { draft: id, commit: d.commit, operator: op.name });
    ctx.status = 303;
    ctx.redirect(d.rollout ? `/rollouts/${encodeURIComponent(d.rollout)}` : `/manifests/drafts/${encodeURIComponent(id)}?done=${d.state === 'published' ? 'published' : 'committed'}`);
  });

  router.post('/manifests/drafts/:id/publish', async (ctx) => {
    ctx.state.routeName = '/manifests/drafts/:id/publish';
    const op = kit.operator(ctx);
    if (!op) return;
    const form = await kit.readForm(ctx, 16 * 1024);
    mustPublish(op);
    const id = ctx.params['id'] ?? '';
    const pf = policyForm(form);
    let d: Draft;
    try {
      const mode: PublishMode | undefined = form.get('mode') === 'now' ? { now: true } : policyOf(pf);
      if (!mode) throw new ApiError('BAD_REQUEST', 'write the batches (such as 1,10%,100%) to publish as a rollout, or publish to every host at once');
      d = await svc().publish(id, { name: op.name, address: ctx.ip }, mode);
    } catch (err) {
      const r = refusal(err);
      if (!r || r.status === 404) throw err;
      return draftPage(ctx, op, id, { error: r.message, status: r.status, f: pf as unknown as Record<string, unknown> });
    }
    ctx.status = 303;
    ctx.redirect(d.rollout ? `/rollouts/${encodeURIComponent(d.rollout)}` : `/manifests/drafts/${encodeURIComponent(id)}?done=published`);
  });

  router.post('/manifests/drafts/:id/discard', async (ctx) => {
    ctx.state.routeName = '/manifests/drafts/:id/discard';
    const op = kit.operator(ctx);
    if (!op) return;
    await kit.readForm(ctx);
    mustPublish(op);
    await svc().discard(ctx.params['id'] ?? '', op.name);
    ctx.status = 303;
    ctx.redirect('/manifests?done=discarded');
  });

  mountEditorEndpoints(router, kit, svc);
}
