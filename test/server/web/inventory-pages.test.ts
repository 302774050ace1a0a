/**
 * The inventory, software and services console pages over HTTP against the in-process server
 * (composeServer: the real console router, session login, InventoryService and SoftwareService),
 * with data put in through the API and signed agent requests (test/helpers/console-inventory-seed.ts).
 * Checked: the host list (filter, a bad filter shown, pages), the host page (store against
 * repository, the agent's mismatch flagged, facts, groups with why, lifecycle history, "ran on
 * this host" for a faulty host, packages and services), escaping of hostile strings, the
 * lifecycle form's guards, the import (dry run, refused lines, apply exactly once) and export, the
 * software and services pages with their actions (a real job rollout, a real audited job, a
 * refusal), and 503 for a server whose console has no ports.
 */
import t, { type Test } from 'tap';
import { rawRequest, startServer, type ServerFixture } from '../../helpers/server-fixture.js';
import { hostile, hostileAttr, seedConsoleInventory } from '../../helpers/console-inventory-seed.js';
import { buildOnce } from '../../helpers/e2e-fleet.js';

// Service actions are audited jobs: the safety audit runs its compiled worker under dist/.
await buildOnce();

async function login(fx: ServerFixture, token = fx.adminToken): Promise<string> {
  const r = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin: fx.base, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(token)}` });
  if (r.status !== 302) throw new Error(`login: ${r.status}`);
  return String(r.headers['set-cookie']![0]).split(';')[0]!;
}

const get = async (fx: ServerFixture, cookie: string, path: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> => {
  const r = await rawRequest(fx.base, { method: 'GET', path, headers: { cookie } });
  return { status: r.status, body: r.body.toString(), headers: r.headers };
};

const post = async (fx: ServerFixture, cookie: string, path: string, form: Record<string, string>, origin: string = fx.base): Promise<{ status: number; body: string; location: string | undefined }> => {
  const r = await rawRequest(fx.base, { method: 'POST', path, headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return { status: r.status, body: r.body.toString(), location: r.headers.location };
};

function multipart(fields: Record<string, string | { filename: string; content: string }>): { body: Buffer; type: string } {
  const boundary = '----steadtest7MA4YWxkTrZu0gW';
  const chunks: string[] = [];
  for (const [name, v] of Object.entries(fields)) {
    if (typeof v === 'string') chunks.push(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${v}\r\n`);
    else chunks.push(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${v.filename}"\r\nContent-Type: text/csv\r\n\r\n${v.content}\r\n`);
  }
  chunks.push(`--${boundary}--\r\n`);
  return { body: Buffer.from(chunks.join('')), type: `multipart/form-data; boundary=${boundary}` };
}

const upload = async (fx: ServerFixture, cookie: string, fields: Parameters<typeof multipart>[0], origin: string = fx.base): Promise<{ status: number; body: string }> => {
  const m = multipart(fields);
  const r = await rawRequest(fx.base, { method: 'POST', path: '/inventory/import', headers: { cookie, origin, 'content-type': m.type }, body: m.body });
  return { status: r.status, body: r.body.toString() };
};

/** No hostile string reached the page unescaped. */
function escaped(t: Test, body: string, what: string): void {
  t.notMatch(body, /<script>alert/, `${what}: no script element from data`);
  t.notMatch(body, /<img src=x/, `${what}: no element injected through an attribute`);
}

async function setup(t: Test, count = 3): Promise<{ fx: ServerFixture; cookie: string }> {
  const fx = await startServer(t);
  await seedConsoleInventory(fx, count);
  return { fx, cookie: await login(fx) };
}

const api = async (fx: ServerFixture, path: string): Promise<any> => (await fx.json('GET', path)).json();

