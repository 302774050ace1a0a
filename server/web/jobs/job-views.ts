/**
 * The job pages' templates (nunjucks, autoescaped by ui-env.ts; data only, never template
 * source): the jobs list, the launch form with its target preview and audit verdict, the job
 * page (progress, steps, hosts, output, actions) and the plans. No script: live progress is the
 * layout's meta refresh, the progress bar is CSS. Every page fits a 390 px screen: tables turn
 * into cards below 700 px (`table.cards`, labels from data-label), long words wrap, output
 * scrolls inside its own box; buttons and inputs are at least 40 px tall.
 */
import { view } from '../ui-env.js';
import { layout } from '../views.js';

export const jobStyle = `
.s[class*=" jb-"]{background:var(--not-reporting)}
.s.jb-succeeded,.s.jb-would-run{background:var(--in-sync)}.s.jb-failed,.s.jb-timeout,.s.jb-unreachable,.s.jb-interrupted{background:var(--failing)}
.s.jb-running,.s.jb-dispatched,.s.jb-cancelling{background:var(--accent)}.s.jb-paused,.s.jb-waiting{background:var(--drifted)}
.s.jb-queued{background:var(--unknown)}
.pbar{display:flex;height:16px;border-radius:4px;overflow:hidden;background:#eaeef2;min-width:6rem}
.pbar i{display:block;height:100%;background:var(--not-reporting)}
.pbar i.succeeded,.pbar i.would-run{background:var(--in-sync)}.pbar i.failed,.pbar i.timeout,.pbar i.unreachable,.pbar i.interrupted{background:var(--failing)}
.pbar i.running,.pbar i.dispatched,.pbar i.cancelling{background:var(--accent)}.pbar i.queued{background:#d0d7de}
.plabel{font-size:12px;color:var(--muted);margin-top:.2rem}
td,dd,.wrap{overflow-wrap:anywhere}
.box{overflow-x:auto;max-width:100%}
.btn{display:inline-flex;align-items:center;justify-content:center;min-height:40px;min-width:40px;padding:0 1rem;border-radius:6px;border:1px solid var(--line);background:var(--card);color:var(--fg);cursor:pointer;font:inherit;font-weight:600}
.btn:hover{text-decoration:none;border-color:var(--accent)}.btn:focus-visible,summary:focus-visible,a:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.btn.primary{background:var(--accent);border-color:var(--accent);color:#fff}.btn.danger{color:var(--failing)}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:.6rem 0}.actions form{margin:0}
.pager{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.6rem 0}
form.stack label,form.stack legend{display:block;font-weight:600;margin:.9rem 0 .3rem}
form.stack .hint{font-size:12px;color:var(--muted);margin:.15rem 0 0;overflow-wrap:anywhere}
form.stack input[type=text],form.stack input[type=number],form.stack select,form.stack textarea{display:block;width:100%;min-height:40px;padding:.45rem .6rem;border:1px solid var(--line);border-radius:6px;font:inherit;background:#fff}
form.stack textarea{min-height:6rem;resize:vertical}form.stack textarea.code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;min-height:12rem;white-space:pre;overflow:auto}
fieldset{border:1px solid var(--line);border-radius:8px;padding:.3rem .9rem .8rem;margin:.8rem 0;min-width:0}
label.check,form.stack label.check{display:flex;align-items:center;gap:.55rem;min-height:40px;font-weight:400;margin:0;cursor:pointer}
label.check input{width:22px;height:22px;margin:0;flex:none}
.picks{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,11rem),1fr));gap:0 .8rem;max-height:14rem;overflow-y:auto}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,14rem),1fr));gap:0 1rem}
.hostlist{max-height:12rem;overflow-y:auto;display:flex;flex-wrap:wrap;gap:.3rem .9rem;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.verdict{border-left:5px solid var(--in-sync)}.verdict.blocked{border-left-color:var(--failing)}.verdict.warn{border-left-color:var(--drifted)}
pre.out{max-height:24rem;overflow:auto;background:#0d1117;color:#e6edf3;padding:.6rem .7rem;border-radius:6px;margin:.3rem 0 .7rem;white-space:pre;max-width:100%}
pre.out.err{background:#2d1214;color:#ffd8d3}
.trunc{color:var(--failing);font-weight:600;font-size:12px}
details.out{background:var(--card);border:1px solid var(--line);border-radius:8px;margin-bottom:.5rem;min-width:0}
details.out>summary{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;min-height:40px;padding:.3rem .8rem;cursor:pointer}
details.out>div{padding:0 .8rem .5rem}
.stepdots{display:flex;gap:3px;flex-wrap:wrap}.stepdots span{display:inline-block;width:12px;height:18px;border-radius:3px;background:var(--line)}
.stepdots .succeeded,.stepdots .would-run{background:var(--in-sync)}.stepdots .failed,.stepdots .timeout,.stepdots .unreachable,.stepdots .interrupted{background:var(--failing)}
.stepdots .running,.stepdots .dispatched,.stepdots .cancelling{background:var(--accent)}.stepdots .cancelled,.stepdots .skipped{background:var(--not-reporting)}
.steps li{margin:.35rem 0}.counts{display:inline-flex;flex-wrap:wrap;gap:.3rem}
@media (max-width:700px){
table.cards thead{display:none}table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
table.cards tr{border-bottom:1px solid var(--line);padding:.35rem 0}
table.cards td{display:flex;justify-content:space-between;align-items:center;gap:.8rem;border:0;padding:.2rem .6rem;text-align:right}
table.cards td::before{content:attr(data-label);color:var(--muted);font-size:12px;text-transform:uppercase;text-align:left;flex:none}
table.cards td.empty{display:block;text-align:left}table.cards td.empty::before{content:none}
.meta{grid-template-columns:1fr}.meta dt{margin-top:.3rem}
}
`;

