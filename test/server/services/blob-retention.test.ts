/**
 * Blob retention (server/services/blob-marks.ts, blob-retention.ts) on a real SQLite store with a
 * stepped clock: marked puts, roots, the grace period, blobs stored before marks existed, and a
 * put racing a sweep (it waits for the condemned mark, then stores the blob again).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { createLogger } from '../../../server/log.js';
import { BlobMarks, STALE_CONDEMN_MS } from '../../../server/services/blob-marks.js';
import { BlobRetention } from '../../../server/services/blob-retention.js';
import { SqliteStore } from '../../../server/store/sqlite/sqlite-store.js';

const DAY = 86_400_000;
const hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const signal = new AbortController().signal;

async function fixture(t: Tap) {
  const store = SqliteStore.open({ path: join(t.testdir(), 's.db') });
  t.teardown(() => store.close());
  let now = 1_000 * DAY;
  const clock = { now: () => now };
  const marks = await BlobMarks.open(store, clock);
  const marked = marks.marking(store, new Set(['repo']));
  const blobs = await marked.blobs('repo');
  const raw = await store.blobs('repo');
  const roots = new Set<string>();
  const lines: string[] = [];
  const retention = new BlobRetention(marks, [{ name: 'repo', blobs, roots: async () => roots }], createLogger({ write: (l) => void lines.push(l) }), { graceMs: 2 * DAY });
  return { store, marks, blobs, raw, roots, retention, lines, advance: (ms: number) => (now += ms), clock };
}
type Tap = { testdir(): string; teardown(fn: () => unknown): void };

t.test('unreferenced blobs go after the grace period; referenced ones stay', async (t) => {
  const f = await fixture(t);
  const kept = Buffer.from('referenced');
  const loose = Buffer.from('unreferenced');
  await f.blobs.put(hex(kept), kept);
  await f.blobs.put(hex(loose), loose);
  f.roots.add(hex(kept));
  t.ok(await f.marks.marks.findOne({ _id: `repo:${hex(loose)}` }), 'a put marks the blob');
  t.same(await f.retention.stats(signal), [{ bucket: 'repo', blobs: 2, bytes: kept.length + loose.length, referenced: 1, referencedBytes: kept.length }], 'stats: the referenced bytes are the kept blob\'s');
  let r = (await f.retention.sweep(signal))[0]!;
  t.same([r.blobs, r.referenced, r.inGrace, r.deleted], [2, 1, 1, 0], 'within the grace period nothing goes');
  f.advance(2 * DAY + 1);
  r = (await f.retention.sweep(signal))[0]!;
  t.same([r.deleted, r.deletedBytes, r.referenced], [1, loose.length, 1]);
  t.equal(await f.raw.has(hex(loose)), false, 'the unreferenced blob is gone');
  t.equal(await f.raw.has(hex(kept)), true, 'the referenced blob stays, however old');
  t.equal(await f.marks.marks.count({ _id: `repo:${hex(loose)}` }), 0, 'and its mark');
  t.match(f.lines.join(''), /pruned unreferenced blobs/);
  const stats = await f.retention.stats(signal);
  t.same(stats, [{ bucket: 'repo', blobs: 1, bytes: kept.length, referenced: 1, referencedBytes: kept.length }]);
});

t.test('a put within the grace period renews it; a blob stored before marks is adopted, not deleted', async (t) => {
  const f = await fixture(t);
  const a = Buffer.from('renewed');
  const legacy = Buffer.from('legacy');
  await f.blobs.put(hex(a), a);
  await f.raw.put(hex(legacy), legacy); // unmarked, as before this feature
  f.advance(1.5 * DAY);
  t.equal(await f.blobs.put(hex(a), a), false, 'already stored, but the put marked it again');
  let r = (await f.retention.sweep(signal))[0]!;
  t.same([r.inGrace, r.deleted], [2, 0], 'the legacy blob gets a mark on first sight');
  f.advance(1 * DAY);
  r = (await f.retention.sweep(signal))[0]!;
  t.same([r.deleted], [0], 'neither is older than the grace period since its last mark');
  f.advance(1.1 * DAY);
  r = (await f.retention.sweep(signal))[0]!;
  t.same([r.deleted], [2]);
});

t.test('no grace period: marks are kept and nothing is deleted', async (t) => {
  const f = await fixture(t);
  const retention = new BlobRetention(f.marks, [{ name: 'repo', blobs: f.blobs }], createLogger({ write: () => undefined }));
  await f.blobs.put(hex(Buffer.from('x')), Buffer.from('x'));
  f.advance(1000 * DAY);
  t.same((await retention.sweep(signal))[0]!.deleted, 0);
  t.equal(retention.graceMs, undefined);
});

t.test('a put that meets a condemned mark waits for the sweep, then stores the blob again', async (t) => {
  const f = await fixture(t);
  const data = Buffer.from('raced');
  const key = hex(data);
  await f.blobs.put(key, data);
  // a sweep has condemned the mark and is about to delete the bytes
  await f.marks.marks.updateOne({ _id: `repo:${key}` }, { $set: { condemned: f.clock.now() } });
  let settled = false;
  const put = f.blobs.put(key, data).then((v) => ((settled = true), v));
  await new Promise((r) => setTimeout(r, 200));
  t.equal(settled, false, 'the put waits while the mark is condemned');
  await f.raw.delete(key); // the sweep deletes the bytes, then its mark
  await f.marks.marks.deleteOne({ _id: `repo:${key}` });
  t.equal(await put, true, 'the put stored the blob again');
  t.ok((await f.raw.get(key))?.equals(data));
  const mark = await f.marks.marks.findOne({ _id: `repo:${key}` });
  t.equal(mark?.condemned, undefined, 'with a fresh mark');
  t.same((await f.marks.touch('repo', [key])).size, 0, 'a touch of a live mark revives nothing');
});

t.test('a condemnation left by a dead sweep is taken over by a touch, and finished by the next sweep', async (t) => {
  const f = await fixture(t);
  const a = Buffer.from('dead sweep a');
  const b = Buffer.from('dead sweep b');
  await f.blobs.put(hex(a), a);
  await f.blobs.put(hex(b), b);
  const at = f.clock.now();
  await f.marks.marks.updateMany({}, { $set: { condemned: at } });
  f.advance(STALE_CONDEMN_MS + 1);
  t.same([...(await f.marks.touch('repo', [hex(a)]))], [hex(a)], 'revived: the caller must put it again');
  t.equal((await f.marks.marks.findOne({ _id: `repo:${hex(a)}` }))?.condemned, undefined);
  const r = (await f.retention.sweep(signal))[0]!;
  t.same([r.deleted, r.inGrace], [1, 1], 'the dead sweep of b is finished; a is fresh again');
  t.equal(await f.raw.has(hex(b)), false);
  t.equal(await f.raw.has(hex(a)), true);
});
