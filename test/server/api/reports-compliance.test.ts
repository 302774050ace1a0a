/** Report ingestion (idempotent, own host only, validated) and compliance states, summary, history. */
import t from 'tap';
import { startServer } from '../../helpers/server-fixture.js';
import { makeReport } from '../../helpers/server-reports.js';
import { smallRepo } from '../../helpers/server-repo.js';

t.test('reports are idempotent on runId and stored once', async (t) => {
  const fx = await startServer(t);
  const a = await fx.approvedAgent('web-1');
  const rep = makeReport('web-1', 'run-1');
  const r1 = await a.request('POST', '/api/v1/hosts/web-1/reports', rep);
  t.equal(r1.status, 200, r1.body.toString());
  t.same(r1.json(), { runId: 'run-1', duplicate: false });
  const r2 = await a.request('POST', '/api/v1/hosts/web-1/reports', rep);
  t.equal(r2.status, 200);
  t.same(r2.json(), { runId: 'run-1', duplicate: true });
  t.equal(await fx.server.services.reports.count('web-1'), 1);
  const list = (await fx.json('GET', '/api/v1/reports?host=web-1')).json();
  t.equal(list.reports.length, 1);
  const full = await fx.json('GET', '/api/v1/hosts/web-1/reports/run-1');
  t.equal(full.status, 200);
  t.same(full.json(), rep);

  // The body's host must be the signer.
  const b = await fx.approvedAgent('web-2');
  const forged = await b.request('POST', '/api/v1/hosts/web-2/reports', makeReport('web-1', 'run-x'));
  t.equal(forged.status, 403);
  t.equal(await fx.server.services.reports.count('web-1'), 1, 'A\'s report count unchanged');

  // Precise schema errors.
  const bad = await a.request('POST', '/api/v1/hosts/web-1/reports', { ...rep, runId: '../../etc', outcome: 'great' });
  t.equal(bad.status, 400);
  t.equal(bad.json().error.code, 'SCHEMA_INVALID');
  t.match(bad.json().error.message, /\/runId must match/);
  t.match(bad.json().error.message, /\/outcome must be one of/);
  const probs = bad.json().error.details.problems.map((p: { path: string }) => p.path);
  t.ok(probs.includes('/runId') && probs.includes('/outcome'));
});

t.test('the last-run index survives a restart and sees reports other servers stored', async (t) => {
  const fx = await startServer(t);
  const a = await fx.approvedAgent('web-1');
  await a.request('POST', '/api/v1/hosts/web-1/reports', makeReport('web-1', 'x1', { outcome: 'failed' }));
  // A second server on the same store (what a restart or a peer sees).
  const { ReportService } = await import('../../../server/services/report-service.js');
  const other = await ReportService.open(fx.server.store, fx.clock);
  t.equal((await other.lastRuns()).get('web-1')?.outcome, 'failed', 'loaded at start-up');
  await a.request('POST', '/api/v1/hosts/web-1/reports', makeReport('web-1', 'x2', { startedAt: '2026-11-26T10:05:00.000Z' }));
  fx.clock.advance(3000);
  t.equal((await other.lastRuns()).get('web-1')?.runId, 'x2', 'synced incrementally');
  // Concurrent re-sends of one report in one group commit: stored once.
  const rep = makeReport('web-1', 'x3', { startedAt: '2026-11-26T10:06:00.000Z' });
  const acks = await Promise.all([1, 2, 3, 4].map(() => a.request('POST', '/api/v1/hosts/web-1/reports', rep)));
  t.same(acks.map((r) => r.status), [200, 200, 200, 200]);
  t.equal(acks.filter((r) => r.json().duplicate === false).length, 1, 'exactly one stored');
  t.equal(await fx.server.services.reports.count('web-1'), 3);
});

t.test('compliance: unknown, in-sync, drifted, failing, not reporting; fleet %, groups, resources, history', async (t) => {
  const fx = await startServer(t, { staleAfterMs: 15 * 60_000 });
  t.equal((await fx.publish(smallRepo())).status, 201);
  const w1 = await fx.approvedAgent('web-1');
  const w2 = await fx.approvedAgent('web-2');
  const d1 = await fx.approvedAgent('db-1');
  const state = async (h: string): Promise<string> => (await fx.json('GET', `/api/v1/hosts/${h}`)).json().compliance;
  t.equal(await state('web-1'), 'unknown');

  await w1.request('POST', '/api/v1/hosts/web-1/reports', makeReport('web-1', 'a1'));
  await w2.request('POST', '/api/v1/hosts/web-2/reports', makeReport('web-2', 'b1', { outcome: 'changed', corrective: true }));
  await d1.request('POST', '/api/v1/hosts/db-1/reports', makeReport('db-1', 'c1', { outcome: 'failed' }));
  t.equal(await state('web-1'), 'in-sync');
  t.equal(await state('web-2'), 'drifted');
  t.equal(await state('db-1'), 'failing');

  // An intentional change (not corrective) is in sync.
  await w2.request('POST', '/api/v1/hosts/web-2/reports', makeReport('web-2', 'b2', { outcome: 'changed', startedAt: '2026-11-26T10:01:00.000Z' }));
  t.equal(await state('web-2'), 'in-sync');
  // An older run delivered late does not overwrite the newer state.
  await w2.request('POST', '/api/v1/hosts/web-2/reports', makeReport('web-2', 'b0', { outcome: 'failed', startedAt: '2026-11-26T09:00:00.000Z' }));
  t.equal(await state('web-2'), 'in-sync');

  const sum = (await fx.json('GET', '/api/v1/compliance')).json();
  t.equal(sum.fleet.total, 3);
  t.same(sum.fleet.counts, { 'in-sync': 2, drifted: 0, failing: 1, 'not-reporting': 0, unknown: 0 });
  t.equal(sum.fleet.percent, 66.67);
  const web = sum.groups.find((g: { scope: string }) => g.scope === 'group:web');
  t.equal(web.percent, 100);
  const conf = sum.resources.find((r: { scope: string }) => r.scope === 'resource:file:/srv/app/app.conf');
  t.equal(conf.total, 3);
  t.equal(conf.counts['in-sync'], 2, 'failed on db-1 only');

  const h1 = await fx.server.housekeeping.tick();
  t.ok(h1.buckets >= 3);
  fx.clock.advance(16 * 60_000);
  t.equal(await state('web-1'), 'not-reporting', 'stale after 15 min');
  fx.clock.advance(60 * 60_000);
  await fx.server.housekeeping.tick();
  const hist = (await fx.json('GET', '/api/v1/compliance/history?scope=fleet&days=1')).json();
  t.equal(hist.points.length, 2, 'one point per hour');
  t.equal(hist.points[0].percent, 66.67);
  t.equal(hist.points[1].counts['not-reporting'], 3);
  t.equal((await fx.json('GET', '/api/v1/compliance/history?scope=group:web')).json().points.length, 2);

  // Retention: raw reports go, history stays.
  fx.clock.advance(15 * 86_400_000);
  const h3 = await fx.server.housekeeping.tick();
  t.equal(h3.reportsDeleted, 2, 'each host keeps its newest report');
  t.equal(await fx.server.services.reports.count(), 3);
  t.equal(await state('web-2'), 'not-reporting', 'and still shows as not reporting');
  t.equal((await fx.json('GET', '/api/v1/compliance/history?scope=fleet&days=30')).json().points.length, 3, 'hourly history outlives raw reports');
  t.equal((await fx.json('GET', '/api/v1/compliance/history?scope=%24where')).status, 400);
});