const badge = (v: string): string => `<span class="s jb-{{ ${v} }}">{{ ${v} }}</span>`;

const pbar = (p: string): string => `<div class="pbar" role="img" aria-label="{{ ${p}.done }} of {{ ${p}.total }} done">{% for g in ${p}.segments %}<i class="{{ g.state }}" style="width:{{ g.width }}%" title="{{ g.n }} {{ g.state }}"></i>{% endfor %}</div>`;

const flash = `{% if flash %}<p class="flash" role="status">{{ flash }}</p>{% endif %}
{% if error %}<p class="flash bad" role="alert">{{ error }}</p>{% endif %}`;

export const jobsListView = view(
  layout(
    `<h1>Jobs</h1>
${flash}
<div class="actions">{% if canWrite %}<a class="btn primary" href="/jobs/new">Launch a job</a>{% endif %}<a class="btn" href="/plans">Plans</a></div>
<table id="jobs" class="cards"><thead><tr><th>Job</th><th>State</th><th style="width:18%">Progress</th><th>Targets</th><th>By</th><th>Created</th><th>Duration</th></tr></thead><tbody>
{% for j in jobs %}<tr data-job="{{ j.id }}">
<td data-label="Job"><a href="/jobs/{{ j.id | urlencode }}">{{ j.name or j.id }}</a>{% if j.dryRun %} <span class="muted">(dry run)</span>{% endif %}{% if j.redoOf %} <span class="muted">redo of {{ j.redoOf }}</span>{% endif %}</td>
<td data-label="State">${badge('j.state')}</td>
<td data-label="Progress">{% if j.progress.total %}<div style="flex:1;max-width:14rem">${pbar('j.progress')}<div class="plabel">{{ j.progress.done }}/{{ j.progress.total }}</div></div>{% endif %}</td>
<td data-label="Targets" class="mono">{{ j.targets }}{% if j.hostCount %} <span class="muted">({{ j.hostCount }} hosts)</span>{% endif %}</td>
<td data-label="By">{{ j.createdBy }}</td><td data-label="Created">{{ j.createdAt }}</td><td data-label="Duration">{{ j.duration }}</td></tr>
{% else %}<tr><td colspan="7" class="muted empty">No jobs yet.{% if canWrite %} <a href="/jobs/new">Launch one</a>.{% endif %}</td></tr>{% endfor %}
</tbody></table>
<nav class="pager" aria-label="pages">{% if newest %}<a class="btn" href="/jobs">Newest</a>{% endif %}{% if next %}<a class="btn" rel="next" href="/jobs?before={{ next | urlencode }}">Older jobs</a>{% endif %}</nav>`,
    jobStyle,
  ),
);

