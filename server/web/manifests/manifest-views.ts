/**
 * The manifest editor's templates (nunjucks, autoescaped; data only): the file list with your
 * drafts, the edit page (a monospace textarea with a line gutter, the problems of the quick
 * check listed with their line, a template's preview for a chosen host), the variable key
 * table with the YAML view, and a draft's page (changes, plan, commit, publish as a rollout).
 * editor.js checks as you type and previews without a reload; without scripts every form posts
 * and the check runs on save. Every page fits 390 px: the textarea scrolls inside its own box.
 */
import { view } from '../ui-env.js';
import { layout } from '../views.js';
import { jobStyle } from '../jobs/job-views.js';

const editorStyle = `
.editor{display:flex;border:1px solid var(--line);border-radius:6px;background:#fff;max-width:100%;overflow:hidden}
.editor pre.gutter{margin:0;padding:.5rem .4rem;background:var(--bg);color:var(--muted);text-align:right;user-select:none;border-right:1px solid var(--line);overflow:hidden;min-width:2.6rem;font-size:12.5px;line-height:1.5}
.editor textarea{flex:1;min-width:0;border:0;margin:0;padding:.5rem .6rem;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;line-height:1.5;white-space:pre;overflow:auto;resize:vertical;min-height:22rem;tab-size:2}
.editor textarea:focus{outline:2px solid var(--accent);outline-offset:-2px}
ul.problems{list-style:none;padding:0;margin:.4rem 0}ul.problems li{padding:.35rem .5rem;border-left:4px solid var(--failing);background:#fff5f5;margin-bottom:.3rem;overflow-wrap:anywhere}
ul.problems li.warning{border-left-color:var(--drifted);background:#fffbea}ul.problems a{font-weight:600;display:inline-flex;align-items:center;min-height:32px}
.checkstate{font-size:13px;margin:.3rem 0}.checkstate.ok{color:var(--in-sync)}.checkstate.bad{color:var(--failing)}
.s.ed-write,.s.ed-new{background:var(--accent)}.s.ed-delete{background:var(--failing)}.s.ed-open{background:var(--drifted)}.s.ed-committed{background:var(--accent)}.s.ed-published{background:var(--in-sync)}
table.vars input[type=text]{width:100%;min-height:40px;padding:.35rem .5rem;border:1px solid var(--line);border-radius:6px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
table.vars form{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:0}table.vars form input[type=text]{flex:1 1 10rem;min-width:0}
pre.preview{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:.6rem .8rem;overflow:auto;max-height:28rem;max-width:100%;white-space:pre;margin:.4rem 0}
.files a{overflow-wrap:anywhere}
details.card>summary{min-height:40px;display:flex;align-items:center;cursor:pointer}
.card.form input[type=text],.card.form select{min-height:40px}
`;

const style = jobStyle + editorStyle;

const badge = (v: string, prefix = 'ed'): string => `<span class="s ${prefix}-{{ ${v} }}">{{ ${v} }}</span>`;

const flash = `{% if flash %}<p class="flash" role="status">{{ flash }}</p>{% endif %}
{% if error %}<p class="flash bad" role="alert">{{ error }}</p>{% endif %}`;

const draftBar = `{% if draft %}<div class="card" id="draft-bar"><strong>Draft <a class="mono" href="/manifests/drafts/{{ draft.id | urlencode }}">{{ draft.id }}</a></strong> ${badge('draft.state')}
<span class="muted">{{ draft.changes.length }} file(s) changed · on revision <span class="mono">{{ (draft.base or "none") | truncate(12, true, "") }}</span></span>
<div class="actions"><a class="btn" href="/manifests?draft={{ draft.id | urlencode }}">Files</a><a class="btn" href="/manifests/drafts/{{ draft.id | urlencode }}/plan">Plan</a><a class="btn primary" href="/manifests/drafts/{{ draft.id | urlencode }}">Commit…</a></div></div>{% endif %}`;

