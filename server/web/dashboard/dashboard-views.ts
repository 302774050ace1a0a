/**
 * The dashboard's views (nunjucks, autoescaped): the overview `/` and the drift page `/drift`
 * (the host page's drift section is in dashboard-blocks.ts). Tables come from rows of
 * cells (dashboard-model.ts); charts are a <div> uPlot draws into (dashboard.js) from JSON in a
 * <script type="application/json"> beside it, with the same numbers as a table for pages read
 * without script. Tables scroll inside their own box on a phone.
 */
import { view } from '../ui-env.js';
import { layout } from '../views.js';
import { complianceCard, dashboardStyle, driftCard, rowsMacro } from './dashboard-blocks.js';

export const overviewView = view(
  layout(
    `${rowsMacro}<h1>Fleet dashboard</h1>
{% if refresh %}<div id="dashboard-live" data-src="/dashboard.json?{{ liveQuery }}" hidden></div>{% endif %}
<div class="tiles">
<a class="tile pct" href="/"><div class="n" data-fleet-percent>{{ fleet.percent }} %</div><div class="l">in sync of <span data-fleet-total>{{ fleet.total }}</span> hosts</div></a>
{% for s in states %}<a class="tile {{ s }}" href="/?state={{ s }}" data-count="{{ s }}"><div class="n">{{ fleet.counts[s] }}</div><div class="l">{{ s }}</div></a>
{% endfor %}<a class="tile" href="#jobs-card" data-total="jobs"><div class="n">{{ totals.jobs }}</div><div class="l">running jobs</div></a>
<a class="tile" href="#rollouts-card" data-total="rollouts"><div class="n">{{ totals.rollouts }}</div><div class="l">rollouts in progress</div></a></div>
${complianceCard}
<div class="dash-grid">
${driftCard}
<div class="card" id="top-card"><h2>Most drifted resources, last 7 days</h2><div class="scroll"><table id="top-drifted"><thead><tr><th>Resource</th><th class="num">Events</th><th class="num">Hosts</th><th class="num">Detected</th><th class="num">Repaired</th><th class="num">Failed</th><th>Last</th></tr></thead><tbody>
{{ rowsOf(tables["top-drifted"], 7, "No drift in the last 7 days.") }}</tbody></table></div><p><a href="/drift">All drift events</a></p></div>
<div class="card" id="failing-card"><h2>Failing hosts (<span data-total="failing">{{ totals.failing }}</span>)</h2><div class="scroll"><table id="failing"><thead><tr><th>Host</th><th>Last run</th><th class="num">Failed</th><th>Groups</th></tr></thead><tbody>
{{ rowsOf(tables.failing, 4, "No host is failing.") }}</tbody></table></div>{% if totals.failing > tables.failing.length %}<p><a href="/?state=failing#hosts-card">All failing hosts</a></p>{% endif %}</div>
<div class="card" id="jobs-card"><h2>Running jobs</h2><div class="scroll"><table id="jobs"><thead><tr><th>Job</th><th>State</th><th class="num">Hosts</th><th>By</th><th>Started</th></tr></thead><tbody>
{{ rowsOf(tables.jobs, 5, "No job is running.") }}</tbody></table></div></div>
<div class="card" id="rollouts-card"><h2>Rollouts in progress</h2><div class="scroll"><table id="rollouts"><thead><tr><th>Rollout</th><th>Kind</th><th>State</th><th>Batch</th><th class="num">Hosts</th><th class="num">Failures</th></tr></thead><tbody>
{{ rowsOf(tables.rollouts, 6, "No rollout is in progress.") }}</tbody></table></div></div>
</div>
{% if groups.length %}<h2>Groups</h2><div class="scroll">
<table id="groups"><thead><tr><th>Group</th><th style="width:45%">Hosts per state</th><th class="num">In sync</th><th class="num">Hosts</th></tr></thead><tbody>
{% for g in groups %}<tr data-group="{{ g.name }}"><td>{{ g.name }}</td><td><div class="bar" title="{% for s in states %}{% if g.counts[s] %}{{ g.counts[s] }} {{ s }} {% endif %}{% endfor %}">{% for s in states %}{% if g.counts[s] %}<i class="{{ s }}" style="width:{{ (g.counts[s] / g.total * 100) | round(2) }}%"></i>{% endif %}{% endfor %}</div></td>
<td class="num">{{ g.percent }} %</td><td class="num">{{ g.total }}</td></tr>
{% endfor %}</tbody></table></div>{% endif %}
<div class="card" id="hosts-card"><h2>Hosts{% if filter %}: {{ filter }}{% endif %} (<span data-total="hosts">{{ hosts.matched }}</span>{% if hosts.matched != hosts.total %} of {{ hosts.total }}{% endif %})</h2>
<form class="search" method="get" action="/"><label for="host-q">Search host or group<input id="host-q" type="search" name="q" value="{{ q }}" maxlength="200"></label>
<label for="host-state">State<select id="host-state" name="state"><option value="">any</option>{% for s in states %}<option value="{{ s }}"{% if filter == s %} selected{% endif %}>{{ s }}</option>{% endfor %}</select></label>
<button type="submit">Search</button></form>
<p class="filters"><a href="/"{% if not filter and not q %} class="on"{% endif %}>all ({{ hosts.total }})</a>{% for s in states %} <a href="/?state={{ s }}"{% if filter == s %} class="on"{% endif %}>{{ s }}</a>{% endfor %}</p>
<div class="scroll"><table id="hosts"><thead><tr><th>Host</th><th>State</th><th>Last run</th><th>Outcome</th><th class="num">Drifted</th><th class="num">Changed</th><th class="num">Failed</th><th>Groups</th><th>Enrollment</th></tr></thead>
<tbody>
{% for row in tables.hosts %}<tr data-host="{{ row[0].t }}">{% for c in row %}<td{% if c.n %} class="num"{% endif %}>{% if c.h %}<a href="{{ c.h }}">{% endif %}{% if c.b %}<span class="s {{ c.b }}">{{ c.t }}</span>{% else %}{{ c.t }}{% endif %}{% if c.h %}</a>{% endif %}</td>{% endfor %}</tr>
{% else %}<tr><td colspan="9" class="muted">{% if filter or q %}No host matches.{% else %}No hosts yet: publish a revision and start an agent.{% endif %}</td></tr>{% endfor %}
</tbody></table></div>
{% if hosts.pages > 1 %}<p class="pager" data-page="{{ hosts.page }}" data-pages="{{ hosts.pages }}">{% if hosts.page > 1 %}<a rel="prev" href="?{{ pageQuery }}page={{ hosts.page - 1 }}#hosts-card">previous</a>{% else %}<span class="muted">previous</span>{% endif %}
<span>page {{ hosts.page }} of {{ hosts.pages }}</span>
{% if hosts.page < hosts.pages %}<a rel="next" href="?{{ pageQuery }}page={{ hosts.page + 1 }}#hosts-card">next</a>{% else %}<span class="muted">next</span>{% endif %}</p>{% endif %}
</div>
<p class="live" id="live-status" aria-live="polite"></p>`,
    dashboardStyle,
  ),
);

