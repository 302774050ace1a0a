/** Token buckets per host (report rate, issue 8 item 9), on a manual clock. */
import t from 'tap';
import { ManualClock } from '../../../server/domain/clock.js';
import { ReportQuota } from '../../../server/domain/report-quota.js';
import { TokenBuckets } from '../../../server/domain/token-bucket.js';

t.test('a burst, then the steady rate; the wait is exact', async (t) => {
  const clock = new ManualClock(0);
  const b = new TokenBuckets(clock, 2, 3600); // one per second
  t.same(b.take('a'), { ok: true, retryAfterMs: 0 });
  t.same(b.take('a'), { ok: true, retryAfterMs: 0 });
  t.same(b.take('a'), { ok: false, retryAfterMs: 1000 });
  t.ok(b.take('b').ok, 'hosts have their own buckets');
  clock.advance(400);
  t.same(b.take('a'), { ok: false, retryAfterMs: 600 }, 'a refused take costs nothing');
  clock.advance(600);
  t.ok(b.take('a').ok);
  clock.advance(3_600_000);
  t.ok(b.take('a').ok && b.take('a').ok, 'refilled up to the capacity');
  t.notOk(b.take('a').ok, 'never beyond it');
  t.throws(() => new TokenBuckets(clock, 0, 1), RangeError);
});

t.test('bounded: at most maxKeys hosts are remembered', async (t) => {
  const clock = new ManualClock(0);
  const b = new TokenBuckets(clock, 1, 1, 2);
  t.ok(b.take('a').ok);
  t.ok(b.take('b').ok);
  t.ok(b.take('c').ok, 'a new host is admitted when the table is full');
  t.notOk(b.take('c').ok, 'and counted from then on');
});

t.test('ReportQuota: defaults and the allowed range of the size limit', async (t) => {
  const q = new ReportQuota(new ManualClock(0));
  t.equal(q.maxBytes, 4 * 1024 * 1024);
  t.equal(q.burst, 30);
  t.equal(q.perHour, 360);
  t.throws(() => new ReportQuota(new ManualClock(0), { maxBytes: 16 * 1024 * 1024 }), /8388608/);
  t.throws(() => new ReportQuota(new ManualClock(0), { maxBytes: 1000 }), RangeError);
});