const pickList = (list: string, legend: string): string => `{% if ${list}.length %}<fieldset><legend>${legend}</legend><div class="picks">{% for p in ${list} %}<label class="check"><input type="checkbox" name="pick" value="{{ p.value }}"{% if p.checked %} checked{% endif %}>{{ p.label }}</label>{% endfor %}</div></fieldset>{% endif %}`;

export const launchView = view(
  layout(
    `<p class="muted"><a href="/jobs">Jobs</a> / launch</p>
<h1>Launch a job</h1>
${flash}
{% if not canWrite %}<p class="flash bad" role="status">You are a read-only operator: you can preview targets and the audit, not launch.</p>{% endif %}
<form class="stack card" method="post" action="/jobs/new">
<label for="name">Job name <span class="muted">(optional)</span></label>
<input id="name" type="text" name="name" value="{{ f.name }}" maxlength="200">

<label for="targets">Targets</label>
<input id="targets" type="text" name="targets" value="{{ f.targets }}" maxlength="4096" autocomplete="off" spellcheck="false" aria-describedby="targets-hint">
<p class="hint" id="targets-hint">A selector: <code>host:web-1,group:web,idc:sz,tag:canary,ip:10.0.0.5,set:s1,attr:k=v,fact:os.family=debian</code>. Ticked picks below are added to it when you preview or launch.</p>
${pickList('picks.groups', 'Add groups')}
${pickList('picks.idcs', 'Add IDCs')}
${pickList('picks.tags', 'Add tags')}
<div class="actions"><button class="btn" type="submit" name="action" value="preview">Preview targets</button></div>
{% if preview %}<div class="card" id="preview">
<strong>{{ preview.count }} host(s) match</strong>{% if preview.count > preview.shown %} <span class="muted">(the first {{ preview.shown }} shown)</span>{% endif %}
<div class="hostlist" id="preview-hosts">{% for h in preview.hosts %}<span>{{ h }}</span>{% else %}<span class="muted">No host matches this selector.</span>{% endfor %}</div>
{% if preview.cannot.length %}<p><strong class="err">{{ preview.cannot.length }} cannot run now</strong></p>
<ul id="preview-cannot">{% for c in preview.cannot %}<li><span class="mono">{{ c.host }}</span>: {{ c.reason }}</li>{% endfor %}</ul>{% endif %}
</div>{% endif %}

<fieldset><legend>What to run</legend>
<label class="check"><input type="radio" name="mode" value="inline"{% if f.mode != "library" %} checked{% endif %}>A command or script written here</label>
<label class="check"><input type="radio" name="mode" value="library"{% if f.mode == "library" %} checked{% endif %}>A script from the library</label>
<label for="source">Command or script</label>
<textarea id="source" class="code" name="source" spellcheck="false" aria-describedby="source-hint">{{ f.source }}</textarea>
<p class="hint" id="source-hint">Runs with the interpreter of the language below; exit code 0 is success. Up to 256 KiB.</p>
<div class="grid2">
<div><label for="scriptId">Library script</label>
<select id="scriptId" name="scriptId"><option value="">— none —</option>{% for s in scripts %}<option value="{{ s.id }}"{% if s.id == f.scriptId %} selected{% endif %}>{{ s.name }}{% if s.latestVersion %} (v{{ s.latestVersion }}){% endif %}</option>{% endfor %}</select>
{% if not scripts.length %}<p class="hint">The library is empty or not available; write the script above.</p>{% endif %}</div>
<div><label for="version">Version <span class="muted">(empty: newest)</span></label>
<input id="version" type="number" name="version" min="1" value="{{ f.version }}"></div>
</div>
<label for="params">Script parameters <span class="muted">(KEY=value per line)</span></label>
<textarea id="params" class="code" name="params" spellcheck="false" style="min-height:5rem">{{ f.params }}</textarea>
</fieldset>

<div class="grid2">
<div><label for="lang">Language</label>
<select id="lang" name="lang"><option value="shell"{% if f.lang == "shell" %} selected{% endif %}>shell (/bin/sh)</option><option value="python"{% if f.lang == "python" %} selected{% endif %}>python (python3)</option></select></div>
<div><label for="account">Execution account</label>
<select id="account" name="account"><option value="">default (root)</option>{% for a in accounts %}<option value="{{ a }}"{% if a == f.account %} selected{% endif %}>{{ a }}</option>{% endfor %}</select></div>
<div><label for="timeout">Timeout (seconds)</label>
<input id="timeout" type="number" name="timeout" min="1" max="86400" value="{{ f.timeout }}"></div>
</div>
<label for="vars">Job variables <span class="muted">(KEY=value per line; the top layer of variables)</span></label>
<textarea id="vars" class="code" name="vars" spellcheck="false" style="min-height:4rem">{{ f.vars }}</textarea>
<label class="check"><input type="checkbox" name="dryRun"{% if f.dryRun %} checked{% endif %}>Dry run (report what would run; change nothing)</label>

<fieldset id="batches-set"><legend>Deliver in batches <span class="muted">(optional)</span></legend>
<p class="hint" id="batches-hint">Run on a few hosts first: each batch is one job on its hosts, and the next starts when it succeeded (or when you continue it). Empty: every host at once. You follow it on the rollout page.</p>
<label for="batches">Batches</label>
<input id="batches" type="text" name="batches" value="{{ f.batches }}" maxlength="200" autocomplete="off" spellcheck="false" placeholder="1,10%,+20%,100%" aria-describedby="batches-hint batches-expr">
<p class="hint" id="batches-expr">Cumulative counts and percentages, "+" steps: <code>1,10%,+20%,100%</code> = one host, 10 %, then 20 % more each time, the rest.</p>
<div class="grid2">
<div><label for="gate">Between batches</label>
<select id="gate" name="gate"><option value="auto"{% if f.gate != "manual" %} selected{% endif %}>go on when healthy (auto)</option><option value="manual"{% if f.gate == "manual" %} selected{% endif %}>wait for me to continue (manual)</option></select></div>
<div><label for="waitBetween">Wait between (seconds)</label>
<input id="waitBetween" type="number" name="waitBetween" min="0" max="604800" value="{{ f.waitBetween }}" placeholder="0"></div>
<div><label for="maxFailures">Failures tolerated</label>
<input id="maxFailures" type="text" name="maxFailures" value="{{ f.maxFailures }}" maxlength="12" autocomplete="off" placeholder="0, 3 or 10%" aria-describedby="maxFailures-hint">
<p class="hint" id="maxFailures-hint">Hosts or a percentage, per batch and overall; more pauses the rollout. Empty: any failure pauses.</p></div>
</div>
</fieldset>

{% if audit %}<div class="card verdict{% if audit.blocked %} blocked{% elif audit.findings.length %} warn{% endif %}" id="audit">
<strong>Safety audit: {% if audit.blocked %}<span class="err">blocked</span>{% elif audit.findings.length %}allowed with warnings{% else %}nothing found{% endif %}</strong>
{% if audit.findings.length %}<div class="box"><table class="cards"><thead><tr><th>Rule</th><th>Line</th><th>Action</th><th>Message</th><th>Code</th></tr></thead><tbody>
{% for x in audit.findings %}<tr data-rule="{{ x.rule }}"><td data-label="Rule" class="mono">{{ x.rule }}</td><td data-label="Line">{{ x.line }}{% if x.column %}:{{ x.column }}{% endif %}</td><td data-label="Action"><span class="s jb-{{ 'failed' if x.mode == 'block' else 'paused' }}">{{ 'blocks' if x.mode == 'block' else 'logged' }}</span></td><td data-label="Message">{{ x.message }}</td><td data-label="Code" class="mono">{{ x.excerpt }}</td></tr>
{% endfor %}</tbody></table></div>{% endif %}
{% if audit.blocked %}{% if isAdmin %}<label class="check"><input type="checkbox" name="approve"{% if f.approve %} checked{% endif %}>Approve the blocked findings (admin)</label>
<label for="reason">Reason for the approval (recorded in the audit log)</label>
<input id="reason" type="text" name="reason" value="{{ f.reason }}" maxlength="1000">
{% else %}<p class="muted">Only an admin can approve a blocked script.</p>{% endif %}{% endif %}
</div>{% endif %}

<div class="actions"><button class="btn" type="submit" name="action" value="preview">Preview targets and audit</button>{% if canWrite %}<button class="btn primary" type="submit" name="action" value="launch">Launch</button>{% endif %}</div>
</form>`,
    jobStyle,
  ),
);