export const driftView = view(
  layout(
    `${rowsMacro}<p class="muted"><a href="/">Dashboard</a> / drift</p>
<h1>Drift{% if resource %} of <span class="mono wrap">{{ resource }}</span>{% endif %}{% if host %} on {{ host }}{% endif %}</h1>
<form class="search" method="get" action="/drift"><label for="drift-resource">Resource<input id="drift-resource" type="text" name="resource" value="{{ resource }}" maxlength="600"></label>
<label for="drift-host">Host<input id="drift-host" type="text" name="host" value="{{ host }}" maxlength="253"></label>
<label for="drift-kind">Kind<select id="drift-kind" name="kind"><option value="">any</option>{% for k in kinds %}<option value="{{ k }}"{% if kind == k %} selected{% endif %}>{{ k }}</option>{% endfor %}</select></label>
<button type="submit">Show</button></form>
{% if error %}<p class="flash bad" role="alert">{{ error }}</p>{% endif %}
${driftCard}
{% if resource %}<p>{{ hostsAffected }} host(s) with drift of this resource in the last 30 days.</p>{% endif %}
<div class="card"><h2>Events, newest first</h2><div class="scroll"><table id="drift-events"><thead><tr><th>When</th>{% if not host %}<th>Host</th>{% endif %}{% if not resource %}<th>Resource</th>{% endif %}<th>Kind</th><th>Properties</th><th>Run</th></tr></thead><tbody>
{{ rowsOf(events, 6, "No drift recorded (events are kept for the drift retention).") }}</tbody></table></div>
{% if next %}<p class="pager"><a rel="next" href="?{{ nextQuery }}">older events</a></p>{% endif %}</div>`,
    dashboardStyle,
  ),
);

