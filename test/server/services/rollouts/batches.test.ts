import t from 'tap';
import { batchSizes, cutBatches, parseBatches } from '../../../../server/services/rollouts/batches.js';
import { exceeds, tolerated } from '../../../../server/services/rollouts/threshold.js';
import { planBatches, topologyOrder } from '../../../../server/services/rollouts/topology.js';

t.test('parse', async (t) => {
  t.same(parseBatches('1, 10%,+20%,100%'), [
    { step: false, value: 1, percent: false, position: 1 },
    { step: false, value: 10, percent: true, position: 4 },
    { step: true, value: 20, percent: true, position: 8 },
    { step: false, value: 100, percent: true, position: 13 },
  ]);
  t.same(parseBatches('2.5%')[0], { step: false, value: 2.5, percent: true, position: 1 });
  const bad = (e: string, re: RegExp) => t.throws(() => parseBatches(e), re, e);
  bad('', /character 1: empty/);
  bad('1,,2', /character 3: an empty term/);
  bad('1, x', /character 4: "x" is not N, P%, \+N or \+P%/);
  bad('1,2.5', /character 3: a host count must be a whole number/);
  bad('1,150%', /character 3: a percentage is at most 100/);
  bad('+0', /character 1: a step must add at least one host/);
  bad('0%', /a target must be at least one host/);
  bad('1,-2', /character 3/);
  bad('9999999', /at most 1000000/);
  bad('1'.repeat(201), /at most 200 characters/);
  try {
    parseBatches('1,%');
    t.fail('should throw');
  } catch (err) {
    t.equal((err as { code?: string }).code, 'BAD_REQUEST');
    t.same((err as { details?: unknown }).details, { position: 3 });
  }
});

t.test('sizes', async (t) => {
  t.same(batchSizes('1,10%,+20%,100%', 100), [1, 9, 20, 20, 20, 20, 10]);
  t.same(batchSizes('1,25%,100%', 20), [1, 4, 15]);
  t.same(batchSizes('1,25%', 20), [1, 4, 15], 'a final batch takes the rest');
  t.same(batchSizes('10%', 15), [2, 13], 'percent rounds up');
  t.same(batchSizes('7%', 100), [7, 93], 'no float drift');
  t.same(batchSizes('1,1,2', 5), [1, 1, 3], 'a target at or below the last is an empty batch, dropped');
  t.same(batchSizes('5,2,100%', 10), [5, 5]);
  t.same(batchSizes('50', 3), [3], 'targets beyond the hosts are clamped');
  t.same(batchSizes('1,+2', 7), [1, 2, 2, 2], 'a trailing step repeats to the end');
  t.same(batchSizes('+3', 7), [3, 3, 1]);
  t.same(batchSizes('10,+30%,100%', 100), [10, 30, 30, 30], 'a step that reaches the next target exactly leaves no empty batch');
  t.same(batchSizes('1,+1,+2,10', 10), [1, 1, 2, 2, 2, 2], 'a step followed by a step applies once');
  t.same(batchSizes('+1%', 10), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 'a step is at least one host');
  t.same(batchSizes('1,10%', 0), []);
  t.same(batchSizes('100%', 1), [1]);
  for (const n of [0, 1, 2, 3, 17, 100, 1001]) for (const e of ['1,10%,+20%,100%', '+5%', '3,1,50%', '1,+1,+2,10']) {
    const s = batchSizes(e, n);
    t.equal(s.reduce((a, b) => a + b, 0), n, `${e} over ${n} covers every host`);
    t.ok(s.every((x) => x >= 1), `${e} over ${n}: no empty batch`);
  }
  t.same(cutBatches(['a', 'b', 'c', 'd'], '1,50%'), [['a'], ['b'], ['c', 'd']]);
});