const hostPager = `{% if m.pages > 1 %}<nav class="pager" aria-label="host pages">Hosts {{ m.shownFrom }}–{{ m.shownTo }} of {{ m.matching }}
{% if m.page > 1 %}<a class="btn" rel="prev" href="{{ pageHref(m.page - 1) }}">Previous</a>{% endif %}{% if m.page < m.pages %}<a class="btn" rel="next" href="{{ pageHref(m.page + 1) }}">Next</a>{% endif %}</nav>{% endif %}`;

export const jobView = view(
  layout(
    `<p class="muted"><a href="/jobs">Jobs</a> / job</p>
<h1 class="wrap">{{ m.job.name or m.job.id }} ${badge('m.job.state')}</h1>
${flash}
<div class="card"><dl class="meta">
<dt>Job</dt><dd class="mono">{{ m.job.id }}</dd>
<dt>Targets</dt><dd class="mono">{{ m.job.targets }}</dd>
<dt>Launched</dt><dd>{{ m.createdAt }} by {{ m.job.createdBy }}{% if m.job.scheduleId %} (schedule {{ m.job.scheduleId }}){% endif %}{% if m.job.planId %} (plan <a href="/plans/{{ m.job.planId | urlencode }}">{{ m.job.planId }}</a>){% endif %}</dd>
{% if m.job.redoOf %}<dt>Redo of</dt><dd><a href="/jobs/{{ m.job.redoOf | urlencode }}">{{ m.job.redoOf }}</a></dd>{% endif %}
{% if m.finishedAt %}<dt>Finished</dt><dd>{{ m.finishedAt }}</dd>{% endif %}
<dt>Duration</dt><dd>{{ m.duration }}</dd>
{% if m.job.dryRun %}<dt>Mode</dt><dd>dry run (nothing changed)</dd>{% endif %}
{% if m.job.unavailable.length %}<dt>Not run on</dt><dd id="unavailable">{% for u in m.job.unavailable %}<div><span class="mono">{{ u.host }}</span>: {{ u.reason }}</div>{% endfor %}</dd>{% endif %}
</dl>
<div style="margin-top:.8rem" id="progress">${pbar('m.progress')}<div class="plabel">{{ m.progress.done }} of {{ m.progress.total }} done ({{ m.progress.percent }} %){% for c in m.progress.segments %} · {{ c.n }} {{ c.state }}{% endfor %}</div></div>
{% if canWrite %}<div class="actions" id="job-actions">
{% if m.live %}<form method="post" action="/jobs/{{ m.job.id | urlencode }}/cancel"><button class="btn danger" type="submit">Cancel job</button></form>{% endif %}
{% if not m.live %}{% if m.failedHosts %}<form method="post" action="/jobs/{{ m.job.id | urlencode }}/redo"><input type="hidden" name="hosts" value="failed"><button class="btn primary" type="submit">Redo failed ({{ m.failedHosts }})</button></form>{% endif %}
<form method="post" action="/jobs/{{ m.job.id | urlencode }}/redo"><input type="hidden" name="hosts" value="all"><button class="btn" type="submit">Redo all</button></form>{% endif %}
</div>{% endif %}
</div>

<h2>Steps</h2>
<ol class="steps card" id="steps">{% for s in m.steps %}<li data-step="{{ s.index }}"><strong>{{ s.name or s.kind }}</strong> <span class="muted">{{ s.kind }}{% if s.onFailure %}, on failure: {{ s.onFailure }}{% endif %}</span> ${badge('s.state')}
<span class="counts">{% for c in s.countList %}<span class="s jb-{{ c.state }}" title="{{ c.state }}">{{ c.n }} {{ c.state }}</span>{% endfor %}</span>
{% if s.message %}<div class="muted">{{ s.message }}</div>{% endif %}{% if s.confirmedBy %}<div class="muted">decided by {{ s.confirmedBy }}</div>{% endif %}
{% if s.waiting %}<div class="actions">{% if canWrite %}<form method="post" action="/jobs/{{ m.job.id | urlencode }}/confirm"><input type="hidden" name="step" value="{{ s.index }}"><input type="hidden" name="action" value="continue"><button class="btn primary" type="submit">Continue</button></form>
<form method="post" action="/jobs/{{ m.job.id | urlencode }}/confirm"><input type="hidden" name="step" value="{{ s.index }}"><input type="hidden" name="action" value="stop"><button class="btn danger" type="submit">Stop</button></form>{% else %}<span class="muted">waiting for an admin to continue or stop</span>{% endif %}</div>{% endif %}
</li>{% endfor %}</ol>

<h2>Hosts</h2>
<p class="filters pager"><a class="btn{% if not m.filter %} on{% endif %}" href="{{ filterHref('') }}">all ({{ m.job.hosts.length }})</a>{% for c in m.hostStates %}<a class="btn" href="{{ filterHref(c.state) }}"{% if m.filter == c.state %} aria-current="true"{% endif %}>{{ c.state }} ({{ c.n }})</a>{% endfor %}</p>
${hostPager}
<table id="hosts" class="cards"><thead><tr><th>Host</th><th>State</th><th class="num">Exit</th><th>Duration</th><th>Steps</th><th>Output</th></tr></thead><tbody>
{% for r in m.rows %}<tr data-host="{{ r.host }}"><td data-label="Host"><a href="/hosts/{{ r.host | urlencode }}">{{ r.host }}</a></td><td data-label="State">${badge('r.state')}</td>
<td data-label="Exit" class="num">{{ r.exitCode }}</td><td data-label="Duration">{{ r.duration }}</td>
<td data-label="Steps"><span class="stepdots">{% for s in r.steps %}<span class="{{ s.state }}" title="{{ s.title }}"></span>{% endfor %}</span></td>
<td data-label="Output">{% if r.hasOutput %}<a href="#out-{{ r.host }}">output</a>{% endif %}</td></tr>
{% else %}<tr><td colspan="6" class="muted empty">No hosts{% if m.filter %} in state {{ m.filter }}{% endif %}.</td></tr>{% endfor %}
</tbody></table>
<h2>Output</h2>
<div id="output">{% for r in m.rows %}{% if r.hasOutput %}<details class="out" id="out-{{ r.host }}" data-host="{{ r.host }}"{% if r.open %} open{% endif %}><summary><strong>{{ r.host }}</strong> ${badge('r.state')}{% if r.exitCode %}<span class="muted">exit {{ r.exitCode }}</span>{% endif %}</summary><div>
{% if r.message %}<p class="err">{{ r.message }}</p>{% endif %}
{% if r.stdout %}<div class="muted">stdout{% if r.stdoutTruncated %} · <span class="trunc">truncated</span>{% endif %}</div><pre class="out" tabindex="0">{{ r.stdout }}</pre>{% endif %}
{% if r.stderr %}<div class="muted">stderr{% if r.stderrTruncated %} · <span class="trunc">truncated</span>{% endif %}</div><pre class="out err" tabindex="0">{{ r.stderr }}</pre>{% endif %}
</div></details>{% endif %}{% else %}<p class="muted">No output on this page.</p>{% endfor %}</div>
${hostPager}`,
    jobStyle,
  ),
);

