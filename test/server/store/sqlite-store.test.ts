/**
 * What is particular to the embedded SQLite store: pragmas and file permissions, the planner
 * using declared expression indexes, index re-declaration, persistence, close, backup.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { checkFilter } from '../../../server/store/check-filter.js';
import { compileFilter, compileSort } from '../../../server/store/sqlite/compile-filter.js';
import { GroupCommit } from '../../../server/store/sqlite/group-commit.js';
import { SqliteStore } from '../../../server/store/sqlite/sqlite-store.js';
import { StoreError, type Filter } from '../../../server/store/types.js';

t.test('file, permissions and pragmas', async (tt) => {
  const path = join(tt.testdir(), 'store.db');
  const store = SqliteStore.open({ path });
  tt.teardown(() => store.close());
  await (await store.collection('items')).insertOne({ _id: 'a' });
  tt.equal(statSync(path).mode & 0o777, 0o600, 'database file is 0600');
  const db = new Database(path, { readonly: true });
  tt.teardown(() => db.close());
  tt.equal(db.pragma('journal_mode', { simple: true }), 'wal', 'WAL');
  tt.equal(statSync(`${path}-wal`).mode & 0o777, 0o600, 'WAL file is 0600 too');
  tt.same(store.integrityCheck(), ['ok']);
});

t.test('synchronous is FULL by default, NORMAL on request; busy_timeout set', async (tt) => {
  const dir = tt.testdir();
  const full = SqliteStore.open({ path: join(dir, 'full.db') });
  tt.same(full.settings(), { journalMode: 'wal', synchronous: 'FULL', busyTimeoutMs: 5000, pageSize: 8192 });
  await full.close();
  const normal = SqliteStore.open({ path: join(dir, 'normal.db'), synchronous: 'NORMAL', busyTimeoutMs: 250 });
  tt.same(normal.settings(), { journalMode: 'wal', synchronous: 'NORMAL', busyTimeoutMs: 250, pageSize: 8192 });
  await normal.close();
  const memory = SqliteStore.open({ path: ':memory:' });
  tt.equal(memory.settings().journalMode, 'memory', ':memory: for fast tests');
  await memory.close();
});

t.test('a new file gets 8 KiB pages; an existing file keeps its own', async (tt) => {
  const dir = tt.testdir();
  const fresh = SqliteStore.open({ path: join(dir, 'fresh.db') });
  const c = await fresh.collection('reports');
  await c.insertOne({ _id: 'r1', json: 'x'.repeat(1800) }); // a run report's size; 4 KiB pages hold 1,002 bytes of a row
  const pages = new Database(join(dir, 'fresh.db'), { readonly: true });
  tt.teardown(() => pages.close());
  tt.equal(pages.pragma('page_size', { simple: true }), 8192, 'on disk');
  // A 1.8 KB document fits its b-tree page: no overflow page for it.
  const stat = pages.prepare("SELECT sum(pgsize) AS b FROM dbstat WHERE name = 'doc_reports' AND pagetype = 'overflow'").get() as { b: number | null };
  tt.equal(stat.b ?? 0, 0, 'no overflow pages');
  await fresh.close();

  const oldPath = join(dir, 'old.db');
  const old = new Database(oldPath);
  old.pragma('page_size = 4096'); // as every store made before ADR 0024, whatever this SQLite's default
  old.pragma('journal_mode = WAL');
  old.exec('CREATE TABLE legacy (x)');
  old.close();
  const reopened = SqliteStore.open({ path: oldPath });
  tt.equal(reopened.settings().pageSize, 4096, 'an existing database is not rewritten');
  await (await reopened.collection('items')).insertOne({ _id: 'a', n: 1 });
  tt.same(reopened.integrityCheck(), ['ok']);
  await reopened.close();

  // docs/store.md's conversion, with the server stopped: the data stays, the pages grow.
  const convert = new Database(oldPath);
  convert.exec('PRAGMA journal_mode=DELETE; PRAGMA page_size=8192; VACUUM; PRAGMA journal_mode=WAL;');
  convert.close();
  const converted = SqliteStore.open({ path: oldPath });
  tt.teardown(() => converted.close());
  tt.equal(converted.settings().pageSize, 8192, 'converted');
  tt.equal(converted.settings().journalMode, 'wal');
  tt.same(await (await converted.collection('items')).findOne({ _id: 'a' }), { _id: 'a', n: 1 }, 'documents kept');
});

t.test('declared indexes are used by the planner', async (tt) => {
  const path = join(tt.testdir(), 'plan.db');
  const store = SqliteStore.open({ path });
  tt.teardown(() => store.close());
  const c = await store.collection('hosts', [
    { name: 'name', fields: { name: 1 }, unique: true },
    { name: 'env_seen', fields: { env: 1, seenAt: 1 } },
    { name: 'token', fields: { 'auth.token': 1 }, unique: true, partialExists: true },
  ]);
  await c.insertMany(Array.from({ length: 200 }, (_, i) => ({ _id: `h${i}`, name: `web-${i}`, env: i % 2 ? 'prod' : 'dev', seenAt: new Date(Date.UTC(2026, 0, 1, 0, i)) })));
  const db = new Database(path, { readonly: true });
  tt.teardown(() => db.close());
  const plan = (filter: Filter, sort: [string, 1 | -1][] = []): string => {
    checkFilter(filter);
    const w = compileFilter(filter);
    return (db.prepare(`EXPLAIN QUERY PLAN SELECT doc FROM "doc_hosts" WHERE ${w.sql} ${compileSort(sort)}`).all(...w.params) as { detail: string }[])
      .map((r) => r.detail).join(' | ');
  };
  tt.match(plan({ name: 'web-7' }), /USING INDEX doc_hosts__name/, 'equality');
  tt.match(plan({ name: { $in: ['web-1', 'web-2'] } }), /USING INDEX doc_hosts__name/, '$in');
  tt.match(plan({ name: { $startsWith: 'web-1' } }), /USING INDEX doc_hosts__name/, '$startsWith is a range');
  tt.match(plan({ env: 'prod', seenAt: { $lt: new Date(Date.UTC(2026, 0, 1, 1)) } }), /USING INDEX doc_hosts__env_seen/, 'compound with a Date range');
  tt.match(plan({ 'auth.token': 'abc' }), /USING INDEX doc_hosts__token/, 'partial index for an equality');
  tt.match(plan({ _id: 'h5' }), /USING PRIMARY KEY/, '_id is the primary key');
  tt.equal((await c.find({ env: 'prod', seenAt: { $lt: new Date(Date.UTC(2026, 0, 1, 0, 10)) } })).length, 5, 'and the query answers right');
});

t.test('re-declaring indexes: changed ones are re-created, undeclared ones kept', async (tt) => {
  const store = SqliteStore.open({ path: join(tt.testdir(), 'ix.db') });
  tt.teardown(() => store.close());
  let c = await store.collection('users', [{ name: 'email', fields: { email: 1 } }]);
  await c.insertOne({ _id: 'a', email: 'x@x', token: 't' });
  await c.insertOne({ _id: 'b', email: 'y@x', token: 't' });
  c = await store.collection('users', [{ name: 'email', fields: { email: 1 }, unique: true }]);
  await tt.rejects(c.insertOne({ _id: 'c', email: 'x@x' }), { code: 'DUPLICATE_KEY' }, 'the index became unique');
  try {
    await store.collection('users', [{ name: 'email', fields: { email: 1 }, unique: true }, { name: 'token', fields: { token: 1 }, unique: true }]);
    tt.fail('unique index over duplicates accepted');
  } catch (err) {
    tt.ok(err instanceof StoreError && err.code === 'BAD_INDEX', 'BAD_INDEX over existing duplicates');
  }
  c = await store.collection('users');
  await tt.rejects(c.insertOne({ _id: 'c', email: 'x@x' }), { code: 'DUPLICATE_KEY' }, 'opening without indexes drops none');
});

t.test('data persists across reopen; closed store refuses calls', async (tt) => {
  const path = join(tt.testdir(), 'persist.db');
  const s1 = SqliteStore.open({ path });
  await (await s1.collection('things')).insertOne({ _id: 'one', at: new Date(Date.UTC(2026, 10, 26)) });
  const things = await s1.collection('things');
  await s1.close();
  await s1.close();
  tt.pass('close is idempotent');
  await tt.rejects(things.findOne({ _id: 'one' }), { code: 'CLOSED' }, 'CLOSED after close');
  await tt.rejects(s1.collection('things'), { code: 'CLOSED' });
  const s2 = SqliteStore.open({ path });
  tt.teardown(() => s2.close());
  tt.same(await (await s2.collection('things')).findOne({ _id: 'one' }), { _id: 'one', at: new Date(Date.UTC(2026, 10, 26)) });
});

t.test('online backup is a complete, consistent copy', async (tt) => {
  const dir = tt.testdir();
  const store = SqliteStore.open({ path: join(dir, 'live.db') });
  tt.teardown(() => store.close());
  const c = await store.collection('reports', [{ name: 'host', fields: { host: 1 } }]);
  await c.insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: `r${i}`, host: `h${i % 7}` })));
  await store.backup(join(dir, 'copy.db'));
  const copy = SqliteStore.open({ path: join(dir, 'copy.db') });
  tt.teardown(() => copy.close());
  tt.same(copy.integrityCheck(), ['ok']);
  tt.equal(await (await copy.collection('reports', [{ name: 'host', fields: { host: 1 } }])).count({ host: 'h3' }), await c.count({ host: 'h3' }));
});

t.test('group commit: concurrent writes share a transaction but fail alone', async (tt) => {
  const path = join(tt.testdir(), 'group.db');
  const store = SqliteStore.open({ path });
  const c = await store.collection('items', [{ name: 'slot', fields: { slot: 1 }, unique: true }]);
  await c.insertOne({ _id: 'taken', slot: 7 });
  const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => c.insertOne({ _id: `i${i}`, slot: i === 20 ? 7 : 100 + i })));
  const rejected = results.map((r, i) => [r.status, i] as const).filter(([s]) => s === 'rejected').map(([, i]) => i);
  tt.same(rejected, [20], 'only the duplicate is rejected');
  tt.match((results[20] as PromiseRejectedResult).reason, { code: 'DUPLICATE_KEY', index: 'slot' });
  tt.equal(await c.count({}), 50, 'the 49 others and the first are stored');

  const pending = [c.insertOne({ _id: 'late1', slot: 1001 }), c.updateOne({ _id: 'taken' }, { $set: { late: true } })];
  await store.close();
  await Promise.all(pending);
  tt.pass('writes requested before close() are committed and acknowledged');
  const again = SqliteStore.open({ path });
  tt.teardown(() => again.close());
  const c2 = await again.collection('items');
  tt.ok(await c2.findOne({ _id: 'late1' }), 'and are on disk');
  tt.equal((await c2.findOne({ _id: 'taken' }))?.['late'], true);
});

t.test('group commit: while writes are concurrent, the next commit waits out the gap and carries what came meanwhile; a lone writer never waits', async (tt) => {
  const db = new Database(':memory:');
  tt.teardown(() => db.close());
  db.exec('CREATE TABLE t (v TEXT)');
  let commits = 0;
  const counted = new Proxy(db, {
    get(target, prop) {
      if (prop !== 'transaction') return Reflect.get(target, prop, target) as unknown;
      return (fn: (...a: unknown[]) => unknown) => {
        const tx = target.transaction(fn);
        return Object.assign((...a: unknown[]) => tx(...a), { immediate: (...a: unknown[]) => { commits++; return tx.immediate(...a); } });
      };
    },
  });
  let now = 0;
  const timers: { fn: () => void; ms: number }[] = [];
  const gc = new GroupCommit(counted, { now: () => now, later: (fn, ms) => timers.push({ fn, ms }) });
  const insert = (v: string): Promise<unknown> => gc.write(() => db.prepare('INSERT INTO t VALUES (?)').run(v));

  await insert('lone-1');
  now = 0.5;
  await insert('lone-2');
  tt.equal(commits, 2, 'a lone writer: one commit per write');
  tt.same(timers, [], 'and no wait');

  now = 10;
  await Promise.all([insert('a'), insert('b')]);
  tt.equal(commits, 3, 'two concurrent writes, one commit (started at 10)');
  now = 11;
  const c = insert('c');
  tt.same(timers.map((x) => x.ms), [7], 'the next commit waits until 8 ms after the last one started');
  now = 14;
  const d = insert('d');
  tt.equal(timers.length, 1, 'a write during the wait joins it');
  now = 18;
  timers[0]!.fn();
  await Promise.all([c, d]);
  tt.equal(commits, 4, 'c and d committed together');
  tt.same(db.prepare('SELECT v FROM t').pluck().all(), ['lone-1', 'lone-2', 'a', 'b', 'c', 'd'], 'in request order');

  now = 40;
  await insert('e');
  tt.equal(commits, 5);
  tt.equal(timers.length, 1, 'once the gap has passed, the next commit does not wait');
});

t.test('group commit: when the transaction cannot start, every write of the batch fails and none applies', async (tt) => {
  const path = join(tt.testdir(), 'busy.db');
  const store = SqliteStore.open({ path, busyTimeoutMs: 20 });
  tt.teardown(() => store.close());
  const c = await store.collection('items');
  const other = new Database(path);
  tt.teardown(() => other.close());
  other.exec('BEGIN IMMEDIATE'); // another process holds the write lock
  const results = await Promise.allSettled([c.insertOne({ _id: 'a' }), c.insertOne({ _id: 'b' }), c.deleteMany({})]);
  tt.same(results.map((r) => r.status), ['rejected', 'rejected', 'rejected'], 'all rejected');
  tt.match((results[0] as PromiseRejectedResult).reason, { code: 'SQLITE_BUSY' });
  other.exec('COMMIT');
  tt.equal(await c.count({}), 0, 'nothing applied');
  await c.insertOne({ _id: 'a' });
  tt.equal(await c.count({}), 1, 'writes work again once the lock is free');
});
