/**
 * Drift history and compliance over time on the real embedded store with a ManualClock:
 * drift events from reports (detected in noop, repaired by a corrective change, failed), a
 * repaired drift still listed after later in-sync runs, per host / per resource queries with a
 * cursor, the most drifted resources, events per day, retention; daily rollups from hourly
 * buckets (means), months derived from days.
 */
import t from 'tap';
import type { RunReport } from '../../../schemas/report.js';
import { driftEventsOf, parseWindow } from '../../../server/domain/drift.js';
import { Housekeeping } from '../../../server/scheduler/housekeeping.js';
import { createLogger } from '../../../server/log.js';
import { startServer, type ServerFixture } from '../../helpers/server-fixture.js';
import { makeReport } from '../../helpers/server-reports.js';
import { smallRepo } from '../../helpers/server-repo.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Shape = Parameters<typeof makeReport>[2];

async function ingest(fx: ServerFixture, host: string, runId: string, o: Shape = {}): Promise<void> {
  const r = makeReport(host, runId, { startedAt: new Date(fx.clock.now()).toISOString(), ...o }) as unknown as RunReport;
  const ack = await fx.server.services.reports.ingest(host, r);
  if (ack.duplicate) throw new Error(`${host}/${runId} was a duplicate`);
}

t.test('drift events of one report (pure)', async (t) => {
  const base = makeReport('h', 'r', { outcome: 'changed', corrective: true }) as unknown as RunReport;
  t.same(driftEventsOf('h', base).events.map((e) => [e.resource, e.kind, e.corrective, e.properties]), [['file:/srv/app/app.conf', 'repaired', true, ['content']]]);
  t.same(driftEventsOf('h', makeReport('h', 'r', { outcome: 'changed' }) as unknown as RunReport).events, [], 'a desired (not corrective) change is not drift');
  t.same(driftEventsOf('h', makeReport('h', 'r', { outcome: 'would-change', corrective: true }) as unknown as RunReport).events.map((e) => e.kind), ['detected']);
  const failed = driftEventsOf('h', makeReport('h', 'r', { outcome: 'failed' }) as unknown as RunReport).events;
  t.same(failed.map((e) => [e.kind, e.error]), [['failed', 'APPLY_FAILED']]);
  t.same(driftEventsOf('h', makeReport('h', 'r') as unknown as RunReport).events, [], 'in sync: nothing');
  // Bounded per report.
  const many = { ...base, resources: Array.from({ length: 30 }, (_, i) => ({ ...base.resources[0]!, id: `file:/f${i}` })) };
  const bounded = driftEventsOf('h', many, 10);
  t.equal(bounded.events.length, 10);
  t.equal(bounded.dropped, 20);
  t.equal(parseWindow('7d'), 7 * DAY);
  t.equal(parseWindow('48h'), 48 * HOUR);
  t.equal(parseWindow('0d'), undefined);
  t.equal(parseWindow('7 days'), undefined);
});

t.test('a repaired drift stays in the history after later in-sync runs; queries, top, per day, retention', async (t) => {
  const fx = await startServer(t, { drift: { maxEventsPerReport: 50 } });
  const drift = fx.server.services.drift;
  // Day 1: web-1 drifts and the agent repairs it; web-2 finds drift in noop; db-1 fails.
  await ingest(fx, 'web-1', 'a1');
  fx.clock.advance(60_000);
  await ingest(fx, 'web-1', 'a2', { outcome: 'changed', corrective: true });
  await ingest(fx, 'web-2', 'b1', { outcome: 'would-change', corrective: true });
  await ingest(fx, 'db-1', 'c1', { outcome: 'failed' });
  fx.clock.advance(5 * 60_000);
  // Later in-sync runs everywhere.
  for (const [h, r] of [['web-1', 'a3'], ['web-2', 'b2'], ['db-1', 'c2']] as const) await ingest(fx, h, r);
  t.equal((await fx.server.services.compliance.hosts(AbortSignal.timeout(5000))).find((h) => h.host === 'web-1')?.state, 'in-sync', 'web-1 is back in sync');

  const w1 = await drift.list({ host: 'web-1' });
  t.same(w1.events.map((e) => [e.resource, e.kind, e.runId]), [['file:/srv/app/app.conf', 'repaired', 'a2']], 'the repaired drift is still there');
  t.equal(w1.events[0]!.at, Date.parse('2026-11-26T10:01:00Z'));
  t.notOk(w1.next);

  // A re-sent report records nothing twice.
  const again = await fx.server.services.reports.ingest('web-1', makeReport('web-1', 'a2', { outcome: 'changed', corrective: true, startedAt: '2026-11-26T10:01:00.000Z' }) as unknown as RunReport);
  t.ok(again.duplicate);
  t.equal((await drift.list({ host: 'web-1' })).events.length, 1);

  // Per resource, across hosts, newest first, paged with a cursor.
  const res = await drift.list({ resource: 'file:/srv/app/app.conf', limit: 2 });
  t.equal(res.events.length, 2);
  t.ok(res.next, 'a second page');
  const rest = await drift.list({ resource: 'file:/srv/app/app.conf', limit: 2, cursor: res.next! });
  t.equal(rest.events.length, 1);
  t.notOk(rest.next);
  t.same([...res.events, ...rest.events].map((e) => e.host).sort(), ['db-1', 'web-1', 'web-2'], 'every host once, no overlap');
  t.same((await drift.list({ kind: 'failed' })).events.map((e) => e.host), ['db-1']);

  // Another resource drifts on one host twice: the top list orders by events, then counts hosts.
  fx.clock.advance(HOUR);
  for (const run of ['d1', 'd2']) {
    const r = makeReport('web-2', run, { outcome: 'changed', corrective: true, startedAt: new Date(fx.clock.now()).toISOString() }) as unknown as RunReport;
    r.resources[0] = { ...r.resources[0]!, id: 'package:nginx' };
    r.resources[1] = { ...r.resources[0]!, id: 'service:nginx' };
    await fx.server.services.reports.ingest('web-2', r);
    fx.clock.advance(60_000);
  }
  const top = await drift.top(fx.clock.now() - DAY, 10);
  t.same(top.map((x) => [x.resource, x.events, x.hosts]), [['file:/srv/app/app.conf', 3, 3], ['package:nginx', 2, 1], ['service:nginx', 2, 1]]);
  t.same(top[0]!.byKind, { detected: 1, repaired: 1, failed: 1 });
  t.same(await drift.top(fx.clock.now() - 30 * 60_000, 10).then((x) => x.map((y) => y.resource)), ['package:nginx', 'service:nginx'], 'the window counts');

  // Next day: one more; per-day counts by kind.
  fx.clock.advance(DAY);
  await ingest(fx, 'web-1', 'a4', { outcome: 'would-change', corrective: true });
  const days = await drift.perDay(fx.clock.now() - 7 * DAY);
  t.same(days.map((d) => [new Date(d.day).toISOString().slice(0, 10), d.counts]), [
    ['2026-11-26', { detected: 1, repaired: 5, failed: 1 }],
    ['2026-11-27', { detected: 1, repaired: 0, failed: 0 }],
  ]);
  t.same((await drift.perDay(fx.clock.now() - 7 * DAY, { host: 'web-1' })).map((d) => d.counts.repaired + d.counts.detected), [1, 1]);

  // Bad cursors are refused.
  await t.rejects(drift.list({ cursor: 'not-a-cursor' }), /cursor/);

  // Retention: the housekeeping deletes events older than the drift retention.
  fx.clock.advance(2 * DAY);
  const hk = new Housekeeping(fx.server.services, createLogger({ write: () => undefined }), { driftRetentionMs: 2 * DAY });
  const r = await hk.tick();
  t.equal(r.driftDeleted, 7, 'the first day\'s events went');
  t.same((await drift.list({})).events.map((e) => e.runId), ['a4']);
});

