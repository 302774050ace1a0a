/**
 * The console's schedules page (server-rendered, no script):
 *   GET  /schedules                         every schedule: when, next runs, last run; the create form (admin)
 *   POST /schedules/create                  action=preview shows the next five runs of the form's spec;
 *                                           action=create creates the schedule (a shell command or a plan)
 *   POST /schedules/delete|enable|disable   one schedule by name (admin)
 * Form posts go through the console's guards (session, same origin, form media type).
 */
import { may, requireRole } from './console-auth.js';
import type { Router } from '@koa/router';
import { scheduleSpecSchema, type ScheduleSpec } from '../../schemas/schedule-spec.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import type { AppContext, AppState } from '../api/app-state.js';
import { isoAt } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import type { Operator } from '../services/operator-auth-service.js';
import type { ScheduleInfo } from '../services/schedules/schedule-service.js';
import type { Services } from '../services/services.js';
import { view } from './ui-env.js';
import { layout } from './views.js';

const specGuard: Guard<ScheduleSpec> = compileGuard(scheduleSpecSchema);

/** What the console router lends this page. */
export interface SchedulePageDeps {
  readonly services: Services;
  /** The session's operator, or undefined after redirecting to /login. */
  operator(ctx: AppContext): Operator | undefined;
  /** The form of a same-origin post. */
  readForm(ctx: AppContext): Promise<URLSearchParams>;
  /** Renders a view inside the console frame. */
  render(ctx: AppContext, op: Operator, nav: string, body: (frame: Record<string, unknown>) => string, ctxObj: Record<string, unknown>, status?: number): Promise<void>;
}

const formFields = ['name', 'when', 'cron', 'tz', 'missed', 'targets', 'command', 'plan'] as const;
type FormValues = Record<(typeof formFields)[number], string>;

