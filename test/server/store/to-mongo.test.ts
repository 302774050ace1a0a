/**
 * Unit tests of the thin MongoDB translation layer (runs without a server): filters, sort,
 * upsert ids, index options, error mapping and URL parsing.
 */
import { Query } from 'mingo';
import t from 'tap';
import { toStoreError } from '../../../server/store/mongo/mongo-errors.js';
import { databaseInUrl } from '../../../server/store/mongo/mongo-store.js';
import { escapeRegex, mongoIndexOptions, toMongoFilter, toMongoSort, toMongoUpdate } from '../../../server/store/mongo/to-mongo.js';
import { DuplicateKeyError, StoreError } from '../../../server/store/types.js';

t.test('$startsWith becomes an anchored, escaped $regex that matches literally', async (tt) => {
  const f = toMongoFilter({ $or: [{ s: { $startsWith: 'a.b*(c)[d]+?^$|\\' } }], n: 1 });
  tt.same(f, { $or: [{ s: { $regex: '^a\\.b\\*\\(c\\)\\[d\\]\\+\\?\\^\\$\\|\\\\' } }], n: 1 });
  const special = 'a.b*(c)[d]+?^$|\\';
  for (const s of [special, `${special}tail`, 'a.b', 'axb*(c)[d]+?^$|\\']) {
    const expected = s.startsWith(special);
    tt.equal(new Query(f['$or'] ? (f['$or'] as Record<string, unknown>[])[0] as Record<string, unknown> : {}, { scriptEnabled: false }).test({ s }), expected, `${JSON.stringify(s)} → ${expected}`);
  }
  tt.equal(escapeRegex('plain'), 'plain');
  tt.same(toMongoFilter({ d: new Date(0) }), { d: new Date(0) }, 'Dates pass through as Dates');
});

t.test('sort gets an _id tie-breaker unless present', async (tt) => {
  tt.same(toMongoSort([['a', -1]]), [['a', -1], ['_id', 1]]);
  tt.same(toMongoSort([['_id', -1]]), [['_id', -1]]);
  tt.same(toMongoSort([]), [['_id', 1]]);
});

t.test('upserts keep string ids', async (tt) => {
  const u = toMongoUpdate({ kind: 'x' }, { $set: { a: 1 } }, true);
  tt.type((u['$setOnInsert'] as Record<string, unknown>)['_id'], 'string', 'a string _id is added');
  tt.match((u['$setOnInsert'] as Record<string, string>)['_id'], /^[0-9a-f-]{36}$/);
  tt.same(toMongoUpdate({ _id: 'fixed' }, { $set: { a: 1 } }, true), { $set: { a: 1 } }, 'filter _id kept');
  tt.same(toMongoUpdate({ $and: [{ _id: { $eq: 'fixed' } }] }, { $set: { a: 1 } }, true), { $set: { a: 1 } }, '$and/$eq _id kept');
  tt.same(toMongoUpdate({ k: 1 }, { $setOnInsert: { _id: 'mine', b: 2 } }, true), { $setOnInsert: { _id: 'mine', b: 2, k: 1 } }, '$setOnInsert _id kept');
  tt.same(toMongoUpdate({ k: 1 }, { $set: { a: 1 } }, false), { $set: { a: 1 } }, 'no upsert, no id');
});

t.test('upserts repeat the filter equalities in $setOnInsert, except paths the update writes', async (tt) => {
  tt.same(toMongoUpdate({ _id: 'x', kind: 'y', 'meta.owner': 'ops', $and: [{ tier: { $eq: 2 } }], n: { $gt: 1 } }, { $inc: { hits: 1 } }, true),
    { $inc: { hits: 1 }, $setOnInsert: { kind: 'y', 'meta.owner': 'ops', tier: 2 } }, 'top level, dotted, $and; ranges and _id not');
  tt.same(toMongoUpdate({ _id: 'x', kind: 'y', meta: { $eq: null } }, { $set: { kind: 'z', 'meta.a': 1 } }, true),
    { $set: { kind: 'z', 'meta.a': 1 } }, 'a path the update writes (or its parent) is left to the update');
  tt.same(toMongoUpdate({ _id: 'x', k: 1 }, { $setOnInsert: { k: 2 } }, true), { $setOnInsert: { k: 2 } }, '$setOnInsert wins');
});