t.test('daily rollups from hourly buckets, months from days (ManualClock)', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const c = fx.server.services.compliance;
  const hosts = (await c.hosts(AbortSignal.timeout(5000))).filter((h) => h.inInventory).map((h) => h.host);
  t.ok(hosts.length >= 2, `the small repo has hosts (${hosts.join(',')})`);
  const [a, b] = hosts as [string, string];
  fx.clock.set(Date.parse('2026-11-26T00:30:00Z'));
  // Hours 00-11: a in sync, b drifted; hours 12-23: both in sync.
  for (let h = 0; h < 24; h++) {
    await ingest(fx, a, `a-${h}`);
    await ingest(fx, b, `b-${h}`, h < 12 ? { outcome: 'changed', corrective: true } : {});
    await c.rollup(AbortSignal.timeout(5000));
    fx.clock.advance(HOUR);
  }
  // Now 2026-11-27T00:30: the tick also recomputed yesterday with all 24 hours.
  await c.rollup(AbortSignal.timeout(5000));
  const days = await c.series('fleet', 'day', Date.parse('2026-11-20T00:00:00Z'), fx.clock.now() + HOUR);
  t.equal(days.length, 2);
  const d0 = days[0]!;
  t.equal(new Date(d0.at).toISOString(), '2026-11-26T00:00:00.000Z');
  t.equal(d0.samples, 24);
  const others = hosts.length - 2; // hosts that never reported: unknown all day
  t.same({ inSync: d0.counts['in-sync'], drifted: d0.counts.drifted, unknown: d0.counts.unknown }, { inSync: 1.5, drifted: 0.5, unknown: others }, 'the day\'s mean hosts per state');
  t.equal(d0.total, hosts.length);
  t.equal(days[1]!.samples, 1, 'today so far: one hour');
  // Groups are rolled up per day too.
  const groups = (await c.summary(AbortSignal.timeout(5000))).groups.map((g) => g.scope);
  t.ok(groups.length > 0);
  t.equal((await c.series(groups[0]!, 'day', Date.parse('2026-11-20T00:00:00Z'), fx.clock.now() + HOUR)).length, 2, `${groups[0]} has daily buckets`);
  // Months: the days of each month weighted by their hours.
  fx.clock.set(Date.parse('2026-12-01T05:30:00Z'));
  await ingest(fx, b, 'b-dec', { outcome: 'failed' });
  await c.rollup(AbortSignal.timeout(5000));
  const months = await c.series('fleet', 'month', Date.parse('2026-01-01T00:00:00Z'), fx.clock.now() + HOUR);
  t.same(months.map((m) => new Date(m.at).toISOString().slice(0, 7)), ['2026-11', '2026-12']);
  t.equal(months[0]!.samples, 25);
  t.equal(months[0]!.counts.drifted, Math.round((12 / 25) * 100) / 100, 'November: 12 drifted host-hours in 25 hours');
  t.equal(months[1]!.counts.failing, 1);
  // Hours are still served as before.
  t.ok((await c.series('fleet', 'hour', fx.clock.now() - 48 * HOUR, fx.clock.now() + HOUR)).length >= 1);
  // Daily retention.
  fx.clock.advance(10 * DAY);
  t.equal(await c.pruneDaily(fx.clock.now() - 5 * DAY), 3 * (1 + groups.length), 'every day older than the retention went (fleet and groups)');
});
