/**
 * The change-delivery pages' templates (nunjucks, autoescaped by ui-env.ts; data only): revision
 * history, a diff between two revisions, the fleet plan of a revision with its surprises, the
 * rollouts list and a rollout with a bar per batch and its action buttons. No script: a live
 * rollout refreshes itself with the layout's meta refresh. Every page fits 390 px: tables become
 * cards (job-views' `table.cards`), diffs scroll inside their own box.
 */
import { view } from '../ui-env.js';
import { layout } from '../views.js';
import { jobStyle } from '../jobs/job-views.js';

const deliveryStyle = `
.s.dv-succeeded,.s.dv-completed,.s.dv-unchanged{background:var(--in-sync)}.s.dv-failed,.s.dv-fails,.s.dv-aborted{background:var(--failing)}
.s.dv-running,.s.dv-verifying,.s.dv-changes,.s.dv-modify,.s.dv-modified{background:var(--accent)}
.s.dv-waiting,.s.dv-paused,.s.dv-rolled-back,.s.dv-remove,.s.dv-removed{background:var(--drifted)}
.s.dv-pending,.s.dv-added,.s.dv-create{background:var(--unknown)}.s.dv-removed,.s.dv-remove{background:var(--not-reporting)}
.pbar i.verifying{background:#54aeff}.pbar i.pending{background:#d0d7de}
.batches{list-style:none;padding:0;margin:0}
.batch{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--line);border-radius:8px;padding:.6rem .8rem;margin-bottom:.6rem;min-width:0}
.batch.current{border-left-color:var(--accent)}.batch.failed{border-left-color:var(--failing)}.batch.succeeded{border-left-color:var(--in-sync)}
.batch .hd{display:flex;flex-wrap:wrap;gap:.4rem .8rem;align-items:center;margin-bottom:.4rem}
.batch .hosts{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;color:var(--muted);overflow-wrap:anywhere;max-height:6rem;overflow-y:auto}
.batch summary,details.card>summary{min-height:40px;display:flex;align-items:center;cursor:pointer}
.gate{border-left:5px solid var(--drifted)}.gate.running{border-left-color:var(--accent)}.gate.done{border-left-color:var(--in-sync)}.gate.stopped{border-left-color:var(--failing)}
details.file{background:var(--card);border:1px solid var(--line);border-radius:8px;margin-bottom:.5rem;min-width:0}
details.file>summary{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;min-height:40px;padding:.3rem .8rem;cursor:pointer;overflow-wrap:anywhere}
details.file>div{padding:0 .8rem .6rem;min-width:0}
pre.diff{max-height:32rem;max-width:100%}
.add-n{color:var(--in-sync);font-weight:600}.del-n{color:var(--failing);font-weight:600}
.compare{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}.compare>div{flex:1 1 12rem;min-width:0}
.compare select{display:block;width:100%;min-height:40px;padding:.4rem;border:1px solid var(--line);border-radius:6px;font:inherit;background:#fff}
.compare label{display:block;font-weight:600;margin:0 0 .2rem}
form.reason input{display:block;width:100%;min-height:40px;padding:.4rem .6rem;border:1px solid var(--line);border-radius:6px;font:inherit}
form.reason label{display:block;font-weight:600;margin:.3rem 0 .2rem}
`;

const style = jobStyle + deliveryStyle;

const badge = (v: string): string => `<span class="s dv-{{ ${v} }}">{{ ${v} }}</span>`;

const flash = `{% if flash %}<p class="flash" role="status">{{ flash }}</p>{% endif %}
{% if error %}<p class="flash bad" role="alert">{{ error }}</p>{% endif %}`;

const subnav = `<div class="actions"><a class="btn" href="/revisions">History</a><a class="btn" href="/rollouts">Rollouts</a></div>`;

const diffBlock = (lines: string): string => `<pre class="diff" tabindex="0">{% for l in ${lines} %}<span class="{{ l.kind }}">{{ l.text }}</span>{% endfor %}</pre>`;

