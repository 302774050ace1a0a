/**
 * The inventory pages' templates (nunjucks, autoescaped by ui-env.ts; data only, never template
 * source): the host list with its filter box and pages, one host (the record compared with the
 * store, the repository and the agent, lifecycle, groups, what runs on it, its software), and the
 * import page (dry run, then apply). No script (the CSP forbids it). Every page fits 390 px:
 * tables turn into cards below 700 px (job-views' `table.cards`), long values wrap.
 */
import { view } from '../ui-env.js';
import { layout } from '../views.js';
import { jobStyle } from '../jobs/job-views.js';

export const inventoryStyle = `
.s.lc-online{background:var(--in-sync)}.s.lc-deploying,.s.lc-standby{background:var(--unknown)}.s.lc-maintenance{background:var(--drifted)}
.s.lc-faulty{background:var(--failing)}.s.lc-retired{background:var(--not-reporting)}
.s.pk-up-to-date{background:var(--in-sync)}.s.pk-outdated{background:var(--drifted)}.s.pk-missing{background:var(--failing)}.s.pk-ahead{background:var(--accent)}.s.pk-unknown{background:var(--unknown)}
.s.sv-running{background:var(--in-sync)}.s.sv-stopped{background:var(--not-reporting)}.s.sv-failed{background:var(--failing)}.s.sv-restarting{background:var(--accent)}.s.sv-unknown{background:var(--unknown)}
.flag{display:inline-block;color:var(--failing);font-weight:700;font-size:12px}
.srcs{font-size:12px;color:var(--muted)}
td.nw{overflow-wrap:normal;white-space:nowrap}
@media (max-width:700px){table.cards td.nil{display:none}}
form.filter{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin:0 0 .8rem}
form.filter>div{flex:1 1 16rem;min-width:0}form.filter label{display:block;font-weight:600;margin:0 0 .2rem}
form.filter input,form.filter select{display:block;width:100%;min-height:40px;padding:.4rem .6rem;border:1px solid var(--line);border-radius:6px;font:inherit;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
form.stack input[type=file]{display:block;width:100%;min-height:40px;padding:.45rem .6rem;border:1px dashed var(--line);border-radius:6px;background:#fff;font:inherit}
.hint{font-size:12px;color:var(--muted);overflow-wrap:anywhere}
.two{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,26rem),1fr));gap:0 1rem}.two>*{min-width:0}
.alertcard{border-left:5px solid var(--failing)}
tr.mismatch td{background:#fff8f7}
.vbars{list-style:none;margin:0;padding:0}.vbars li{display:grid;grid-template-columns:minmax(5rem,10rem) 1fr 3.5rem;gap:.5rem;align-items:center;margin:.2rem 0;min-width:0}
.vbars .v{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;overflow-wrap:anywhere}
.vbars .b{height:14px;border-radius:3px;background:#eaeef2;overflow:hidden}.vbars .b i{display:block;height:100%;background:var(--unknown)}
.vbars .b i.up-to-date{background:var(--in-sync)}.vbars .b i.outdated{background:var(--drifted)}.vbars .b i.missing{background:var(--failing)}.vbars .b i.ahead{background:var(--accent)}
.vbars .n{text-align:right;font-variant-numeric:tabular-nums}
form.rowact{display:flex;flex-wrap:wrap;gap:.3rem;margin:0}@media (min-width:701px){form.rowact{flex-wrap:nowrap}}form.rowact .btn{min-height:40px;padding:0 .6rem;font-weight:500}
`;

const style = jobStyle + inventoryStyle;

export const lifecycleBadge = (v: string): string => `<span class="s lc-{{ ${v} }}">{{ ${v} }}</span>`;
export const packageBadge = (v: string): string => `<span class="s pk-{{ ${v} }}">{{ ${v} }}</span>`;
export const serviceBadge = (v: string): string => `<span class="s sv-{{ ${v} }}">{{ ${v} }}</span>`;

const flash = `{% if flash %}<p class="flash" role="status">{{ flash }}</p>{% endif %}
{% if error %}<p class="flash bad" role="alert">{{ error }}</p>{% endif %}`;

export const inventorySubnav = `<div class="actions"><a class="btn" href="/inventory">Hosts</a><a class="btn" href="/inventory/import">Import</a><a class="btn" href="/inventory/export?format=csv" download>Export CSV</a><a class="btn" href="/software">Software</a><a class="btn" href="/services">Services</a></div>`;

