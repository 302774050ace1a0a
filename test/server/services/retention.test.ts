/**
 * Report retention through deleteOlderThan (bounded batches, epoch-ms cutoffs), on the real
 * embedded store: raw reports go after their retention except each host's newest; hourly
 * compliance history is kept far longer; an aborted pass stops; thousands of silent hosts.
 */
import t from 'tap';
import type { RunReport } from '../../../schemas/report.js';
import { Housekeeping } from '../../../server/scheduler/housekeeping.js';
import { createLogger } from '../../../server/log.js';
import { startServer, type ServerFixture } from '../../helpers/server-fixture.js';
import { makeReport } from '../../helpers/server-reports.js';
import { smallRepo } from '../../helpers/server-repo.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Stores one report for `host` as if it arrived now (the fixture's clock). */
async function ingest(fx: ServerFixture, host: string, runId: string): Promise<void> {
  const r = makeReport(host, runId, { startedAt: new Date(fx.clock.now()).toISOString() }) as unknown as RunReport;
  const ack = await fx.server.services.reports.ingest(host, r);
  if (ack.duplicate) throw new Error(`${host}/${runId} was a duplicate`);
}

async function runIds(fx: ServerFixture, host: string): Promise<string[]> {
  return (await fx.server.services.reports.list({ host, limit: 1000 })).map((r) => r.runId).sort();
}

t.test('raw reports past retention go in bounded batches; each host keeps its newest', async (t) => {
  const fx = await startServer(t);
  const reports = fx.server.services.reports;
  const start = fx.clock.now();
  // 10 hosts report every hour for 3 days (720 reports: more than one 500-document batch);
  // "gone-1" reported only during the first 2 hours and then went silent.
  for (let h = 0; h < 72; h++) {
    await Promise.all(Array.from({ length: 10 }, (_, i) => ingest(fx, `web-${i}`, `r${h}`)));
    if (h < 2) await ingest(fx, 'gone-1', `g${h}`);
    fx.clock.advance(HOUR);
  }
  t.equal(await reports.count(), 722);
  // Cutoff: everything received in the first 48 hours is past retention.
  const cutoff = start + 48 * HOUR;
  const deleted = await reports.prune(cutoff);
  t.equal(deleted, 10 * 48 + 1, 'every web host loses its 48 oldest; gone-1 loses all but its newest');
  t.same(await runIds(fx, 'gone-1'), ['g1'], "the silent host's newest report survives, however old");
  const web0 = await runIds(fx, 'web-0');
  t.equal(web0.length, 24);
  t.notOk(web0.includes('r47'), 'the last report before the cutoff is gone');
  t.ok(web0.includes('r48') && web0.includes('r71'), 'reports at and after the cutoff stay');
  t.equal((await reports.lastRuns()).get('gone-1')?.runId, 'g1', 'the last-run index still knows the silent host');
  t.equal(await reports.prune(cutoff), 0, 'a second pass finds nothing: idempotent');

  const aborted = AbortSignal.abort();
  t.equal(await reports.prune(start + 100 * HOUR, aborted), 0, 'an aborted pass deletes nothing');
  t.equal(await reports.count(), 241);
});

t.test('hourly compliance history outlives raw reports', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const hk = new Housekeeping(fx.server.services, createLogger({ write: () => undefined }), { reportRetentionMs: 3 * DAY, historyRetentionMs: 20 * DAY });
  // 30 days: web-1 reports twice a day; housekeeping runs every 6 hours.
  for (let d = 0; d < 30; d++) {
    for (let q = 0; q < 4; q++) {
      if (q % 2 === 0) await ingest(fx, 'web-1', `d${d}q${q}`);
      await hk.tick();
      fx.clock.advance(6 * HOUR);
    }
  }
  const now = fx.clock.now();
  const kept = await fx.server.services.reports.list({ host: 'web-1', limit: 1000 });
  t.ok(kept.length > 0 && kept.length <= 2 * 3 + 2, `raw reports: only about the last 3 days (${kept.length})`);
  t.ok(kept.every((r) => r.receivedAt >= now - 3 * DAY - 6 * HOUR), 'none older than the report retention (plus one tick)');
  const points = await fx.server.services.compliance.history('fleet', now - 400 * DAY, now + HOUR);
  t.ok(points.length >= 4 * 19, `hourly history covers ~20 days (${points.length} points)`);
  t.ok(points[0]!.hour < now - 15 * DAY, 'history reaches far past the raw-report retention');
  t.ok(points[0]!.hour >= now - 20 * DAY - 6 * HOUR, 'and is itself cut at the history retention');
  // The compliance prune takes numeric (epoch ms) cutoffs, in batches.
  const before = points.length;
  const removed = await fx.server.services.compliance.prune(now - 10 * DAY);
  t.ok(removed > 0);
  const after = await fx.server.services.compliance.history('fleet', now - 400 * DAY, now + HOUR);
  t.ok(after.length < before && after.every((p) => p.hour >= now - 10 * DAY), 'hours before the cutoff are gone, later ones stay');
});

t.test('thousands of silent hosts: each keeps its newest report', async (t) => {
  const fx = await startServer(t);
  const reports = fx.server.services.reports;
  const hosts = Array.from({ length: 5050 }, (_, i) => `h-${i}`); // more than prune's $nin list
  for (const run of ['a', 'b']) {
    for (let i = 0; i < hosts.length; i += 500) await Promise.all(hosts.slice(i, i + 500).map((h) => ingest(fx, h, run)));
    fx.clock.advance(HOUR);
  }
  await ingest(fx, 'busy', 'x1');
  fx.clock.advance(DAY);
  await ingest(fx, 'busy', 'x2');
  const deleted = await reports.prune(fx.clock.now() - HOUR);
  t.equal(deleted, hosts.length + 1, 'one report per silent host, and busy\'s older one');
  t.equal(await reports.count(), hosts.length + 1);
  t.same(await runIds(fx, 'h-4321'), ['b']);
  t.same(await runIds(fx, 'busy'), ['x2']);
});
