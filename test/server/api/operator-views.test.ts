/** Operator views: hosts, groups, variables (YAML, flat, explain), catalog preview, facts; readonly may read. */
import t from 'tap';
import { startServer } from '../../helpers/server-fixture.js';
import { makeReport } from '../../helpers/server-reports.js';
import { smallRepo } from '../../helpers/server-repo.js';

t.test('hosts, groups, variables, preview', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const ro = await fx.token('readonly', 'viewer');
  const a = await fx.approvedAgent('web-1');
  await a.request('PUT', '/api/v1/hosts/web-1/facts', { os: { family: 'debian' }, 'dotted.key': 1, $dollar: 2 });
  await a.request('POST', '/api/v1/hosts/web-1/reports', makeReport('web-1', 'r1', { outcome: 'changed', corrective: true }));
  await fx.approvedAgent('rogue-1'); // enrolled, not in the inventory

  const hosts = (await fx.json('GET', '/api/v1/hosts', undefined, ro)).json().hosts;
  t.same(hosts.map((h: { host: string }) => h.host), ['db-1', 'rogue-1', 'web-1', 'web-2']);
  const w1 = hosts.find((h: { host: string }) => h.host === 'web-1');
  t.equal(w1.compliance, 'drifted');
  t.equal(w1.enrollment, 'approved');
  t.same(w1.groups, ['all', 'web'], 'the implicit group all, and web');
  t.equal(w1.lastRun.runId, 'r1');
  t.equal(hosts.find((h: { host: string }) => h.host === 'rogue-1').inInventory, false);
  t.equal(hosts.find((h: { host: string }) => h.host === 'db-1').compliance, 'unknown');

  const one = (await fx.json('GET', '/api/v1/hosts/web-1', undefined, ro)).json();
  t.ok(one.factsUpdatedAt);
  t.equal((await fx.json('GET', '/api/v1/hosts/nope-1', undefined, ro)).status, 404);
  t.same((await fx.json('GET', '/api/v1/hosts/web-1/facts', undefined, ro)).json(), { os: { family: 'debian' }, 'dotted.key': 1, $dollar: 2 }, 'facts with dots and dollars stored inertly');

  const groups = (await fx.json('GET', '/api/v1/groups', undefined, ro)).json().groups;
  const web = groups.find((g: { name: string }) => g.name === 'web');
  t.same(web.hosts, ['web-1', 'web-2']);
  t.equal(web.compliance.counts.drifted, 1);

  const yaml = await fx.json('GET', '/api/v1/hosts/web-1/variables', undefined, ro);
  t.equal(yaml.status, 200);
  t.match(String(yaml.headers['content-type']), /yaml/);
  t.match(yaml.body.toString(), /port: 8080/);
  const flat = (await fx.json('GET', '/api/v1/hosts/web-1/variables?view=flat', undefined, ro)).json();
  t.equal(flat.flat['app.port'], 8080);
  t.equal(flat.flat['app.name'], 'shop');
  const ex = (await fx.json('GET', '/api/v1/hosts/web-1/variables?explain=app.port', undefined, ro)).json();
  t.equal(ex.explain.found, true);
  t.equal(ex.explain.value, 8080);
  t.ok(ex.explain.overridden.length >= 1, 'what the web group overrode (global 8000)');
  t.equal((await fx.json('GET', '/api/v1/hosts/web-1/variables?view=xml', undefined, ro)).status, 400);
  t.equal((await fx.json('GET', '/api/v1/hosts/rogue-1/variables', undefined, ro)).status, 404);

  const pre = (await fx.json('GET', '/api/v1/hosts/db-1/preview', undefined, ro)).json();
  t.equal(pre.catalog.host, 'db-1');
  t.same(pre.problems, []);
  const compiles = fx.server.services.catalogs.counters.compiles;
  await fx.json('GET', '/api/v1/hosts/db-1/preview', undefined, ro);
  t.equal(fx.server.services.catalogs.counters.compiles, compiles, 'previews do not fill the agents\' cache');

  const agents = (await fx.json('GET', '/api/v1/agents', undefined, ro)).json().agents;
  t.same(agents.map((x: { host: string }) => x.host), ['rogue-1', 'web-1']);
  t.equal((await fx.json('POST', '/api/v1/agents/web-1/revoke', undefined, ro)).status, 403, 'readonly cannot revoke');
  t.equal((await fx.json('GET', '/api/v1/reports?limit=0', undefined, ro)).status, 400);
  t.equal((await fx.json('GET', '/api/v1/reports?host=%7B%22%24ne%22%3Anull%7D', undefined, ro)).status, 400, 'filters are strings of a fixed shape (D1)');
});
