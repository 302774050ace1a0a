import t from 'tap';
import { ManualClock } from '../../../server/domain/clock.js';
import { openStore } from '../../../server/store/open.js';
import { AuditLog } from '../../../server/services/audit-log.js';

t.test('records and lists audit events', async (t) => {
  const store = await openStore({ dataDir: t.testdir() });
  t.teardown(() => store.close());
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  const log = await AuditLog.open(store, clock);
  const a = await log.record({ actor: 'alice', action: 'job.launch', target: 'job:1', address: '10.0.0.1', after: { 'a.b': 1, $x: 2 } });
  t.match(a, { actor: 'alice', action: 'job.launch', target: 'job:1', address: '10.0.0.1', at: clock.now(), after: { 'a.b': 1, $x: 2 } });
  clock.advance(1000);
  await log.record({ actor: 'bob', action: 'job.cancel', target: 'job:1', before: { state: 'running' }, details: 'x'.repeat(70_000) });
  clock.advance(1000);
  await log.record({ actor: 'bob', action: 'job.launch', target: 'job:2' });
  t.same((await log.list()).map((e) => e.actor + ':' + e.action), ['bob:job.launch', 'bob:job.cancel', 'alice:job.launch'], 'newest first');
  t.same((await log.list({ target: 'job:1' })).length, 2);
  t.same((await log.list({ action: 'job.launch', limit: 1 })).map((e) => e.target), ['job:2']);
  const big = (await log.list({ action: 'job.cancel' }))[0]!;
  t.match(big.details, { truncated: true }, 'large details are cut');
  t.same(big.before, { state: 'running' });
  t.notOk('address' in big);
});

t.test('search: filters, prefix actions and targets, time bounds, cursor pages newest first', async (t) => {
  const store = await openStore({ dataDir: t.testdir() });
  t.teardown(() => store.close());
  const start = Date.parse('2026-12-01T00:00:00Z');
  const clock = new ManualClock(start);
  const log = await AuditLog.open(store, clock);
  const actions = ['job.launch', 'job.cancel', 'inventory.patch', 'revision.publish'];
  for (let i = 0; i < 40; i++) {
    // Two events share each millisecond: the cursor orders by time, then id.
    if (i % 2 === 0) clock.advance(1000);
    await log.record({ actor: i % 3 === 0 ? 'alice' : 'bob', action: actions[i % 4]!, target: i % 4 === 2 ? `host:web-${i}` : `job:${i}`, address: '10.0.0.9', after: { n: i, note: i === 17 ? 'The Needle' : 'hay' } });
  }
  const all = await log.search({ limit: 500 });
  t.equal(all.events.length, 40);
  t.notOk(all.next, 'one page holds all');
  t.ok(all.events.every((e, i) => i === 0 || e.at <= all.events[i - 1]!.at), 'newest first');

  // Paging through with a small limit visits every event once, in the same order.
  const paged: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 20; pages++) {
    const p = await log.search({ limit: 7, ...(cursor ? { cursor } : {}) });
    paged.push(...p.events.map((e) => e.id));
    cursor = p.next;
    if (!cursor) break;
  }
  t.same(paged, all.events.map((e) => e.id), 'cursor pages cover the log once, in order');

  t.ok((await log.search({ actor: 'alice' })).events.every((e) => e.actor === 'alice'));
  t.equal((await log.search({ actor: 'alice', limit: 500 })).events.length, 14);
  const jobs = await log.search({ action: 'job.', limit: 500 });
  t.equal(jobs.events.length, 20, 'action prefix "job."');
  t.ok(jobs.events.every((e) => e.action.startsWith('job.')));
  t.equal((await log.search({ action: 'job*', limit: 500 })).events.length, 20, 'action prefix "job*"');
  t.equal((await log.search({ action: 'job', limit: 500 })).events.length, 0, 'no dot, no star: exact');
  t.equal((await log.search({ target: 'host:web-*', limit: 500 })).events.length, 10, 'target prefix');
  t.equal((await log.search({ target: 'job:1' })).events[0]?.action, 'job.cancel', 'exact target');
  const since = start + 5_000;
  const until = start + 10_000;
  const window = await log.search({ since, until, limit: 500 });
  t.equal(window.events.length, 10, 'since inclusive, until exclusive: 5 seconds of 2 events');
  t.ok(window.events.every((e) => e.at >= since && e.at < until));

  const needle = await log.search({ q: 'needle' });
  t.same(needle.events.map((e) => (e.after as { n: number }).n), [17], 'q finds text in before/after/details, case-insensitively');
  t.notOk(needle.next, 'q scanned everything: no next');
  t.equal(needle.scanned, 40);
  t.equal((await log.search({ q: 'bob', action: 'inventory.' , limit: 500 })).events.length, 7, 'q with filters');

  // q's work is bounded: with a small scan limit the page is short and next resumes the scan.
  const bounded = await log.search({ q: 'needle', limit: 5, scanLimit: 10 });
  t.same(bounded.events, [], 'the needle is older than the first 10 scanned');
  t.equal(bounded.scanned, 10);
  t.ok(bounded.next, 'next resumes the scan');
  let found: number[] = [];
  let c = bounded.next;
  for (let i = 0; i < 10 && c; i++) {
    const p = await log.search({ q: 'needle', limit: 5, scanLimit: 10, cursor: c });
    found = [...found, ...p.events.map((e) => (e.after as { n: number }).n)];
    c = p.next;
  }
  t.same(found, [17], 'resuming the scan finds it');

  await t.rejects(log.search({ cursor: 'not-a-cursor' }), { code: 'BAD_REQUEST' });
});

t.test('prune deletes events older than the cutoff in bounded batches', async (t) => {
  const store = await openStore({ dataDir: t.testdir() });
  t.teardown(() => store.close());
  const start = Date.parse('2026-12-01T00:00:00Z');
  const clock = new ManualClock(start);
  const log = await AuditLog.open(store, clock);
  for (let i = 0; i < 30; i++) {
    await log.record({ actor: 'a', action: 'x.y', target: `t:${i}` });
    clock.advance(86_400_000);
  }
  t.equal(await log.prune(start + 10 * 86_400_000, undefined, 1), 10, 'one batch of 1000 holds the 10 oldest');
  const left = await log.search({ limit: 500 });
  t.equal(left.events.length, 20);
  t.ok(left.events.every((e) => e.at >= start + 10 * 86_400_000));
});