const stepDetail = `{% if s.kind == "script" and s.script %}{{ s.script.lang }}{% if s.script.scriptId %} script {{ s.script.scriptId }}{% if s.script.version %} v{{ s.script.version }}{% endif %}{% endif %}{% if s.script.account %} as {{ s.script.account }}{% endif %}{% elif s.kind == "confirm" %}{{ s.message }}{% elif s.kind == "files" and s.files %}{{ s.files.length }} file(s){% endif %}`;

export const plansView = view(
  layout(
    `<h1>Plans</h1>
${flash}
<table id="plans" class="cards"><thead><tr><th>Plan</th><th class="num">Steps</th><th>Default targets</th><th>Updated</th></tr></thead><tbody>
{% for p in plans %}<tr data-plan="{{ p.id }}"><td data-label="Plan"><a href="/plans/{{ p.id | urlencode }}">{{ p.name }}</a>{% if p.description %}<div class="muted">{{ p.description }}</div>{% endif %}</td>
<td data-label="Steps" class="num">{{ p.steps.length }}</td><td data-label="Targets" class="mono">{{ p.targets }}</td><td data-label="Updated">{{ p.updated }}</td></tr>
{% else %}<tr><td colspan="4" class="muted empty">No saved plans (create them with <code>POST /api/v1/plans</code>).</td></tr>{% endfor %}
</tbody></table>`,
    jobStyle,
  ),
);