export const unavailableView = view(layout(`<h1>{{ heading }}</h1><p class="flash bad" role="alert">{{ message }}</p>${inventorySubnav}`, style));

export const hostListView = view(
  layout(
    `<h1>Inventory</h1>
${flash}
${inventorySubnav}
<form class="filter card" method="get" action="/inventory" role="search">
<div><label for="filter">Filter</label><input id="filter" type="text" name="filter" value="{{ filter }}" maxlength="4096" placeholder="idc=sz and tag:canary and lifecycle=online" aria-describedby="filter-hint" spellcheck="false" autocapitalize="off"></div>
<button class="btn primary" type="submit">Search</button>{% if filter %}<a class="btn" href="/inventory">Clear</a>{% endif %}
<p id="filter-hint" class="hint" style="flex-basis:100%;margin:0">Fields: hostname, ip, idc, rack, business (pay/*), product, module, kind, parent, lifecycle, set, env, source, attr.NAME, fact.PATH; <code>tag:NAME</code>, <code>group:NAME</code>, <code>FIELD exists</code>; combine with and, or, not, ( ).</p>
</form>
<p id="total" class="muted" data-total="{{ total }}">{{ total }} host(s){% if filter %} match{% endif %}{% if after %} · after <span class="mono">{{ after }}</span>{% endif %}</p>
<table id="inventory-hosts" class="cards"><thead><tr><th>Host</th><th>Lifecycle</th><th>Addresses</th><th>IDC / rack</th><th>Business</th><th>Kind</th><th>Tags</th><th>OS</th><th>Source</th></tr></thead><tbody>
{% for h in hosts %}<tr data-host="{{ h.hostname }}">
<td data-label="Host"><a href="/inventory/hosts/{{ h.hostname | urlencode }}">{{ h.hostname }}</a>{% if h.mismatches %} <span class="flag" title="the agent contradicts the record">⚠ {{ h.mismatches }} mismatch{% if h.mismatches > 1 %}es{% endif %}</span>{% endif %}</td>
<td data-label="Lifecycle">${lifecycleBadge('h.lifecycle')}</td>
<td data-label="Addresses" class="mono">{{ h.ips }}</td>
<td data-label="IDC / rack">{{ h.idc }}{% if h.rack %} / {{ h.rack }}{% endif %}</td>
<td data-label="Business">{{ h.business }}</td>
<td data-label="Kind">{{ h.kind }}</td>
<td data-label="Tags"><span class="tags">{% for t in h.tags %}<span class="tag">{{ t }}</span>{% endfor %}</span></td>
<td data-label="OS">{{ h.os }}</td>
<td data-label="Source" class="srcs">{{ h.source }}</td></tr>
{% else %}<tr><td colspan="9" class="muted empty">{% if filter %}No host matches that filter.{% else %}No hosts yet: import a CMDB file, publish an inventory, or enroll an agent.{% endif %}</td></tr>{% endfor %}
</tbody></table>
<nav class="pager" aria-label="host pages">{% if after %}<a class="btn" href="/inventory{% if filter %}?filter={{ filter | urlencode }}{% endif %}">First page</a>{% endif %}{% if next %}<a class="btn" rel="next" href="/inventory?{% if filter %}filter={{ filter | urlencode }}&amp;{% endif %}after={{ next | urlencode }}">Next page</a>{% endif %}</nav>`,
    style,
  ),
);