const problemList = `<ul class="problems" id="problems" aria-live="polite">{% for p in check.problems %}<li class="{{ p.severity or 'error' }}">{% if p.line %}<a href="#content" data-line="{{ p.line }}" data-column="{{ p.column or 1 }}">line {{ p.line }}{% if p.column %}, column {{ p.column }}{% endif %}</a>{% endif %} {% if p.path %}<span class="mono muted">{{ p.path }}</span>{% endif %} {{ p.message }}</li>{% endfor %}
{% for p in check.elsewhere %}<li class="error"><span class="mono">{{ p.file }}{% if p.line %}:{{ p.line }}{% endif %}</span> {{ p.message }}</li>{% endfor %}</ul>`;

export const manifestListView = view(
  layout(
    `<h1>Manifests</h1>
${flash}
${draftBar}
{% if not draft and canPublish %}<form method="post" action="/manifests/drafts" class="actions"><button class="btn primary" type="submit">Start a draft</button><span class="muted" style="align-self:center">Edit files, see the plan, commit, publish as a rollout. Or just open a file and save.</span></form>{% endif %}
{% if drafts.length %}<details class="card"{% if not draft %} open{% endif %}><summary>Your drafts ({{ drafts.length }})</summary>
<table class="cards" id="drafts"><thead><tr><th>Draft</th><th>State</th><th>Files</th><th>Updated</th></tr></thead><tbody>
{% for d in drafts %}<tr data-draft="{{ d.id }}"><td data-label="Draft"><a class="mono" href="/manifests/drafts/{{ d.id | urlencode }}">{{ d.id }}</a></td><td data-label="State">${badge('d.state')}</td><td data-label="Files">{{ d.changes.length }}</td><td data-label="Updated">{{ d.updated }}</td></tr>{% endfor %}
</tbody></table></details>{% endif %}
<p class="muted">Revision <span class="mono">{{ (revision or "none published") | truncate(12, true, "") }}</span>{% if draft %} with the draft's changes{% endif %}.</p>
{% if canPublish %}<form method="get" action="/manifests/edit" class="card form" aria-label="new file"><label for="newpath">New file</label><div class="row"><input id="newpath" type="text" name="path" placeholder="templates/motd.j2" required maxlength="1024" spellcheck="false">{% if draft %}<input type="hidden" name="draft" value="{{ draft.id }}">{% endif %}<button class="btn" type="submit">Create</button></div></form>{% endif %}
<table class="cards files" id="files"><thead><tr><th>File</th><th>Kind</th><th class="num">Bytes</th><th></th></tr></thead><tbody>
{% for f in files %}<tr data-path="{{ f.path }}"><td data-label="File"><a class="mono" href="/manifests/edit?path={{ f.path | urlencode }}{% if draft %}&amp;draft={{ draft.id | urlencode }}{% endif %}">{{ f.path }}</a>{% if f.draft %} ${badge('f.draft')}{% endif %}</td>
<td data-label="Kind">{{ f.kind }}</td><td data-label="Bytes" class="num">{{ f.size }}</td>
<td data-label="">{% if f.vars %}<a href="/manifests/vars?path={{ f.path | urlencode }}{% if draft %}&amp;draft={{ draft.id | urlencode }}{% endif %}">variables</a>{% endif %}</td></tr>
{% else %}<tr><td colspan="4" class="muted empty">No revision published yet (stead publish DIR, or git push).</td></tr>{% endfor %}
</tbody></table>`,
    style,
  ),
);

