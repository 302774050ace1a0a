/**
 * Pieces of the dashboard's views shared by the overview, the drift page and the host page
 * (views.ts): the stylesheet additions, a rows-of-cells table macro, and the chart cards. A chart
 * card holds the chart's JSON in a <script type="application/json"> (made by jsonForScript, so
 * marked safe), the <div> uPlot draws into (dashboard.js), and the same numbers as a table for
 * pages read without script.
 */
export const dashboardStyle = `
.dash-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:1rem}
.dash-grid>.card{min-width:0}
.card h2{margin:0 0 .6rem}.card .hd2{display:flex;flex-wrap:wrap;gap:.4rem 1rem;justify-content:space-between;align-items:center;margin-bottom:.5rem}
.ranges{display:flex;gap:.3rem}.ranges a{display:inline-flex;align-items:center;min-height:40px;padding:0 .8rem;border:1px solid var(--line);border-radius:6px;color:var(--fg)}
.ranges a.on{background:var(--accent);border-color:var(--accent);color:#fff}
.plot{width:100%;min-height:0;overflow:hidden}.plot .u-legend{font-size:12px;text-align:left}.plot .u-legend th{font-weight:600;text-transform:none;letter-spacing:0;background:transparent;color:var(--fg)}
.plot .u-legend td,.plot .u-legend th{border:0;padding:.1rem .4rem}.plot .u-legend tr:hover td{background:transparent}
.plot-fallback{font-size:12px}
.scroll table{min-width:100%}.scroll{border-radius:6px}
.pager{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}.pager a{display:inline-flex;align-items:center;min-height:40px}
form.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin:.4rem 0 .8rem}form.search label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);flex:1 1 12rem}
form.search input,form.search select{min-height:40px;padding:.3rem .5rem;border:1px solid var(--line);border-radius:6px;font:inherit;color:var(--fg)}
form.search button{min-height:40px;padding:0 1rem;border:0;border-radius:6px;background:var(--accent);color:#fff;cursor:pointer}
.filters a{display:inline-flex;align-items:center;min-height:40px}
.live{font-size:12px;color:var(--muted)}
`;

/** A table body from rows of cells; the same shape dashboard.js draws live. */
export const rowsMacro = `{% macro rowsOf(rows, cols, empty) %}{% for row in rows %}<tr>{% for c in row %}<td{% if c.n %} class="num"{% endif %}>{% if c.h %}<a href="{{ c.h }}">{% endif %}{% if c.b %}<span class="s {{ c.b }}">{{ c.t }}</span>{% else %}{{ c.t }}{% endif %}{% if c.h %}</a>{% endif %}</td>{% endfor %}</tr>
{% else %}<tr><td colspan="{{ cols }}" class="muted">{{ empty }}</td></tr>{% endfor %}{% endmacro %}`;

/** The compliance chart card (chart JSON, range links, plot, fallback table). */
export const complianceCard = `<div class="card" id="compliance-card"><div class="hd2"><h2>Fleet compliance (hosts per state)</h2>
<nav class="ranges" aria-label="chart range">{% for r in ranges %}<a href="?range={{ r.id }}" data-range="{{ r.id }}"{% if r.id == range.id %} class="on" aria-current="true"{% endif %}>{{ r.id }}</a>{% endfor %}</nav></div>
<script type="application/json" id="compliance-data" data-chart="compliance">{{ chartJson | safe }}</script>
<div class="plot" id="compliance-chart" data-plot="compliance-data" role="img" aria-label="Fleet compliance over {{ range.label }}"></div>
<p class="muted" style="font-size:12px;margin:.3rem 0 0">{{ range.label }} · {{ range.points }} point(s) with data · drag across the chart to zoom, double-click to reset{% if revision %} · revision <code>{{ revision }}</code>{% endif %}</p>
<details class="plot-fallback"><summary>Numbers ({{ range.label }})</summary><div class="scroll"><table id="compliance-table"><thead><tr><th>Period (UTC)</th>{% for s in states %}<th class="num">{{ s }}</th>{% endfor %}<th class="num">hosts</th></tr></thead><tbody>
{% for p in rangeRows %}<tr><td>{{ p.at }}</td>{% for s in states %}<td class="num">{{ p.counts[s] if p.counts[s] != null else "" }}</td>{% endfor %}<td class="num">{{ p.total }}</td></tr>
{% else %}<tr><td colspan="7" class="muted">No rollups yet: the housekeeping stores one every few minutes.</td></tr>{% endfor %}</tbody></table></div></details></div>`;

/** A drift-per-day chart card: `driftJson`, `driftDays` (fallback rows), `driftTitle`. */
export const driftCard = `<div class="card" id="drift-card"><h2>{{ driftTitle }}</h2>
<script type="application/json" id="drift-data" data-chart="drift">{{ driftJson | safe }}</script>
<div class="plot" id="drift-chart" data-plot="drift-data" role="img" aria-label="{{ driftTitle }}"></div>
<details class="plot-fallback"><summary>Numbers (events per day)</summary><div class="scroll"><table id="drift-days"><thead><tr><th>Day (UTC)</th><th class="num">detected</th><th class="num">repaired</th><th class="num">failed</th></tr></thead><tbody>
{% for d in driftDays %}<tr><td>{{ d.day }}</td><td class="num">{{ d.counts.detected }}</td><td class="num">{{ d.counts.repaired }}</td><td class="num">{{ d.counts.failed }}</td></tr>
{% else %}<tr><td colspan="4" class="muted">No drift recorded in these days.</td></tr>{% endfor %}</tbody></table></div></details></div>`;

/** The host page's drift section (host view context: hostDrift). */
export const hostDriftBlock = `{% if hostDrift %}<h2 id="drift">Drift history</h2>
{% set driftJson = hostDrift.driftJson %}{% set driftDays = hostDrift.driftDays %}{% set driftTitle = hostDrift.driftTitle %}
${driftCard.replace('id="drift-card"', 'id="host-drift-card"')}
<div class="scroll"><table id="host-drift"><thead><tr><th>When</th><th>Resource</th><th>Kind</th><th>Properties</th><th>Run</th></tr></thead><tbody>
{% for row in hostDrift.events %}<tr>{% for c in row %}<td>{% if c.h %}<a href="{{ c.h }}">{% endif %}{% if c.b %}<span class="s {{ c.b }}">{{ c.t }}</span>{% else %}{{ c.t }}{% endif %}{% if c.h %}</a>{% endif %}</td>{% endfor %}</tr>
{% else %}<tr><td colspan="5" class="muted">No drift recorded for this host.</td></tr>{% endfor %}</tbody></table></div>
{% if hostDrift.more %}<p><a href="/drift?host={{ host | urlencode }}">All drift of {{ host }}</a></p>{% endif %}{% endif %}`;
