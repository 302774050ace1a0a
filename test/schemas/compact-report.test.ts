/** Compact reports (ADR 0021): the digest, the run-order code, compaction, its check and expansion. */
import { createHash } from 'node:crypto';
import t from 'tap';
import { checkCompact, compactReport, compileGuard, decodeOrder, encodeOrder, expandReport, inSyncDigest, indexCatalog, runReportSchema, slowMs, type ResourceStatus, type RunReport } from '../../schemas/index.js';

const guard = compileGuard<RunReport>(runReportSchema);
const catalogId = 'a'.repeat(64);
const ids = Array.from({ length: 50 }, (_, i) => `file:/srv/f${String(i).padStart(2, '0')}`);
const index = indexCatalog(catalogId, ids)!;

function inSync(id: string, durationMs = 0): ResourceStatus {
  return { id, type: 'file', state: 'in-sync', changes: [], durationMs };
}

/** A full report over `ids` in `order` (catalog indexes), with some statuses replaced. */
function report(special: Record<number, ResourceStatus> = {}, order: number[] = ids.map((_, i) => i)): RunReport {
  const resources = order.map((i) => special[i] ?? inSync(ids[i]!, i % 3));
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
  return { runId: 'r1', host: 'web-1', catalogId, revision: 'rev', mode: 'apply', startedAt: '2026-12-07T10:00:00.000Z', durationMs: 40, outcome, counts, resources };
}

const specials: Record<number, ResourceStatus> = {
  3: { id: ids[3]!, type: 'file', state: 'changed', changes: [{ property: 'content', before: 'sha256:aa', after: 'sha256:bb', corrective: true }], diff: '--- a\n+++ b\n', durationMs: 4 },
  7: { id: ids[7]!, type: 'file', state: 'failed', changes: [], error: { code: 'APPLY_FAILED', message: 'disk full' }, durationMs: 2 },
  8: { id: ids[8]!, type: 'file', state: 'skipped', changes: [], error: { code: 'DEPENDENCY_FAILED', message: 'dependency failed' }, durationMs: 0 },
  9: { id: ids[9]!, type: 'file', state: 'would-change', changes: [{ property: 'mode', before: '0644', after: '0600', corrective: false }], durationMs: 1 },
  10: { ...inSync(ids[10]!), output: 'hello' },
  11: { ...inSync(ids[11]!), refreshed: true },
  12: inSync(ids[12]!, slowMs + 5),
};

t.test('the digest is sha256 of catalogId, a newline and the JSON of the ids sorted by code unit', async (t) => {
  const sorted = ['b:x', 'a:Z', 'a:a', 'a:é'].sort();
  t.same(sorted, ['a:Z', 'a:a', 'a:é', 'b:x']);
  t.equal(inSyncDigest('cat', sorted), createHash('sha256').update('cat\n["a:Z","a:a","a:é","b:x"]').digest('hex'));
  t.not(inSyncDigest('cat', ['a', 'b']), inSyncDigest('cat2', ['a', 'b']), 'bound to the catalog');
  t.not(inSyncDigest('cat', ['a\nb']), inSyncDigest('cat', ['a', 'b']), 'no ambiguity between ids');
  t.equal(index.allDigest, inSyncDigest(catalogId, [...ids].sort()));
  t.equal(indexCatalog(catalogId, ['x:1', 'x:1']), undefined, 'repeated ids: no index');
});