export const planView = view(
  layout(
    `<p class="muted"><a href="/plans">Plans</a> / plan</p>
<h1 class="wrap">{{ plan.name }}</h1>
${flash}
<div class="card"><dl class="meta"><dt>Plan</dt><dd class="mono">{{ plan.id }}</dd>
{% if plan.description %}<dt>About</dt><dd>{{ plan.description }}</dd>{% endif %}
<dt>Default targets</dt><dd class="mono">{{ plan.targets or "—" }}</dd>
{% if updated %}<dt>Updated</dt><dd>{{ updated }}{% if plan.createdBy %} by {{ plan.createdBy }}{% endif %}</dd>{% endif %}</dl></div>
<h2>Steps</h2>
<table id="plan-steps" class="cards"><thead><tr><th>#</th><th>Step</th><th>Kind</th><th>On failure</th><th>Targets</th><th>Timeout</th><th>What</th></tr></thead><tbody>
{% for s in plan.steps %}<tr><td data-label="#">{{ loop.index }}</td><td data-label="Step">{{ s.name or "" }}</td><td data-label="Kind">{{ s.kind }}</td><td data-label="On failure">{{ s.onFailure or "stop" }}</td>
<td data-label="Targets" class="mono">{% if s.targets.failedOf is defined %}failed hosts of step {{ s.targets.failedOf + 1 }}{% else %}{{ s.targets or "plan targets" }}{% endif %}</td><td data-label="Timeout">{% if s.timeoutSeconds %}{{ s.timeoutSeconds }} s{% endif %}</td><td data-label="What">${stepDetail}</td></tr>
{% endfor %}</tbody></table>
<h2>Run</h2>
{% if canWrite %}<form class="stack card" method="post" action="/plans/{{ plan.id | urlencode }}/run">
<label for="targets">Targets <span class="muted">(empty: the plan's default targets)</span></label>
<input id="targets" type="text" name="targets" value="{{ targets }}" maxlength="4096" autocomplete="off" spellcheck="false">
<label class="check"><input type="checkbox" name="dryRun">Dry run</label>
<div class="actions"><button class="btn primary" type="submit">Run plan</button></div></form>
{% else %}<p class="card muted">Only an admin can run a plan.</p>{% endif %}`,
    jobStyle,
  ),
);
