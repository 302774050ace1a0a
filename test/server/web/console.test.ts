/** O3: the console renders data inert (autoescape), and only with a session. */
import t from 'tap';
import type { Test } from 'tap';
import type { RunReport } from '../../../schemas/report.js';
import { complianceChart, complianceRange, driftChart, jsonForScript, rangeRows, slots } from '../../../server/web/compliance-chart.js';
import { overviewView } from '../../../server/web/dashboard/dashboard-views.js';
import { factRows, runView } from '../../../server/web/run-model.js';
import { enrollmentView, hostView, loginView, revisionsView } from '../../../server/web/views.js';
import { makeReport } from '../../helpers/server-reports.js';
import { rawRequest, startServer } from '../../helpers/server-fixture.js';

const evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>{{ 7*7 }}\u001b[2J';

function assertInert(t: Test, html: string, what: string): void {
  t.notMatch(html, /<script>alert/, `${what}: no live <script>`);
  t.notMatch(html, /<img src=x/, `${what}: no live <img>`);
  t.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, `${what}: shown as text`);
  t.match(html, /\{\{ 7\*7 \}\}/, `${what}: data is never template source`);
  t.notMatch(html, /\b49\b/, `${what}: nothing evaluated`);
}

t.test('views escape everything they are given', async (t) => {
  const frame = { operator: evil, role: 'admin', nav: 'overview', pendingCount: 1, refreshable: true, refresh: 5, pauseQuery: evil, resumeQuery: '', now: 'now' };
  const counts = { 'in-sync': 1, drifted: 0, failing: 1, 'not-reporting': 0, unknown: 0 };
  assertInert(
    t,
    overviewView({
      ...frame,
      title: evil,
      states: ['in-sync', 'failing'],
      revision: evil,
      fleet: { percent: 50, total: 2, counts },
      ranges: [complianceRange('48h', [], Date.parse('2026-11-26T10:30:00Z'), counts)],
      range: complianceRange('48h', [], Date.parse('2026-11-26T10:30:00Z'), counts),
      rangeRows: [],
      chartJson: jsonForScript({ evil }),
      driftTitle: evil,
      driftJson: jsonForScript({ evil }),
      driftDays: [],
      totals: { failing: 1, jobs: 0, rollouts: 0 },
      tables: { failing: [[{ t: evil, h: `/hosts/${encodeURIComponent(evil)}` }]], jobs: [], rollouts: [], 'top-drifted': [[{ t: evil, h: '/drift?resource=x', b: evil }]], hosts: [[{ t: evil, h: '/hosts/x' }, { t: 'failing', b: 'failing' }]] },
      hosts: { total: 1, matched: 1, page: 1, pages: 1 },
      groups: [],
      q: evil,
      pageQuery: '',
      liveQuery: evil,
    }),
    'overview',
  );
  const report = makeReport('h1', 'r1', { outcome: 'changed', corrective: true }) as unknown as RunReport;
  const res = report.resources[0]!;
  report.resources[0] = { ...res, id: evil, diff: `--- a\n+++ b\n@@ -1 +1 @@\n-${evil}\n+ok\n`, changes: [{ property: evil, before: evil, after: '[redacted sha256:ab]', corrective: true }], error: { code: 'X', message: evil } };
  const hostHtml = hostView({ ...frame, host: evil, state: 'drifted', groups: [evil], run: runView(report), runs: [{ runId: evil, startedAt: evil, mode: 'apply', outcome: evil, corrective: 1, changed: 1, failed: 0, revision: evil }], facts: factRows({ a: { b: evil } }) });
  assertInert(t, hostHtml, 'host');
  t.match(hostHtml, /<span class="v-redacted">\[redacted sha256:ab\]<\/span>/, 'redacted values carry the marker class');
  t.match(hostHtml, /<span class="del">-&lt;script&gt;/, 'diff lines are classified and escaped');
  t.match(hostHtml, /<td class="mono">a\.b<\/td>/, 'nested facts are flattened');
  assertInert(t, enrollmentView({ ...frame, canWrite: true, pending: [{ host: evil, status: 'pending', fingerprint: evil, createdAt: evil, rotation: false }], agents: [{ host: evil, status: evil, keys: [{ fingerprint: evil, status: evil }] }], error: evil }), 'enrollment');
  assertInert(t, revisionsView({ ...frame, revisions: [{ id: evil, live: true, createdAt: evil, createdBy: evil, fileCount: 1, message: evil }] }), 'revisions');
  t.match(loginView({ error: evil }), /&lt;script&gt;/);
});