const softwareBlock = `{% if m.packages %}<h2 id="packages-h">Packages{% if m.outdated %} <span class="s pk-outdated">{{ m.outdated }} not up to date</span>{% endif %}</h2>
<table id="host-packages" class="cards" aria-labelledby="packages-h"><thead><tr><th>Package</th><th>Manager</th><th>Installed</th><th>Approved</th><th>Status</th></tr></thead><tbody>
{% for p in m.packages %}<tr data-package="{{ p.name }}" data-status="{{ p.status }}"><td data-label="Package"><a href="/software/packages/{{ p.manager | urlencode }}/{{ p.name | urlencode }}">{{ p.name }}</a></td><td data-label="Manager">{{ p.manager }}</td>
<td data-label="Installed" class="mono">{{ p.installed if p.installed != null else "not installed" }}{% if p.arch %} <span class="muted">{{ p.arch }}</span>{% endif %}</td><td data-label="Approved" class="mono">{{ p.approved or "—" }}</td><td data-label="Status">${packageBadge('p.status')}</td></tr>
{% else %}<tr><td colspan="5" class="muted empty">No tracked package reported on this host.</td></tr>{% endfor %}</tbody></table>{% endif %}
{% if m.services %}<h2 id="services-h">Services{% if m.drift %} <span class="s drifted">{{ m.drift }} drifted</span>{% endif %}</h2>
<table id="host-services" class="cards" aria-labelledby="services-h"><thead><tr><th>Service</th><th>State</th><th>PID</th><th>User</th><th>Up since</th><th>Checked</th></tr></thead><tbody>
{% for s in m.services %}<tr data-service="{{ s.name }}" data-state="{{ s.state }}"{% if s.drift %} data-drift{% endif %}><td data-label="Service"><a href="/services?name={{ s.name | urlencode }}">{{ s.name }}</a></td>
<td data-label="State">${serviceBadge('s.state')}{% if s.drift %} <span class="drift">drift</span>{% endif %}</td><td data-label="PID" class="mono">{{ s.pid if s.pid != null else "—" }}</td>
<td data-label="User">{{ s.user or "—" }}</td><td data-label="Up since">{{ s.startedAt or "—" }}</td><td data-label="Checked">{{ s.checkedAt or "—" }}</td></tr>
{% else %}<tr><td colspan="6" class="muted empty">No tracked service reported on this host.</td></tr>{% endfor %}</tbody></table>{% endif %}`;

const ranOnTable = (id: string): string => `<table id="${id}" class="cards"><thead><tr><th>Name</th><th>Kind</th><th>State</th><th>Source</th></tr></thead><tbody>
{% for v in m.ranOn %}<tr data-name="{{ v.name }}"><td data-label="Name">{% if v.host %}<a href="/inventory/hosts/{{ v.host | urlencode }}">{{ v.name }}</a>{% else %}{{ v.name }}{% endif %}</td><td data-label="Kind">{{ v.kind }}</td><td data-label="State">{{ v.state or "—" }}</td><td data-label="Source">{{ v.source }}</td></tr>
{% else %}<tr><td colspan="4" class="muted empty">Nothing reported running on this host.</td></tr>{% endfor %}</tbody></table>`;

