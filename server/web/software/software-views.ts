/**
 * The software and services pages' templates (nunjucks, autoescaped by ui-env.ts; data only):
 * tracked packages with a fleet chart each (hosts per version, CSS bars), one package per host
 * (installed against approved) with "upgrade to approved" and its batch settings, and the
 * services table (state per host, drift flagged, start/stop/restart with targets). No script;
 * every page fits 390 px (tables turn into cards, the chart's bars shrink).
 */
import { view } from '../ui-env.js';
import { layout } from '../views.js';
import { jobStyle } from '../jobs/job-views.js';
import { inventoryStyle, inventorySubnav, packageBadge, serviceBadge } from '../inventory/inventory-views.js';

const style = jobStyle + inventoryStyle;

const flash = `{% if flash %}<p class="flash" role="status">{{ flash }}</p>{% endif %}
{% if error %}<p class="flash bad" role="alert">{{ error }}</p>{% endif %}`;

/** The fleet chart of one package: a labelled bar per installed version. */
const chart = (p: string, id: string): string => `<ul class="vbars" id="${id}" role="list" aria-label="hosts per version of {{ ${p}.name }}">
{% for b in ${p}.bars %}<li data-version="{{ b.version }}" data-hosts="{{ b.hosts }}"><span class="v">{{ b.version }}{% if b.version == ${p}.approved %} <span class="muted">(approved)</span>{% endif %}</span>
<span class="b" role="img" aria-label="{{ b.hosts }} host(s), {{ b.status }}"><i class="{{ b.status }}" style="width:{{ b.width }}%"></i></span><span class="n">{{ b.hosts }}</span></li>
{% else %}<li class="muted">No host reported this package yet.</li>{% endfor %}</ul>`;

/** Batch settings (schemas/api/rollout-policy.ts), as the job launch form spells them. */
const batchFields = (defaults: string): string => `<fieldset><legend>Batches</legend>
<div class="grid2"><div><label for="batches">Batches</label><input id="batches" type="text" name="batches" value="{{ form.batches if form else '${defaults}' }}" maxlength="200" placeholder="1,10%,+20%,100%" aria-describedby="batches-hint"></div>
<div><label for="gate">Gate between batches</label><select id="gate" name="gate"><option value="auto"{% if not form or form.gate != "manual" %} selected{% endif %}>auto: next batch when healthy</option><option value="manual"{% if form and form.gate == "manual" %} selected{% endif %}>manual: an operator continues</option></select></div>
<div><label for="waitBetween">Wait between batches (s)</label><input id="waitBetween" type="text" inputmode="numeric" name="waitBetween" value="{{ form.waitBetween if form else '' }}" maxlength="7"></div>
<div><label for="maxFailures">Failures tolerated</label><input id="maxFailures" type="text" name="maxFailures" value="{{ form.maxFailures if form else '' }}" maxlength="12" placeholder="0, 3 or 10%"></div></div>
<p id="batches-hint" class="hint">Comma-separated: counts, percentages and "+" steps, e.g. 1,10%,+20%,100%. Failures beyond the threshold pause the rollout.</p></fieldset>`;

export const softwareListView = view(
  layout(
    `<h1>Software</h1>
${flash}
${inventorySubnav}
{% if not packages.length %}<p class="card muted">No package is tracked yet (PUT /api/v1/software/packages/MANAGER/NAME, or stead packages track).</p>{% endif %}
<div class="two" id="packages">
{% for p in packages %}<section class="card" data-package="{{ p.name }}" data-manager="{{ p.manager }}" aria-labelledby="pk-{{ loop.index }}">
<h2 id="pk-{{ loop.index }}" style="margin-top:0" class="wrap"><a href="/software/packages/{{ p.manager | urlencode }}/{{ p.name | urlencode }}">{{ p.name }}</a> <span class="srcs">{{ p.manager }}</span></h2>
<p>Approved <span class="mono">{{ p.approved or "—" }}</span> · {{ p.upToDate }} of {{ p.hosts }} host(s) up to date{% if p.behind %} · <span class="s pk-outdated">{{ p.behind }} behind</span>{% endif %}</p>
{% if p.description %}<p class="muted wrap">{{ p.description }}</p>{% endif %}
${chart('p', 'chart-{{ loop.index }}')}
</section>{% endfor %}</div>`,
    style,
  ),
);

