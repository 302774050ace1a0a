/**
 * Compact reports on ingest (ADR 0021), against a real server on loopback: a compact report is
 * checked against the catalog the server served under its catalogId and stored compact; one
 * that does not hold (unknown catalog, tampered digest or counts) is refused with 422
 * FULL_REPORT_REQUIRED and nothing is stored, after which the full report is accepted; an older
 * agent's full report is compacted on ingest; every read (API, paging, compliance, drift, the
 * console's host page) answers from the expanded report.
 */
import t, { type Test } from 'tap';
import { compactReport, indexCatalog, resourceId, type Catalog, type ResourceStatus, type RunReport } from '../../../schemas/index.js';
import { rawRequest, startServer, type ServerFixture, type TestAgent } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

async function catalogOf(a: TestAgent): Promise<Catalog> {
  const r = await a.request('GET', `/api/v1/hosts/${a.host}/catalog`);
  if (r.status !== 200) throw new Error(`catalog: ${r.status} ${r.body.toString()}`);
  return r.json() as Catalog;
}

/** A full report of `catalog` as an agent builds it: every resource in sync but those in `moved`. */
function fullReport(catalog: Catalog, runId: string, moved: Record<string, Partial<ResourceStatus>> = {}, startedAt = '2026-11-26T10:00:00.000Z'): RunReport {
  const resources: ResourceStatus[] = catalog.resources.map((r, i) => ({ id: resourceId(r), type: r.type, state: 'in-sync', changes: [], durationMs: i, ...moved[resourceId(r)] }));
  const counts = { total: resources.length, inSync: 0, changed: 0, wouldChange: 0, failed: 0, skipped: 0, corrective: 0 };
  for (const r of resources) {
    if (r.state === 'in-sync') counts.inSync++;
    else if (r.state === 'changed') counts.changed++;
    else if (r.state === 'would-change') counts.wouldChange++;
    else if (r.state === 'failed') counts.failed++;
    else counts.skipped++;
    if (r.changes.some((c) => c.corrective)) counts.corrective++;
  }
  const outcome = counts.failed + counts.skipped > 0 ? 'failed' : counts.changed > 0 ? 'changed' : counts.wouldChange > 0 ? 'would-change' : 'in-sync';
  return { runId, host: catalog.host, catalogId: catalog.id, revision: catalog.revision, mode: 'apply', startedAt, durationMs: 25, outcome, counts, resources };
}

/** The report as the server answers it for a stored compact one: summarised resources without a duration. */
function expected(full: RunReport, compact: RunReport): RunReport {
  const listed = new Set(compact.resources.map((r) => r.id));
  return { ...full, resources: full.resources.map((r) => (listed.has(r.id) ? r : { id: r.id, type: r.type, state: r.state, changes: [] })) };
}

async function storedDoc(fx: ServerFixture, host: string, runId: string): Promise<{ json: string; compact?: boolean; summary: { resources?: unknown } } | null> {
  const c = await fx.server.store.collection<{ _id: string; json: string; compact?: boolean; summary: { resources?: unknown } }>('reports', []);
  return c.findOne({ _id: `${host}/${runId}` });
}

async function setup(t: Test): Promise<{ fx: ServerFixture; a: TestAgent; catalog: Catalog }> {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const a = await fx.approvedAgent('web-1');
  return { fx, a, catalog: await catalogOf(a) };
}

