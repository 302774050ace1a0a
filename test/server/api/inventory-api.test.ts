/**
 * The inventory API through the real app on loopback (ADR 0018): a patch changes the compiled
 * catalog, lifecycle transitions are recorded and the on-online plan launches once, import dry
 * run and apply (a refusal names the line), export round trip, filters with pagination,
 * dynamic groups (name clash, selectors, reasons on the host page), readonly refused on writes.
 */
import t from 'tap';
import { jobRepo, startJobServer } from '../../helpers/job-fixture.js';
import { rawRequest, type TestAgent } from '../../helpers/server-fixture.js';

function repo(): Record<string, string> {
  return {
    ...jobRepo(),
    'groups/web.yaml': 'kind: custom\npriority: 10\nmatch:\n  - tags: web\nroles: [app]\n',
    'roles/app/role.yaml': 'resources:\n  - type: file\n    path: /etc/app.conf\n    template: app.conf.j2\n    mode: "0644"\n',
    'templates/app.conf.j2': 'idc={{ inventory.idc | default("-") }} lifecycle={{ inventory.lifecycle }}\n',
  };
}

async function appConf(a: TestAgent): Promise<string> {
  const r = await a.request('GET', `/api/v1/hosts/${a.host}/catalog`);
  if (r.status !== 200) throw new Error(`catalog of ${a.host}: ${r.status} ${r.body.toString()}`);
  const file = r.json().resources.find((x: { path?: string }) => x.path === '/etc/app.conf');
  return (await a.request('GET', `/api/v1/blobs/${String(file.source).replace(/^sha256:/, '')}`)).body.toString();
}