export const historyView = view(
  layout(
    `<h1>Revisions</h1>
${flash}
${subnav}
{% if unavailable %}<p class="flash bad">{{ unavailable }}</p>{% endif %}
{% if rows.length > 1 %}<form class="card compare" method="get" action="/revisions/diff" aria-label="compare two revisions">
<div><label for="from">From</label><select id="from" name="from">{% for r in rows %}<option value="{{ r.id }}"{% if loop.index == 2 %} selected{% endif %}>{{ r.short }}{% if r.live %} (live){% endif %} {{ r.message | truncate(40) }}</option>{% endfor %}</select></div>
<div><label for="to">To</label><select id="to" name="to">{% for r in rows %}<option value="{{ r.id }}"{% if loop.first %} selected{% endif %}>{{ r.short }}{% if r.live %} (live){% endif %} {{ r.message | truncate(40) }}</option>{% endfor %}</select></div>
<button class="btn" type="submit">Compare</button></form>{% endif %}
<table id="revisions" class="cards"><thead><tr><th>Revision</th><th>Commit</th><th>Author</th><th>Message</th><th>When</th><th></th></tr></thead><tbody>
{% for r in rows %}<tr data-revision="{{ r.id }}"{% if r.live %} data-live{% endif %}>
<td data-label="Revision"><a class="mono" href="/revisions/{{ r.id | urlencode }}">{{ r.short }}</a>{% if r.live %} <span class="s live">live</span>{% endif %}</td>
<td data-label="Commit" class="mono">{{ r.commit or "—" }}</td>
<td data-label="Author">{{ r.author or r.by or "—" }}</td>
<td data-label="Message" class="wrap">{{ r.message or "" }}</td>
<td data-label="When">{{ r.at }}</td>
<td data-label="">{% if r.previous %}<a href="/revisions/{{ r.previous | urlencode }}/diff/{{ r.id | urlencode }}">diff</a> · {% endif %}<a href="/revisions/{{ r.id | urlencode }}/plan">plan</a></td></tr>
{% else %}<tr><td colspan="6" class="muted empty">No revision published yet (stead publish DIR, or git push).</td></tr>{% endfor %}
</tbody></table>`,
    style,
  ),
);

export const revisionView = view(
  layout(
    `<p class="muted"><a href="/revisions">Revisions</a> / revision</p>
<h1 class="wrap mono" style="font-size:18px">{{ r.short }} {% if r.live %}<span class="s live">live</span>{% endif %}</h1>
${flash}
<div class="card"><dl class="meta">
<dt>Revision</dt><dd class="mono">{{ r.id }}</dd>
{% if r.commit %}<dt>Commit</dt><dd class="mono">{{ r.commit }}</dd>{% endif %}
{% if r.author %}<dt>Author</dt><dd>{{ r.author }}</dd>{% endif %}
{% if r.by %}<dt>Published by</dt><dd>{{ r.by }}</dd>{% endif %}
<dt>When</dt><dd>{{ r.at }}</dd>
{% if r.files is defined %}<dt>Files</dt><dd>{{ r.files }}</dd>{% endif %}
<dt>Message</dt><dd class="wrap">{{ r.message or "—" }}</dd>
</dl>
<div class="actions"><a class="btn primary" href="/revisions/{{ r.id | urlencode }}/plan">Plan against the live revision</a>
{% if r.previous %}<a class="btn" href="/revisions/{{ r.previous | urlencode }}/diff/{{ r.id | urlencode }}">Diff with the previous</a>{% endif %}
{% if canWrite and not r.live %}<form method="post" action="/revisions/{{ r.id | urlencode }}/activate"><button class="btn danger" type="submit">Make live again</button></form>{% endif %}</div>
</div>`,
    style,
  ),
);

export const diffView = view(
  layout(
    `<p class="muted"><a href="/revisions">Revisions</a> / diff</p>
<h1 class="wrap">Diff <span class="mono">{{ from.short }}</span> → <span class="mono">{{ to.short }}</span></h1>
${flash}
<div class="card"><dl class="meta">
<dt>From</dt><dd><a class="mono" href="/revisions/{{ from.id | urlencode }}">{{ from.short }}</a> {{ from.message or "" }}{% if from.live %} <span class="s live">live</span>{% endif %}</dd>
<dt>To</dt><dd><a class="mono" href="/revisions/{{ to.id | urlencode }}">{{ to.short }}</a> {{ to.message or "" }}{% if to.live %} <span class="s live">live</span>{% endif %}</dd>
<dt>Changes</dt><dd id="diff-summary">{{ d.files.length }} file(s) · <span class="add-n">+{{ d.adds }}</span> <span class="del-n">−{{ d.dels }}</span></dd>
</dl><div class="actions"><a class="btn" href="/revisions/{{ from.id | urlencode }}/diff/{{ to.id | urlencode }}" rel="nofollow">Permalink</a><a class="btn" href="/revisions/{{ to.id | urlencode }}/diff/{{ from.id | urlencode }}">Swap</a><a class="btn" href="/revisions/{{ to.id | urlencode }}/plan?base={{ from.id | urlencode }}">Plan of this change</a></div></div>
{% if d.truncated %}<p class="flash bad">The diff is long: only its first lines are shown.</p>{% endif %}
<div id="files">{% for f in d.files %}<details class="file" data-path="{{ f.path }}"{% if loop.index <= 30 %} open{% endif %}><summary>${badge('f.status')}<strong class="mono">{{ f.path }}</strong><span class="add-n">+{{ f.adds }}</span><span class="del-n">−{{ f.dels }}</span>{% if f.note %}<span class="muted">{{ f.note }}</span>{% endif %}</summary><div>
{% if f.lines.length %}${diffBlock('f.lines')}{% else %}<p class="muted">No text diff.</p>{% endif %}{% if f.truncated %}<p class="muted">truncated</p>{% endif %}</div></details>
{% else %}<p class="card muted">The two revisions hold the same files.</p>{% endfor %}</div>`,
    style,
  ),
);