export const schedulesView = view(
  layout(`<h1>Schedules</h1>
{% if flash %}<p class="flash" role="status">{{ flash }}</p>{% endif %}
{% if error %}<p class="flash bad" role="alert">{{ error }}</p>{% endif %}
{% if not firing %}<p class="flash bad" role="status">This server does not fire schedules (no job launcher is wired): they are kept and previewed only.</p>{% endif %}
<div class="scroll"><table id="schedules"><thead><tr><th>Name</th><th>When</th><th>Next run</th><th>Last run</th><th></th></tr></thead><tbody>
{% for s in schedules %}<tr data-schedule="{{ s.name }}"><td><b>{{ s.name }}</b><div class="muted">{{ s.what }}</div></td>
<td>{{ s.description }}<div class="muted">missed runs: {{ s.missed }}</div></td>
<td>{% if not s.enabled %}<span class="s retired">disabled</span>{% elif s.nextRuns.length %}{{ s.nextRuns[0] }}{% if s.nextRuns.length > 1 %}<details><summary class="muted">next {{ s.nextRuns.length }}</summary>{% for r in s.nextRuns %}<div class="mono">{{ r }}</div>{% endfor %}</details>{% endif %}{% else %}<span class="muted">no more runs</span>{% endif %}</td>
<td>{% if s.last %}{{ s.last.at }}{% if s.last.jobId %}<div class="mono">{{ s.last.jobId }}{% if s.last.jobState %} <span class="s {{ s.last.jobState }}">{{ s.last.jobState }}</span>{% endif %}</div>{% endif %}{% if s.last.error %}<div class="err">{{ s.last.error }}</div>{% endif %}{% if s.last.missedRuns %}<div class="muted">for {{ s.last.missedRuns }} missed run(s) too</div>{% endif %}{% else %}<span class="muted">never</span>{% endif %}
{% if s.skipped %}<div class="muted">{{ s.skipped.count }} run(s) skipped while no server ran</div>{% endif %}</td>
<td>{% if canWrite %}<form class="inline" method="post" action="/schedules/{% if s.enabled %}disable{% else %}enable{% endif %}"><input type="hidden" name="name" value="{{ s.name }}"><button class="act" type="submit">{% if s.enabled %}Disable{% else %}Enable{% endif %}</button></form>
<form class="inline" method="post" action="/schedules/delete"><input type="hidden" name="name" value="{{ s.name }}"><button class="act reject" type="submit">Delete</button></form>{% endif %}</td></tr>
{% else %}<tr><td colspan="5" class="muted">No schedules yet.</td></tr>{% endfor %}</tbody></table></div>
{% if canWrite %}<h2>New schedule</h2>
<form class="card sform" method="post" action="/schedules/create">
<label>Name <input name="name" value="{{ form.name }}" required maxlength="63" pattern="[a-z0-9][a-z0-9-]*" placeholder="nightly-cleanup"></label>
<label>When <input name="when" value="{{ form.when }}" maxlength="200" placeholder="every day at 03:30 · weekdays at 09:00 · once at 2026-12-24 09:00"></label>
<label>or cron <input name="cron" value="{{ form.cron }}" maxlength="200" placeholder="0 */15 * * * (6 fields: seconds first)"></label>
<label>Time zone <input name="tz" value="{{ form.tz }}" maxlength="64" placeholder="UTC, Europe/Berlin, Asia/Shanghai"></label>
<label>Missed runs (every server down) <select name="missed"><option value="skip"{% if form.missed != "run-once" %} selected{% endif %}>skip them</option><option value="run-once"{% if form.missed == "run-once" %} selected{% endif %}>run once for all</option></select></label>
<label>Targets <input name="targets" value="{{ form.targets }}" maxlength="4096" placeholder="group:web,tag:canary"></label>
<label>Shell command <textarea name="command" rows="3" maxlength="6000" placeholder="systemctl restart app">{{ form.command }}</textarea></label>
<label>or saved plan <input name="plan" value="{{ form.plan }}" maxlength="128" placeholder="plan id"></label>
<div><button class="act approve" type="submit" name="action" value="create">Create</button> <button class="act" type="submit" name="action" value="preview">Preview next runs</button></div>
{% if preview %}<div id="preview"><p><b>{{ preview.description }}</b></p>{% for r in preview.nextRuns %}<div class="mono">{{ r }}</div>{% else %}<p class="muted">It does not fire again.</p>{% endfor %}</div>{% endif %}
</form>
<style>.sform label{display:block;margin-bottom:.6rem}.sform input,.sform select,.sform textarea{display:block;width:100%;max-width:560px;padding:.4rem;border:1px solid var(--line);border-radius:6px;font:inherit}</style>{% endif %}`),
);

function values(form: URLSearchParams | undefined): FormValues {
  const out = {} as FormValues;
  for (const f of formFields) out[f] = (form?.get(f) ?? '').trim();
  return out;
}

/** The spec a form describes; ApiError BAD_REQUEST when none or not valid in shape. */
function formSpec(v: FormValues): ScheduleSpec {
  const spec: Record<string, string> = {};
  if (v.cron && v.when) throw new ApiError('BAD_REQUEST', 'give either "When" or a cron expression, not both');
  if (v.cron) spec['cron'] = v.cron;
  else if (v.when) spec['text'] = v.when;
  else throw new ApiError('BAD_REQUEST', 'say when: "every day at 03:30", "weekdays at 09:00", "once at 2026-12-24 09:00", or a cron expression');
  if (v.tz) spec['tz'] = v.tz;
  const problems = specGuard.check(spec);
  if (problems.length > 0) throw new ApiError('BAD_REQUEST', `schedule: ${problems.map((p) => `${p.path || '/'} ${p.message}`).join('; ')}`);
  return spec as ScheduleSpec;
}

function row(s: ScheduleInfo): Record<string, unknown> {
  const job = s.job as { targets?: unknown; script?: { source?: unknown } } | undefined;
  const what = s.plan ? `plan ${s.plan.id}` : `${typeof job?.script?.source === 'string' ? `$ ${job.script.source.split('\n')[0]!.slice(0, 80)}` : 'job'} on ${typeof job?.targets === 'string' ? job.targets.slice(0, 200) : '?'}`;
  return {
    name: s.name,
    what,
    description: s.description,
    missed: s.missed === 'run-once' ? 'run once' : 'skip',
    enabled: s.enabled,
    nextRuns: s.nextRuns.map(isoAt),
    last: s.last ? { ...s.last, at: isoAt(s.last.at) } : undefined,
    skipped: s.skipped,
  };
}