export const manifestEditView = view(
  layout(
    `<p class="muted"><a href="/manifests{% if draft %}?draft={{ draft.id | urlencode }}{% endif %}">Manifests</a> / edit</p>
<h1 class="wrap mono" style="font-size:18px">{{ path }}{% if changed %} ${badge('changed')}{% endif %}</h1>
${flash}
${draftBar}
<form method="post" action="/manifests/save" id="edit-form" class="card" data-path="{{ path }}"{% if draft %} data-draft="{{ draft.id }}"{% endif %}>
<input type="hidden" name="path" value="{{ path }}">{% if draft %}<input type="hidden" name="draft" value="{{ draft.id }}">{% endif %}
<label for="content"><strong>Content</strong> <span class="muted">({{ kind }}; checked as you type, and on save)</span></label>
<div class="editor"><pre class="gutter" id="gutter" aria-hidden="true">{{ gutter }}</pre><textarea id="content" name="content" wrap="off" spellcheck="false" autocapitalize="off" autocomplete="off" aria-describedby="checkstate"{% if not canPublish %} readonly{% endif %}>{{ content }}</textarea></div>
<p class="checkstate {{ 'ok' if check.ok else 'bad' }}" id="checkstate" role="status">{% if check.ok %}No problems found.{% else %}{{ check.problems.length + check.elsewhere.length }} problem(s).{% endif %}</p>
${problemList}
{% if canPublish %}<div class="actions"><button class="btn primary" type="submit">Save to draft</button>{% if vars %}<a class="btn" href="/manifests/vars?path={{ path | urlencode }}{% if draft %}&amp;draft={{ draft.id | urlencode }}{% endif %}">Key table</a>{% endif %}
{% if changed and draft %}<button class="btn" type="submit" formaction="/manifests/revert">Undo the draft's change</button>{% endif %}
{% if exists and draft %}<button class="btn danger" type="submit" formaction="/manifests/delete" data-confirm="Delete {{ path }} in the draft?">Delete file</button>{% endif %}</div>
{% else %}<p class="muted">Only an admin or an operator without a scope may change manifests.</p>{% endif %}
</form>
{% if template %}<h2 id="preview-h">Preview</h2>
<form method="get" action="/manifests/edit" class="card form" id="preview-form" aria-labelledby="preview-h">
<input type="hidden" name="path" value="{{ path }}">{% if draft %}<input type="hidden" name="draft" value="{{ draft.id }}">{% endif %}
<label for="host">Render for host</label><div class="row"><select id="host" name="host">{% for h in hosts %}<option value="{{ h }}"{% if h == host %} selected{% endif %}>{{ h }}</option>{% endfor %}</select>
<button class="btn" type="submit" id="preview-btn">Preview</button></div>
<p class="muted" style="font-size:12px">Rendered as the catalog renders it, with the host's variables and last facts{% if draft %}, from the draft (saved text; with scripts, the text in the editor){% endif %}.</p>
<div id="preview" aria-live="polite">{% if preview %}{% if preview.sensitive %}<p class="muted">The result depends on a secret: it is not shown.</p>{% elif preview.ok %}<pre class="preview" tabindex="0">{{ preview.content }}</pre>{% if preview.truncated %}<p class="muted">truncated</p>{% endif %}{% else %}<ul class="problems">{% for p in preview.problems %}<li>{% if p.line %}line {{ p.line }}: {% endif %}{{ p.message }}</li>{% endfor %}</ul>{% endif %}{% endif %}</div>
</form>{% endif %}`,
    style,
  ),
);