export const inventoryHostView = view(
  layout(
    `<p class="muted"><a href="/inventory">Inventory</a> / host</p>
<h1 class="wrap">{{ m.d.host }} ${lifecycleBadge('m.lifecycle')}</h1>
${flash}
<div class="actions"><a class="btn" href="/hosts/{{ m.d.host | urlencode }}">Compliance and runs</a><a class="btn" href="/inventory">All hosts</a></div>
{% if m.faulty %}<section class="card alertcard" id="ran-on" aria-labelledby="ran-on-h" role="region"><h2 id="ran-on-h" style="margin-top:0">This host is faulty: what ran on it</h2>
{% if m.ranOn.length %}<p>{{ m.ranOn.length }} virtual resource(s) and child host(s) ran on {{ m.d.host }}{% if m.d.virtualsUpdatedAt %} (as last reported at {{ m.d.virtualsUpdatedAt }}){% endif %}:</p>${ranOnTable('ran-on-list')}
{% else %}<p class="muted">The agent reported nothing running on it and no inventory host names it as parent.</p>{% endif %}</section>{% endif %}
{% if m.d.mismatches.length %}<div class="card alertcard" id="mismatches" role="note" aria-label="mismatches"><strong>⚠ The agent contradicts the record</strong><ul>
{% for x in m.d.mismatches %}<li data-field="{{ x.field }}"><b>{{ x.field }}</b>: recorded <span class="mono">{{ x.recorded }}</span>, reported <span class="mono">{{ x.reported }}</span> — {{ x.message }}</li>{% endfor %}</ul></div>{% endif %}
<div class="two"><section aria-labelledby="record-h"><h2 id="record-h">Record <span class="srcs">source: {{ m.d.source }}</span></h2>
<table id="record" class="cards"><thead><tr><th>Field</th><th>Effective</th><th>Store</th><th>Repository</th><th>Agent</th></tr></thead><tbody>
{% for f in m.fields %}<tr data-field="{{ f.field }}"{% if f.mismatch %} class="mismatch" data-mismatch{% endif %}><td data-label="Field" class="mono nw">{{ f.field }}</td>
<td data-label="Effective" class="mono">{{ f.effective or "—" }}{% if f.from == "both" %} <span class="srcs">(merged)</span>{% endif %}</td>
<td data-label="Store" class="mono{% if not f.stored %} nil{% endif %}">{{ f.stored or "—" }}</td><td data-label="Repository" class="mono{% if not f.repository %} nil{% endif %}">{{ f.repository or "—" }}</td>
<td data-label="Agent"{% if not f.mismatch %} class="nil"{% endif %}>{% if f.mismatch %}<span class="flag" title="{{ f.mismatch }}">⚠ {{ f.reported }}</span>{% else %}<span class="muted">—</span>{% endif %}</td></tr>
{% endfor %}</tbody></table>
<p class="hint">The store wins per field; tags are the union; attributes merge per key (the store winning); set, env, roles and vars come from the repository only.</p></section>
<section aria-labelledby="facts-h"><h2 id="facts-h">Agent facts</h2><p class="muted">{% if m.d.factsUpdatedAt %}Reported {{ m.d.factsUpdatedAt }}{% else %}The agent has not sent facts.{% endif %}</p>
{% if m.facts.length %}<div class="box card" style="max-height:28rem;overflow:auto;padding:0"><table id="facts"><tbody>
{% for f in m.facts %}<tr><td class="mono">{{ f.key }}</td><td class="mono">{{ f.value }}</td></tr>{% endfor %}</tbody></table></div>{% if m.factsTruncated %}<p class="hint">Only the first facts are shown.</p>{% endif %}{% endif %}</section></div>
<div class="two"><section aria-labelledby="lifecycle-h"><h2 id="lifecycle-h">Lifecycle</h2>
{% if canWrite %}<form class="stack card" method="post" action="/inventory/hosts/{{ m.d.host | urlencode }}/lifecycle" aria-label="change the lifecycle">
<label for="lifecycle">New state</label><select id="lifecycle" name="lifecycle">{% for s in states %}<option value="{{ s }}"{% if s == m.lifecycle %} selected{% endif %}>{{ s }}</option>{% endfor %}</select>
<label for="reason">Reason</label><input id="reason" type="text" name="reason" maxlength="1024" placeholder="disk replaced, back in service">
<p class="hint">Only online hosts take part in jobs and rollouts unless a launch includes inactive hosts.</p>
<div class="actions"><button class="btn primary" type="submit">Change lifecycle</button></div></form>{% endif %}
<table id="lifecycle-history" class="cards"><thead><tr><th>When</th><th>From</th><th>To</th><th>By</th><th>Reason</th></tr></thead><tbody>
{% for e in m.history %}<tr><td data-label="When">{{ e.at }}</td><td data-label="From">{% if e.from %}${lifecycleBadge('e.from')}{% else %}<span class="muted">created</span>{% endif %}</td><td data-label="To">${lifecycleBadge('e.to')}</td><td data-label="By" class="nw">{{ e.by }}</td><td data-label="Reason" class="wrap">{{ e.reason }}{% if e.planJob %} <a href="/jobs/{{ e.planJob | urlencode }}">plan job</a>{% endif %}</td></tr>
{% else %}<tr><td colspan="5" class="muted empty">No lifecycle change recorded.</td></tr>{% endfor %}</tbody></table></section>
<section aria-labelledby="groups-h"><h2 id="groups-h">Groups</h2>
<table id="groups" class="cards"><thead><tr><th>Group</th><th>Source</th><th>Why</th></tr></thead><tbody>
{% for g in m.d.groups %}<tr data-group="{{ g.group }}"><td data-label="Group">{{ g.group }}</td><td data-label="Source">{{ g.source }}</td><td data-label="Why" class="wrap">{{ g.why }}</td></tr>
{% else %}<tr><td colspan="3" class="muted empty">In no group.</td></tr>{% endfor %}</tbody></table></section></div>
{% if not m.faulty %}<h2>Virtual resources and children</h2>${ranOnTable('virtuals')}{% if m.d.virtualsUpdatedAt %}<p class="hint">Reported {{ m.d.virtualsUpdatedAt }}.</p>{% endif %}{% endif %}
${softwareBlock}`,
    style,
  ),
);