t.test('a compact report is checked, stored compact, and read back in full everywhere', async (t) => {
  const { fx, a, catalog } = await setup(t);
  t.ok(catalog.resources.length >= 3);
  const index = indexCatalog(catalog.id, catalog.resources.map(resourceId))!;
  const ids = index.ids;
  const moved = { [ids[1]!]: { state: 'changed' as const, changes: [{ property: 'content', before: 'sha256:aa', after: 'sha256:bb', corrective: true }], diff: '--- a\n+++ b\n' } };
  const full = fullReport(catalog, 'run-1', moved);
  const compact = compactReport(full, index)!;
  t.equal(compact.resources.length, 1, 'only the changed resource listed');
  const r = await a.request('POST', '/api/v1/hosts/web-1/reports', compact);
  t.equal(r.status, 200, r.body.toString());
  t.same(r.json(), { runId: 'run-1', duplicate: false });

  const doc = await storedDoc(fx, 'web-1', 'run-1');
  t.equal(doc?.compact, true, 'stored compact');
  t.equal((JSON.parse(doc!.json) as RunReport).resources.length, 1, 'the in-sync rest is not stored per report');
  t.equal(doc?.summary.resources, undefined, 'nor are its ids in the stored summary');

  const got = await fx.json('GET', '/api/v1/hosts/web-1/reports/run-1');
  t.equal(got.status, 200);
  t.same(got.json(), expected(full, compact), 'the API answers the full report (summarised durations absent)');
  const page = await fx.json('GET', '/api/v1/hosts/web-1/reports/run-1?offset=1&limit=1');
  t.equal(page.headers['x-stead-resources-total'], String(ids.length));
  t.same(page.json().resources, [full.resources[1]]);

  // Compliance per resource: every catalog resource counted, the drifted one not compliant.
  const summary = (await fx.json('GET', '/api/v1/compliance')).json();
  const byScope = new Map<string, { total: number; counts: Record<string, number> }>(summary.resources.map((b: { scope: string }) => [b.scope, b]));
  for (const id of ids) t.equal(byScope.get(`resource:${id}`)?.total, 1, `${id} counted`);
  t.equal(byScope.get(`resource:${ids[1]}`)?.counts['drifted'], 1);
  t.equal(byScope.get(`resource:${ids[0]}`)?.counts['in-sync'], 1);
  t.equal((await fx.json('GET', '/api/v1/hosts/web-1')).json().compliance, 'drifted');

  // Drift history: the event carries the run-order position as a full report's would.
  const drift = (await fx.json('GET', '/api/v1/drift?host=web-1')).json();
  t.same(drift.events.map((e: { resource: string; kind: string }) => [e.resource, e.kind]), [[ids[1], 'repaired']]);
  const events = await fx.server.store.collection<{ _id: string }>('drift_events', []);
  t.same((await events.find({ host: 'web-1' })).map((d) => d._id), ['web-1/run-1/1'], 'event id names the position in the run, as a full report\'s does');

  // The console's host page shows the run, the in-sync resources without a made-up time.
  const login = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin: fx.base, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(fx.adminToken)}` });
  const session = String(login.headers['set-cookie']![0]).split(';')[0]!;
  const page2 = await rawRequest(fx.base, { method: 'GET', path: '/hosts/web-1/runs/run-1', headers: { cookie: session } });
  t.equal(page2.status, 200);
  const html = page2.body.toString();
  t.match(html, `data-resource="${ids[1]}"`, 'the changed resource shown');
  t.match(html, `${ids.length - 1} resource(s) in sync`, 'every in-sync resource listed');
  t.match(html, ids[0]!);
  t.match(html, /not recorded: summarised in a compact report/, 'their time shown as not recorded');

  // A re-send is a duplicate, stored once.
  const again = await a.request('POST', '/api/v1/hosts/web-1/reports', compact);
  t.same(again.json(), { runId: 'run-1', duplicate: true });
  t.equal(fx.server.services.reports.counters.compactReceived, 1);
});

t.test('a compact report that does not hold is refused with FULL_REPORT_REQUIRED; the full one is then stored', async (t) => {
  const { fx, a, catalog } = await setup(t);
  const index = indexCatalog(catalog.id, catalog.resources.map(resourceId))!;
  const failing = { [index.ids[2]!]: { state: 'failed' as const, error: { code: 'APPLY_FAILED', message: 'disk full' } } };
  const full = fullReport(catalog, 'run-2', failing);
  const compact = compactReport(full, index)!;
  const s = compact.inSyncSummary!;
  const bad: [string, RunReport, RegExp][] = [
    ['tampered digest', { ...compact, inSyncSummary: { ...s, digest: '0'.repeat(64) } }, /digest does not match/],
    // The failure dropped from the list and passed off as in sync: the digest gives it away.
    ['a hidden failure', { ...compact, outcome: 'in-sync', resources: [], counts: { ...compact.counts, failed: 0, inSync: compact.counts.inSync + 1 }, inSyncSummary: { ...s, count: s.count + 1 } }, /digest does not match/],
    ['an unknown catalog', { ...compact, catalogId: 'e'.repeat(64) }, /no record of catalog eeeeeeeeeeeeeeee/],
  ];
  for (const [what, body, why] of bad) {
    const r = await a.request('POST', '/api/v1/hosts/web-1/reports', body);
    t.equal(r.status, 422, what);
    t.equal(r.json().error.code, 'FULL_REPORT_REQUIRED', what);
    t.match(r.json().error.message, why, what);
  }
  t.equal(await fx.server.services.reports.count('web-1'), 0, 'nothing stored');
  t.equal(fx.server.services.reports.counters.compactRefused, 3);
  // Another host's catalog is not this host's to report against.
  const b = await fx.approvedAgent('web-2');
  const other = await b.request('POST', '/api/v1/hosts/web-2/reports', { ...compact, host: 'web-2', runId: 'x' });
  t.equal(other.status, 422);
  t.match(other.json().error.message, /is not web-2's/);

  // The full report of the same run is accepted (and stored compact: its catalog is known).
  const ok = await a.request('POST', '/api/v1/hosts/web-1/reports', full);
  t.equal(ok.status, 200, ok.body.toString());
  t.equal((await storedDoc(fx, 'web-1', 'run-2'))?.compact, true);
  t.same((await fx.json('GET', '/api/v1/hosts/web-1/reports/run-2')).json(), expected(full, compact));
  t.equal((await fx.json('GET', '/api/v1/hosts/web-1')).json().compliance, 'failing');
});

t.test('full reports of older agents: compacted when their catalog is known, kept as sent otherwise', async (t) => {
  const { fx, a, catalog } = await setup(t);
  const index = indexCatalog(catalog.id, catalog.resources.map(resourceId))!;
  const full = fullReport(catalog, 'old-1');
  t.equal((await a.request('POST', '/api/v1/hosts/web-1/reports', full)).status, 200);
  t.equal((await storedDoc(fx, 'web-1', 'old-1'))?.compact, true, 'compacted on ingest');
  t.same((await fx.json('GET', '/api/v1/hosts/web-1/reports/old-1')).json(), expected(full, compactReport(full, index)!));
  t.equal(fx.server.services.reports.counters.compactedOnIngest, 1);

  // A catalog the server never served (say, cached by the agent before an upgrade): stored as sent.
  const unknown = { ...full, runId: 'old-2', catalogId: 'd'.repeat(64), startedAt: '2026-11-26T10:01:00.000Z' };
  t.equal((await a.request('POST', '/api/v1/hosts/web-1/reports', unknown)).status, 200);
  t.notOk((await storedDoc(fx, 'web-1', 'old-2'))?.compact);
  t.same((await fx.json('GET', '/api/v1/hosts/web-1/reports/old-2')).json(), unknown, 'answered exactly as sent');
  // The compliance of a full report still counts every resource.
  const summary = (await fx.json('GET', '/api/v1/compliance')).json();
  t.equal(summary.resources.length, catalog.resources.length);
});

t.test('after a restart the compact reports and the last-run index are read from the catalog records', async (t) => {
  const { fx, a, catalog } = await setup(t);
  const index = indexCatalog(catalog.id, catalog.resources.map(resourceId))!;
  const full = fullReport(catalog, 'run-3');
  t.equal((await a.request('POST', '/api/v1/hosts/web-1/reports', compactReport(full, index))).status, 200);
  const { ReportService } = await import('../../../server/services/report-service.js');
  const { CatalogIndexService } = await import('../../../server/services/catalog-index.js');
  const other = await ReportService.open(fx.server.store, fx.clock, { catalogIndex: await CatalogIndexService.open(fx.server.store, fx.clock) });
  t.same((await other.lastRuns()).get('web-1')?.resources, index.ids, 'resource ids from the catalog record');
  t.same(await other.get('web-1', 'run-3'), expected(full, compactReport(full, index)!));
  // Without the catalog index (a server configured so) the compact form is served: still a valid report.
  const bare = await ReportService.open(fx.server.store, fx.clock);
  t.same((await bare.get('web-1', 'run-3'))?.inSyncSummary?.count, catalog.resources.length);
});

t.test('catalog records are pruned with the reports that name them, except the newest report\'s', async (t) => {
  const { fx, a, catalog } = await setup(t);
  const index = indexCatalog(catalog.id, catalog.resources.map(resourceId))!;
  t.equal((await a.request('POST', '/api/v1/hosts/web-1/reports', compactReport(fullReport(catalog, 'run-4'), index))).status, 200);
  const records = await fx.server.store.collection<{ _id: string }>('catalog_index', []);
  t.equal(await records.count({ _id: catalog.id }), 1);
  fx.clock.advance(30 * 86_400_000);
  await fx.server.services.reports.prune(fx.clock.now() - 14 * 86_400_000);
  t.equal(await records.count({ _id: catalog.id }), 1, 'kept: the host\'s newest report names it');
  t.equal((await fx.json('GET', '/api/v1/hosts/web-1/reports/run-4')).json().resources.length, catalog.resources.length);
  // A catalog no report names is pruned once unused past the cutoff.
  const b = await fx.approvedAgent('web-2');
  const other = await catalogOf(b);
  t.equal(await records.count({ _id: other.id }), 1, 'recorded when served');
  fx.clock.advance(30 * 86_400_000);
  await fx.server.services.reports.prune(fx.clock.now() - 14 * 86_400_000);
  t.equal(await records.count({ _id: other.id }), 0, 'pruned');
  t.equal(await records.count({ _id: catalog.id }), 1, 'still kept');
});
