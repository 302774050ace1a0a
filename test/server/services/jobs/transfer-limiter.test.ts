/**
 * The job blob transfer limiter (server/services/jobs/transfer-limiter.ts): concurrency slots
 * with a bounded queue and 503 beyond it, and a shared token bucket paced with a ManualClock
 * (a sleep that advances the clock, so the pacing is exact and no test waits on the wall).
 */
import { Readable } from 'node:stream';
import t from 'tap';
import { ManualClock } from '../../../../server/domain/clock.js';
import { ApiError } from '../../../../server/domain/errors.js';
import { TransferLimiter, transferRetryAfterSeconds } from '../../../../server/services/jobs/transfer-limiter.js';

const never = new AbortController().signal;

function manual(): { clock: ManualClock; sleeps: number[]; sleep: (ms: number, signal: AbortSignal) => Promise<void> } {
  const clock = new ManualClock(0);
  const sleeps: number[] = [];
  return {
    clock,
    sleeps,
    sleep: async (ms, signal) => {
      if (signal.aborted) throw signal.reason;
      sleeps.push(ms);
      clock.advance(ms);
    },
  };
}

async function drain(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

t.test('bandwidth: bytes go out at the configured rate after a one-second burst', async (t) => {
  const m = manual();
  const lim = new TransferLimiter({ maxConcurrent: 2, bytesPerSecond: 1000, clock: m.clock, sleep: m.sleep });
  const data = Buffer.alloc(5000, 7);
  const slot = await lim.acquire(never);
  const out = await drain(lim.stream(data, slot, never));
  t.same(out, data, 'every byte, in order');
  // 1000 bytes of burst, then 4000 bytes at 1000/s: 4 s of waits on the manual clock.
  t.equal(m.clock.now(), 4000);
  t.equal(lim.counters.bytes, 5000);
  t.equal(lim.counters.active, 0, 'the slot is released at the end');
});

t.test('bandwidth is shared: two transfers together take as long as one of their total', async (t) => {
  const m = manual();
  const lim = new TransferLimiter({ maxConcurrent: 2, bytesPerSecond: 2048, chunkBytes: 512, clock: m.clock, sleep: m.sleep });
  const a = lim.stream(Buffer.alloc(4096, 1), await lim.acquire(never), never);
  const b = lim.stream(Buffer.alloc(4096, 2), await lim.acquire(never), never);
  const [x, y] = await Promise.all([drain(a), drain(b)]);
  t.equal(x.length + y.length, 8192);
  // 8192 bytes, 2048 of them burst: at least 3 s at 2048/s.
  t.ok(m.clock.now() >= 3000, `took ${m.clock.now()} ms of manual time`);
});

t.test('unlimited bandwidth never waits; a streamed source is paced the same way', async (t) => {
  const m = manual();
  const lim = new TransferLimiter({ maxConcurrent: 1, bytesPerSecond: 0, clock: m.clock, sleep: m.sleep });
  const out = await drain(lim.stream(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), await lim.acquire(never), never));
  t.equal(out.toString(), 'abcd');
  t.same(m.sleeps, []);
  const paced = new TransferLimiter({ maxConcurrent: 1, bytesPerSecond: 2, clock: m.clock, sleep: m.sleep });
  t.equal((await drain(paced.stream(Readable.from([Buffer.from('abcdef')]), await paced.acquire(never), never))).toString(), 'abcdef');
  t.equal(m.clock.now(), 2000, 'two bytes of burst, four at 2/s');
});