t.test('threshold', async (t) => {
  t.equal(tolerated(20, undefined), 0);
  t.equal(exceeds(1, 20, undefined), true, 'default: any failure');
  t.equal(exceeds(0, 20, undefined), false);
  t.equal(tolerated(20, { percent: 10 }), 2);
  t.equal(tolerated(4, { percent: 10 }), 1, 'ceil');
  t.equal(tolerated(4, { count: 3, percent: 10 }), 3, 'max of count and percent');
  t.equal(tolerated(100, { count: 3, percent: 10 }), 10);
  t.equal(exceeds(2, 20, { percent: 10 }), false);
  t.equal(exceeds(3, 20, { percent: 10 }), true);
  t.equal(tolerated(100, { percent: 7 }), 7);
  t.equal(tolerated(0, { percent: 50 }), 0);
});

const h = (name: string, idc?: string, set?: string) => ({ name, ...(idc !== undefined ? { idc } : {}), ...(set !== undefined ? { set } : {}) });

t.test('topology order', async (t) => {
  const hosts = [h('a1', 'A', 's1'), h('a2', 'A', 's1'), h('a3', 'A', 's2'), h('b1', 'B', 's3'), h('b2', 'B', 's3'), h('c1', 'C')];
  t.same(topologyOrder(hosts).map((x) => x.name), ['a1', 'b1', 'c1', 'a3', 'b2', 'a2'], 'one per IDC first, then sets round robin');
  t.same(topologyOrder([h('x'), h('y'), h('z')]).map((x) => x.name), ['x', 'y', 'z'], 'no topology: inventory order');
});

t.test('no batch but the last takes a whole set', async (t) => {
  // One IDC, two sets of two: "2,100%" would take s1 whole in the first batch without the rule.
  const hosts = [h('a', 'A', 's1'), h('b', 'A', 's1'), h('c', 'A', 's2'), h('d', 'A', 's2')];
  const names = (bs: { name: string }[][]) => bs.map((b) => b.map((x) => x.name));
  t.same(names(planBatches(hosts, '2,100%')), [['a', 'c'], ['b', 'd']]);
  // Only one set: the first batch of two would take it whole; the rule skips, then yields when nothing else is left.
  const one = [h('a', 'A', 's'), h('b', 'A', 's'), h('c', 'A', 's')];
  t.same(names(planBatches(one, '2,100%')), [['a', 'b'], ['c']], 'two of three is not the whole set');
  const pair = [h('a', 'A', 's'), h('b', 'A', 's'), h('x', 'B')];
  t.same(names(planBatches(pair, '2,100%')), [['a', 'x'], ['b']], 'the set of two is split');
  t.same(names(planBatches([h('a', 'A', 's'), h('b', 'A', 's')], '2')), [['a', 'b']], 'the last batch may');
  // A property: over many shapes no batch but the last takes ≥2 remaining hosts of a set when another host could have gone instead.
  const big = Array.from({ length: 40 }, (_, i) => h(`h${i}`, `idc${i % 3}`, `set${i % 7}`));
  const bs = planBatches(big, '1,10%,+20%,100%');
  t.same(bs.map((b) => b.length), [1, 3, 8, 8, 8, 8, 4]);
  t.same(new Set(bs.flat().map((x) => x.name)).size, 40, 'every host once');
  t.same(bs[0]!.length, 1);
  t.same(new Set(bs[1]!.map((x) => x.idc)).size, 3, 'the second batch spreads over every IDC');
  const remaining = new Map<string, number>();
  for (const x of big) remaining.set(x.set!, (remaining.get(x.set!) ?? 0) + 1);
  bs.forEach((b, i) => {
    const counts = new Map<string, number>();
    for (const x of b) counts.set(x.set!, (counts.get(x.set!) ?? 0) + 1);
    const whole = [...counts].filter(([s, c]) => c >= 2 && c === remaining.get(s)).map(([s]) => s);
    for (const [s, c] of counts) remaining.set(s, remaining.get(s)! - c);
    // The early batches have plenty of other hosts: none takes a set whole (late ones may have to).
    if (i < 4) t.same(whole, [], `batch ${i} takes no set whole`);
  });
});
