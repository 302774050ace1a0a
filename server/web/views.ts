/**
 * Console views (nunjucks, autoescaped by ui-env.ts). Every value shown comes from the context
 * and is escaped; nothing from agents or operators is ever template source. Pages carry no
 * inline script (the CSP allows same-origin files only, ADR 0019). A refreshing page updates its
 * <main> in place through /assets/console.js (a meta refresh inside <noscript> without script).
 */
import { view } from './ui-env.js';
import { dashboardStyle, hostDriftBlock } from './dashboard/dashboard-blocks.js';

const style = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--card:#fff;--accent:#0969da;
--in-sync:#1a7f37;--drifted:#bf8700;--failing:#cf222e;--not-reporting:#6e7781;--unknown:#8250df}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:var(--fg);background:var(--bg)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
header{background:#24292f;color:#fff;display:flex;align-items:center;gap:1.5rem;padding:.6rem 1.5rem}
header .brand{font-weight:700;font-size:16px;letter-spacing:.02em;color:#fff}
header nav{display:flex;flex-wrap:wrap;column-gap:1.1rem}header nav a{color:#d0d7de;display:inline-flex;align-items:center;min-height:40px}header nav a.on{color:#fff;font-weight:600}
header .who{margin-left:auto;display:flex;gap:.8rem;align-items:center;color:#d0d7de;font-size:13px}
header button{background:transparent;border:1px solid #57606a;color:#d0d7de;border-radius:6px;padding:.2rem .6rem;min-height:40px;cursor:pointer}
@media (max-width:640px){header{flex-wrap:wrap;gap:0 1rem;padding:.3rem .8rem}header .who{margin-left:0}main{padding:.8rem}}
main{padding:1.2rem 1.5rem;max-width:1280px}
h1{font-size:22px;margin:.2rem 0 1rem}h2{font-size:16px;margin:1.6rem 0 .6rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin-bottom:1rem}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;padding:.4rem .65rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);background:var(--bg)}
tr:hover td{background:#f6f8fa}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.s{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-size:12px;font-weight:600;color:#fff;white-space:nowrap}
.s.in-sync,.s.changed-ok{background:var(--in-sync)}.s.drifted,.s.would-change{background:var(--drifted)}
.s.failing,.s.failed,.s.skipped{background:var(--failing)}.s.not-reporting{background:var(--not-reporting)}
.s.unknown,.s.pending{background:var(--unknown)}.s.changed{background:var(--accent)}.s.approved{background:var(--in-sync)}
.s.revoked,.s.rejected,.s.retired{background:var(--not-reporting)}.s.live{background:var(--accent)}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.8rem;margin-bottom:1rem}
.tile{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--line);border-radius:8px;padding:.7rem .9rem;color:var(--fg)}
.tile:hover{text-decoration:none;border-color:var(--accent)}
.tile .n{font-size:28px;font-weight:700;font-variant-numeric:tabular-nums}.tile .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.tile.in-sync{border-left-color:var(--in-sync)}.tile.drifted{border-left-color:var(--drifted)}.tile.failing{border-left-color:var(--failing)}
.tile.not-reporting{border-left-color:var(--not-reporting)}.tile.unknown{border-left-color:var(--unknown)}.tile.pct{border-left-color:var(--accent)}
svg.chart{width:100%;height:auto;display:block}svg.chart text{font-size:11px;fill:var(--muted)}
svg.chart .grid{stroke:#eaeef2}svg.chart .axis{stroke:var(--line)}
svg.chart rect.in-sync{fill:var(--in-sync)}svg.chart rect.drifted{fill:var(--drifted)}svg.chart rect.failing{fill:var(--failing)}
svg.chart rect.not-reporting{fill:var(--not-reporting)}svg.chart rect.unknown{fill:var(--unknown)}
.legend span{margin-right:1rem;font-size:12px;color:var(--muted)}.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:.3rem;vertical-align:-1px}
.legend i.in-sync{background:var(--in-sync)}.legend i.drifted{background:var(--drifted)}.legend i.failing{background:var(--failing)}
.legend i.not-reporting{background:var(--not-reporting)}.legend i.unknown{background:var(--unknown)}
.muted{color:var(--muted)}code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.filters a{margin-right:.8rem}.filters a.on{font-weight:700;color:var(--fg)}
.meta{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}.meta dt{color:var(--muted)}.meta dd{margin:0}
.res{border:1px solid var(--line);border-left:5px solid var(--line);border-radius:8px;background:var(--card);margin-bottom:.8rem}
.res.failed,.res.skipped{border-left-color:var(--failing)}.res.changed{border-left-color:var(--accent)}.res.would-change{border-left-color:var(--drifted)}
.res .hd{display:flex;gap:.6rem;align-items:center;padding:.55rem .8rem;border-bottom:1px solid var(--line)}
.res .bd{padding:.55rem .8rem}.res .id{font-weight:600}
.drift{color:var(--drifted);font-weight:600;font-size:12px}
.v-absent{color:var(--muted);font-style:italic}.v-redacted{background:#fff8c5;border-radius:4px;padding:0 .25rem}
pre.diff{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:.5rem 0;overflow:auto;margin:.5rem 0 0}
pre.diff span{display:block;padding:0 .7rem;white-space:pre}
pre.diff .add{background:#dafbe1}pre.diff .del{background:#ffebe9}pre.diff .hunk{color:#8250df;background:#f3eefe}pre.diff .head{color:var(--muted);font-weight:600}
.err{color:var(--failing)}.flash{padding:.6rem .9rem;border-radius:6px;margin-bottom:1rem;background:#dafbe1;border:1px solid #aceebb}
.flash.bad{background:#ffebe9;border-color:#ffcecb}
form.inline{display:inline}button.act{border:1px solid var(--line);background:var(--card);border-radius:6px;padding:.25rem .7rem;cursor:pointer}
button.approve{background:var(--in-sync);border-color:var(--in-sync);color:#fff}button.reject{color:var(--failing)}
.login{max-width:380px;margin:10vh auto}.login input{width:100%;padding:.45rem;margin:.4rem 0 .8rem;border:1px solid var(--line);border-radius:6px}
.login button{background:var(--accent);color:#fff;border:0;border-radius:6px;padding:.5rem 1rem;cursor:pointer}
.bar{display:flex;height:14px;border-radius:4px;overflow:hidden;background:#eaeef2;min-width:160px}
.bar i{display:block;height:100%}.bar i.in-sync{background:var(--in-sync)}.bar i.drifted{background:var(--drifted)}.bar i.failing{background:var(--failing)}
.bar i.not-reporting{background:var(--not-reporting)}.bar i.unknown{background:var(--unknown)}
.strip{display:flex;gap:3px;margin:.2rem 0 .6rem}.strip a{display:block;width:14px;height:22px;border-radius:3px;background:var(--line)}
.strip a.in-sync{background:var(--in-sync)}.strip a.changed{background:var(--accent)}.strip a.would-change{background:var(--drifted)}.strip a.failed{background:var(--failing)}
.strip a.drift{box-shadow:inset 0 -5px 0 var(--drifted)}
footer{color:var(--muted);font-size:12px;margin-top:1.5rem}
header{flex-wrap:wrap}header nav{display:flex;flex-wrap:wrap;row-gap:.2rem}
.scroll{overflow-x:auto;max-width:100%}pre.code{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:.6rem .8rem;overflow:auto;max-width:100%;max-height:70vh;margin:.5rem 0;white-space:pre}
.form label{display:block;font-weight:600;margin:.7rem 0 .2rem}.form input[type=text],.form select,.form textarea{width:100%;max-width:100%;padding:.4rem;border:1px solid var(--line);border-radius:6px;font:inherit}
.form textarea{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;min-height:18rem}
.form .row{display:flex;flex-wrap:wrap;gap:.4rem;margin-bottom:.4rem}.form .row>*{flex:1 1 8rem;min-width:0}
button.primary{background:var(--accent);color:#fff;border:0;border-radius:6px;padding:.45rem 1rem;cursor:pointer}
.tags a,.tag{display:inline-block;background:#ddf4ff;color:var(--accent);border-radius:1rem;padding:0 .5rem;margin:0 .25rem .25rem 0;font-size:12px}.tags a.on{background:var(--accent);color:#fff}
.wrap{overflow-wrap:anywhere}
@media (max-width:640px){header{padding:.6rem .8rem;gap:.5rem 1rem}header .who{margin-left:0}main{padding:1rem .8rem}.meta{grid-template-columns:1fr}.hide-narrow{display:none}}
@media (max-width:600px){header{flex-wrap:wrap;gap:.4rem 1rem;padding:.6rem .8rem}header .who{margin-left:0}main{padding:1rem .8rem}}
header button.menu{display:none}
@media (max-width:640px){main table:not(.cards){display:block;overflow-x:auto;max-width:100%}
button,select,input:not([type=checkbox]):not([type=radio]),summary,a.btn{min-height:40px}
header.js-nav button.menu{display:inline-flex;align-items:center;margin-left:auto}header.js-nav nav{display:none;width:100%}
header.js-nav.open nav{display:grid;grid-template-columns:1fr 1fr;column-gap:1rem}header.js-nav .who{width:100%;justify-content:space-between}}
`;

/** The page frame (header, nav, footer) around a view's body; `extraStyle` is appended to the stylesheet. */
export const layout = (body: string, extraStyle = ''): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{% if title %}{{ title }} · {% endif %}Stead</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
{% if refresh %}<noscript><meta http-equiv="refresh" content="{{ refresh }}"></noscript>{% endif %}
<style>${style}${extraStyle}</style>
{% for s in styles %}{% if s is string %}<link rel="stylesheet" href="/assets/{{ s }}">{% endif %}{% endfor %}
<script src="/assets/console.js" defer></script>{% for s in scripts %}{% if s is string %}<script src="/assets/{{ s }}" defer></script>{% endif %}{% endfor %}</head><body{% if refresh and not live %} data-refresh="{{ refresh }}"{% endif %}>
{% if operator %}<header><a class="brand" href="/">Stead</a><button class="menu" type="button" aria-expanded="false" aria-controls="nav">Menu</button><nav id="nav" aria-label="Console">
<a href="/"{% if nav == "overview" %} class="on"{% endif %}>Overview</a>
<a href="/enrollment"{% if nav == "enrollment" %} class="on"{% endif %}>Enrollment{% if pendingCount %} <span class="s pending">{{ pendingCount }}</span>{% endif %}</a>
<a href="/inventory"{% if nav == "inventory" %} class="on"{% endif %}>Inventory</a>
<a href="/software"{% if nav == "software" %} class="on"{% endif %}>Software</a>
<a href="/services"{% if nav == "services" %} class="on"{% endif %}>Services</a>
<a href="/revisions"{% if nav == "revisions" %} class="on"{% endif %}>Revisions</a>
<a href="/rollouts"{% if nav == "rollouts" %} class="on"{% endif %}>Rollouts</a>
<a href="/schedules"{% if nav == "schedules" %} class="on"{% endif %}>Schedules</a>
<a href="/scripts"{% if nav == "scripts" %} class="on"{% endif %}>Scripts</a>
<a href="/accounts"{% if nav == "accounts" %} class="on"{% endif %}>Accounts</a>
<a href="/jobs"{% if nav == "jobs" %} class="on"{% endif %}>Jobs</a>
<a href="/plans"{% if nav == "plans" %} class="on"{% endif %}>Plans</a>
<a href="/manifests"{% if nav == "manifests" %} class="on"{% endif %}>Manifests</a>
<a href="/audit"{% if nav == "audit" %} class="on"{% endif %}>Audit</a>
{% if role == "admin" %}<a href="/users"{% if nav == "users" %} class="on"{% endif %}>Users</a>{% endif %}
</nav><div class="who"><a href="/account" style="color:inherit">{{ operator }} ({{ role }})</a>
<form class="inline" method="post" action="/logout"><button type="submit">Log out</button></form></div></header>{% endif %}
<main>${body}
{% if operator %}<footer>{% if refreshable %}{% if refresh %}Refreshes every {{ refresh }} s · <a href="?{{ pauseQuery }}">pause</a>{% else %}Auto-refresh paused · <a href="?{{ resumeQuery }}">resume</a>{% endif %} · {% endif %}{{ now }} · <a href="/blobs"{% if nav == "blobs" %} aria-current="page"{% endif %}>Blob storage</a></footer>{% endif %}
</main></body></html>`;

export const loginView = view(
  layout(`<div class="login card"><h1>Stead console</h1>
{% if error %}<p class="flash bad" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="/login" id="password-login">
<label for="user">User name</label>
<input id="user" type="text" name="user" autocomplete="username" required autofocus maxlength="64" value="{{ user }}">
<label for="password">Password</label>
<input id="password" type="password" name="password" autocomplete="current-password" required maxlength="1024">
<button type="submit">Log in</button></form>
<h2>Or with an operator token</h2>
<form method="post" action="/login" id="token-login">
<label for="token">Operator token</label>
<input id="token" type="password" name="token" autocomplete="off" required>
<button type="submit">Log in with the token</button></form>
<p class="muted">The admin token was written to <code>&lt;data-dir&gt;/admin-token</code> at first start.</p></div>`),
);

export const errorView = view(layout(`<h1>{{ heading }}</h1><p class="card">{{ message }}</p><p><a href="/">Back to the overview</a></p>`));

const valueCell = `<span class="v-{{ v.kind }}">{{ v.text }}</span>`;

const resourceBlock = `<div class="res {{ r.state }}" data-resource="{{ r.id }}">
<div class="hd"><span class="s {{ r.state }}">{{ r.state }}</span><span class="id mono">{{ r.id }}</span>
{% if r.corrective %}<span class="drift">drift</span>{% endif %}{% if r.refreshed %}<span class="muted">refreshed</span>{% endif %}
<span class="muted" style="margin-left:auto">{% if r.durationMs is defined %}{{ r.durationMs }} ms{% else %}<span title="not recorded: summarised in a compact report">–</span>{% endif %}</span></div>
{% if r.error or r.changes.length or r.diff.length or r.diffTruncated or r.output %}<div class="bd">
{% if r.error %}<p class="err"><b>{{ r.error.code }}</b>: {{ r.error.message }}</p>{% endif %}
{% if r.changes.length %}<div class="scroll"><table class="changes"><thead><tr><th>Property</th><th>Before</th><th>After</th><th></th></tr></thead><tbody>
{% for c in r.changes %}<tr><td class="mono">{{ c.property }}</td>{% set v = c.before %}<td class="mono">${valueCell}</td>{% set v = c.after %}<td class="mono">${valueCell}</td>
<td>{% if c.corrective %}<span class="drift">drift</span>{% elif c.routine %}<span class="muted">routine (runs every run)</span>{% else %}<span class="muted">desired change</span>{% endif %}</td></tr>
{% endfor %}</tbody></table></div>{% endif %}
{% if r.diff.length %}<pre class="diff">{% for l in r.diff %}<span class="{{ l.kind }}">{{ l.text }}</span>{% endfor %}</pre>{% endif %}{% if r.diffTruncated %}<p class="muted">diff truncated (the whole report: GET /api/v1/hosts/&lt;host&gt;/reports/&lt;run&gt;)</p>{% endif %}
{% if r.output %}<pre class="diff"><span>{{ r.output }}</span></pre>{% endif %}
</div>{% endif %}</div>`;

/** Page links of a large run (resources are shown runPageSize at a time). */
const pager = `{% if run.pages > 1 %}<p class="pager" data-page="{{ run.page }}" data-pages="{{ run.pages }}">Resources {{ run.first }}–{{ run.last }} of {{ run.total }} ·
{% if run.page > 1 %}<a rel="prev" href="?page={{ run.page - 1 }}&amp;refresh=0">previous</a>{% else %}<span class="muted">previous</span>{% endif %} ·
page {{ run.page }} of {{ run.pages }} ·
{% if run.page < run.pages %}<a rel="next" href="?page={{ run.page + 1 }}&amp;refresh=0">next</a>{% else %}<span class="muted">next</span>{% endif %}</p>{% endif %}`;

const runBlock = `{% if run %}<div class="card"><dl class="meta">
<dt>Run</dt><dd class="mono">{{ run.runId }}</dd>
<dt>Outcome</dt><dd><span class="s {{ run.outcome }}">{{ run.outcome }}</span> ({{ run.mode }})</dd>
<dt>Started</dt><dd>{{ run.startedAt }} · {{ run.durationMs }} ms</dd>
<dt>Revision</dt><dd class="mono">{{ run.revision }}</dd>
<dt>Resources</dt><dd>{{ run.counts.total }} total · {{ run.counts.inSync }} in sync · {{ run.counts.changed }} changed · {{ run.counts.wouldChange }} would change · {{ run.counts.failed }} failed · {{ run.counts.skipped }} skipped · {{ run.counts.corrective }} drifted</dd>
{% if run.error %}<dt>Error</dt><dd class="err">{{ run.error }}</dd>{% endif %}
</dl></div>
${pager}
{% for r in run.attention %}${resourceBlock}
{% endfor %}
{% if run.inSync.length %}<details class="card"><summary>{{ run.inSync.length }} resource(s) in sync</summary><table><tbody>
{% for r in run.inSync %}<tr><td class="mono">{{ r.id }}</td><td class="num muted">{% if r.durationMs is defined %}{{ r.durationMs }} ms{% else %}<span title="time not recorded: summarised in a compact report">–</span>{% endif %}</td></tr>{% endfor %}</tbody></table></details>{% endif %}
${pager}
{% else %}<p class="card muted">No run report stored for this host.</p>{% endif %}`;

export const hostView = view(
  layout(`<p class="muted"><a href="/">Overview</a> / host</p>
<h1>{{ host }} <span class="s {{ state }}">{{ state }}</span></h1>
<div class="card"><dl class="meta">
<dt>Groups</dt><dd>{{ groups | join(", ") or "—" }}{% if not inInventory %} <span class="muted">(not in the live revision's inventory)</span>{% endif %}</dd>
<dt>Enrollment</dt><dd>{% if enrollment %}<span class="s {{ enrollment }}">{{ enrollment }}</span>{% else %}—{% endif %}</dd>
<dt>Last report</dt><dd>{{ lastRunAt or "never" }}</dd>
<dt>Facts updated</dt><dd>{{ factsUpdatedAt or "never" }}</dd>
</dl></div>
<h2>{% if viewingRun %}Run {{ run.runId }}{% else %}Last run{% endif %}</h2>
${runBlock}
<h2>Recent runs</h2>
{% if runs.length %}<div class="strip" id="run-strip" aria-label="recent runs, oldest first">{% for r in runs | reverse %}<a class="{{ r.outcome }}{% if r.corrective %} drift{% endif %}" href="/hosts/{{ host | urlencode }}/runs/{{ r.runId | urlencode }}" title="{{ r.startedAt }}: {{ r.outcome }}{% if r.corrective %}, {{ r.corrective }} drifted{% endif %}"></a>{% endfor %}</div>{% endif %}
<div class="scroll"><table id="runs"><thead><tr><th>Started</th><th>Run</th><th>Mode</th><th>Outcome</th><th class="num">Drifted</th><th class="num">Changed</th><th class="num">Failed</th><th>Revision</th></tr></thead><tbody>
{% for r in runs %}<tr><td>{{ r.startedAt }}</td><td class="mono"><a href="/hosts/{{ host | urlencode }}/runs/{{ r.runId | urlencode }}">{{ r.runId }}</a></td><td>{{ r.mode }}</td>
<td><span class="s {{ r.outcome }}">{{ r.outcome }}</span></td><td class="num">{{ r.corrective }}</td><td class="num">{{ r.changed }}</td><td class="num">{{ r.failed }}</td><td class="mono">{{ r.revision }}</td></tr>
{% else %}<tr><td colspan="8" class="muted">No runs.</td></tr>{% endfor %}</tbody></table></div>
${hostDriftBlock}
<h2>Facts</h2>
<div class="scroll"><table id="facts"><thead><tr><th>Fact</th><th>Value</th></tr></thead><tbody>
{% for f in facts %}<tr><td class="mono">{{ f.key }}</td><td class="mono">{{ f.value }}</td></tr>
{% else %}<tr><td colspan="2" class="muted">The agent has not sent facts.</td></tr>{% endfor %}</tbody></table></div>`, dashboardStyle),
);

export const enrollmentView = view(
  layout(`<h1>Enrollment</h1>
{% if flash %}<p class="flash" role="status">{{ flash }}</p>{% endif %}
{% if error %}<p class="flash bad" role="alert">{{ error }}</p>{% endif %}
<h2>Pending keys</h2>
<table id="pending"><thead><tr><th>Host</th><th>Host status</th><th>Key fingerprint</th><th>Requested</th><th></th></tr></thead><tbody>
{% for p in pending %}<tr data-host="{{ p.host }}"><td>{{ p.host }}</td><td><span class="s {{ p.status }}">{{ p.status }}</span>{% if p.rotation %} <span class="muted">(key rotation)</span>{% endif %}</td>
<td class="mono">{{ p.fingerprint }}</td><td>{{ p.createdAt }}</td>
<td>{% if canWrite %}<form class="inline" method="post" action="/enrollment/approve"><input type="hidden" name="host" value="{{ p.host }}"><input type="hidden" name="fingerprint" value="{{ p.fingerprint }}"><button class="act approve" type="submit">Approve</button></form>
<form class="inline" method="post" action="/enrollment/reject"><input type="hidden" name="host" value="{{ p.host }}"><input type="hidden" name="fingerprint" value="{{ p.fingerprint }}"><button class="act reject" type="submit">Reject</button></form>{% else %}<span class="muted">read-only</span>{% endif %}</td></tr>
{% else %}<tr><td colspan="5" class="muted">No agent is waiting for approval.</td></tr>{% endfor %}</tbody></table>
<h2>All agents</h2>
<table id="agents"><thead><tr><th>Host</th><th>Status</th><th>Keys</th></tr></thead><tbody>
{% for a in agents %}<tr><td><a href="/hosts/{{ a.host | urlencode }}">{{ a.host }}</a></td><td><span class="s {{ a.status }}">{{ a.status }}</span></td>
<td>{% for k in a.keys %}<div><span class="s {{ k.status }}">{{ k.status }}</span> <span class="mono">{{ k.fingerprint }}</span>{% if k.via %} <span class="muted">via {{ k.via }}</span>{% endif %}
{% if canWrite and (k.status != 'approved' or a.status == 'revoked') %}<form class="inline" method="post" action="/enrollment/delete"><input type="hidden" name="host" value="{{ a.host }}"><input type="hidden" name="fingerprint" value="{{ k.fingerprint }}"><button class="act reject" type="submit">Delete</button></form>{% endif %}</div>{% endfor %}</td></tr>
{% else %}<tr><td colspan="3" class="muted">No agent has enrolled.</td></tr>{% endfor %}</tbody></table>`),
);

export const revisionsView = view(
  layout(`<h1>Revisions</h1>
<table id="revisions"><thead><tr><th>Revision</th><th></th><th>Published</th><th>By</th><th class="num">Files</th><th>Message</th></tr></thead><tbody>
{% for r in revisions %}<tr{% if r.live %} data-live{% endif %}><td class="mono">{{ r.id }}</td><td>{% if r.live %}<span class="s live">live</span>{% endif %}</td><td>{{ r.createdAt }}</td><td>{{ r.createdBy }}</td><td class="num">{{ r.fileCount }}</td><td>{{ r.message or "" }}</td></tr>
{% else %}<tr><td colspan="6" class="muted">No revision published yet.</td></tr>{% endfor %}</tbody></table>`),
);