t.test('chart model: slots per range, gaps stay gaps, the current hour is live; JSON cannot end its script element', async (t) => {
  const now = Date.parse('2026-11-26T10:30:00Z');
  const c = (inSync: number, drifted: number): Record<'in-sync' | 'drifted' | 'failing' | 'not-reporting' | 'unknown', number> => ({ 'in-sync': inSync, drifted, failing: 0, 'not-reporting': 0, unknown: 0 });
  const history = [
    { at: Date.parse('2026-11-26T07:00:00Z'), counts: c(1, 3) },
    { at: Date.parse('2026-11-26T09:00:00Z'), counts: c(2, 2) },
    { at: Date.parse('2026-11-26T10:00:00Z'), counts: c(0, 4) }, // superseded by the live counts
    { at: Date.parse('2026-11-20T10:00:00Z'), counts: c(9, 9) }, // outside the window
  ];
  const r = complianceRange('48h', history, now, c(4, 0));
  t.equal(r.x.length, 48, 'one slot per hour');
  t.equal(r.x.at(-1), Date.parse('2026-11-26T10:00:00Z') / 1000, 'the newest slot is the current hour (seconds for uPlot)');
  t.equal(r.points, 3, 'three hours with data');
  t.same([r.y['in-sync'].at(-1), r.y.drifted.at(-1)], [4, 0], 'the current hour is the live summary');
  const i7 = r.x.indexOf(Date.parse('2026-11-26T07:00:00Z') / 1000);
  t.same([r.y['in-sync'][i7], r.y.drifted[i7]], [1, 3]);
  t.equal(r.y['in-sync'][i7 + 1], null, '08:00 has no rollup: a gap, not a zero');
  t.same(rangeRows(r).map((x) => x.at), ['2026-11-26 10:00', '2026-11-26 09:00', '2026-11-26 07:00'], 'the table: newest first, only periods with data');
  t.equal(slots('30d', now).length, 30);
  t.same(slots('12m', now).map((ms) => new Date(ms).toISOString().slice(0, 7)).slice(0, 2), ['2025-12', '2026-01'], 'twelve months ending with this one');
  const m = complianceRange('12m', [{ at: Date.parse('2026-11-01T00:00:00Z'), counts: c(1.5, 0.5) }], now);
  t.same([m.y['in-sync'].at(-1), m.y.drifted.at(-1)], [1.5, 0.5], 'monthly means');
  const chart = complianceChart([r], '48h');
  t.same(chart.states, ['in-sync', 'drifted', 'failing', 'not-reporting', 'unknown']);
  const empty = complianceRange('48h', [], now, c(0, 0));
  t.notMatch(JSON.stringify(empty), /NaN|Infinity/);
  const d = driftChart([{ day: Date.parse('2026-11-25T00:00:00Z'), counts: { detected: 1, repaired: 2, failed: 0 } }], now, 7);
  t.equal(d.x.length, 7);
  t.same(d.y.repaired, [0, 0, 0, 0, 0, 2, 0], 'days without drift are zeros');
  t.equal(d.total, 3);
  const json = jsonForScript({ resource: '</script><script>alert(1)</script>', amp: 'a&b', sep: '\u2028' });
  t.notMatch(json, /<|>|&/, 'no <, > or & in the element text');
  t.same(JSON.parse(json), { resource: '</script><script>alert(1)</script>', amp: 'a&b', sep: '\u2028' }, 'the same data after parsing');
});

t.test('console session: login, page, logout; bad token; cross-origin', async (t) => {
  const fx = await startServer(t);
  const origin = fx.base;
  const bad = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=nope-nope-nope-nope' });
  t.equal(bad.status, 401);
  t.notOk(bad.headers['set-cookie']);
  const login = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(fx.adminToken)}` });
  t.equal(login.status, 302);
  const cookie = String(login.headers['set-cookie']![0]);
  t.match(cookie, /httponly/i);
  t.match(cookie, /samesite=strict/i);
  const session = cookie.split(';')[0]!;
  const page = await rawRequest(fx.base, { method: 'GET', path: '/', headers: { cookie: session } });
  t.equal(page.status, 200);
  t.match(String(page.headers['content-security-policy']), /default-src 'none'/);
  t.match(page.body.toString(), /Fleet compliance/);
  // The session cookie is not an API credential.
  t.equal((await rawRequest(fx.base, { method: 'GET', path: '/api/v1/hosts', headers: { cookie: session } })).status, 401);
  const noOrigin = await rawRequest(fx.base, { method: 'POST', path: '/logout', headers: { cookie: session } });
  t.equal(noOrigin.status, 403, 'a form post without Origin/Referer is refused');
  const out = await rawRequest(fx.base, { method: 'POST', path: '/logout', headers: { cookie: session, origin } });
  t.equal(out.status, 302);
  t.equal((await rawRequest(fx.base, { method: 'GET', path: '/', headers: { cookie: session } })).status, 302, 'void after logout');
  // Rate limit: 10 failures a minute, then refused even with a good token.
  for (let i = 0; i < 10; i++) await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=wrong-wrong-wrong-wrong' });
  const limited = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(fx.adminToken)}` });
  t.equal(limited.status, 403);
  fx.clock.advance(61_000);
  const again = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(fx.adminToken)}` });
  t.equal(again.status, 302, 'allowed again after a minute');
});