export const manifestVarsView = view(
  layout(
    `<p class="muted"><a href="/manifests{% if draft %}?draft={{ draft.id | urlencode }}{% endif %}">Manifests</a> / variables</p>
<h1 class="wrap mono" style="font-size:18px">{{ path }}</h1>
${flash}
${draftBar}
{% if table.hosts %}<form method="get" action="/manifests/vars" class="card form"><input type="hidden" name="path" value="{{ path }}">{% if draft %}<input type="hidden" name="draft" value="{{ draft.id }}">{% endif %}
<label for="vhost">Host</label><div class="row"><select id="vhost" name="host">{% for h in table.hosts %}<option{% if h == table.host %} selected{% endif %}>{{ h }}</option>{% endfor %}</select><button class="btn" type="submit">Show</button></div></form>{% endif %}
<h2>Key table</h2>
<table class="cards vars" id="vars"><thead><tr><th>Key</th><th>Value (YAML)</th></tr></thead><tbody>
{% for r in table.rows %}<tr data-key="{{ r.key }}"><td data-label="Key" class="mono">{{ r.key }}{% if r.line %} <a class="muted" href="/manifests/edit?path={{ path | urlencode }}{% if draft %}&amp;draft={{ draft.id | urlencode }}{% endif %}#content">:{{ r.line }}</a>{% endif %}</td>
<td data-label="Value">{% if r.secret %}<span class="v-redacted mono">{{ r.value }}</span> <span class="muted">(a secret: change it in the YAML)</span>{% elif canPublish %}<form method="post" action="/manifests/vars"><input type="hidden" name="path" value="{{ path }}">{% if draft %}<input type="hidden" name="draft" value="{{ draft.id }}">{% endif %}{% if table.host %}<input type="hidden" name="host" value="{{ table.host }}">{% endif %}<input type="hidden" name="key" value="{{ r.key }}">
<input type="text" name="value" value="{{ r.value }}" aria-label="value of {{ r.key }}" spellcheck="false"><button class="btn" type="submit" name="op" value="set">Save</button><button class="btn danger" type="submit" name="op" value="remove">Remove</button></form>{% else %}<span class="mono">{{ r.value }}</span>{% endif %}</td></tr>
{% else %}<tr><td colspan="2" class="muted empty">No variables yet.</td></tr>{% endfor %}
</tbody></table>
{% if canPublish %}<form method="post" action="/manifests/vars" class="card form" id="add-var"><input type="hidden" name="path" value="{{ path }}">{% if draft %}<input type="hidden" name="draft" value="{{ draft.id }}">{% endif %}{% if table.host %}<input type="hidden" name="host" value="{{ table.host }}">{% endif %}
<strong>Add a key</strong><div class="row"><div><label for="newkey">Key</label><input id="newkey" type="text" name="key" placeholder="app.workers" required maxlength="1000" spellcheck="false"></div>
<div><label for="newvalue">Value (YAML)</label><input id="newvalue" type="text" name="value" placeholder="8" maxlength="65536" spellcheck="false"></div></div>
<button class="btn primary" type="submit" name="op" value="set">Add</button></form>{% endif %}
<h2>YAML</h2>
<pre class="code" id="yaml" tabindex="0">{{ content }}</pre>
<div class="actions"><a class="btn" href="/manifests/edit?path={{ path | urlencode }}{% if draft %}&amp;draft={{ draft.id | urlencode }}{% endif %}">Edit the YAML</a></div>`,
    style,
  ),
);

const policyFields = `<label for="batches">Batches</label>
<input id="batches" type="text" name="batches" value="{{ f.batches }}" maxlength="200" autocomplete="off" spellcheck="false" placeholder="1,10%,+20%,100%" aria-describedby="batches-expr">
<p class="hint" id="batches-expr">Cumulative counts and percentages, "+" steps: <code>1,10%,+20%,100%</code> = one host, 10 %, then 20 % more each time, the rest.</p>
<div class="grid2">
<div><label for="gate">Between batches</label>
<select id="gate" name="gate"><option value="auto"{% if f.gate != "manual" %} selected{% endif %}>go on when healthy (auto)</option><option value="manual"{% if f.gate == "manual" %} selected{% endif %}>wait for me to continue (manual)</option></select></div>
<div><label for="waitBetween">Wait between (seconds)</label><input id="waitBetween" type="number" name="waitBetween" min="0" max="604800" value="{{ f.waitBetween }}" placeholder="0"></div>
<div><label for="maxFailures">Failures tolerated</label><input id="maxFailures" type="text" name="maxFailures" value="{{ f.maxFailures }}" maxlength="12" autocomplete="off" placeholder="0, 3 or 10%"></div></div>`;