t.test('run order: run-length coded, decoded only as a permutation of the catalog', async (t) => {
  t.same(encodeOrder([0, 1, 2, 3]), [0, 4]);
  t.same(encodeOrder([2, 3, 0, 1, 4]), [2, 2, 0, 2, 4, 1]);
  t.same(encodeOrder([]), []);
  t.same([...(decodeOrder([2, 2, 0, 2, 4, 1], 5) as Int32Array)], [2, 3, 0, 1, 4]);
  t.match(decodeOrder([0, 4], 5), /names 4 of the catalog's 5/);
  t.match(decodeOrder([0, 3, 2, 2], 5), /twice/);
  t.match(decodeOrder([0, 6], 5), /does not have/);
  t.match(decodeOrder([0, 0, 0, 5], 5), /does not have/);
  t.match(decodeOrder([0], 1), /odd/);
  t.match(decodeOrder([-1, 2], 1), /does not have/);
});

t.test('compaction keeps in full what is not plainly in sync, and expands back exactly', async (t) => {
  const order = [...ids.keys()].reverse();
  const full = report(specials, order);
  const compact = compactReport(full, index)!;
  t.ok(compact, 'compacted');
  t.ok(guard.is(compact), 'a valid report');
  t.same(compact.resources.map((r) => r.id).sort(), [3, 7, 8, 9, 10, 11, 12].map((i) => ids[i]).sort(), 'changed, failed, skipped, would-change, output, refreshed, slow');
  t.same(compact.resources.map((r) => r.id), full.resources.filter((r) => compact.resources.some((c) => c.id === r.id)).map((r) => r.id), 'listed in run order');
  const s = compact.inSyncSummary!;
  t.equal(s.count, 43);
  t.same(s.order, [49, 1, 48, 1, 47, 1].concat(s.order.slice(6)), 'the run order, coded');
  const left = full.resources.filter((r) => !compact.resources.includes(r));
  t.equal(s.digest, inSyncDigest(catalogId, left.map((r) => r.id).sort()));
  t.equal(s.durationMs, left.reduce((n, r) => n + (r.durationMs ?? 0), 0));
  t.equal(checkCompact(compact, index), undefined, 'holds against the catalog');

  const back = expandReport(compact, index);
  t.ok(guard.is(back));
  t.equal(back.inSyncSummary, undefined);
  t.same(back.resources.map((r) => r.id), full.resources.map((r) => r.id), 'run order restored');
  const { durationMs: _d, ...noDuration } = full.resources[0]!;
  t.same(back.resources[0], noDuration, 'a summarised resource: in sync, no changes, its duration absent (not a made-up 0)');
  t.notOk('durationMs' in back.resources[0]!);
  for (const i of [3, 7, 8, 9, 10, 11, 12]) t.same(back.resources.find((r) => r.id === ids[i]), specials[i], `${ids[i]} exactly as sent`);
  t.same({ ...back, resources: [] }, { ...full, resources: [] }, 'everything else as sent');
});

t.test('a no-op run: nothing listed, the digest is the catalog\'s own', async (t) => {
  const compact = compactReport(report(), index)!;
  t.same(compact.resources, []);
  t.same(compact.inSyncSummary?.order, [0, 50]);
  t.equal(compact.inSyncSummary?.digest, index.allDigest);
  t.ok(JSON.stringify(compact).length < 1000, `small: ${JSON.stringify(compact).length} bytes`);
  t.equal(checkCompact(compact, index), undefined);
});

t.test('what is not compacted', async (t) => {
  t.equal(compactReport({ ...report(), catalogId: 'b'.repeat(64) }, index), undefined, 'another catalog');
  const short = report();
  t.equal(compactReport({ ...short, resources: short.resources.slice(1), counts: { ...short.counts, total: 49, inSync: 49 } }, index), undefined, 'a run that did not account for every resource');
  const dup = report();
  dup.resources[1] = dup.resources[0]!;
  t.equal(compactReport(dup, index), undefined, 'an id twice');
  const stranger = report();
  stranger.resources[5] = inSync('file:/elsewhere');
  t.equal(compactReport(stranger, index), undefined, 'an id the catalog does not have');
  const allMoved = report(Object.fromEntries(ids.map((id, i) => [i, { ...inSync(id), state: 'changed' as const, changes: [{ property: 'ensure', after: 'present', corrective: false }] }])));
  t.equal(compactReport(allMoved, index), undefined, 'nothing to leave out');
  const compact = compactReport(report(), index)!;
  t.equal(compactReport(compact, index), undefined, 'already compact');
});

t.test('the check refuses a summary that does not hold', async (t) => {
  const good = compactReport(report(specials), index)!;
  const s = good.inSyncSummary!;
  const cases: [string, RunReport, RegExp][] = [
    ['wrong digest', { ...good, inSyncSummary: { ...s, digest: 'f'.repeat(64) } }, /digest does not match/],
    ['count off by one', { ...good, inSyncSummary: { ...s, count: s.count - 1 } }, /summary counts/],
    ['total off', { ...good, counts: { ...good.counts, total: 51 } }, /counts 51 resources/],
    ['inSync count off', { ...good, counts: { ...good.counts, inSync: good.counts.inSync + 1 } }, /counts.inSync/],
    ['a resource the catalog does not have', { ...good, resources: [...good.resources, inSync('file:/nope')] }, /not in catalog/],
    ['listed twice', { ...good, resources: [...good.resources, good.resources[0]!] }, /listed twice/],
    ['bad order', { ...good, inSyncSummary: { ...s, order: [0, 49] } }, /names 49/],
    ['another catalog', { ...good, catalogId: 'b'.repeat(64) }, /is for catalog/],
  ];
  for (const [what, r, why] of cases) t.match(checkCompact(r, index), why, what);
  // A listed resource dropped (hidden failure): the counts or the digest give it away.
  const hidden = { ...good, resources: good.resources.filter((r) => r.state !== 'failed') };
  t.ok(checkCompact(hidden, index), 'a failure left out of the list is refused');
  const hiddenAndCounted = { ...hidden, inSyncSummary: { ...s, count: s.count + 1 }, counts: { ...good.counts, failed: 0, inSync: good.counts.inSync + 1 } };
  t.match(checkCompact(hiddenAndCounted, index), /digest does not match/, 'a failure passed off as in sync is refused by the digest');
  t.equal(checkCompact(report(), index), 'not a compact report');
});

t.test('the schema bounds the summary', async (t) => {
  const compact = compactReport(report(), index)!;
  t.notOk(guard.is({ ...compact, inSyncSummary: { ...compact.inSyncSummary, digest: 'xyz' } }), 'digest must be sha256 hex');
  t.notOk(guard.is({ ...compact, inSyncSummary: { ...compact.inSyncSummary, extra: 1 } }), 'no other fields');
  t.notOk(guard.is({ ...compact, inSyncSummary: { ...compact.inSyncSummary, order: [-1, 2] } }), 'no negative index');
});