t.test('host list: filter box, pages, mismatches, escaping', async (t) => {
  const { fx, cookie } = await setup(t, 150);
  const anon = await rawRequest(fx.base, { method: 'GET', path: '/inventory' });
  t.equal(anon.status, 302, 'no session: to the login page');
  const p1 = await get(fx, cookie, '/inventory');
  t.equal(p1.status, 200);
  t.match(String(p1.headers['content-security-policy']), /default-src 'none'/, 'the console CSP');
  t.notMatch(p1.body, /<script(?! src="\/assets\/[a-z.]+" defer><\/script>)/i, 'no script but the console assets');
  t.match(p1.body, /data-total="152"/);
  t.equal([...p1.body.matchAll(/<tr data-host="/g)].length, 100, 'a page of 100');
  t.match(p1.body, /<tr data-host="pm-1">[\s\S]*?<span class="s lc-faulty">faulty<\/span>/, 'lifecycle badge');
  t.match(p1.body, /<a href="\/inventory" class="on">Inventory<\/a>/, 'the nav link is on');
  const next = /rel="next" href="\/inventory\?after=([^"]+)"/.exec(p1.body);
  t.ok(next, 'a next-page link');
  const p2 = await get(fx, cookie, `/inventory?after=${next![1]}`);
  t.equal([...p2.body.matchAll(/<tr data-host="/g)].length, 52, 'the rest on page two');
  t.notMatch(p2.body, /rel="next"/, 'the last page has no next link');
  const f = await get(fx, cookie, `/inventory?filter=${encodeURIComponent('idc=sz and tag:canary')}`);
  t.same([...f.body.matchAll(/<tr data-host="([^"]+)"/g)].map((m) => m[1]), ['pm-1', 'vm-1'], 'the filter is applied');
  t.match(f.body, /value="idc=sz and tag:canary"/, 'the filter box keeps the expression');
  const biz = await get(fx, cookie, `/inventory?filter=${encodeURIComponent('business=pay/* and not lifecycle=faulty')}`);
  t.same([...biz.body.matchAll(/<tr data-host="([^"]+)"/g)].map((m) => m[1]), ['vm-1'], 'globs and not');
  const bad = await get(fx, cookie, `/inventory?filter=${encodeURIComponent(`idc ${hostileAttr}`)}`);
  t.equal(bad.status, 400, 'a bad filter is refused');
  t.match(bad.body, /<p class="flash bad" role="alert">[^<]+/, 'with the service\'s message');
  escaped(t, bad.body, 'bad filter');
  t.equal((await get(fx, cookie, '/inventory?after=%3Cx%3E')).status, 400, 'a bad cursor');
});

t.test('host page: record, agent, lifecycle, groups, what ran on it, software', async (t) => {
  const { fx, cookie } = await setup(t);
  const p = await get(fx, cookie, '/inventory/hosts/pm-1');
  t.equal(p.status, 200);
  escaped(t, p.body, 'host page');
  t.match(p.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'hostile text shown as text');
  t.match(p.body, /<h1 class="wrap">pm-1 <span class="s lc-faulty">faulty<\/span><\/h1>/);
  const ranOn = p.body.indexOf('id="ran-on"');
  t.ok(ranOn > 0 && ranOn < p.body.indexOf('id="record"'), 'a faulty host lists what ran on it before anything else');
  t.match(p.body, /id="ran-on-list"[\s\S]*data-name="vm-1"><td data-label="Name"><a href="\/inventory\/hosts\/vm-1">vm-1<\/a>/, 'the VM, linked to its inventory host');
  t.match(p.body, /data-name="c&quot;&gt;&lt;img src=x onerror=alert\(2\)&gt;"/, 'a hostile name escaped inside an attribute');
  t.match(p.body, /<tr data-field="idc"><td data-label="Field" class="mono nw">idc<\/td>\s*<td data-label="Effective" class="mono">sz <span class="srcs">\(merged\)<\/span><\/td>\s*<td data-label="Store" class="mono">sz<\/td><td data-label="Repository" class="mono">gz<\/td>\s*<td data-label="Agent" class="nil">/, 'store against repository, per field');
  t.match(p.body, /<tr data-field="ips" class="mismatch" data-mismatch>[\s\S]*?<span class="flag" title="[^"]*">⚠ 10\.0\.0\.9<\/span>/, 'the agent\'s address beside the record, flagged');
  t.match(p.body, /<tr data-field="set">[\s\S]*?<td data-label="Repository" class="mono">s1<\/td>/, 'repository-only fields');
  t.match(p.body, /<li data-field="ip"><b>ip<\/b>: recorded <span class="mono">10\.0\.0\.1<\/span>, reported <span class="mono">10\.0\.0\.9<\/span>/);
  t.match(p.body, /<td class="mono">kernel<\/td><td class="mono">6\.1\.0<\/td>/, 'facts');
  t.match(p.body, /<tr data-group="canaries">[\s\S]*?filter tag:canary/, 'groups with why');
  t.match(p.body, /<span class="s lc-online">online<\/span><\/td><td data-label="To"><span class="s lc-faulty">faulty<\/span><\/td><td data-label="By" class="nw">admin<\/td><td data-label="Reason" class="wrap">disk failed &lt;script&gt;/, 'lifecycle history');
  t.match(p.body, /<select id="lifecycle" name="lifecycle">[\s\S]*<option value="faulty" selected>/, 'the change form starts at the current state');
  t.match(p.body, /<tr data-package="nginx" data-status="outdated">[\s\S]*?1\.22\.1-9/, 'the host\'s packages');
  t.match(p.body, /<tr data-service="nginx" data-state="failed" data-drift>/, 'the host\'s services, drift marked');
  t.match(p.body, /1 not up to date/);
  const vm = await get(fx, cookie, '/inventory/hosts/vm-1');
  t.notMatch(vm.body, /id="ran-on"/, 'not faulty: no alert list');
  t.match(vm.body, /<table id="virtuals"/);
  t.match(vm.body, /<tr data-field="parent">[\s\S]*?pm-1/, 'its parent');
  t.equal((await get(fx, cookie, '/inventory/hosts/nope')).status, 404);
  const weird = await get(fx, cookie, `/inventory/hosts/${encodeURIComponent(hostile)}`);
  t.equal(weird.status, 404);
  escaped(t, weird.body, '404');
});

t.test('lifecycle form: guards, then the change in the history', async (t) => {
  const { fx, cookie } = await setup(t);
  t.equal((await post(fx, cookie, '/inventory/hosts/vm-1/lifecycle', { lifecycle: 'maintenance' }, 'http://evil.example')).status, 403, 'cross-origin refused');
  const ro = await login(fx, await fx.token('readonly'));
  t.equal((await post(fx, ro, '/inventory/hosts/vm-1/lifecycle', { lifecycle: 'maintenance' })).status, 403, 'readonly refused');
  t.notMatch((await get(fx, ro, '/inventory/hosts/vm-1')).body, /action="\/inventory\/hosts\/vm-1\/lifecycle"/, 'readonly sees no form');
  t.equal((await post(fx, cookie, '/inventory/hosts/vm-1/lifecycle', { lifecycle: 'broken' })).status, 400, 'an unknown state');
  t.equal((await post(fx, cookie, '/inventory/hosts/vm-1/lifecycle', { lifecycle: 'online', reason: 'x'.repeat(1025) })).status, 400, 'a reason too long');
  const ok = await post(fx, cookie, '/inventory/hosts/vm-1/lifecycle', { lifecycle: 'maintenance', reason: `kernel upgrade ${hostile}` });
  t.equal(ok.status, 303);
  t.equal(ok.location, '/inventory/hosts/vm-1?done=lifecycle');
  const rec = await api(fx, '/api/v1/inventory/hosts/vm-1');
  t.equal(rec.effective.lifecycle, 'maintenance', 'the service has the change');
  t.ok(rec.lifecycleHistory.some((e: { from: string; to: string; by: string; reason?: string }) => e.from === 'online' && e.to === 'maintenance' && e.by === 'admin' && e.reason === `kernel upgrade ${hostile}`), 'recorded with who and why');
  const after = await get(fx, cookie, ok.location!);
  t.match(after.body, /role="status">Lifecycle changed\./);
  t.match(after.body, /<span class="s lc-maintenance">maintenance<\/span><\/td><td data-label="By" class="nw">admin<\/td><td data-label="Reason" class="wrap">kernel upgrade &lt;script&gt;/);
  escaped(t, after.body, 'after the change');
});

t.test('import: dry run, refused lines, apply exactly once; export', async (t) => {
  const { fx, cookie } = await setup(t);
  const page = await get(fx, cookie, '/inventory/import');
  t.match(page.body, /enctype="multipart\/form-data"/);
  t.match(page.body, /<label for="file">/, 'labelled upload');
  const csv = 'hostname,ip,idc,tags,owner\nnew-1,10.9.0.1,sz,canary;web,team-a\nvm-1,10.0.1.1,gz,canary;web,\n';
  const dry = await upload(fx, cookie, { file: { filename: 'cmdb.csv', content: csv }, format: 'auto', mode: 'merge' });
  t.equal(dry.status, 200);
  t.match(dry.body, /data-applied="false"/);
  t.match(dry.body, /Dry run: nothing written yet/);
  t.match(dry.body, /<b data-added>1<\/b> added · <b data-changed>1<\/b> changed · <b data-removed>0<\/b> removed/);
  t.match(dry.body, /<tr data-host="vm-1"><td data-label="Host">vm-1<\/td><td data-label="Fields" class="mono">[^<]*idc/);
  t.equal((await fx.json('GET', '/api/v1/inventory/hosts/new-1')).status, 404, 'a dry run writes nothing');
  const stash = /name="stash" value="([0-9a-f]{32})"/.exec(dry.body)?.[1];
  t.ok(stash, 'an apply form for exactly this file');
  const applied = await post(fx, cookie, '/inventory/import/apply', { stash: stash! });
  t.equal(applied.status, 200);
  t.match(applied.body, /data-applied="true"/);
  t.match(applied.body, /The import was applied\./);
  t.equal((await api(fx, '/api/v1/inventory/hosts/vm-1')).effective.idc, 'gz');
  t.same((await api(fx, '/api/v1/inventory/hosts/new-1')).effective.attributes, { owner: 'team-a' });
  t.equal((await post(fx, cookie, '/inventory/import/apply', { stash: stash! })).status, 410, 'a dry run is applied once');

  const bad = await upload(fx, cookie, { text: `hostname,lifecycle\nok-1,online\nbad host,online\nok-2,${hostile}\n`, format: 'csv', mode: 'replace' });
  t.equal(bad.status, 422);
  t.match(bad.body, /Refused: nothing was imported/);
  t.same([...bad.body.matchAll(/<tr data-line="(\d+)">/g)].map((m) => m[1]), ['3', '4'], 'each refused line');
  t.notMatch(bad.body, /name="stash"/, 'nothing to apply');
  escaped(t, bad.body, 'refused import');
  t.equal((await fx.json('GET', '/api/v1/inventory/hosts/ok-1')).status, 404, 'not even the good rows');
  const json = await upload(fx, cookie, { text: JSON.stringify({ hosts: [{ hostname: 'j-1', idc: 'sz' }] }), format: 'auto', mode: 'merge' });
  t.match(json.body, /<b data-added>1<\/b> added/, 'pasted JSON is recognised');
  t.equal((await upload(fx, cookie, { text: '', format: 'csv', mode: 'merge' })).status, 400, 'nothing uploaded');
  t.equal((await upload(fx, cookie, { text: csv, format: 'csv', mode: 'merge' }, 'http://evil.example')).status, 403, 'cross-origin upload refused');
  const exp = await rawRequest(fx.base, { method: 'GET', path: '/inventory/export?format=csv', headers: { cookie } });
  t.equal(exp.status, 200);
  t.match(String(exp.headers['content-type']), /^text\/csv/);
  t.match(String(exp.headers['content-disposition']), /attachment; filename="inventory\.csv"/);
  t.match(exp.body.toString(), /^hostname,[\s\S]*\nnew-1,/, 'the export holds the imported host');
  const expJson = await rawRequest(fx.base, { method: 'GET', path: '/inventory/export?format=json', headers: { cookie } });
  t.match(String(expJson.headers['content-type']), /^application\/json/);
  t.match(expJson.body.toString(), /"hostname":\s*"new-1"/);
  t.equal((await rawRequest(fx.base, { method: 'GET', path: '/inventory/export?format=csv' })).status, 302, 'no session: login first');
  const ro = await login(fx, await fx.token('readonly'));
  t.equal((await upload(fx, ro, { text: csv, format: 'csv', mode: 'merge' })).status, 403, 'readonly cannot import');
  t.equal((await post(fx, ro, '/inventory/import/apply', { stash: 'a'.repeat(32) })).status, 403);
});

t.test('software: fleet charts, a package per host, upgrade to approved', async (t) => {
  const { fx, cookie } = await setup(t);
  const list = await get(fx, cookie, '/software');
  t.equal(list.status, 200);
  escaped(t, list.body, 'software');
  t.match(list.body, /<section class="card" data-package="nginx" data-manager="dpkg"[\s\S]*?0 of 2 host\(s\) up to date[\s\S]*?2 behind/, 'counts per package');
  t.match(list.body, /<li data-version="1\.22\.1-9" data-hosts="2">[\s\S]*?<i class="outdated" style="width:100%">/, 'the fleet chart\'s bar');
  t.match(list.body, /<section class="card" data-package="left-pad" data-manager="npm"[\s\S]*?2 of 2 host\(s\) up to date/);
  const pkg = await get(fx, cookie, '/software/packages/dpkg/nginx');
  t.equal(pkg.status, 200);
  t.match(pkg.body, /<tr data-host="pm-1" data-status="outdated">[\s\S]*?1\.22\.1-9 <span class="muted">amd64<\/span><\/td><td data-label="Approved" class="mono">1\.24\.0-2<\/td>/);
  t.match(pkg.body, /<input id="batches" type="text" name="batches" value="1,50%,100%"/, 'canary batches by default');
  t.equal((await get(fx, cookie, '/software/packages/yum/nginx')).status, 404);
  t.equal((await get(fx, cookie, '/software/packages/dpkg/nope')).status, 404);
  const badBatches = await post(fx, cookie, '/software/packages/dpkg/nginx/upgrade', { targets: '', version: '1.24.0-2', batches: 'soon', gate: 'auto' });
  t.equal(badBatches.status, 400);
  t.match(badBatches.body, /role="alert">the batches are comma-separated/);
  t.match(badBatches.body, /name="batches" value="soon"/, 'the form keeps what was typed');
  const up = await post(fx, cookie, '/software/packages/dpkg/nginx/upgrade', { targets: '', version: '1.24.0-2', batches: '1,50%,100%', gate: 'manual', waitBetween: '30', maxFailures: '10%' });
  t.equal(up.status, 303, up.body);
  t.match(up.location, /^\/rollouts\/[^/]+$/, 'to the rollout');
  const rollout = await api(fx, `/api/v1${up.location}`);
  t.match(rollout, { kind: 'job', policy: { batches: '1,50%,100%', gate: 'manual', waitBetweenSeconds: 30, maxFailures: { percent: 10 } } }, 'a job rollout with the form\'s batch settings');
  const ro = await login(fx, await fx.token('readonly'));
  t.notMatch((await get(fx, ro, '/software/packages/dpkg/nginx')).body, /Upgrade to approved/, 'readonly: no upgrade form');
  t.equal((await post(fx, ro, '/software/packages/dpkg/nginx/upgrade', { batches: '1' })).status, 403);
});

t.test('services: state per host, drift, start/stop/restart', async (t) => {
  const { fx, cookie } = await setup(t);
  const all = await get(fx, cookie, '/services');
  t.equal(all.status, 200);
  t.match(all.body, /<tr data-host="pm-1" data-service="nginx" data-state="failed" data-drift>[\s\S]*?<span class="drift"/, 'drift flagged');
  t.match(all.body, /id="drift-count">1 service\(s\) stopped or failed/);
  t.match(all.body, /<tr data-host="vm-1" data-service="nginx" data-state="running">[\s\S]*?<td data-label="Uptime">3d 0h<\/td>/);
  t.match(all.body, /<tr data-host="vm-1" data-service="worker" data-state="running">[\s\S]*?900 <span class="muted">\(3 processes\)<\/span>/);
  t.match(all.body, /<input type="hidden" name="targets" value="host:pm-1">/, 'row buttons target their host');
  t.match(all.body, /aria-label="restart nginx on pm-1"/, 'row buttons say what they do');
  t.notMatch(all.body, /Start, stop or restart/, 'the selector form needs one service');
  const one = await get(fx, cookie, '/services?name=nginx');
  t.match(one.body, /Start, stop or restart nginx/);
  t.notMatch(one.body, /data-service="worker"/);
  const job = await post(fx, cookie, '/services/nginx/action', { action: 'restart', targets: 'host:vm-1' });
  t.equal(job.status, 303, job.body);
  t.match(job.location, /^\/jobs\/[^/]+$/, 'to the job');
  t.match(JSON.stringify(await api(fx, `/api/v1${job.location}`)), /vm-1/, 'a job on vm-1');
  const after = await get(fx, cookie, '/services?name=nginx&host=vm-1');
  t.match(after.body, /restart by admin at/, 'the last action on the row');
  const roll = await post(fx, cookie, '/services/nginx/action', { action: 'stop', targets: 'host:vm-1,host:pm-1', includeInactive: '1', batches: '1,100%', gate: 'auto' });
  t.equal(roll.status, 303, roll.body);
  t.match(roll.location, /^\/rollouts\/[^/]+$/, 'with batches: a rollout');
  const refused = await post(fx, cookie, '/services/worker/action', { action: 'start', targets: 'host:vm-1' });
  t.equal(refused.status, 400);
  t.match(refused.body, /role="alert">[^<]*start command/, 'the service\'s refusal on the page');
  t.equal((await post(fx, cookie, '/services/nginx/action', { action: 'explode', targets: 'host:vm-1' })).status, 400);
  t.equal((await post(fx, cookie, '/services/nginx/action', { action: 'start', targets: '' })).status, 400);
  t.equal((await post(fx, cookie, '/services/nginx/action', { action: 'start', targets: 'host:vm-1' }, 'http://evil.example')).status, 403);
});

t.test('without ports the pages say so', async (t) => {
  const fx = await startServer(t, { consolePorts: {} });
  const cookie = await login(fx);
  for (const path of ['/inventory', '/inventory/hosts/a1', '/inventory/import', '/software', '/services']) {
    const p = await get(fx, cookie, path);
    t.equal(p.status, 503, path);
    t.match(p.body, /This server has no (inventory|software) service\./);
  }
});