export const manifestDraftView = view(
  layout(
    `<p class="muted"><a href="/manifests">Manifests</a> / draft</p>
<h1 class="wrap">Draft <span class="mono">{{ draft.id }}</span> ${badge('draft.state')}</h1>
${flash}
<div class="card"><dl class="meta">
<dt>Base</dt><dd class="mono">{% if draft.base %}<a href="/revisions/{{ draft.base | urlencode }}">{{ draft.base | truncate(12, true, "") }}</a>{% else %}nothing live{% endif %}{% if draft.baseCommit %} · commit {{ draft.baseCommit | truncate(12, true, "") }}{% endif %}</dd>
<dt>Started</dt><dd>{{ created }}</dd>
{% if draft.message %}<dt>Message</dt><dd class="wrap">{{ draft.message }}</dd>{% endif %}
{% if draft.commit %}<dt>Commit</dt><dd class="mono" id="commit">{{ draft.commit }}</dd>{% endif %}
{% if draft.revision %}<dt>Revision</dt><dd class="mono"><a href="/revisions/{{ draft.revision | urlencode }}">{{ draft.revision | truncate(12, true, "") }}</a></dd>{% endif %}
{% if draft.rollout %}<dt>Rollout</dt><dd class="mono"><a href="/rollouts/{{ draft.rollout | urlencode }}">{{ draft.rollout }}</a></dd>{% endif %}
</dl></div>
<h2>Changed files</h2>
<table class="cards" id="changes"><thead><tr><th>File</th><th>Change</th></tr></thead><tbody>
{% for c in draft.changes %}<tr data-path="{{ c.path }}"><td data-label="File"><a class="mono" href="/manifests/edit?path={{ c.path | urlencode }}&amp;draft={{ draft.id | urlencode }}">{{ c.path }}</a></td><td data-label="Change">${badge('c.action')}</td></tr>
{% else %}<tr><td colspan="2" class="muted empty">Nothing changed yet: <a href="/manifests?draft={{ draft.id | urlencode }}">open a file</a>.</td></tr>{% endfor %}
</tbody></table>
{% if draft.state == "open" %}<div class="actions"><a class="btn" href="/manifests?draft={{ draft.id | urlencode }}">Edit files</a>{% if draft.changes.length %}<a class="btn" href="/manifests/drafts/{{ draft.id | urlencode }}/plan" id="plan-link">Plan</a>{% endif %}
<form method="post" action="/manifests/drafts/{{ draft.id | urlencode }}/discard"><button class="btn danger" type="submit" data-confirm="Discard this draft?">Discard</button></form></div>
{% if draft.changes.length and canPublish %}<h2>Commit</h2>
<form method="post" action="/manifests/drafts/{{ draft.id | urlencode }}/commit" class="card stack" id="commit-form">
<label for="message">Message</label><input id="message" type="text" name="message" value="{{ f.message }}" required maxlength="1000" placeholder="web: port 9090">
<fieldset><legend>Then</legend>
<label class="check"><input type="radio" name="publish" value="none"{% if f.publish == "none" %} checked{% endif %}> only commit (publish later)</label>
<label class="check"><input type="radio" name="publish" value="now"{% if f.publish == "now" %} checked{% endif %}> publish to every host at once</label>
<label class="check"><input type="radio" name="publish" value="batches"{% if f.publish == "batches" %} checked{% endif %}> publish as a rollout, in batches (below)</label></fieldset>
<fieldset><legend>Rollout</legend>${policyFields}</fieldset>
<div class="actions"><button class="btn primary" type="submit">Commit</button></div>
<p class="hint">The commit is validated as a push is (every host compiled) and lands in the history <code>git pull</code> shows, with you as its author.</p></form>{% endif %}
{% elif draft.state == "committed" and canPublish %}<h2>Publish</h2>
<form method="post" action="/manifests/drafts/{{ draft.id | urlencode }}/publish" class="card stack" id="publish-form">
<fieldset><legend>Publish as a rollout</legend>${policyFields}</fieldset>
<div class="actions"><button class="btn primary" type="submit" name="mode" value="batches">Publish as rollout</button><button class="btn" type="submit" name="mode" value="now" data-confirm="Make it live on every host at once?">Publish to every host at once</button></div></form>{% endif %}`,
    style,
  ),
);