export const packageView = view(
  layout(
    `<p class="muted"><a href="/software">Software</a> / package</p>
<h1 class="wrap">{{ p.name }} <span class="srcs">{{ p.manager }}</span></h1>
${flash}
<div class="two"><section class="card" aria-labelledby="fleet-h"><h2 id="fleet-h" style="margin-top:0">Fleet: hosts per version</h2>
<p>Approved <span class="mono" id="approved">{{ p.approved or "—" }}</span> · {{ p.upToDate }} of {{ p.hosts }} up to date</p>
${chart('p', 'fleet-chart')}</section>
{% if canWrite and p.approved %}<section aria-labelledby="upgrade-h"><form class="stack card" method="post" action="/software/packages/{{ p.manager | urlencode }}/{{ p.name | urlencode }}/upgrade" aria-labelledby="upgrade-h">
<h2 id="upgrade-h" style="margin-top:0">Upgrade to approved</h2>
<label for="targets">Targets</label><input id="targets" type="text" name="targets" value="{{ form.targets if form else '' }}" maxlength="4096" placeholder="every host reporting it outdated or missing" aria-describedby="targets-hint">
<p id="targets-hint" class="hint">A target selector (group:web,idc:sz,host:a1); empty: every host where it is outdated or missing.</p>
<label for="version">Version</label><input id="version" type="text" name="version" value="{{ form.version if form else p.approved }}" maxlength="128">
${batchFields('1,50%,100%')}
<div class="actions"><button class="btn primary" type="submit">Upgrade{% if p.behind %} {{ p.behind }} host(s){% endif %}</button></div></form></section>{% endif %}</div>
<h2 id="hosts-h">Hosts</h2>
<table id="package-hosts" class="cards" aria-labelledby="hosts-h"><thead><tr><th>Host</th><th>Installed</th><th>Approved</th><th>Status</th><th>Reported</th></tr></thead><tbody>
{% for r in rows %}<tr data-host="{{ r.host }}" data-status="{{ r.status }}"><td data-label="Host"><a href="/inventory/hosts/{{ r.host | urlencode }}">{{ r.host }}</a></td>
<td data-label="Installed" class="mono">{{ r.installed if r.installed != null else "not installed" }}{% if r.arch %} <span class="muted">{{ r.arch }}</span>{% endif %}</td><td data-label="Approved" class="mono">{{ r.approved or "—" }}</td>
<td data-label="Status">${packageBadge('r.status')}</td><td data-label="Reported">{{ r.reportedAt or "—" }}</td></tr>
{% else %}<tr><td colspan="5" class="muted empty">No host reported this package yet.</td></tr>{% endfor %}</tbody></table>
<nav class="pager" aria-label="host pages">{% if after %}<a class="btn" href="?">First page</a>{% endif %}{% if next %}<a class="btn" rel="next" href="?after={{ next | urlencode }}">Next page</a>{% endif %}</nav>`,
    style,
  ),
);