export function schedulePages(router: Router<AppState>, deps: SchedulePageDeps): void {
  const { services } = deps;
  const show = async (ctx: AppContext, op: Operator, extra: Record<string, unknown>, status = 200): Promise<void> => {
    const list = await services.schedules.list();
    await deps.render(ctx, op, 'schedules', schedulesView, { title: 'Schedules', canWrite: may(op, 'fleet'), firing: services.schedules.firing, schedules: list.map(row), form: values(undefined), ...extra }, status);
  };

  router.get('/schedules', async (ctx) => {
    ctx.state.routeName = '/schedules';
    const op = deps.operator(ctx);
    if (!op) return;
    const done = typeof ctx.query['done'] === 'string' ? ctx.query['done'] : undefined;
    await show(ctx, op, done && ['created', 'deleted', 'enabled', 'disabled'].includes(done) ? { flash: `Schedule ${done}.` } : {});
  });

  const admin = async (ctx: AppContext): Promise<{ op: Operator; form: URLSearchParams } | undefined> => {
    const form = await deps.readForm(ctx);
    const op = deps.operator(ctx);
    if (!op) return undefined;
    requireRole(op, 'fleet', 'change schedules');
    return { op, form };
  };

  router.post('/schedules/create', async (ctx) => {
    ctx.state.routeName = '/schedules/create';
    const a = await admin(ctx);
    if (!a) return;
    const v = values(a.form);
    try {
      const spec = formSpec(v);
      if (a.form.get('action') === 'preview') {
        const p = services.schedules.preview(spec);
        await show(ctx, a.op, { form: v, preview: { description: p.description, nextRuns: p.nextRuns.map(isoAt) } });
        return;
      }
      if (v.command && v.plan) throw new ApiError('BAD_REQUEST', 'give either a shell command or a plan, not both');
      if (!v.command && !v.plan) throw new ApiError('BAD_REQUEST', 'give a shell command to run, or a saved plan');
      if (v.command && !v.targets) throw new ApiError('BAD_REQUEST', 'a command needs targets (e.g. group:web)');
      if (v.plan && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(v.plan)) throw new ApiError('BAD_REQUEST', 'a plan id is letters, digits, ".", "_" and "-"');
      await services.schedules.create(
        {
          name: v.name,
          spec,
          ...(v.command ? { job: { targets: v.targets, script: { lang: 'shell', source: v.command } } } : { plan: { id: v.plan, body: v.targets ? { targets: v.targets } : {} } }),
          missed: v.missed === 'run-once' ? 'run-once' : 'skip',
        },
        { name: a.op.name, address: ctx.ip },
      );
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      await show(ctx, a.op, { form: v, error: err.message }, err.status);
      return;
    }
    ctx.state.log.info('console schedule created', { schedule: v.name, operator: a.op.name });
    ctx.status = 303;
    ctx.redirect('/schedules?done=created');
  });

  for (const action of ['delete', 'enable', 'disable'] as const) {
    router.post(`/schedules/${action}`, async (ctx) => {
      ctx.state.routeName = `/schedules/${action}`;
      const a = await admin(ctx);
      if (!a) return;
      const name = a.form.get('name') ?? '';
      try {
        if (action === 'delete') await services.schedules.delete(name, { name: a.op.name, address: ctx.ip });
        else await services.schedules.setEnabled(name, action === 'enable', { name: a.op.name, address: ctx.ip });
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        await show(ctx, a.op, { error: `${name.slice(0, 63)}: ${err.message}` }, err.status);
        return;
      }
      ctx.state.log.info(`console schedule ${action}`, { schedule: name, operator: a.op.name });
      ctx.status = 303;
      ctx.redirect(`/schedules?done=${action === 'delete' ? 'deleted' : `${action}d`}`);
    });
  }
}