export const manifestPlanView = view(
  layout(
    `<p class="muted"><a href="/manifests">Manifests</a> / <a class="mono" href="/manifests/drafts/{{ draft.id | urlencode }}">{{ draft.id }}</a> / plan</p>
<h1 class="wrap">Fleet plan of the draft</h1>
${flash}
{% if problems.length %}<div class="card"><p class="err"><strong>The draft has errors that are not one host's:</strong></p><ul class="problems">{% for p in problems %}<li><a class="mono" href="/manifests/edit?path={{ p.file | urlencode }}&amp;draft={{ draft.id | urlencode }}">{{ p.file }}{% if p.line %}:{{ p.line }}{% endif %}</a> {{ p.message }}</li>{% endfor %}</ul></div>
{% else %}<div class="card"><dl class="meta"><dt>Against</dt><dd class="mono">{% if plan.base %}{{ plan.base | truncate(12, true, "") }} (live){% else %}nothing live{% endif %}</dd></dl>
<div class="tiles" id="plan-summary" style="margin-top:.8rem">
<div class="tile pct"><div class="n">{{ plan.summary.hosts }}</div><div class="l">hosts planned</div></div>
<div class="tile drifted"><div class="n" data-changed>{{ plan.summary.changed }}</div><div class="l">hosts change</div></div>
<div class="tile in-sync"><div class="n">{{ plan.summary.unchanged }}</div><div class="l">unchanged</div></div>
<div class="tile failing"><div class="n" data-failed>{{ plan.summary.failed }}</div><div class="l">fail to compile</div></div>
<div class="tile unknown"><div class="n" data-resources>{{ plan.summary.resources }}</div><div class="l">resource changes</div></div></div>
<div class="actions"><a class="btn primary" href="/manifests/drafts/{{ draft.id | urlencode }}#commit-form">Commit…</a></div></div>
<h2>Hosts with changes</h2>
{% if m.total > m.shown %}<p class="muted">The first {{ m.shown }} of {{ m.total }} hosts are shown.</p>{% endif %}
<div id="plan-hosts">{% for h in m.hosts %}<details class="file card" data-host="{{ h.host }}"{% if h.open %} open{% endif %}><summary>${badge('h.status', 'dv')}<strong>{{ h.host }}</strong><span class="muted">{{ h.changes.length }} resource(s)</span></summary><div>
{% for p in h.problems %}<p class="err"><span class="mono">{{ p.where }}</span>: {{ p.message }}</p>{% endfor %}
{% for c in h.changes %}<div class="res" data-resource="{{ c.resource }}"><div class="hd">${badge('c.action', 'dv')}<span class="id mono wrap">{{ c.resource }}</span>{% if c.attributes %}<span class="muted">{{ c.attributes }}</span>{% endif %}</div>
{% if c.sensitive %}<div class="bd muted">depends on a secret: no diff shown</div>{% elif c.lines.length %}<div class="bd"><pre class="diff" tabindex="0">{% for l in c.lines %}<span class="{{ l.kind }}">{{ l.text }}</span>{% endfor %}</pre></div>{% endif %}</div>
{% endfor %}</div></details>
{% else %}<p class="card muted">No host changes.</p>{% endfor %}</div>
{% if m.unchanged.length %}<details class="card"><summary>{{ m.unchanged.length }} host(s) unchanged</summary><div class="hostlist">{% for h in m.unchanged %}<span>{{ h }}</span>{% endfor %}</div></details>{% endif %}{% endif %}`,
    style,
  ),
);
