/**
 * Console pages over HTTP against the in-process server (ManualClock): the overview's tiles,
 * state filter and hourly chart built from real rollups; host and run pages; 404s; the
 * enrollment forms' guards (session, same origin, admin role, form media type) and outcomes.
 */
import t from 'tap';
import { rawRequest, startServer, type ServerFixture } from '../../helpers/server-fixture.js';
import { makeReport } from '../../helpers/server-reports.js';

const repo: Record<string, string> = {
  'stead.yaml': 'stead: 1\nname: console\n',
  'inventory/hosts.yaml': 'hosts:\n  h1: {}\n  h2: {}\n  h3: {}\n',
  'groups/web.yaml': 'description: web\nkind: custom\npriority: 10\nhosts: [h1, h2, h3]\nroles: [app]\n',
  'roles/app/role.yaml': 'description: app\nresources:\n  - type: directory\n    path: /srv\n    mode: "0755"\n',
};

async function login(fx: ServerFixture, token = fx.adminToken): Promise<string> {
  const r = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin: fx.base, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(token)}` });
  if (r.status !== 302) throw new Error(`login: ${r.status}`);
  return String(r.headers['set-cookie']![0]).split(';')[0]!;
}

const page = async (fx: ServerFixture, cookie: string, path: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> => {
  const r = await rawRequest(fx.base, { method: 'GET', path, headers: { cookie } });
  return { status: r.status, body: r.body.toString(), headers: r.headers };
};

t.test('overview, chart history, host and run pages', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(repo)).status, 201);
  const [h1, h2, h3] = await Promise.all(['h1', 'h2', 'h3'].map((h) => fx.approvedAgent(h)));
  const iso = (): string => new Date(fx.clock.now()).toISOString();
  // Hour 1: everyone in sync, rolled up.
  for (const a of [h1!, h2!, h3!]) t.equal((await a.request('POST', `/api/v1/hosts/${a.host}/reports`, makeReport(a.host, 'run-1', { startedAt: iso() }))).status, 200);
  await fx.server.services.compliance.rollup(AbortSignal.timeout(10_000));
  // Hour 2: h1 drifted, h2 failing.
  fx.clock.advance(3_600_000);
  t.equal((await h1!.request('POST', '/api/v1/hosts/h1/reports', makeReport('h1', 'run-2', { outcome: 'changed', corrective: true, startedAt: iso() }))).status, 200);
  t.equal((await h2!.request('POST', '/api/v1/hosts/h2/reports', makeReport('h2', 'run-2', { outcome: 'failed', startedAt: iso() }))).status, 200);
  t.equal((await h3!.request('POST', '/api/v1/hosts/h3/reports', makeReport('h3', 'run-2', { startedAt: iso() }))).status, 200);
  t.equal((await h1!.request('PUT', '/api/v1/hosts/h1/facts', { os: { family: 'debian' }, note: '<b>bold</b>' })).status, 200);

  const cookie = await login(fx);
  const o = await page(fx, cookie, '/');
  t.equal(o.status, 200);
  t.match(o.body, /<meta http-equiv="refresh" content="5">/, 'auto-refresh');
  t.match(o.body, /data-count="drifted"><div class="n">1</);
  t.match(o.body, /data-count="failing"><div class="n">1</);
  t.match(o.body, /data-count="in-sync"><div class="n">1</);
  t.match(o.body, /48 hours, hourly · 2 point\(s\) with data/, 'the rolled-up hour and the live hour');
  const data = JSON.parse(/<script type="application\/json" id="compliance-data" data-chart="compliance">([^<]*)<\/script>/.exec(o.body)![1]!);
  const h48 = data.ranges.find((r: { id: string }) => r.id === '48h');
  t.equal(h48.x.length, 48);
  t.same([h48.y['in-sync'].at(-2), h48.y['in-sync'].at(-1), h48.y.drifted.at(-1), h48.y.failing.at(-1)], [3, 1, 1, 1], 'the rolled-up hour, then the live hour');
  t.same(data.ranges.map((r: { id: string }) => r.id), ['48h', '30d', '12m']);
  const rows = [...o.body.matchAll(/<tr><td>(2026-11-26 1\d:00)<\/td>((?:<td class="num">[^<]*<\/td>)+)<\/tr>/g)].map((m) => `${m[1]} ${[...m[2]!.matchAll(/"num">([^<]*)</g)].map((x) => x[1]).join(',')}`);
  t.same(rows, ['2026-11-26 11:00 1,1,1,0,0,3', '2026-11-26 10:00 3,0,0,0,0,3'], 'the fallback table: newest first');
  t.match(o.body, /<script src="\/assets\/uplot.iife.min.js" defer><\/script><script src="\/assets\/dashboard.js" defer><\/script>/, 'the chart scripts');
  t.match(o.body, /<table id="failing">[\s\S]*?<a href="\/hosts\/h2">h2<\/a>/, 'failing hosts');
  t.match(o.body, /<table id="top-drifted">[\s\S]*?<a href="\/drift\?resource=file%3A%2Fsrv%2Fapp%2Fapp.conf">file:\/srv\/app\/app.conf<\/a><\/td><td class="num">2<\/td><td class="num">2<\/td>/, 'top drifted: 2 events on 2 hosts');
  const monthly = await page(fx, cookie, '/?range=12m');
  t.match(monthly.body, /<a href="\?range=12m" data-range="12m" class="on"/, 'the range link is marked');
  t.match(monthly.body, /12 months, monthly/);
  const live = await page(fx, cookie, '/dashboard.json?state=failing');
  t.equal(live.status, 200);
  const lj = JSON.parse(live.body);
  t.same(lj.fleet.counts, { 'in-sync': 1, drifted: 1, failing: 1, 'not-reporting': 0, unknown: 0 });
  t.same(lj.tables.hosts.map((r: { t: string }[]) => r[0]!.t), ['h2'], 'the live host rows follow the page query');
  t.equal((await rawRequest(fx.base, { method: 'GET', path: '/dashboard.json' })).status, 302, 'no session: to the login');
  const search = await page(fx, cookie, '/?q=H3');
  t.match(search.body, /data-host="h3"/);
  t.notMatch(search.body, /data-host="h1"/, 'the search keeps matching hosts only');
  const drift = await page(fx, cookie, '/drift?resource=file%3A%2Fsrv%2Fapp%2Fapp.conf');
  t.equal(drift.status, 200);
  t.match(drift.body, /<table id="drift-events">[\s\S]*?<a href="\/hosts\/h2">h2<\/a>[\s\S]*?<span class="s failed">failed<\/span>/, 'the resource\'s drift across hosts');
  t.match(drift.body, /<span class="s changed">repaired<\/span>/);
  t.match(drift.body, /2 host\(s\) with drift of this resource/);
  t.equal((await page(fx, cookie, '/drift?host=%3Cx%3E')).status, 400);
  t.match(o.body, /<tr data-group="web"><td>web<\/td><td><div class="bar" title="1 in-sync 1 drifted 1 failing ">(<i class="(in-sync|drifted|failing)" style="width:33\.33%"><\/i>){3}<\/div><\/td>\s*<td class="num">33\.33 %<\/td><td class="num">3<\/td>/, 'per-group bar');
  const filtered = await page(fx, cookie, '/?state=failing');
  t.match(filtered.body, /data-host="h2"/);
  t.notMatch(filtered.body, /data-host="h1"/, 'the filter keeps only failing hosts');
  const paused = await page(fx, cookie, '/?state=failing&refresh=0');
  t.notMatch(paused.body, /http-equiv="refresh"/, '?refresh=0 pauses');
  t.match(paused.body, /href="\?state=failing">resume/);

  const host = await page(fx, cookie, '/hosts/h1');
  t.equal(host.status, 200);
  t.match(host.body, /<h2 id="drift">Drift history<\/h2>/);
  t.match(host.body, /<table id="host-drift">[\s\S]*?file:\/srv\/app\/app.conf[\s\S]*?<span class="s changed">repaired<\/span>/, 'the host\'s repaired drift');
  t.match(host.body, /id="drift-data" data-chart="drift">\{"kind":"drift"/);
  t.match(host.body, /<h1>h1 <span class="s drifted">drifted<\/span>/);
  t.match(host.body, /data-resource="file:\/srv\/app\/app.conf"[\s\S]*drift[\s\S]*sha256:aa[\s\S]*sha256:bb/, 'the drifted resource with before/after');
  t.ok(host.body.indexOf('data-resource="file:/srv/app/app.conf"') < host.body.indexOf('1 resource(s) in sync'), 'changed before in sync');
  t.match(host.body, /<td class="mono">os\.family<\/td><td class="mono">debian<\/td>/);
  t.match(host.body, /&lt;b&gt;bold&lt;\/b&gt;/);
  t.match(host.body, /href="\/hosts\/h1\/runs\/run-1"/, 'older runs are linked');
  t.match(host.body, /<div class="strip" id="run-strip"[^>]*><a class="in-sync" href="\/hosts\/h1\/runs\/run-1"[^>]*><\/a><a class="changed drift" href="\/hosts\/h1\/runs\/run-2"/, 'the run strip runs oldest to newest, drift marked');
  const run = await page(fx, cookie, '/hosts/h1/runs/run-1');
  t.equal(run.status, 200);
  t.match(run.body, /<h2>Run run-1<\/h2>/);
  t.notMatch(run.body, /http-equiv="refresh"/, 'a stored run does not refresh');
  t.equal((await page(fx, cookie, '/hosts/h1/runs/nope')).status, 404);
  t.equal((await page(fx, cookie, '/hosts/zz9')).status, 404);
  t.equal((await page(fx, cookie, '/hosts/%3Cscript%3E')).status, 404);
  const failing = await page(fx, cookie, '/hosts/h2');
  t.match(failing.body, /APPLY_FAILED<\/b>: disk full/);

  const revs = await page(fx, cookie, '/revisions');
  t.match(revs.body, /<tr data-revision="[0-9a-f]{64}" data-live>\n<td data-label="Revision"><a class="mono" href="\/revisions\/[0-9a-f]{64}">[0-9a-f]{12}<\/a> <span class="s live">live/);
  for (const path of ['/', '/hosts/h1', '/enrollment', '/revisions']) {
    const anon = await rawRequest(fx.base, { method: 'GET', path });
    t.equal(anon.status, 302, `${path} without a session goes to the login`);
    t.equal(anon.headers.location, '/login');
  }
});

t.test('enrollment forms: guards and outcomes', async (t) => {
  const fx = await startServer(t);
  const pending = fx.agent('p1');
  t.equal((await pending.enroll()).status, 202);
  const other = fx.agent('p2');
  t.equal((await other.enroll()).status, 202);
  const fp = (await fx.json('GET', '/api/v1/agents/p1')).json().keys[0].fingerprint as string;
  const fp2 = (await fx.json('GET', '/api/v1/agents/p2')).json().keys[0].fingerprint as string;
  const admin = await login(fx);
  const reader = await login(fx, await fx.token('readonly'));
  const form = (host: string, f: string): string => `host=${encodeURIComponent(host)}&fingerprint=${encodeURIComponent(f)}`;
  const post = (path: string, cookie: string | undefined, body: string, headers: Record<string, string> = { origin: fx.base }) =>
    rawRequest(fx.base, { method: 'POST', path, headers: { ...(cookie ? { cookie } : {}), 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });

  const list = await page(fx, admin, '/enrollment');
  t.match(list.body, new RegExp(`<tr data-host="p1">[\\s\\S]*${fp}[\\s\\S]*button class="act approve"`));
  t.match(list.body, /Enrollment <span class="s pending">2<\/span>/, 'the nav shows the pending count');
  t.match((await page(fx, reader, '/enrollment')).body, /read-only/, 'no buttons for a readonly operator');

  t.equal((await post('/enrollment/approve', admin, form('p1', fp), { origin: 'http://evil.example' })).status, 403, 'cross-origin refused');
  t.equal((await post('/enrollment/approve', admin, form('p1', fp), {})).status, 403, 'no Origin/Referer refused');
  t.equal((await post('/enrollment/approve', undefined, form('p1', fp))).status, 401, 'no session refused');
  t.equal((await post('/enrollment/approve', reader, form('p1', fp))).status, 403, 'readonly refused');
  t.equal((await rawRequest(fx.base, { method: 'POST', path: '/enrollment/approve', headers: { cookie: admin, origin: fx.base, 'content-type': 'application/json' }, body: '{}' })).status, 415);
  t.equal((await fx.json('GET', '/api/v1/agents/p1')).json().status, 'pending', 'still pending after refused posts');

  const ok = await post('/enrollment/approve', admin, form('p1', fp));
  t.equal(ok.status, 303);
  t.equal(ok.headers.location, '/enrollment?done=approved');
  t.equal((await fx.json('GET', '/api/v1/agents/p1')).json().status, 'approved');
  t.match((await page(fx, admin, '/enrollment?done=approved')).body, /Key approved\./);
  const again = await post('/enrollment/approve', admin, form('p1', 'f'.repeat(64)));
  t.equal(again.status, 404, 'an unknown fingerprint is answered on the page');
  t.match(again.body.toString(), /role="alert">p1: host p1 has no key/);

  const rej = await post('/enrollment/reject', admin, form('p2', fp2));
  t.equal(rej.status, 303);
  const rec = (await fx.json('GET', '/api/v1/agents/p2')).json();
  t.equal(rec.keys[0].status, 'rejected');

  // Delete: offered for the rejected key, not for p1's approved key; the last key forgets the host.
  const withDelete = (await page(fx, admin, '/enrollment')).body;
  t.match(withDelete, new RegExp(`action="/enrollment/delete"><input type="hidden" name="host" value="p2"><input type="hidden" name="fingerprint" value="${fp2}">`));
  t.notMatch(withDelete, new RegExp(`action="/enrollment/delete"><input type="hidden" name="host" value="p1">`), 'no Delete for an approved key of a host that is not revoked');
  t.equal((await post('/enrollment/delete', reader, form('p2', fp2))).status, 403, 'readonly may not delete');
  const refused = await post('/enrollment/delete', admin, form('p1', fp));
  t.equal(refused.status, 409, 'the approved key of an approved host is not deleted');
  t.match(refused.body.toString(), /revoke the host first/);
  const del = await post('/enrollment/delete', admin, form('p2', fp2));
  t.equal(del.status, 303);
  t.equal(del.headers.location, '/enrollment?done=deleted');
  t.equal((await fx.json('GET', '/api/v1/agents/p2')).status, 404, 'p2 is forgotten');
});
