/** Console views (nunjucks, autoescaped by ui-env.ts). Small on purpose. */
import { view } from './ui-env.js';

const layout = (body: string, extraHead = ''): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stead{% if title %} · {{ title }}{% endif %}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">${extraHead}
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #ddd}
.s{padding:.1rem .45rem;border-radius:.6rem;font-size:12px;font-weight:600}
.in-sync{background:#d4f5dc}.drifted{background:#ffe8b3}.failing{background:#ffc9c9}.not-reporting{background:#e4e4e4}.unknown{background:#eef}
.sum span{margin-right:1.2rem}form.inline{display:inline}
</style></head><body>${body}</body></html>`;

export const loginView = view(
  layout(`<h1>Stead</h1>
{% if error %}<p role="alert">{{ error }}</p>{% endif %}
<form method="post" action="/login">
<label>Operator token <input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">Log in</button></form>
<p>The admin token was written to <code>&lt;data-dir&gt;/admin-token</code> at first start.</p>`),
);

export const hostsView = view(
  layout(
    `<form class="inline" method="post" action="/logout"><button type="submit">Log out {{ operator }}</button></form>
<h1>Hosts</h1>
<p class="sum">
<span>Fleet compliance: <b>{{ fleet.percent }} %</b> of {{ fleet.total }}</span>
{% for state, n in fleet.counts %}<span class="s {{ state }}">{{ state }}: {{ n }}</span>{% endfor %}
<span>Revision: <code>{{ revision or "none published" }}</code></span>
</p>
<table><thead><tr><th>Host</th><th>State</th><th>Last run</th><th>Outcome</th><th>Drift (corrective)</th><th>Changed</th><th>Failed</th><th>Groups</th><th>Enrollment</th></tr></thead>
<tbody>
{% for h in hosts %}<tr>
<td>{{ h.host }}</td><td><span class="s {{ h.state }}">{{ h.state }}</span></td>
<td>{{ h.lastRunAt or "never" }}</td><td>{{ h.outcome or "" }}</td><td>{{ h.corrective }}</td><td>{{ h.changed }}</td><td>{{ h.failed }}</td>
<td>{{ h.groups | join(", ") }}</td><td>{{ h.enrollment or "" }}</td></tr>
{% else %}<tr><td colspan="9">No hosts yet: publish a revision and start an agent.</td></tr>{% endfor %}
</tbody></table>
<p><small>Refreshes every {{ refresh }} s · {{ now }}</small></p>`,
    '<meta http-equiv="refresh" content="{{ refresh }}">',
  ),
);
