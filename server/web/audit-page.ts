/**
 * The console's audit log page (server-rendered, no script needed):
 *   GET /audit   filter form (actor, action or prefix, target, text, since, until), a page of
 *                events newest first (time, actor, action, target linked to its page, address),
 *                each expandable to a readable diff of before/after and its details; "older"
 *                pages by cursor. Any logged-in operator may read it (viewers too: it holds who
 *                changed what, never a secret — tokens are recorded by name only).
 * The table turns into cards below 700 px (job pages' `table.cards`), so it fits 390 px.
 */
import type { Router } from '@koa/router';
import type { AppContext, AppState } from '../api/app-state.js';
import { auditSearchOf } from '../api/audit-routes.js';
import { isoAt } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import type { AuditEvent } from '../services/audit-log.js';
import type { Operator } from '../services/operator-auth-service.js';
import type { Services } from '../services/services.js';
import { jobStyle } from './jobs/job-views.js';
import { view } from './ui-env.js';
import { layout } from './views.js';

export interface AuditPageDeps {
  readonly services: Services;
  operator(ctx: AppContext): Operator | undefined;
  render(ctx: AppContext, op: Operator, nav: string, body: (frame: Record<string, unknown>) => string, ctxObj: Record<string, unknown>, status?: number): Promise<void>;
}

const auditStyle = `
.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,11rem),1fr));gap:0 .8rem;align-items:end}
.filters label{margin:.5rem 0 .2rem}
.filters input{margin:0;min-height:40px}
.filters .go{display:flex;gap:.5rem;align-items:end;padding-top:.5rem}
table.diff{margin:.4rem 0}table.diff td{vertical-align:top;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;white-space:pre-wrap}
table.diff tr.added td.after,table.diff tr.changed td.after{background:#dafbe1}
table.diff tr.removed td.before,table.diff tr.changed td.before{background:#ffebe9}
details.ev>summary{min-height:40px;display:flex;align-items:center;cursor:pointer}
`;

const flatLimit = 400;

/** A readable diff of two JSON values: one row per leaf path that differs (added, removed, changed). */
export function jsonDiff(before: unknown, after: unknown): { rows: { path: string; before: string; after: string; kind: 'added' | 'removed' | 'changed' }[]; same: number; truncated: boolean } {
  const a = flatten(before);
  const b = flatten(after);
  const rows: { path: string; before: string; after: string; kind: 'added' | 'removed' | 'changed' }[] = [];
  let same = 0;
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const p of paths) {
    const x = a.get(p);
    const y = b.get(p);
    if (x === y) same++;
    else rows.push({ path: p || '(value)', before: x ?? '', after: y ?? '', kind: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed' });
  }
  return { rows: rows.slice(0, flatLimit), same, truncated: rows.length > flatLimit };
}

function flatten(v: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (out.size > 2000) return out;
  if (v === undefined) return out;
  if (v !== null && typeof v === 'object') {
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) out.set(prefix, Array.isArray(v) ? '[]' : '{}');
    for (const [k, x] of entries) flatten(x, prefix === '' ? k : `${prefix}.${k}`, out);
    return out;
  }
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  out.set(prefix, text.length > 500 ? `${text.slice(0, 500)}…` : text);
  return out;
}

/** The console page of a target, when it has one. */
export function targetHref(target: string): string | undefined {
  const i = target.indexOf(':');
  if (i < 0) return undefined;
  const kind = target.slice(0, i);
  const id = encodeURIComponent(target.slice(i + 1));
  switch (kind) {
    case 'job':
      return `/jobs/${id}`;
    case 'host':
      return `/hosts/${id}`;
    case 'rollout':
      return `/rollouts/${id}`;
    case 'revision':
      return `/revisions/${id}`;
    case 'script':
      return `/scripts/${id}`;
    case 'plan':
      return `/plans/${id}`;
    case 'schedule':
      return '/schedules';
    case 'account':
      return '/accounts';
    case 'inventory-group':
    case 'inventory-import':
    case 'inventory':
      return '/inventory';
    default:
      return undefined;
  }
}

function eventRow(e: AuditEvent): Record<string, unknown> {
  const hasChange = e.before !== undefined || e.after !== undefined;
  return {
    id: e.id,
    at: isoAt(e.at),
    actor: e.actor,
    action: e.action,
    target: e.target,
    href: targetHref(e.target),
    address: e.address ?? '',
    ...(hasChange ? { diff: jsonDiff(e.before ?? null, e.after ?? null) } : {}),
    ...(e.details !== undefined ? { details: JSON.stringify(e.details, null, 2).slice(0, 20_000) } : {}),
  };
}

const fields = ['actor', 'action', 'target', 'q', 'since', 'until'] as const;