export const servicesView = view(
  layout(
    `<h1>Services</h1>
${flash}
${inventorySubnav}
<form class="filter card" method="get" action="/services" role="search">
<div><label for="name">Service</label><select id="name" name="name"><option value="">all</option>{% for s in tracked %}<option value="{{ s.name }}"{% if s.name == name %} selected{% endif %}>{{ s.name }} ({{ s.kind }})</option>{% endfor %}</select></div>
<div><label for="host">Host</label><input id="host" type="text" name="host" value="{{ host }}" maxlength="253"></div>
<button class="btn primary" type="submit">Show</button>{% if name or host %}<a class="btn" href="/services">Clear</a>{% endif %}</form>
{% if drift %}<p class="flash bad" role="status" id="drift-count">{{ drift }} service(s) stopped or failed without an operator asking (drift).</p>{% endif %}
{% if canWrite and name %}<form class="stack card" method="post" action="/services/{{ name | urlencode }}/action" aria-labelledby="act-h">
<h2 id="act-h" style="margin-top:0">Start, stop or restart {{ name }}</h2>
<label for="targets">Targets</label><input id="targets" type="text" name="targets" value="{{ form.targets if form else defaultTargets }}" maxlength="4096" required aria-describedby="targets-hint">
<p id="targets-hint" class="hint">A target selector (group:web,idc:sz,host:a1); hosts must track the service.</p>
<label class="check"><input type="checkbox" name="includeInactive" value="1"{% if form and form.includeInactive %} checked{% endif %}> Also hosts whose lifecycle is not online</label>
${batchFields('')}
<div class="actions"><button class="btn" type="submit" name="action" value="start">Start</button><button class="btn" type="submit" name="action" value="restart">Restart</button><button class="btn danger" type="submit" name="action" value="stop">Stop</button></div></form>{% endif %}
<table id="services" class="cards"><thead><tr><th>Host</th><th>Service</th><th>State</th><th>PID</th><th>User</th><th>Uptime</th><th>Checked</th><th>Last action</th>{% if canWrite %}<th></th>{% endif %}</tr></thead><tbody>
{% for s in rows %}<tr data-host="{{ s.host }}" data-service="{{ s.name }}" data-state="{{ s.state }}"{% if s.drift %} data-drift{% endif %}>
<td data-label="Host"><a href="/inventory/hosts/{{ s.host | urlencode }}">{{ s.host }}</a></td><td data-label="Service"><a href="/services?name={{ s.name | urlencode }}">{{ s.name }}</a></td>
<td data-label="State">${serviceBadge('s.state')}{% if s.drift %} <span class="drift" title="stopped or failed without an operator asking">drift</span>{% endif %}</td>
<td data-label="PID" class="mono">{{ s.pid if s.pid != null else "—" }}{% if s.processes > 1 %} <span class="muted">({{ s.processes }} processes)</span>{% endif %}</td><td data-label="User">{{ s.user or "—" }}</td>
<td data-label="Uptime">{{ s.uptime or "—" }}</td><td data-label="Checked">{{ s.checkedAt or "—" }}</td>
<td data-label="Last action">{% if s.lastAction %}{{ s.lastAction.action }} by {{ s.lastAction.by }} at {{ s.lastAction.at }}{% if s.lastAction.job %} <a href="/jobs/{{ s.lastAction.job | urlencode }}">job</a>{% endif %}{% else %}—{% endif %}</td>
{% if canWrite %}<td data-label="Act"><form class="rowact" method="post" action="/services/{{ s.name | urlencode }}/action" aria-label="{{ s.name }} on {{ s.host }}"><input type="hidden" name="targets" value="host:{{ s.host }}">
<button class="btn" type="submit" name="action" value="start" aria-label="start {{ s.name }} on {{ s.host }}">Start</button><button class="btn" type="submit" name="action" value="restart" aria-label="restart {{ s.name }} on {{ s.host }}">Restart</button><button class="btn danger" type="submit" name="action" value="stop" aria-label="stop {{ s.name }} on {{ s.host }}">Stop</button></form></td>{% endif %}</tr>
{% else %}<tr><td colspan="9" class="muted empty">No tracked service reported{% if name %} for {{ name }}{% endif %}{% if host %} on {{ host }}{% endif %}.</td></tr>{% endfor %}</tbody></table>
<nav class="pager" aria-label="service pages">{% if after %}<a class="btn" href="?{{ baseQuery }}">First page</a>{% endif %}{% if next %}<a class="btn" rel="next" href="?{{ baseQuery }}{% if baseQuery %}&amp;{% endif %}after={{ next | urlencode }}">Next page</a>{% endif %}</nav>`,
    style,
  ),
);
