/**
 * Retention: batched deletion of raw documents older than a cutoff.
 */
import t from 'tap';
import { deleteOlderThan } from '../../../server/store/retention.js';
import { SqliteStore } from '../../../server/store/sqlite/sqlite-store.js';
import type { Doc } from '../../../server/store/types.js';

const T0 = Date.UTC(2026, 0, 1);
const day = (n: number): Date => new Date(T0 + n * 86_400_000);

async function fixture(): Promise<{ store: SqliteStore; docs: Doc[] }> {
  const store = SqliteStore.open({ path: ':memory:' });
  const docs: Doc[] = [];
  for (let i = 0; i < 1234; i++) docs.push({ _id: `r${i}`, hostId: `h${i % 5}`, receivedAt: day(i % 90) });
  docs.push({ _id: 'no-date', hostId: 'h0' }, { _id: 'string-date', hostId: 'h0', receivedAt: '2020-01-01' });
  await (await store.collection('reports', [{ name: 'received', fields: { receivedAt: 1 } }])).insertMany(docs);
  return { store, docs };
}

t.test('deletes exactly the documents older than the cutoff, in batches', async (tt) => {
  const { store, docs } = await fixture();
  tt.teardown(() => store.close());
  const c = await store.collection('reports');
  const cutoff = day(30);
  const old = docs.filter((d) => d['receivedAt'] instanceof Date && (d['receivedAt'] as Date) < cutoff).map((d) => d._id);
  const r = await deleteOlderThan(c, { field: 'receivedAt', cutoff, batchSize: 100 });
  tt.equal(r.deleted, old.length, `${old.length} deleted`);
  tt.equal(r.batches, Math.ceil(old.length / 100), 'in bounded batches');
  tt.equal(r.done, true);
  tt.equal(await c.count({ _id: { $in: old } }), 0, 'none of the old ones left');
  tt.equal(await c.count({}), docs.length - old.length, 'everything else kept');
  tt.ok(await c.findOne({ _id: 'no-date' }), 'documents without the field are kept');
  tt.ok(await c.findOne({ _id: 'string-date' }), 'a string is not a Date: kept');
  tt.same(await deleteOlderThan(c, { field: 'receivedAt', cutoff, batchSize: 100 }), { deleted: 0, batches: 0, done: true }, 'second pass: nothing');
});

t.test('where, maxBatches and abort', async (tt) => {
  const { store } = await fixture();
  tt.teardown(() => store.close());
  const c = await store.collection('reports');
  const cutoff = day(60);
  const forH1 = await c.count({ hostId: 'h1', receivedAt: { $lt: cutoff } });
  const r = await deleteOlderThan(c, { field: 'receivedAt', cutoff, where: { hostId: 'h1' } });
  tt.equal(r.deleted, forH1, 'only h1');
  tt.equal(await c.count({ hostId: 'h2', receivedAt: { $lt: cutoff } }) > 0, true, 'h2 untouched');

  const before = await c.count({ receivedAt: { $lt: cutoff } });
  const oldest100 = (await c.find({ receivedAt: { $lt: cutoff } }, { sort: { receivedAt: 1 }, limit: 100, projection: { _id: 1 } })).map((d) => d._id);
  const partial = await deleteOlderThan(c, { field: 'receivedAt', cutoff, batchSize: 50, maxBatches: 2 });
  tt.same(partial, { deleted: 100, batches: 2, done: false }, 'stops after maxBatches');
  tt.equal(await c.count({ _id: { $in: oldest100 } }), 0, 'the oldest go first');
  tt.equal(await c.count({ receivedAt: { $lt: cutoff } }), before - 100);

  const aborted = await deleteOlderThan(c, { field: 'receivedAt', cutoff, signal: AbortSignal.abort() });
  tt.same(aborted, { deleted: 0, batches: 0, done: false }, 'an aborted signal deletes nothing');
  await tt.rejects(deleteOlderThan(c, { field: 'receivedAt', cutoff: new Date('x') }), { code: 'BAD_FILTER' });
  await tt.rejects(deleteOlderThan(c, { field: 'receivedAt', cutoff: Number.NaN }), { code: 'BAD_FILTER' });
  await tt.rejects(deleteOlderThan(c, { field: '$where', cutoff }), { code: 'BAD_PATH' });
  await tt.rejects(deleteOlderThan(c, { field: 'receivedAt', cutoff, batchSize: 0 }), { code: 'BAD_FILTER' });
});

t.test('numeric cutoffs for epoch-millisecond fields', async (tt) => {
  const store = SqliteStore.open({ path: ':memory:' });
  tt.teardown(() => store.close());
  const c = await store.collection('runs', [{ name: 'at', fields: { atMs: 1 } }]);
  await c.insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: `x${i}`, atMs: T0 + i * 1000 })));
  await c.insertOne({ _id: 'date-typed', atMs: day(-5) });
  const r = await deleteOlderThan(c, { field: 'atMs', cutoff: T0 + 120_000, batchSize: 25 });
  tt.same(r, { deleted: 120, batches: 5, done: true });
  tt.equal(await c.count({ atMs: { $lt: T0 + 120_000 } }), 0);
  tt.ok(await c.findOne({ _id: 'date-typed' }), 'a Date is not compared with a number: kept');
  tt.equal(await c.count({}), 181);
});