export const auditView = view(
  layout(
    `<h1>Audit log</h1>
<p class="muted">Every change operators made, newest first: who, what, on what, when and from which address.</p>
{% if error %}<p class="flash bad" role="alert">{{ error }}</p>{% endif %}
<form class="card filters" method="get" action="/audit" role="search" aria-label="Filter the audit log">
<label>Actor <input type="text" name="actor" value="{{ f.actor }}" maxlength="200" placeholder="alice, schedule:nightly"></label>
<label>Action <input type="text" name="action" value="{{ f.action }}" maxlength="100" placeholder="job. or job.launch"></label>
<label>Target <input type="text" name="target" value="{{ f.target }}" maxlength="400" placeholder="host:web-1 or host:*"></label>
<label>Text <input type="text" name="q" value="{{ f.q }}" maxlength="200" placeholder="anything in the event"></label>
<label>Since <input type="text" name="since" value="{{ f.since }}" maxlength="40" placeholder="24h, 7d, 2026-12-01"></label>
<label>Until <input type="text" name="until" value="{{ f.until }}" maxlength="40" placeholder="ISO time or age"></label>
<div class="go"><button class="btn primary" type="submit">Filter</button><a class="btn" href="/audit">Clear</a></div>
</form>
{% if scanned %}<p class="muted" role="status">Text search looked at {{ scanned }} event(s) for this page{% if next %}; older ones are on the next page{% endif %}.</p>{% endif %}
<div class="box"><table id="audit" class="cards"><thead><tr><th>Time</th><th>Actor</th><th>Action</th><th>Target</th><th>Address</th><th>Change</th></tr></thead><tbody>
{% for e in events %}<tr data-event="{{ e.id }}" data-action="{{ e.action }}">
<td data-label="Time" class="mono">{{ e.at }}</td>
<td data-label="Actor">{{ e.actor }}</td>
<td data-label="Action" class="mono">{{ e.action }}</td>
<td data-label="Target" class="mono">{% if e.href %}<a href="{{ e.href }}">{{ e.target }}</a>{% else %}{{ e.target }}{% endif %}</td>
<td data-label="Address" class="mono">{{ e.address }}</td>
<td data-label="Change">{% if e.diff or e.details %}<details class="ev"><summary>{% if e.diff %}{{ e.diff.rows.length }} change(s){% else %}details{% endif %}</summary>
{% if e.diff %}{% if e.diff.rows.length %}<div class="box"><table class="diff"><thead><tr><th>Field</th><th>Before</th><th>After</th></tr></thead><tbody>
{% for r in e.diff.rows %}<tr class="{{ r.kind }}"><td>{{ r.path }}</td><td class="before">{{ r.before }}</td><td class="after">{{ r.after }}</td></tr>{% endfor %}</tbody></table></div>{% else %}<p class="muted">Before and after are the same.</p>{% endif %}
{% if e.diff.same %}<p class="muted">{{ e.diff.same }} field(s) unchanged.</p>{% endif %}{% if e.diff.truncated %}<p class="trunc">More changes than shown.</p>{% endif %}{% endif %}
{% if e.details %}<p class="muted">Details</p><pre class="out">{{ e.details }}</pre>{% endif %}
</details>{% endif %}</td></tr>
{% else %}<tr><td colspan="6" class="empty muted">No events{% if filtered %} match these filters{% endif %}.</td></tr>{% endfor %}</tbody></table></div>
<nav class="pager" aria-label="Pages">{% if cursor %}<a class="btn" href="{{ firstHref }}">Newest</a>{% endif %}{% if nextHref %}<a class="btn" href="{{ nextHref }}" rel="next">Older</a>{% endif %}</nav>`,
    jobStyle + auditStyle,
  ),
);

export function auditPages(router: Router<AppState>, deps: AuditPageDeps): void {
  router.get('/audit', async (ctx) => {
    ctx.state.routeName = '/audit';
    const op = deps.operator(ctx);
    if (!op) return;
    const f: Record<string, string> = {};
    for (const k of fields) {
      const v = ctx.query[k];
      f[k] = typeof v === 'string' ? v.slice(0, 400) : '';
    }
    const cursor = typeof ctx.query['cursor'] === 'string' ? ctx.query['cursor'] : undefined;
    const filterQuery = new URLSearchParams(Object.entries(f).filter(([, v]) => v !== ''));
    const base = { title: 'Audit log', f, filtered: filterQuery.size > 0, cursor, firstHref: `/audit${filterQuery.size > 0 ? `?${filterQuery.toString()}` : ''}` };
    try {
      const search = auditSearchOf(ctx, deps.services.clock.now());
      const page = await deps.services.auditLog.search({ ...search, limit: search.limit ?? 50, signal: AbortSignal.timeout(30_000) });
      const next = new URLSearchParams(filterQuery);
      if (page.next !== undefined) next.set('cursor', page.next);
      await deps.render(ctx, op, 'audit', auditView, {
        ...base,
        events: page.events.map(eventRow),
        next: page.next !== undefined,
        ...(page.next !== undefined ? { nextHref: `/audit?${next.toString()}` } : {}),
        ...(page.scanned !== undefined ? { scanned: page.scanned } : {}),
      });
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 400) throw err;
      await deps.render(ctx, op, 'audit', auditView, { ...base, events: [], error: err.message }, 400);
    }
  });
}