export const planView = view(
  layout(
    `<p class="muted"><a href="/revisions">Revisions</a> / <a class="mono" href="/revisions/{{ rev.id | urlencode }}">{{ rev.short }}</a> / plan</p>
<h1 class="wrap">Fleet plan of <span class="mono">{{ rev.short }}</span></h1>
${flash}
<div class="card"><dl class="meta">
<dt>Planned</dt><dd class="mono">{{ plan.target or rev.id }}</dd>
<dt>Against</dt><dd class="mono">{% if plan.base %}<a href="/revisions/{{ plan.base | urlencode }}">{{ plan.base | truncate(12, true, "") }}</a>{% if baseIsLive %} (live){% endif %}{% else %}nothing live{% endif %}</dd>
{% if plan.computedAt %}<dt>Computed</dt><dd>{{ plan.computedAt }}</dd>{% endif %}
</dl>
<div class="tiles" id="plan-summary" style="margin-top:.8rem">
<div class="tile pct"><div class="n">{{ plan.summary.hosts }}</div><div class="l">hosts planned</div></div>
<div class="tile drifted"><div class="n" data-changed>{{ plan.summary.changed }}</div><div class="l">hosts change</div></div>
<div class="tile in-sync"><div class="n">{{ plan.summary.unchanged }}</div><div class="l">unchanged</div></div>
<div class="tile failing"><div class="n" data-failed>{{ plan.summary.failed }}</div><div class="l">fail to compile</div></div>
<div class="tile unknown"><div class="n" data-resources>{{ plan.summary.resources }}</div><div class="l">resource changes</div></div>
</div>
{% if plan.base %}<div class="actions"><a class="btn" href="/revisions/{{ plan.base | urlencode }}/diff/{{ rev.id | urlencode }}">File diff</a></div>{% endif %}</div>
{% if surprises %}<h2>Surprises</h2>
<div class="card" id="surprises">{% if not surprises.planned %}<p class="muted">No plan was stored when this revision was published, so nothing can be a surprise.</p>
{% elif surprises.surprises.length %}<p><strong class="err">{{ surprises.surprises.length }} change(s) the plan did not predict</strong></p>
<table class="cards"><thead><tr><th>Host</th><th>Resource</th><th>Why</th><th>Run</th><th>When</th></tr></thead><tbody>
{% for s in surprises.surprises %}<tr data-surprise="{{ s.host }}"><td data-label="Host"><a href="/hosts/{{ s.host | urlencode }}">{{ s.host }}</a></td><td data-label="Resource" class="mono">{{ s.resource }}</td><td data-label="Why">{{ s.reason or "" }}</td><td data-label="Run" class="mono"><a href="/hosts/{{ s.host | urlencode }}/runs/{{ s.runId | urlencode }}">{{ s.runId | truncate(16, true) }}</a></td><td data-label="When">{{ s.at }}</td></tr>
{% endfor %}</tbody></table>{% else %}<p>No surprises: every change reported so far was in the plan.</p>{% endif %}</div>{% endif %}
<h2>Hosts with changes</h2>
{% if m.total > m.shown %}<p class="muted">The first {{ m.shown }} of {{ m.total }} hosts are shown.</p>{% endif %}
{% if m.truncated %}<p class="flash bad">The diffs are long: only their first lines are shown.</p>{% endif %}
<div id="plan-hosts">{% for h in m.hosts %}<details class="file" data-host="{{ h.host }}"{% if h.open %} open{% endif %}><summary>${badge('h.status')}<strong>{{ h.host }}</strong><span class="muted">{{ h.changes.length }} resource(s)</span></summary><div>
{% for p in h.problems %}<p class="err"><span class="mono">{{ p.where }}</span>: {{ p.message }}</p>{% endfor %}
{% for c in h.changes %}<div class="res {{ 'would-change' if c.action == 'modify' else ('changed' if c.action == 'create' else 'failed') }}" data-resource="{{ c.resource }}"><div class="hd">${badge('c.action')}<span class="id mono wrap">{{ c.resource }}</span>{% if c.attributes %}<span class="muted">{{ c.attributes }}</span>{% endif %}</div>
{% if c.sensitive %}<div class="bd muted">depends on a secret: no diff shown</div>{% elif c.lines.length %}<div class="bd">${diffBlock('c.lines')}{% if c.truncated %}<p class="muted">truncated</p>{% endif %}</div>{% endif %}</div>
{% endfor %}</div></details>
{% else %}<p class="card muted">No host changes.</p>{% endfor %}</div>
{% if m.unchanged.length %}<details class="card"><summary>{{ m.unchanged.length }} host(s) unchanged</summary><div class="hostlist">{% for h in m.unchanged %}<span>{{ h }}</span>{% endfor %}</div></details>{% endif %}`,
    style,
  ),
);

