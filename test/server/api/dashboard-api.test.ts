/**
 * The dashboard and drift-history API against the in-process server (ManualClock, signed agent
 * reports), and the `stead dashboard` / `stead drift` commands as built processes against it
 * (build first): the summary, events per host and resource with cursor pages, top drifted,
 * per-day counts, compliance history per hour/day/month, and the refusals of bad queries.
 */
import t from 'tap';
import { runStead } from '../../helpers/cli.js';
import { startServer } from '../../helpers/server-fixture.js';
import { makeReport } from '../../helpers/server-reports.js';
import { smallRepo } from '../../helpers/server-repo.js';

t.test('dashboard, drift and history over the API and the CLI', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const iso = (): string => new Date(fx.clock.now()).toISOString();
  const w1 = await fx.approvedAgent('web-1');
  const w2 = await fx.approvedAgent('web-2');
  const d1 = await fx.approvedAgent('db-1');
  const send = async (a: typeof w1, run: string, o: Parameters<typeof makeReport>[2] = {}): Promise<void> => {
    const r = await a.request('POST', `/api/v1/hosts/${a.host}/reports`, makeReport(a.host, run, { startedAt: iso(), ...o }));
    t.equal(r.status, 200, r.body.toString());
  };
  await send(w1, 'w1-1', { outcome: 'changed', corrective: true });
  await send(w2, 'w2-1', { outcome: 'would-change', corrective: true });
  await send(d1, 'd1-1', { outcome: 'failed' });
  await fx.server.services.compliance.rollup(AbortSignal.timeout(5000));
  fx.clock.advance(60_000);
  await send(w1, 'w1-2'); // back in sync: the repaired drift stays in the history

  const dash = await fx.json('GET', '/api/v1/dashboard');
  t.equal(dash.status, 200, dash.body.toString());
  const d = dash.json();
  t.same(d.fleet.counts, { 'in-sync': 1, drifted: 1, failing: 1, 'not-reporting': 0, unknown: 0 });
  t.same(d.failing, { total: 1, hosts: [{ host: 'db-1', state: 'failing', groups: ['all', 'db'], lastRunAt: '2026-11-26T10:00:00.000Z', runId: 'd1-1', failed: 1, corrective: 0 }] });
  t.same(d.drifted.hosts.map((h: { host: string }) => h.host), ['web-2']);
  t.same(d.jobs, { total: 0, items: [] });
  t.same(d.rollouts, { total: 0, items: [] });
  t.same(d.topDrifted.items.map((x: { resource: string; events: number; hosts: number }) => [x.resource, x.events, x.hosts]), [['file:/srv/app/app.conf', 3, 3]]);
  t.ok(typeof d.revision === 'string');

  const w1Events = (await fx.json('GET', '/api/v1/drift?host=web-1')).json();
  t.same(w1Events.events.map((e: { kind: string; runId: string }) => [e.kind, e.runId]), [['repaired', 'w1-1']], 'the repaired drift is listed after the in-sync run');
  const page1 = (await fx.json('GET', `/api/v1/drift?resource=${encodeURIComponent('file:/srv/app/app.conf')}&limit=2`)).json();
  t.equal(page1.events.length, 2);
  const page2 = (await fx.json('GET', `/api/v1/drift?resource=${encodeURIComponent('file:/srv/app/app.conf')}&limit=2&cursor=${page1.next}`)).json();
  t.equal(page2.events.length, 1);
  t.notOk(page2.next);
  t.same((await fx.json('GET', '/api/v1/drift?kind=detected')).json().events.map((e: { host: string }) => e.host), ['web-2']);
  t.equal((await fx.json('GET', '/api/v1/drift?since=2026-11-26T10:00:01Z')).json().events.length, 0, 'nothing since');
  t.equal((await fx.json('GET', '/api/v1/drift?since=1m')).json().events.length, 3, 'a window ending now');
  t.equal((await fx.json('GET', '/api/v1/drift?since=2026-11-26T00:00:00Z')).json().events.length, 3);
  const top = (await fx.json('GET', '/api/v1/drift/top?since=1d')).json();
  t.same(top.resources[0].byKind, { detected: 1, repaired: 1, failed: 1 });
  const days = (await fx.json('GET', '/api/v1/drift/days?host=web-2')).json();
  t.same(days.days, [{ day: '2026-11-26', counts: { detected: 1, repaired: 0, failed: 0 } }]);
  for (const bad of ['/api/v1/drift?since=forever', '/api/v1/drift?kind=bad', '/api/v1/drift?host=%3Cx%3E', '/api/v1/drift?cursor=%25%25', '/api/v1/drift?cursor=bm9wZQ', '/api/v1/dashboard?limit=0', '/api/v1/compliance/history?step=week']) {
    const r = await fx.json('GET', bad);
    t.equal(r.status, 400, `${bad} → 400`);
  }

  const hourly = (await fx.json('GET', '/api/v1/compliance/history')).json();
  t.equal(hourly.step, 'hour');
  t.equal(hourly.points.length, 1);
  t.equal(hourly.points[0].hour, hourly.points[0].at);
  const daily = (await fx.json('GET', '/api/v1/compliance/history?step=day')).json();
  t.same(daily.points.map((p: { at: string; samples: number }) => [p.at, p.samples]), [['2026-11-26T00:00:00.000Z', 1]]);
  const monthly = (await fx.json('GET', '/api/v1/compliance/history?step=month&scope=group:web')).json();
  t.same(monthly.points.map((p: { at: string; counts: Record<string, number> }) => [p.at, p.counts.drifted]), [['2026-11-01T00:00:00.000Z', 2]]);

  // The commands, as processes.
  const env = { STEAD_SERVER: fx.base, STEAD_TOKEN: fx.adminToken, STEAD_TOKEN_FILE: '' };
  const stead = (...args: string[]) => runStead(args, { env });
  const human = await stead('dashboard');
  t.equal(human.code, 0, human.stderr);
  t.match(human.stdout, /^Fleet: 33\.33 % in sync of 3 host\(s\)/);
  t.match(human.stdout, /Failing hosts \(1\):\n\s+HOST\s+LAST RUN\s+FAILED\s+GROUPS\n\s+db-1\s+2026-11-26T10:00:00.000Z\s+1\s+all,db/);
  t.match(human.stdout, /Most drifted resources since [^\n]+:\n\s+RESOURCE[^\n]+\n\s+file:\/srv\/app\/app\.conf\s+3\s+3\s+1\s+1\s+1/);
  const json = await stead('dashboard', '--json', '--since', '2d');
  t.equal(json.code, 0, json.stderr);
  t.equal(JSON.parse(json.stdout).failing.total, 1);
  const drift = await stead('drift', '--host', 'web-1');
  t.equal(drift.code, 0, drift.stderr);
  t.match(drift.stdout, /WHEN\s+HOST\s+RESOURCE\s+KIND\s+PROPERTIES\s+RUN\n\S+\s+web-1\s+file:\/srv\/app\/app\.conf\s+repaired\s+content\s+w1-1/);
  const all = await stead('drift', '--resource', 'file:/srv/app/app.conf', '--limit', '3', '--json');
  t.equal(JSON.parse(all.stdout).events.length, 3, 'pages followed');
  const failed = await stead('drift', '--kind', 'failed');
  t.match(failed.stdout, /db-1\s+file:\/srv\/app\/app\.conf\s+failed \(APPLY_FAILED\)/);
  const topCli = await stead('drift', '--top', '--since', '7d');
  t.match(topCli.stdout, /file:\/srv\/app\/app\.conf\s+3\s+3/);
  t.equal((await stead('drift', '--since', 'forever')).code, 64);
  t.equal((await stead('drift', '--top', '--host', 'web-1')).code, 64);
  t.equal((await stead('drift', '--kind', 'sideways')).code, 64);
  const badHost = await stead('drift', '--host', '<x>');
  t.equal(badHost.code, 2, badHost.stderr);
});