t.test('concurrency: a full limiter queues, hands slots on in order, and refuses beyond the queue with 503', async (t) => {
  const lim = new TransferLimiter({ maxConcurrent: 1, bytesPerSecond: 0, maxQueued: 2, queueWaitMs: 60_000 });
  const first = await lim.acquire(never);
  t.equal(lim.tryAcquire(), undefined);
  const order: string[] = [];
  const second = lim.acquire(never).then((s) => (order.push('second'), s));
  const third = lim.acquire(never).then((s) => (order.push('third'), s));
  t.same(lim.counters, { active: 1, queued: 2, refused: 0, bytes: 0 });
  const refused = await lim.acquire(never).catch((e: unknown) => e);
  t.ok(refused instanceof ApiError);
  t.equal((refused as ApiError).status, 503);
  t.equal((refused as ApiError).code, 'SERVER_BUSY');
  t.equal((refused as ApiError).retryAfterSeconds, transferRetryAfterSeconds);
  t.match((refused as ApiError).message, /serving 1 job file transfers already and 2 are waiting/);
  first.release();
  first.release(); // idempotent: frees one slot only
  (await second).release();
  (await third).release();
  t.same(order, ['second', 'third']);
  t.same(lim.counters, { active: 0, queued: 0, refused: 1, bytes: 0 });
});

t.test('a queued transfer gives up with 503 after the wait, or leaves at once when its client goes', async (t) => {
  const lim = new TransferLimiter({ maxConcurrent: 1, bytesPerSecond: 0, queueWaitMs: 20 });
  const held = await lim.acquire(never);
  const late = await lim.acquire(never).catch((e: unknown) => e);
  t.match((late as ApiError).message, /none was free within 0 s/);
  t.equal((late as ApiError).status, 503);
  const ac = new AbortController();
  const waiting = lim.acquire(ac.signal);
  ac.abort(new Error('client gone'));
  await t.rejects(waiting, /client gone/);
  t.equal(lim.counters.queued, 0);
  await t.rejects(lim.acquire(ac.signal), /client gone/, 'an aborted signal never queues');
  held.release();
  t.equal(lim.counters.active, 0);
});

t.test('a destroyed or aborted stream releases its slot', async (t) => {
  const lim = new TransferLimiter({ maxConcurrent: 1, bytesPerSecond: 0 });
  const r = lim.stream(Buffer.alloc(10), await lim.acquire(never), never);
  r.destroy();
  await new Promise((res) => r.once('close', res));
  t.equal(lim.counters.active, 0);
  const ac = new AbortController();
  const m = manual();
  const slow = new TransferLimiter({ maxConcurrent: 1, bytesPerSecond: 1, clock: m.clock, sleep: (ms, s) => new Promise((_res, rej) => s.addEventListener('abort', () => rej(s.reason), { once: true })) });
  const s = slow.stream(Buffer.alloc(10), await slow.acquire(never), ac.signal);
  const got = drain(s);
  ac.abort(new Error('gone'));
  await t.rejects(got, /gone/);
  t.equal(slow.counters.active, 0);
});

t.test('the default sleep waits on a real timer and stops on abort', async (t) => {
  const lim = new TransferLimiter({ maxConcurrent: 1, bytesPerSecond: 1000 });
  const slot = await lim.acquire(never);
  // 1000 bytes of burst, then 20 more at 1000/s: about 20 ms on the wall.
  t.equal((await drain(lim.stream(Buffer.alloc(1020), slot, never))).length, 1020);
  const ac = new AbortController();
  const p = lim.take(1000, ac.signal);
  ac.abort(new Error('stop'));
  await t.rejects(p, /stop/);
  await t.rejects(lim.take(1000, ac.signal), /stop/, 'an aborted signal does not wait');
});

t.test('options are checked', async (t) => {
  t.throws(() => new TransferLimiter({ maxConcurrent: 0, bytesPerSecond: 0 }), /maxConcurrent/);
  t.throws(() => new TransferLimiter({ maxConcurrent: 1.5, bytesPerSecond: 0 }), /maxConcurrent/);
  t.throws(() => new TransferLimiter({ maxConcurrent: 1, bytesPerSecond: -1 }), /bytesPerSecond/);
  t.equal(new TransferLimiter({ maxConcurrent: 3, bytesPerSecond: 0 }).maxQueued, 12);
});