const rolloutBar = `<div class="pbar" role="img" aria-label="batch {{ b.index }}: {{ b.passed }} passed, {{ b.failed }} failed, {{ b.waiting }} not judged of {{ b.size }}">{% for g in b.segments %}<i class="{{ g.state }}" style="width:{{ g.width }}%" title="{{ g.n }} {{ g.state }}"></i>{% endfor %}</div>`;

export const rolloutsListView = view(
  layout(
    `<h1>Rollouts</h1>
${flash}
${subnav}
{% if unavailable %}<p class="flash bad">{{ unavailable }}</p>{% endif %}
<table id="rollouts" class="cards"><thead><tr><th>Rollout</th><th>State</th><th style="width:22%">Batches</th><th>What</th><th>Failed</th><th>By</th><th>Started</th></tr></thead><tbody>
{% for x in rollouts %}<tr data-rollout="{{ x.r.id }}">
<td data-label="Rollout"><a class="mono" href="/rollouts/{{ x.r.id | urlencode }}">{{ x.r.id }}</a></td>
<td data-label="State">${badge('x.r.state')}</td>
<td data-label="Batches"><div class="pbar" style="min-width:5rem" role="img" aria-label="{{ x.done }} of {{ x.batches.length }} batches judged">{% for b in x.batches %}<i class="{{ b.state }}" style="width:{{ (100 / x.batches.length) | round(2) }}%;border-right:2px solid #fff" title="batch {{ b.index }}: {{ b.state }}"></i>{% endfor %}</div><div class="plabel">{{ x.done }}/{{ x.batches.length }}</div></td>
<td data-label="What">{% if x.r.kind == "revision" %}revision <a class="mono" href="/revisions/{{ x.r.revision | urlencode }}">{{ x.r.revision | truncate(12, true, "") }}</a>{% else %}job{% endif %}</td>
<td data-label="Failed">{{ x.r.failures }}/{{ x.r.hosts }}</td>
<td data-label="By">{{ x.r.createdBy }}</td><td data-label="Started">{{ x.createdAt }}</td></tr>
{% else %}<tr><td colspan="7" class="muted empty">No rollouts yet (stead publish DIR --batches 1,10%,100%).</td></tr>{% endfor %}
</tbody></table>
{% if next %}<div class="pager"><a class="btn" href="/rollouts?before={{ next | urlencode }}">Older rollouts</a></div>{% endif %}`,
    style,
  ),
);

