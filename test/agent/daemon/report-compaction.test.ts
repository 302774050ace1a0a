/**
 * The agent's side of compact reports (ADR 0021), against an in-process server on loopback with
 * the agent's own client, spool and catalog cache in a temporary directory: a report of the
 * held catalog goes compact; one the server cannot check (FULL_REPORT_REQUIRED: here, a catalog
 * record removed from the store) goes in full right after, and is stored; a report of another
 * catalog goes in full; `fullReports` turns compaction off. Nothing is lost, nothing set aside.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { AgentClient } from '../../../agent/client/agent-client.js';
import { deliverSpool } from '../../../agent/daemon/agent-run.js';
import { CatalogCache, catalogSealKey } from '../../../agent/daemon/catalog-cache.js';
import { createJsonLogger } from '../../../agent/daemon/json-logger.js';
import { catalogIndexOf, compactForDelivery } from '../../../agent/daemon/report-compaction.js';
import { ReportSpool } from '../../../agent/spool/report-spool.js';
import { resourceId, type Catalog, type RunReport } from '../../../schemas/index.js';
import { startServer } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

function reportOf(catalog: Catalog, runId: string): RunReport {
  const resources = catalog.resources.map((r) => ({ id: resourceId(r), type: r.type, state: 'in-sync' as const, changes: [], durationMs: 1 }));
  const n = resources.length;
  return { runId, host: catalog.host, catalogId: catalog.id, revision: catalog.revision, mode: 'apply', startedAt: '2026-11-26T10:00:00.000Z', durationMs: 9, outcome: 'in-sync', counts: { total: n, inSync: n, changed: 0, wouldChange: 0, failed: 0, skipped: 0, corrective: 0 }, resources };
}

t.test('compactForDelivery: only against the catalog the report ran', async (t) => {
  const catalog: Catalog = { id: 'a'.repeat(64), host: 'h', revision: 'r', resources: [{ type: 'file', path: '/a', content: 'x' } as Catalog['resources'][number]] };
  const report = reportOf(catalog, 'r1');
  t.same(compactForDelivery(report, catalog)?.inSyncSummary?.count, 1);
  t.equal(compactForDelivery(report, undefined), undefined, 'no catalog held');
  t.equal(compactForDelivery({ ...report, catalogId: 'b'.repeat(64) }, catalog), undefined, 'a report of another catalog');
  t.equal(catalogIndexOf(catalog), catalogIndexOf(catalog), 'the index is computed once per catalog');
});

t.test('compact on the wire; FULL_REPORT_REQUIRED → the full report; fullReports: off', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const agent = await fx.approvedAgent('web-1');
  const client = new AgentClient({ serverUrl: fx.base, host: 'web-1', privateKey: agent.privateKey, timeoutMs: 10_000, now: () => fx.clock.now() });
  t.teardown(() => client.close());
  // Not t.testdir(): that is the server's data directory here.
  const dir = await fsp.mkdtemp(join(os.tmpdir(), 'stead-compaction-'));
  t.teardown(() => fsp.rm(dir, { recursive: true, force: true }));
  const spool = new ReportSpool({ dir: join(dir, 'spool') });
  await spool.open();
  const catalogs = new CatalogCache(dir, { sealKey: catalogSealKey(agent.privateKey) });
  const answer = await client.fetchCatalog(undefined, AbortSignal.timeout(60_000));
  if (answer.kind !== 'catalog') throw new Error('no catalog');
  const catalog = answer.catalog;
  await catalogs.save({ catalog, receivedAt: new Date(fx.clock.now()).toISOString() });
  const logs: string[] = [];
  const log = createJsonLogger({ stream: { write: (l: string) => logs.push(l) } });
  const counters = () => fx.server.services.reports.counters;

  await spool.enqueue(reportOf(catalog, 'run-a'), fx.clock.now());
  t.same(await deliverSpool({ spool, client, log, catalogs }, AbortSignal.timeout(60_000)), { ok: true, remaining: 0 });
  t.equal(counters().compactReceived, 1, 'the server received it compact');
  t.equal(counters().compactRefused, 0);

  // The server loses the record of the catalog: the compact report is refused, the full one follows.
  const records = await fx.server.store.collection<{ _id: string }>('catalog_index', []);
  await records.deleteOne({ _id: catalog.id });
  const { ReportService } = await import('../../../server/services/report-service.js');
  const { CatalogIndexService } = await import('../../../server/services/catalog-index.js');
  // A fresh index (another server of the cluster, or a restart) that has not seen the catalog.
  const fresh = await ReportService.open(fx.server.store, fx.clock, { catalogIndex: await CatalogIndexService.open(fx.server.store, fx.clock) });
  const report = reportOf(catalog, 'run-b');
  const compact = compactForDelivery(report, catalog)!;
  await t.rejects(fresh.ingest('web-1', compact), { code: 'FULL_REPORT_REQUIRED' }, 'a server without the record refuses it');

  // Through the agent: the in-process server's own cache still knows the catalog, so make its
  // copy useless by a report whose catalog it never served but the agent holds.
  const foreign: Catalog = { ...catalog, id: 'f'.repeat(64) };
  await catalogs.save({ catalog: foreign, receivedAt: new Date(fx.clock.now()).toISOString() });
  await spool.enqueue({ ...report, catalogId: foreign.id }, fx.clock.now());
  t.same(await deliverSpool({ spool, client, log, catalogs }, AbortSignal.timeout(60_000)), { ok: true, remaining: 0 }, 'delivered');
  t.equal(counters().compactRefused, 1, 'the compact one was refused');
  t.ok(logs.some((l) => l.includes('sending it in full') && l.includes('FULL_REPORT_REQUIRED')), 'the agent logs why');
  const stored = await fx.json('GET', '/api/v1/hosts/web-1/reports/run-b');
  t.equal(stored.status, 200, 'the full report was stored');
  t.same((stored.json() as RunReport).resources, report.resources, 'in full, durations and all');
  t.same((await fsp.readdir(join(dir, 'spool'))).filter((f) => f.endsWith('.rejected')), [], 'nothing set aside');

  // A report of a catalog the agent no longer holds goes in full (no refusal needed).
  await spool.enqueue({ ...reportOf(catalog, 'run-c') }, fx.clock.now());
  await deliverSpool({ spool, client, log, catalogs }, AbortSignal.timeout(60_000));
  t.equal(counters().compactRefused, 1, 'no second refusal');
  t.equal((await fx.json('GET', '/api/v1/hosts/web-1/reports/run-c')).status, 200);

  // fullReports: the agent sends full reports only.
  await catalogs.save({ catalog, receivedAt: new Date(fx.clock.now()).toISOString() });
  const before = counters();
  await spool.enqueue(reportOf(catalog, 'run-d'), fx.clock.now());
  await deliverSpool({ spool, client, log, catalogs, fullReports: true }, AbortSignal.timeout(60_000));
  t.equal(counters().compactReceived, before.compactReceived, 'not sent compact');
  t.equal(counters().compactedOnIngest, before.compactedOnIngest + 1, 'the server compacted it instead');
});