t.test('$pull with $in is sent as $pullAll', async (tt) => {
  tt.same(toMongoUpdate({ _id: 'x' }, { $pull: { a: { $in: [1, 2] }, b: 'v' } }, false), { $pull: { b: 'v' }, $pullAll: { a: [1, 2] } });
  tt.same(toMongoUpdate({ _id: 'x' }, { $pull: { a: { $in: [] } } }, false), { $pullAll: { a: [] } });
  tt.same(toMongoUpdate({ _id: 'x' }, { $pull: { b: null } }, false), { $pull: { b: null } });
});

t.test('index options', async (tt) => {
  tt.same(mongoIndexOptions({ name: 'e', fields: { email: 1 }, unique: true }), { name: 'e', unique: true });
  tt.same(mongoIndexOptions({ name: 'p', fields: { 'a.b': 1, c: -1 }, unique: true, partialExists: true }),
    { name: 'p', unique: true, partialFilterExpression: { 'a.b': { $exists: true }, c: { $exists: true } } });
  tt.same(mongoIndexOptions({ name: 'x', fields: { a: 1 } }), { name: 'x' });
  tt.same(mongoIndexOptions({ name: 't', fields: { token: 1 }, unique: true, partialExists: true }), { name: 't', unique: true, sparse: true },
    'one field: sparse');
});

t.test('driver errors map to store errors', async (tt) => {
  const dup = toStoreError(Object.assign(new Error('E11000 duplicate key error collection: db.users index: email dup key: { email: "a" }'), { code: 11000 }), 'users');
  tt.ok(dup instanceof DuplicateKeyError && dup.index === 'email', 'index named');
  const dupId = toStoreError(Object.assign(new Error('E11000 duplicate key error collection: db.users index: _id_ dup key: { _id: "a" }'), { code: 11000 }), 'users');
  tt.ok(dupId instanceof DuplicateKeyError && dupId.index === '_id', '_id_ → _id');
  const bulk = toStoreError(Object.assign(new Error('bulk'), { writeErrors: [{ code: 11000 }] }), 'users');
  tt.ok(bulk instanceof DuplicateKeyError, 'bulk write errors');
  const imm = toStoreError(Object.assign(new Error('immutable'), { code: 66 }), 'users');
  tt.ok(imm instanceof StoreError && imm.code === 'IMMUTABLE_ID');
  for (const code of [2, 14, 28]) {
    const bad = toStoreError(Object.assign(new Error('does not fit'), { code }), 'users', true);
    tt.ok(bad instanceof StoreError && bad.code === 'BAD_UPDATE', `update code ${code} → BAD_UPDATE`);
    tt.notOk(toStoreError(Object.assign(new Error('x'), { code }), 'users') instanceof StoreError, `code ${code} outside updates unchanged`);
  }
  const sqliteDup = toStoreError(Object.assign(new Error("constraint failed: UNIQUE constraint failed: index 'users_dbda23af_email' (2067)"), { code: 1 }), 'users', true, ['by_email', 'email']);
  tt.ok(sqliteDup instanceof DuplicateKeyError && sqliteDup.index === 'email', 'FerretDB/SQLite duplicate on update');
  const pgDup = toStoreError(Object.assign(new Error('ERROR: duplicate key value violates unique constraint "users_30aa9702_email_8a8753c7_idx" (SQLSTATE 23505)'), { code: 1 }), 'users', true, ['email']);
  tt.ok(pgDup instanceof DuplicateKeyError && pgDup.index === 'email', 'FerretDB/PostgreSQL duplicate on update');
  const unnamed = toStoreError(Object.assign(new Error('E11000 duplicate key error collection: db.users'), { code: 11000 }), 'users');
  tt.ok(unnamed instanceof DuplicateKeyError && unnamed.index === undefined, 'no index named: undefined (the collection looks it up)');
  const other = new Error('network');
  tt.equal(toStoreError(other, 'users'), other, 'others unchanged');
});

t.test('database name from the URL', async (tt) => {
  tt.equal(databaseInUrl('mongodb://h1:27017,h2:27017/fleet?replicaSet=rs0'), 'fleet');
  tt.equal(databaseInUrl('mongodb+srv://u:p@cluster.example.net/prod'), 'prod');
  tt.equal(databaseInUrl('mongodb://localhost:27017/?replicaSet=rs0'), undefined);
  tt.equal(databaseInUrl('mongodb://localhost'), undefined);
});