export const rolloutView = view(
  layout(
    `<p class="muted"><a href="/rollouts">Rollouts</a> / rollout</p>
<h1 class="wrap">Rollout <span class="mono">{{ m.r.id }}</span> ${badge('m.r.state')}</h1>
${flash}
<div class="card gate {{ 'running' if m.r.state == 'running' else ('done' if m.r.state == 'completed' else ('stopped' if m.r.state in ['aborted', 'rolled-back'] else '')) }}" id="gate">
<p style="margin:0 0 .4rem"><strong>{{ m.gate }}</strong></p>
<dl class="meta">
{% if m.r.kind == "revision" %}<dt>Revision</dt><dd><a class="mono" href="/revisions/{{ m.r.revision | urlencode }}">{{ m.r.revision | truncate(12, true, "") }}</a>{% if m.r.commit %} <span class="muted mono">commit {{ m.r.commit | truncate(12, true, "") }}</span>{% endif %} · <a href="/revisions/{{ m.r.revision | urlencode }}/plan{% if m.r.previous %}?base={{ m.r.previous | urlencode }}{% endif %}">plan</a></dd>
{% if m.r.previous %}<dt>Others keep</dt><dd><a class="mono" href="/revisions/{{ m.r.previous | urlencode }}">{{ m.r.previous | truncate(12, true, "") }}</a></dd>{% endif %}{% else %}<dt>Delivers</dt><dd>a job, one per batch</dd>{% endif %}
<dt>Policy</dt><dd class="wrap">batches <span class="mono">{{ m.r.policy.batches }}</span> · gate {{ m.r.policy.gate or "auto" }} · wait {{ m.r.policy.waitBetweenSeconds or 0 }} s · max failures {% if m.r.policy.maxFailures %}{% if m.r.policy.maxFailures.count is defined %}{{ m.r.policy.maxFailures.count }}{% endif %}{% if m.r.policy.maxFailures.count is defined and m.r.policy.maxFailures.percent is defined %} or {% endif %}{% if m.r.policy.maxFailures.percent is defined %}{{ m.r.policy.maxFailures.percent }}%{% endif %}{% else %}0 (any failure pauses){% endif %}</dd>
<dt>Failures</dt><dd id="failures">{{ m.r.failures }} of {{ m.r.hosts }} hosts · tolerated {{ m.r.threshold.overall }} overall{% if m.r.threshold.batch is defined %}, {{ m.r.threshold.batch }} in this batch{% endif %}</dd>
<dt>Progress</dt><dd>{{ m.done }} of {{ m.batches.length }} batches judged · {{ m.hostsDone }} of {{ m.r.hosts }} hosts</dd>
<dt>Started</dt><dd>{{ m.createdAt }} by {{ m.r.createdBy }} · updated {{ m.updatedAt }}</dd>
</dl>
{% if m.actions.length %}{% if canWrite %}<form class="reason" method="post" id="rollout-actions" action="/rollouts/{{ m.r.id | urlencode }}/{{ m.actions[0].action }}">
<label for="reason">Reason <span class="muted">(optional, for the audit log)</span></label><input id="reason" type="text" name="reason" maxlength="1000">
<div class="actions">{% for a in m.actions %}<button class="btn {{ a.kind }}" type="submit" formaction="/rollouts/{{ m.r.id | urlencode }}/{{ a.action }}" data-action="{{ a.action }}">{{ a.label }}</button>{% endfor %}</div></form>
{% else %}<p class="muted">Only an admin can approve, pause, abort or roll back.</p>{% endif %}{% endif %}
</div>
<h2>Batches</h2>
<ol class="batches" id="batches">{% for b in m.batches %}<li class="batch {{ b.state }}{% if b.current %} current{% endif %}" data-batch="{{ b.index }}" data-state="{{ b.state }}">
<div class="hd"><strong>Batch {{ b.index + 1 }}</strong>${badge('b.state')}<span class="muted">{{ b.size }} host(s)</span>{% if b.current %}<span class="muted">current</span>{% endif %}{% if b.jobId %}<a href="/jobs/{{ b.jobId | urlencode }}">job</a>{% endif %}</div>
${rolloutBar}
<div class="plabel">{{ b.passed }} passed · {{ b.failed }} failed · {{ b.waiting }} {{ 'pending' if b.state == 'pending' else 'not judged yet' }}{% if b.startedAt %} · started {{ b.startedAt }}{% endif %}{% if b.finishedAt %} · judged {{ b.finishedAt }}{% endif %}</div>
{% if b.failures.length %}<ul class="err">{% for f in b.failures %}<li><a href="/hosts/{{ f.host | urlencode }}">{{ f.host }}</a>: {{ f.reason }}</li>{% endfor %}</ul>{% endif %}
<details><summary class="muted">hosts</summary><div class="hosts">{{ b.hosts | join(", ") }}</div></details>
</li>{% endfor %}</ol>`,
    style,
  ),
);
