import t from 'tap';
import { Backoff, nextRunDelay, sleep } from '../../../agent/daemon/backoff.js';

/** A deterministic random source cycling through fixed values. */
function sequence(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

t.test('delays double from min to max with equal jitter', async (t) => {
  const low = new Backoff({ minMs: 1000, maxMs: 8000, random: () => 0 });
  t.same([low.next(), low.next(), low.next(), low.next(), low.next(), low.next()], [500, 1000, 2000, 4000, 4000, 4000], 'random 0: half of the ceiling');
  const high = new Backoff({ minMs: 1000, maxMs: 8000, random: () => 0.999999 });
  t.same([high.next(), high.next(), high.next(), high.next(), high.next()], [1000, 2000, 4000, 8000, 8000], 'random ~1: the full ceiling');
  const mid = new Backoff({ minMs: 1000, maxMs: 8000, random: sequence([0.5]) });
  t.same([mid.next(), mid.next()], [750, 1500]);
  t.equal(mid.attempt, 2);
  mid.reset();
  t.equal(mid.attempt, 0);
  t.equal(mid.next(), 750, 'reset starts over');
});

t.test('jitter spreads agents that failed together', async (t) => {
  const values = [0.1, 0.4, 0.7, 0.95];
  const delays = values.map((v) => new Backoff({ minMs: 2000, maxMs: 60000, random: () => v }).next());
  t.same(delays, [1100, 1400, 1700, 1950]);
  t.equal(new Set(delays).size, values.length);
  for (const d of delays) t.ok(d >= 1000 && d < 2000, `${d} within [min/2, min)`);
});

t.test('a custom factor and bad bounds', async (t) => {
  const b = new Backoff({ minMs: 100, maxMs: 10000, factor: 3, random: () => 0.999999 });
  t.same([b.next(), b.next(), b.next()], [100, 300, 900]);
  t.throws(() => new Backoff({ minMs: 0, maxMs: 10 }), RangeError);
  t.throws(() => new Backoff({ minMs: 10, maxMs: 5 }), RangeError);
});

t.test('interval plus splay', async (t) => {
  t.equal(nextRunDelay(60000, 6000, () => 0), 60000);
  t.equal(nextRunDelay(60000, 6000, () => 0.5), 63000);
  t.equal(nextRunDelay(60000, 0, () => 0.9), 60000, 'no splay');
});

t.test('sleep resolves false at once when aborted, true when the time passed', async (t) => {
  const ac = new AbortController();
  const long = sleep(600_000, ac.signal);
  ac.abort();
  t.equal(await long, false, 'an abort ends a long wait');
  t.equal(await sleep(10, ac.signal), false, 'already aborted');
  t.equal(await sleep(1, new AbortController().signal), true);
});