t.test('inventory API', async (t) => {
  const fx = await startJobServer(t, { liveTtlMs: 3_600_000 }, { publish: false });
  t.equal((await fx.publish(repo())).status, 201);
  const web1 = fx.agents['web-1']!;
  t.equal(await appConf(web1), 'idc=sz lifecycle=online\n');

  // A patch changes what the compiler sees.
  const p1 = await fx.json('PATCH', '/api/v1/inventory/hosts/web-1', { idc: 'gz', business: 'pay/gateway', tags: ['blue'], attributes: { owner: 'ana' } });
  t.equal(p1.status, 200, p1.body.toString());
  t.match(p1.json().record, { hostname: 'web-1', idc: 'gz', business: 'pay/gateway', tags: ['blue'], attributes: { owner: 'ana' } });
  t.equal(await appConf(web1), 'idc=gz lifecycle=online\n', 'the compiled catalog reads the store record');

  // Lifecycle transitions are events.
  const m = await fx.json('PATCH', '/api/v1/inventory/hosts/web-2', { lifecycle: 'maintenance', reason: 'disk swap' });
  t.equal(m.status, 200, m.body.toString());
  t.match(m.json().event, { host: 'web-2', from: 'online', to: 'maintenance', by: 'admin', reason: 'disk swap' });
  // The very next selector sees it (the clock stands still: no TTL expiry hides a stale live revision).
  const left = (await fx.json('POST', '/api/v1/jobs/preview', { targets: 'group:web', script: { lang: 'shell', source: 'true\n' } })).json();
  t.notOk(left.targets[0].hosts.includes('web-2'), 'a host moved to maintenance is left out of the next job at once');
  t.match(left.unavailable, [{ host: 'web-2', reason: /lifecycle maintenance/ }]);
  t.equal(await appConf(fx.agents['web-2']!), 'idc=sz lifecycle=maintenance\n', 'catalogs are still served to hosts not online');

  // On-online plan: launched once, keyed by the event.
  const plan = await fx.json('POST', '/api/v1/plans', { name: 'init', targets: 'group:web', steps: [{ kind: 'script', name: 'hello', script: { lang: 'shell', source: 'echo init' } }] });
  t.equal(plan.status, 201, plan.body.toString());
  t.equal((await fx.json('PUT', '/api/v1/inventory/settings', { onOnlinePlan: 'nope' })).status, 404, 'an unknown plan is refused');
  const st = await fx.json('PUT', '/api/v1/inventory/settings', { onOnlinePlan: 'init' });
  t.equal(st.status, 200, st.body.toString());
  t.same((await fx.json('GET', '/api/v1/inventory/settings')).json(), { onOnlinePlan: 'init' });
  const on = await fx.json('PATCH', '/api/v1/inventory/hosts/web-2', { lifecycle: 'online', reason: 'fixed' });
  const ev = on.json().event;
  t.match(ev, { from: 'maintenance', to: 'online', planJob: /./ }, 'moving to online launched the plan');
  const job = await fx.job(ev.planJob);
  t.same(job.hosts.map((h: { host: string }) => h.host), ['web-2'], 'on that host only');
  const events = (await fx.json('GET', '/api/v1/inventory/hosts/web-2/events')).json().events;
  t.match(events, [{ to: 'online', planJob: ev.planJob }, { to: 'maintenance' }], 'newest first, with the job');
  const again = await fx.json('PATCH', '/api/v1/inventory/hosts/web-2', { lifecycle: 'online' });
  t.notOk(again.json().event, 'no transition, no event');

  // Filters and pagination.
  const q = async (filter: string, extra = '') => fx.json('GET', `/api/v1/inventory/hosts?filter=${encodeURIComponent(filter)}${extra}`);
  t.same((await q('idc=gz')).json().hosts.map((h: { hostname: string }) => h.hostname), ['db-1', 'web-1']);
  t.same((await q('business=pay/* and attr.owner=ana')).json().hosts.map((h: { hostname: string }) => h.hostname), ['web-1']);
  t.same((await q('tag:web and not tag:blue')).json().hosts.map((h: { hostname: string }) => h.hostname), ['ghost-1', 'web-2'], 'tags are the union of repository and store');
  const row = (await q('hostname=web-1')).json().hosts[0];
  t.match(row, { hostname: 'web-1', source: 'both', lifecycle: 'online', idc: 'gz', tags: ['web', 'canary', 'blue'], groups: ['all', 'web'] });
  t.notOk('os' in row || 'mismatches' in row, 'no facts yet: no OS, no mismatch count');
  // Facts as the agent's facts report stores them: the row shows the OS and how many fields the agent contradicts.
  await fx.server.services.hostStates.putFacts('web-1', { hostname: 'other-name', os: { prettyName: 'Debian GNU/Linux 12 (bookworm)' } });
  t.match((await q('hostname=web-1')).json().hosts[0], { hostname: 'web-1', os: 'Debian GNU/Linux 12 (bookworm)', mismatches: 1 });
  const bad = await q('idc=gz and');
  t.equal(bad.status, 400);
  t.equal(bad.json().error.details.column, 11);
  const seen: string[] = [];
  let after = '';
  for (let i = 0; i < 10; i++) {
    const page = (await fx.json('GET', `/api/v1/inventory/hosts?limit=1${after ? `&after=${after}` : ''}`)).json();
    t.equal(page.total, 4);
    seen.push(...page.hosts.map((h: { hostname: string }) => h.hostname));
    if (!page.next) break;
    after = page.next;
  }
  t.same(seen, ['db-1', 'ghost-1', 'web-1', 'web-2'], 'pages follow the hostname cursor');

  // Dynamic groups.
  t.equal((await fx.json('PUT', '/api/v1/inventory/groups/web', { name: 'web', filter: 'idc=sz' })).status, 409, 'a repository group\'s name is refused');
  t.equal((await fx.json('PUT', '/api/v1/inventory/groups/pay', { name: 'pay', filter: 'business=pay/* and' })).status, 400, 'a bad filter is refused');
  const g = await fx.json('PUT', '/api/v1/inventory/groups/pay', { name: 'pay', filter: 'business=pay/*', description: 'payments' });
  t.equal(g.status, 201, g.body.toString());
  t.match(g.json(), { name: 'pay', members: 1 });
  t.match((await fx.json('GET', '/api/v1/inventory/groups')).json().groups, [{ name: 'pay', filter: 'business=pay/*', members: 1 }]);
  t.same((await fx.json('GET', '/api/v1/inventory/groups/pay')).json().hosts, ['web-1']);
  const preview = await fx.json('POST', '/api/v1/jobs/preview', { targets: 'group:pay', script: { lang: 'shell', source: 'true\n' } });
  t.same(preview.json().targets[0].hosts, ['web-1'], 'selectors resolve inventory groups');
  t.same((await q('group:pay')).json().hosts.map((h: { hostname: string }) => h.hostname), ['web-1'], 'filters too');
  const detail = await fx.json('GET', '/api/v1/inventory/hosts/web-1');
  t.equal(detail.status, 200, detail.body.toString());
  const d = detail.json();
  t.match(d, { host: 'web-1', source: 'both', effective: { idc: 'gz', business: 'pay/gateway' }, stored: { idc: 'gz' }, repository: { idc: 'sz' }, children: [], virtuals: [] });
  t.same(d.groups, [
    { group: 'all', source: 'repository', why: 'every host is in all' },
    { group: 'web', source: 'repository', why: 'rule 1 matched (tags contains web)' },
    { group: 'pay', source: 'inventory', why: 'filter business=pay/*' },
  ]);
  t.equal((await fx.json('GET', '/api/v1/inventory/hosts/nope-1')).status, 404);

  // Children of a faulty physical host.
  await fx.json('PATCH', '/api/v1/inventory/hosts/vm-7', { kind: 'vm', parent: 'db-1' });
  await fx.json('PATCH', '/api/v1/inventory/hosts/db-1', { kind: 'physical', lifecycle: 'faulty' });
  t.match((await fx.json('GET', '/api/v1/inventory/hosts/db-1')).json(), { effective: { lifecycle: 'faulty' }, children: ['vm-7'] });

  // Import: refusal by line, dry run, apply; export round trip.
  const post = (body: string, query: string, type = 'text/csv', token = fx.adminToken) => rawRequest(fx.base, { method: 'POST', path: `/api/v1/inventory/import?${query}`, headers: { 'content-type': type, authorization: `Bearer ${token}` }, body: Buffer.from(body) });
  const broken = await post('hostname,idc,lifecycle\nn-1,sz,online\nn-2,sz,asleep\n', '');
  t.equal(broken.status, 200);
  t.match(broken.json(), { applied: false, problems: [{ line: 3, column: 'lifecycle', hostname: 'n-2' }] });
  const dry = await post('hostname,idc,lifecycle\nn-1,sz,online\nweb-1,hk,\n', 'dryRun=true');
  t.match(dry.json(), { dryRun: true, applied: false, added: ['n-1'], changed: [{ hostname: 'web-1', fields: ['idc'] }] });
  t.notOk((await fx.json('GET', '/api/v1/inventory/hosts?filter=hostname%3Dn-1')).json().hosts.length, 'a dry run writes nothing');
  const applied = await post('hostname,idc,lifecycle\nn-1,sz,online\n', 'dryRun=false&mode=merge');
  t.match(applied.json(), { applied: true, counts: { added: 1 } });
  const exported = await fx.json('GET', '/api/v1/inventory/export?format=csv');
  t.equal(exported.status, 200);
  t.match(exported.headers['content-type'], /text\/csv/);
  const round = await post(exported.body.toString(), 'dryRun=true&mode=replace');
  t.match(round.json(), { counts: { added: 0, changed: 0, removed: 0 }, problems: [] }, 'the export imports back unchanged');
  const json = await fx.json('GET', '/api/v1/inventory/export?format=json');
  const jround = await post(json.body.toString(), 'format=json&dryRun=true&mode=replace', 'application/json');
  t.match(jround.json(), { counts: { added: 0, changed: 0, removed: 0 }, problems: [] });

  // Readonly tokens read, never write; every write is audited.
  const ro = await fx.token('readonly', 'viewer');
  t.equal((await fx.json('GET', '/api/v1/inventory/hosts', undefined, ro)).status, 200);
  t.equal((await fx.json('GET', '/api/v1/inventory/hosts/web-1', undefined, ro)).status, 200);
  t.equal((await fx.json('PATCH', '/api/v1/inventory/hosts/web-1', { idc: 'x' }, ro)).status, 403);
  t.equal((await fx.json('DELETE', '/api/v1/inventory/hosts/web-1', undefined, ro)).status, 403);
  t.equal((await fx.json('PUT', '/api/v1/inventory/groups/x', { name: 'x', filter: 'idc=a' }, ro)).status, 403);
  t.equal((await fx.json('DELETE', '/api/v1/inventory/groups/pay', undefined, ro)).status, 403);
  t.equal((await fx.json('PUT', '/api/v1/inventory/settings', { onOnlinePlan: null }, ro)).status, 403);
  t.equal((await post('hostname\nz-1\n', '', 'text/csv', ro)).status, 403);
  const actions = new Set((await fx.server.services.auditLog.list({ limit: 500 })).map((e) => e.action));
  for (const a of ['inventory.patch', 'inventory.import', 'inventory.group.put', 'inventory.settings']) t.ok(actions.has(a), `audited: ${a}`);

  // Removing the store record restores the repository's values.
  t.equal((await fx.json('DELETE', '/api/v1/inventory/hosts/web-1')).status, 204);
  t.equal((await fx.json('DELETE', '/api/v1/inventory/hosts/web-1')).status, 404);
  t.equal(await appConf(web1), 'idc=sz lifecycle=online\n');
  t.equal((await fx.json('DELETE', '/api/v1/inventory/groups/pay')).status, 204);
});