export const importView = view(
  layout(
    `<p class="muted"><a href="/inventory">Inventory</a> / import</p>
<h1>Import hosts</h1>
${flash}
{% if result %}<section class="card{% if result.problems.length %} alertcard{% endif %}" id="import-result" aria-labelledby="result-h" data-applied="{{ 'true' if result.applied else 'false' }}">
<h2 id="result-h" style="margin-top:0">{% if result.problems.length %}Refused: nothing was imported{% elif result.applied %}Imported{% else %}Dry run: nothing written yet{% endif %}</h2>
{% if result.problems.length %}<p>Fix these lines and upload the file again ({{ result.problems.length }} problem(s){% if result.problems.length >= 1000 %}, the first 1,000 shown{% endif %}).</p>
<table id="problems" class="cards"><thead><tr><th>Line</th><th>Column</th><th>Host</th><th>Problem</th></tr></thead><tbody>
{% for p in result.problems %}<tr data-line="{{ p.line }}"><td data-label="Line" class="mono">{{ p.line }}</td><td data-label="Column">{{ p.column or "" }}</td><td data-label="Host">{{ p.hostname or "" }}</td><td data-label="Problem" class="wrap">{{ p.message }}</td></tr>{% endfor %}</tbody></table>
{% else %}<p id="import-counts"><b data-added>{{ counts.added }}</b> added · <b data-changed>{{ counts.changed }}</b> changed · <b data-removed>{{ counts.removed }}</b> removed · {{ result.unchanged }} unchanged{% if result.mode %} · mode {{ result.mode }}{% endif %}</p>
{% if result.added.length %}<details class="out"><summary>Added ({{ counts.added }})</summary><div class="hostlist" id="added">{% for h in result.added %}<span>{{ h }}</span>{% endfor %}</div></details>{% endif %}
{% if result.changed.length %}<details class="out" open><summary>Changed ({{ counts.changed }})</summary><div><table id="changed" class="cards"><thead><tr><th>Host</th><th>Fields</th></tr></thead><tbody>
{% for c in result.changed %}<tr data-host="{{ c.hostname }}"><td data-label="Host">{{ c.hostname }}</td><td data-label="Fields" class="mono">{{ c.fields | join(", ") }}</td></tr>{% endfor %}</tbody></table></div></details>{% endif %}
{% if result.removed.length %}<details class="out" open><summary>Removed ({{ counts.removed }})</summary><div class="hostlist" id="removed">{% for h in result.removed %}<span>{{ h }}</span>{% endfor %}</div></details>{% endif %}
{% if stash and canWrite %}<form method="post" action="/inventory/import/apply" aria-label="apply the import"><input type="hidden" name="stash" value="{{ stash }}">
<div class="actions"><button class="btn primary" type="submit" name="apply" value="1">Apply this import</button><a class="btn" href="/inventory/import">Start over</a></div></form>
<p class="hint">Applies exactly the file checked above (kept for 15 minutes).</p>{% endif %}
{% if result.applied %}<div class="actions"><a class="btn primary" href="/inventory">See the hosts</a></div>{% endif %}{% endif %}
</section>{% endif %}
{% if canWrite %}<form class="stack card" method="post" action="/inventory/import" enctype="multipart/form-data" aria-label="upload a CMDB file">
<label for="file">CSV or JSON file</label><input id="file" type="file" name="file" accept=".csv,.json,text/csv,application/json">
<label for="text">…or paste it</label><textarea id="text" name="text" class="code" spellcheck="false" placeholder="hostname,ip,idc,rack,business,kind,parent,lifecycle,tags"></textarea>
<div class="grid2"><div><label for="format">Format</label><select id="format" name="format"><option value="auto">From the file name (CSV unless .json)</option><option value="csv">CSV</option><option value="json">JSON</option></select></div>
<div><label for="mode">Mode</label><select id="mode" name="mode"><option value="merge">Merge: rows add or change records</option><option value="replace">Replace: store records missing from the file are removed</option></select></div></div>
<p class="hint">CSV columns by header name: hostname, ip (several separated by ;), idc, rack, business (product/module), kind, parent, lifecycle, tags (separated by ;); any other column becomes an attribute. JSON: {"hosts": [records]} or an array of records. A bad row refuses the whole file.</p>
<div class="actions"><button class="btn primary" type="submit">Dry run</button><a class="btn" href="/inventory/export?format=csv" download>Export CSV</a><a class="btn" href="/inventory/export?format=json" download>Export JSON</a></div></form>
{% else %}<p class="card muted">Importing needs the admin role.</p>{% endif %}`,
    style,
  ),
);
