/**
 * The store contract suite: one function run against every DocumentStore implementation
 * (SQLite always, MongoDB when MONGODB_URL is set). Every filter case is checked three ways:
 * against the store, against the expected ids written here, and against mingo (an
 * independent implementation of MongoDB's query rules, scripting off) running the exact
 * filter the MongoDB store would send (toMongoFilter). Update operators are checked against
 * mingo's updater the same way.
 */
import { createHash, randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Query, update as mingoUpdate } from 'mingo';
import type t from 'tap';
import { toMongoFilter, toMongoSort } from '../../../server/store/mongo/to-mongo.js';
import type { BlobReader } from '../../../server/store/types.js';
import {
  DuplicateKeyError, StoreError, type Collection, type Doc, type DocumentStore, type Filter, type IndexSpec, type Update,
} from '../../../server/store/types.js';

/** The tap test object handed to subtests. */
export type TestT = Parameters<Parameters<typeof t.test>[0]>[0];

const MINGO = { scriptEnabled: false } as const;

let counter = 0;
/** A fresh collection per subtest, so one store (or MongoDB database) serves the whole suite. */
async function fresh<T extends Doc = Doc>(store: DocumentStore, indexes: IndexSpec[] = []): Promise<Collection<T>> {
  counter++;
  return store.collection<T>(`c${counter}_${randomBytes(3).toString('hex')}`, indexes);
}

const D = (iso: string): Date => new Date(iso);

/** Fixture documents for the filter cases: mixed types on purpose (n is '7' in d, b is 1 in g). */
export function filterFixture(): Doc[] {
  return [
    { _id: 'a', n: 1, s: 'alpha', b: true, tags: ['x', 'y'], nested: { k: 'v1', depth: { z: 1 } }, when: D('2026-01-01T00:00:00.000Z'), opt: null, kind: 'web' },
    { _id: 'b', n: 2.5, s: 'beta', b: false, tags: ['y'], nested: { k: 'v2' }, when: D('2026-02-01T00:00:00.000Z'), kind: 'db' },
    { _id: 'c', n: 7, s: 'alphabet', tags: [], nested: { k: 'v1' }, when: D('2026-03-01T12:30:00.000Z'), opt: 'set', kind: 'web' },
    { _id: 'd', n: '7', s: 'Alpha', b: true, when: '2026-01-15', kind: 'db' },
    { _id: 'e', n: -3, s: 'al.pha*', tags: ['x', 'z', 5], nested: {}, opt: 0, kind: 'cache' },
    { _id: 'f', n: 0, s: '', b: false, tags: ['x'], nested: { k: null }, when: D('2025-12-31T23:59:59.999Z'), kind: 'web' },
    { _id: 'g', n: 1, b: 1 },
  ];
}

/** Filter cases with the ids each must match (also checked against mingo). */
export const FILTER_CASES: readonly { name: string; filter: Filter; ids: string[] }[] = [
  { name: 'empty filter matches all', filter: {}, ids: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] },
  { name: '_id equality', filter: { _id: 'c' }, ids: ['c'] },
  { name: 'string equality', filter: { kind: 'web' }, ids: ['a', 'c', 'f'] },
  { name: 'number equality does not match the string "7"', filter: { n: 7 }, ids: ['c'] },
  { name: 'string equality does not match the number 7', filter: { n: '7' }, ids: ['d'] },
  { name: '$eq on a float', filter: { n: { $eq: 2.5 } }, ids: ['b'] },
  { name: '$gt number skips strings', filter: { n: { $gt: 1 } }, ids: ['b', 'c'] },
  { name: '$gte/$lt together', filter: { n: { $gte: 1, $lt: 7 } }, ids: ['a', 'b', 'g'] },
  { name: '$lte 0 with negatives', filter: { n: { $lte: 0 } }, ids: ['e', 'f'] },
  { name: '$gt on strings is binary order', filter: { s: { $gt: 'alpha' } }, ids: ['b', 'c'] },
  { name: 'true does not match the number 1', filter: { b: true }, ids: ['a', 'd'] },
  { name: 'false', filter: { b: false }, ids: ['b', 'f'] },
  { name: 'null matches null and missing', filter: { opt: null }, ids: ['a', 'b', 'd', 'f', 'g'] },
  { name: '$exists true includes null', filter: { opt: { $exists: true } }, ids: ['a', 'c', 'e'] },
  { name: '$exists false', filter: { opt: { $exists: false } }, ids: ['b', 'd', 'f', 'g'] },
  { name: '$ne null excludes missing', filter: { opt: { $ne: null } }, ids: ['c', 'e'] },
  { name: '$in strings', filter: { kind: { $in: ['web', 'cache'] } }, ids: ['a', 'c', 'e', 'f'] },
  { name: '$nin includes missing', filter: { kind: { $nin: ['web'] } }, ids: ['b', 'd', 'e', 'g'] },
  { name: '$ne includes missing', filter: { kind: { $ne: 'web' } }, ids: ['b', 'd', 'e', 'g'] },
  { name: '$in mixed types with null', filter: { n: { $in: [1, '7', null] } }, ids: ['a', 'd', 'g'] },
  { name: '$in booleans', filter: { b: { $in: [false] } }, ids: ['b', 'f'] },
  { name: 'dotted path', filter: { 'nested.k': 'v1' }, ids: ['a', 'c'] },
  { name: 'deep dotted path', filter: { 'nested.depth.z': 1 }, ids: ['a'] },
  { name: 'dotted null matches missing parents', filter: { 'nested.k': null }, ids: ['d', 'e', 'f', 'g'] },
  { name: 'dotted $exists on an object', filter: { 'nested.depth': { $exists: true } }, ids: ['a'] },
  { name: '$all one value', filter: { tags: { $all: ['x'] } }, ids: ['a', 'e', 'f'] },
  { name: '$all two values', filter: { tags: { $all: ['x', 'y'] } }, ids: ['a'] },
  { name: '$all number element', filter: { tags: { $all: [5] } }, ids: ['e'] },
  { name: 'Date equality', filter: { when: D('2026-01-01T00:00:00.000Z') }, ids: ['a'] },
  { name: 'Date $gte skips date-like strings', filter: { when: { $gte: D('2026-01-01T00:00:00.000Z') } }, ids: ['a', 'b', 'c'] },
  { name: 'Date range', filter: { when: { $gt: D('2025-12-31T23:59:59.999Z'), $lt: D('2026-03-01T12:30:00.000Z') } }, ids: ['a', 'b'] },
  { name: 'Date $in', filter: { when: { $in: [D('2026-02-01T00:00:00.000Z'), D('2025-12-31T23:59:59.999Z')] } }, ids: ['b', 'f'] },
  { name: '$startsWith is case-sensitive', filter: { s: { $startsWith: 'alpha' } }, ids: ['a', 'c'] },
  { name: '$startsWith escapes regex characters', filter: { s: { $startsWith: 'al.' } }, ids: ['e'] },
  { name: '$startsWith with * and .', filter: { s: { $startsWith: 'al.pha*' } }, ids: ['e'] },
  { name: '$startsWith empty matches every string', filter: { s: { $startsWith: '' } }, ids: ['a', 'b', 'c', 'd', 'e', 'f'] },
  { name: 'empty-string equality', filter: { s: '' }, ids: ['f'] },
  { name: '$or', filter: { $or: [{ kind: 'db' }, { n: { $lt: 0 } }] }, ids: ['b', 'd', 'e'] },
  { name: '$and with nested $or', filter: { $and: [{ kind: 'web' }, { $or: [{ b: true }, { opt: 'set' }] }] }, ids: ['a', 'c'] },
  { name: 'implicit AND with $ne', filter: { kind: 'web', n: { $ne: 1 } }, ids: ['c', 'f'] },
  { name: '_id $in', filter: { _id: { $in: ['a', 'zz', 'c'] } }, ids: ['a', 'c'] },
  { name: '_id range', filter: { _id: { $gt: 'd' } }, ids: ['e', 'f', 'g'] },
  { name: '_id $startsWith', filter: { _id: { $startsWith: 'b' } }, ids: ['b'] },
  { name: '$nin with null excludes missing', filter: { opt: { $nin: [null, 0] } }, ids: ['c'] },
];

/** Filters every store must refuse, with the error code. */
export const REFUSED_FILTERS: readonly { name: string; filter: unknown; code: string }[] = [
  { name: '$where', filter: { $where: 'this.n > 1' }, code: 'UNSUPPORTED_OPERATOR' },
  { name: '$expr', filter: { $expr: { $gt: ['$n', 1] } }, code: 'UNSUPPORTED_OPERATOR' },
  { name: '$function', filter: { n: { $function: { body: 'return 1', args: [], lang: 'js' } } }, code: 'UNSUPPORTED_OPERATOR' },
  { name: '$regex', filter: { s: { $regex: '^a' } }, code: 'UNSUPPORTED_OPERATOR' },
  { name: '$elemMatch', filter: { tags: { $elemMatch: { $eq: 'x' } } }, code: 'UNSUPPORTED_OPERATOR' },
  { name: '$nor', filter: { $nor: [{ n: 1 }] }, code: 'UNSUPPORTED_OPERATOR' },
  { name: '$not', filter: { n: { $not: { $gt: 1 } } }, code: 'UNSUPPORTED_OPERATOR' },
  { name: 'RegExp value', filter: { s: /^a/ }, code: 'BAD_FILTER' },
  { name: 'array equality', filter: { tags: ['x', 'y'] }, code: 'BAD_FILTER' },
  { name: 'embedded document equality', filter: { nested: { k: 'v1' } }, code: 'BAD_FILTER' },
  { name: 'undefined value', filter: { n: undefined }, code: 'BAD_FILTER' },
  { name: 'empty $or', filter: { $or: [] }, code: 'BAD_FILTER' },
  { name: '$in not an array', filter: { n: { $in: 'x' } }, code: 'BAD_FILTER' },
  { name: '$gt null', filter: { n: { $gt: null } }, code: 'BAD_FILTER' },
  { name: '$gt boolean', filter: { n: { $gt: true } }, code: 'BAD_FILTER' },
  { name: '$exists non-boolean', filter: { n: { $exists: 1 } }, code: 'BAD_FILTER' },
  { name: 'path with $', filter: { 'a.$b': 1 }, code: 'BAD_PATH' },
  { name: 'numeric path segment', filter: { 'tags.0': 'x' }, code: 'BAD_PATH' },
  { name: '__proto__ path', filter: JSON.parse('{"__proto__": 1}') as unknown, code: 'BAD_PATH' },
  { name: 'constructor path', filter: { 'a.constructor': 1 }, code: 'BAD_PATH' },
  { name: 'quote in path', filter: { 'a"b': 1 }, code: 'BAD_PATH' },
  { name: 'NaN value', filter: { n: Number.NaN }, code: 'BAD_FILTER' },
  { name: 'Date beyond year 9999', filter: { when: { $gt: new Date('+010000-01-01T00:00:00Z') } }, code: 'BAD_FILTER' },
];

function ids(docs: readonly Doc[]): string[] {
  return docs.map((d) => d._id).sort();
}

function mingoIds(docs: readonly Doc[], filter: Filter): string[] {
  const q = new Query(toMongoFilter(filter), MINGO);
  return ids(q.find<Doc>(structuredClone(docs as Doc[])).all());
}

async function rejectsCode(tt: TestT, p: Promise<unknown>, code: string, name: string): Promise<void> {
  try {
    await p;
    tt.fail(`${name}: expected StoreError ${code}, resolved`);
  } catch (err) {
    tt.ok(err instanceof StoreError, `${name}: a StoreError`);
    tt.equal((err as StoreError).code, code, `${name}: code ${code}`);
  }
}

/**
 * Known differences of a MongoDB wire-protocol server from MongoDB (FerretDB v1, see
 * docs/store.md): the parts of the contract they break still run, reported as TODO with the
 * reason instead of failing. Never set for the SQLite store or a real MongoDB.
 */
export interface ContractGaps {
  /** `$push` with `$each` and `$slice`: the slice is ignored. */
  readonly pushSlice?: string;
  /** Read-modify-write (findOneAndUpdate, updates) is not atomic: concurrent writers lose updates. */
  readonly atomicUpdates?: string;
  /** A unique index on several fields with partialExists cannot be created. */
  readonly compoundPartialIndex?: string;
}

/** runStoreContract runs the whole contract against `store` (which it does not close). */
export async function runStoreContract(tap: TestT, store: DocumentStore, gaps: ContractGaps = {}): Promise<void> {
  await tap.test('filters agree with the expected ids and with mingo', async (tt) => {
    const docs = filterFixture();
    const c = await fresh(store);
    await c.insertMany(docs);
    tt.ok(FILTER_CASES.length >= 22, `${FILTER_CASES.length} filter cases`);
    for (const fc of FILTER_CASES) {
      const got = ids(await c.find(fc.filter));
      tt.same(got, [...fc.ids].sort(), `store: ${fc.name}`);
      tt.same(mingoIds(docs, fc.filter), [...fc.ids].sort(), `mingo: ${fc.name}`);
      tt.equal(await c.count(fc.filter), fc.ids.length, `count: ${fc.name}`);
    }
  });

  await tap.test('unsupported operators and bad filters are refused', async (tt) => {
    const c = await fresh(store);
    await c.insertMany(filterFixture());
    for (const rf of REFUSED_FILTERS) {
      await rejectsCode(tt, c.find(rf.filter as Filter), rf.code, `find ${rf.name}`);
      await rejectsCode(tt, c.deleteMany(rf.filter as Filter), rf.code, `deleteMany ${rf.name}`);
    }
    tt.equal(await c.count({}), 7, 'nothing was deleted by a refused filter');
  });

  await tap.test('documents outside the contract are refused (D2)', async (tt) => {
    const c = await fresh(store);
    const bad: [string, unknown][] = [
      ['__proto__ key', JSON.parse('{"_id":"p1","__proto__":{"polluted":true}}')],
      ['nested constructor key', { _id: 'p2', a: { constructor: { x: 1 } } }],
      ['prototype key', { _id: 'p3', prototype: 1 }],
      ['$ key', { _id: 'p4', $set: 1 }],
      ['nested $ key', { _id: 'p5', a: { $where: 'x' } }],
      ['dotted key', { _id: 'p6', 'a.b': 1 }],
      ['numeric _id', { _id: 5 }],
      ['empty _id', { _id: '' }],
      ['missing _id', { n: 1 }],
      ['NaN', { _id: 'p7', n: Number.NaN }],
      ['Infinity', { _id: 'p8', n: Number.POSITIVE_INFINITY }],
      ['Buffer value', { _id: 'p9', b: Buffer.from('x') }],
      ['Map value', { _id: 'p10', m: new Map() }],
      ['function value', { _id: 'p11', f: () => 1 }],
      ['bigint value', { _id: 'p12', n: 1n }],
      ['undefined in array', { _id: 'p13', a: [1, undefined] }],
      ['invalid Date', { _id: 'p14', d: new Date('nope') }],
      ['Date after year 9999', { _id: 'p15', d: new Date('+010000-01-01T00:00:00Z') }],
      ['lone surrogate in a string', { _id: 'p16', s: 'a\uD800b' }],
      ['lone surrogate in a key', { _id: 'p17', ['k\uDC00']: 1 }],
    ];
    for (const [name, doc] of bad) {
      try {
        await c.insertOne(doc as Doc);
        tt.fail(`${name}: accepted`);
      } catch (err) {
        tt.ok(err instanceof StoreError && err.code === 'BAD_DOCUMENT', `${name}: BAD_DOCUMENT (${(err as Error).message})`);
      }
    }
    tt.equal(await c.count({}), 0, 'nothing stored');
    tt.equal(({} as Record<string, unknown>)['polluted'], undefined, 'no prototype pollution');
    await c.insertOne({ _id: 'ok', a: undefined, b: { c: undefined, d: 1 } });
    tt.same(await c.findOne({ _id: 'ok' }), { _id: 'ok', b: { d: 1 } }, 'undefined properties are dropped');
  });

  await tap.test('unusual key names work in filters, sorts, updates and indexes', async (tt) => {
    const docs: Doc[] = [
      { _id: 'k1', "it's": 1, 'na-me': 'x', 'ünï cødé': { 'a b': true }, 'semi;colon': 3 },
      { _id: 'k2', "it's": 2, 'na-me': 'y', 'ünï cødé': { 'a b': false } },
    ];
    const c = await fresh(store, [{ name: 'quote', fields: { "it's": 1 }, unique: true }]);
    await c.insertMany(docs);
    const cases: [Filter, string[]][] = [
      [{ "it's": 2 }, ['k2']], [{ 'na-me': { $in: ['x'] } }, ['k1']], [{ 'ünï cødé.a b': true }, ['k1']], [{ 'semi;colon': { $exists: false } }, ['k2']],
    ];
    for (const [f, expected] of cases) {
      tt.same(ids(await c.find(f)), expected, `store ${JSON.stringify(f)}`);
      tt.same(mingoIds(docs, f), expected, `mingo ${JSON.stringify(f)}`);
    }
    tt.same((await c.find({}, { sort: { "it's": -1 } })).map((d) => d._id), ['k2', 'k1'], 'sort');
    await c.updateOne({ _id: 'k1' }, { $inc: { "it's": 10 }, $set: { 'ünï cødé.new key': 'v' } });
    tt.same(await c.findOne({ "it's": 11 }, { projection: { 'ünï cødé': 1 } }), { _id: 'k1', 'ünï cødé': { 'a b': true, 'new key': 'v' } }, 'update and projection');
    await tt.rejects(c.insertOne({ _id: 'k3', "it's": 2 }), DuplicateKeyError, 'unique index on a key with a quote');
  });

  await tap.test('values round-trip: Dates, nesting, unicode, copies', async (tt) => {
    const c = await fresh(store);
    const doc = { _id: 'rt', when: D('2026-11-26T01:02:03.456Z'), list: [D('2020-01-01T00:00:00.000Z'), { x: [1, 'two', null, true] }], text: 'ünïcødé ✓ 😀', neg: -0.5, big: 2 ** 52 };
    await c.insertOne(doc);
    const got = await c.findOne({ _id: 'rt' });
    tt.same(got, doc, 'document read back equal');
    tt.ok(got?.['when'] instanceof Date, 'Date is a Date');
    (got as Record<string, unknown>)['text'] = 'changed';
    tt.equal((await c.findOne({ _id: 'rt' }))?.['text'], doc.text, 'returned documents are copies');
  });

  await tap.test('sort, skip, limit, projection agree with mingo', async (tt) => {
    const c = await fresh(store);
    const docs: Doc[] = [];
    for (let i = 0; i < 30; i++) {
      const d: Doc = { _id: `d${String(i).padStart(2, '0')}`, rank: (i * 7) % 11, group: ['a', 'b', 'c'][i % 3] as string, at: new Date(Date.UTC(2026, 0, 1 + ((i * 5) % 13))) };
      if (i % 4 === 0) delete d['rank']; // missing sorts first ascending
      docs.push(d);
    }
    await c.insertMany(docs);
    const cases: { sort: Record<string, 1 | -1>; skip?: number; limit?: number }[] = [
      { sort: { rank: 1 } }, { sort: { rank: -1 } }, { sort: { group: 1, rank: -1 } }, { sort: { at: -1 }, limit: 5 },
      { sort: { rank: 1 }, skip: 10, limit: 7 }, { sort: { _id: -1 }, skip: 25 }, { sort: { group: -1, at: 1 }, skip: 3, limit: 0 },
    ];
    for (const sc of cases) {
      const got = (await c.find({}, sc)).map((d) => d._id);
      let cursor = new Query({}, MINGO).find<Doc>(structuredClone(docs)).sort(Object.fromEntries(toMongoSort(Object.entries(sc.sort) as [string, 1 | -1][])));
      if (sc.skip !== undefined) cursor = cursor.skip(sc.skip);
      if (sc.limit !== undefined && sc.limit > 0) cursor = cursor.limit(sc.limit);
      tt.same(got, cursor.all().map((d) => d._id), `sort ${JSON.stringify(sc)}`);
    }
    const page1 = await c.find({ group: 'a' }, { sort: { rank: 1 }, limit: 4 });
    const page2 = await c.find({ group: 'a' }, { sort: { rank: 1 }, skip: 4, limit: 4 });
    tt.equal(page1.length + page2.length, 8, 'pages fill');
    tt.same([...page1, ...page2].map((d) => d._id), (await c.find({ group: 'a' }, { sort: { rank: 1 }, limit: 8 })).map((d) => d._id), 'pagination is stable');

    const p = await c.findOne({ _id: 'd01' }, { projection: { rank: 1 } });
    tt.same(p, { _id: 'd01', rank: 7 }, 'inclusion projection keeps _id');
    tt.same(await c.findOne({ _id: 'd01' }, { projection: { _id: 0, group: 1 } }), { group: 'b' }, '_id: 0');
    tt.same(await c.findOne({ _id: 'd01' }, { projection: { at: 0, rank: 0 } }), { _id: 'd01', group: 'b' }, 'exclusion projection');
    tt.same(await c.findOne({ _id: 'd01' }, { projection: { _id: 0 } }), { rank: 7, group: 'b', at: docs[1]?.['at'] }, '_id: 0 alone excludes only _id');
    const n = await c.insertOne({ _id: 'nest', a: { b: 1, c: 2 }, z: 3 }).then(() => c.findOne({ _id: 'nest' }, { projection: { 'a.c': 1 } }));
    tt.same(n, { _id: 'nest', a: { c: 2 } }, 'dotted projection');
    await rejectsCode(tt, c.find({}, { projection: { rank: 1, group: 0 } }), 'BAD_FILTER', 'mixed projection');
    await rejectsCode(tt, c.find({}, { limit: -1 }), 'BAD_FILTER', 'negative limit');
    await rejectsCode(tt, c.find({}, { sort: { rank: 2 as 1 } }), 'BAD_FILTER', 'bad sort direction');
    await tt.rejects(c.find({}, { signal: AbortSignal.abort() }), 'an aborted signal rejects the read');
  });

  await tap.test('count and countBy', async (tt) => {
    const c = await fresh(store);
    const docs = filterFixture();
    await c.insertMany(docs);
    tt.equal(await c.count({}), 7);
    tt.equal(await c.count({ kind: 'web' }), 3);
    tt.same(await c.countBy('kind', {}), [{ value: null, count: 1 }, { value: 'cache', count: 1 }, { value: 'db', count: 2 }, { value: 'web', count: 3 }], 'by kind, missing grouped as null');
    tt.same(await c.countBy('kind', { n: { $gte: 1 } }), [{ value: null, count: 1 }, { value: 'db', count: 1 }, { value: 'web', count: 2 }], 'with a filter');
    tt.same(await c.countBy('b', {}), [{ value: null, count: 2 }, { value: 1, count: 1 }, { value: false, count: 2 }, { value: true, count: 2 }], 'booleans apart from the number 1');
    const byWhen = await c.countBy('when', { when: { $gte: D('2026-02-01T00:00:00.000Z') } });
    tt.same(byWhen, [{ value: D('2026-02-01T00:00:00.000Z'), count: 1 }, { value: D('2026-03-01T12:30:00.000Z'), count: 1 }], 'Dates group as Dates');
    const mingoGroups = new Query(toMongoFilter({}), MINGO).find<Doc>(structuredClone(docs)).all()
      .reduce<Record<string, number>>((acc, d) => { const k = String(d['kind'] ?? null); acc[k] = (acc[k] ?? 0) + 1; return acc; }, {});
    tt.same(Object.fromEntries((await c.countBy('kind', {})).map((g) => [String(g.value), g.count])), mingoGroups, 'agrees with mingo');
  });

  await tap.test('every update operator agrees with mingo', async (tt) => {
    const base = (): Doc => ({ _id: 'u', n: 5, f: 1.5, s: 'x', list: [1, 2, 3], set: ['a', 'b'], when: D('2026-01-01T00:00:00.000Z'), obj: { a: 1, b: { c: 2 } } });
    const cases: { name: string; update: Update }[] = [
      { name: '$set top-level and new nested path', update: { $set: { s: 'y', 'obj.b.d': 4, 'fresh.deep.path': true } } },
      { name: '$set a whole object and a Date', update: { $set: { obj: { z: [1, { q: null }] }, when: D('2027-05-05T05:05:05.005Z') } } },
      { name: '$unset existing and missing', update: { $unset: { s: '', 'obj.b.c': 1, nothing: true } } },
      { name: '$inc existing, missing, negative float', update: { $inc: { n: 2, missing: 3, f: -0.25 } } },
      { name: '$min lowers, keeps', update: { $min: { n: 3, f: 9 } } },
      { name: '$max raises, keeps, Date', update: { $max: { n: 10, f: 0, when: D('2026-06-01T00:00:00.000Z') } } },
      { name: '$max on missing sets', update: { $max: { newField: 4 } } },
      { name: '$push single and to a missing array', update: { $push: { list: 4, fresh: 'a' } } },
      { name: '$push $each $slice positive', update: { $push: { list: { $each: [4, 5, 6], $slice: 4 } } } },
      { name: '$push $each $slice negative', update: { $push: { list: { $each: [4, 5], $slice: -3 } } } },
      { name: '$push an object', update: { $push: { list: { k: 1 } } } },
      { name: '$push $slice 0 empties', update: { $push: { list: { $each: [9], $slice: 0 } } } },
      { name: '$inc creates nested objects', update: { $inc: { 'deep.new.count': 2 } } },
      { name: '$addToSet existing and new', update: { $addToSet: { set: 'a', 'obj.tags': 'n' } } },
      { name: '$addToSet $each with duplicates', update: { $addToSet: { set: { $each: ['b', 'c', 'c', 'd'] } } } },
      { name: '$pull a scalar', update: { $pull: { list: 2 } } },
      { name: '$pull $in', update: { $pull: { set: { $in: ['a', 'zz'] }, list: { $in: [1, 3] } } } },
      { name: '$pull from a missing field', update: { $pull: { nothing: 1 } } },
      { name: 'several operators together', update: { $set: { s: 'z' }, $inc: { n: 1 }, $push: { list: 9 }, $unset: { f: true } } },
    ];
    for (const uc of cases) {
      const c = await fresh(store);
      await c.insertOne(base());
      const r = await c.updateOne({ _id: 'u' }, uc.update);
      const expected = structuredClone(base());
      mingoUpdate(expected, structuredClone(uc.update) as never, undefined, undefined, { cloneMode: 'deep' });
      const gap = uc.name.includes('$slice') && gaps.pushSlice !== undefined ? { todo: gaps.pushSlice } : {};
      tt.same(await c.findOne({ _id: 'u' }), expected, uc.name, gap);
      tt.same(r, { matched: 1, modified: isDeepStrictEqual(expected, base()) ? 0 : 1 }, `${uc.name}: result`, gap);
    }
    const c = await fresh(store);
    await c.insertOne(base());
    tt.same(await c.updateOne({ _id: 'u' }, { $set: { s: 'x' } }), { matched: 1, modified: 0 }, 'setting the same value modifies nothing');
    tt.same(await c.updateOne({ _id: 'nope' }, { $set: { s: 'x' } }), { matched: 0, modified: 0 }, 'no match');
    const refused: [string, unknown, string][] = [
      ['$inc on a string', { $inc: { s: 1 } }, 'BAD_UPDATE'],
      ['$push on a non-array', { $push: { n: 1 } }, 'BAD_UPDATE'],
      ['$set through a scalar', { $set: { 'n.x': 1 } }, 'BAD_UPDATE'],
      ['$set through an array', { $set: { 'list.x': 1 } }, 'BAD_UPDATE'],
      ['$pull on a non-array', { $pull: { s: 'x' } }, 'BAD_UPDATE'],
    ];
    for (const [name, u, code] of refused) await rejectsCode(tt, c.updateOne({ _id: 'u' }, u as Update), code, name);
    tt.same(await c.findOne({ _id: 'u' }), base(), 'a refused update changed nothing');
    const invalid: [string, unknown, string][] = [
      ['conflicting paths', { $set: { obj: 1 }, $inc: { 'obj.a': 1 } }, 'BAD_UPDATE'],
      ['$set _id', { $set: { _id: 'other' } }, 'IMMUTABLE_ID'],
      ['empty update', {}, 'BAD_UPDATE'],
      ['replacement document', { n: 1 }, 'BAD_UPDATE'],
      ['$rename', { $rename: { n: 'm' } }, 'UNSUPPORTED_OPERATOR'],
      ['$currentDate', { $currentDate: { n: true } }, 'UNSUPPORTED_OPERATOR'],
      ['__proto__ in a $set value', { $set: JSON.parse('{"obj":{"__proto__":{"x":1}}}') }, 'BAD_DOCUMENT'],
      ['$ key in a $set value', { $set: { obj: { $gt: 1 } } }, 'BAD_DOCUMENT'],
      ['$inc by a string', { $inc: { n: '1' } }, 'BAD_UPDATE'],
      ['$push with $position', { $push: { list: { $each: [1], $position: 0 } } }, 'UNSUPPORTED_OPERATOR'],
      ['$set to undefined', { $set: { n: undefined } }, 'BAD_UPDATE'],
    ];
    for (const [name, u, code] of invalid) {
      await rejectsCode(tt, c.updateOne({ _id: 'u' }, u as Update), code, name);
      await rejectsCode(tt, c.updateMany({}, u as Update), code, `updateMany ${name}`);
    }
    tt.same(await c.findOne({ _id: 'u' }), base(), 'invalid updates changed nothing');
  });

  await tap.test('updateMany', async (tt) => {
    const c = await fresh(store);
    await c.insertMany(filterFixture());
    tt.same(await c.updateMany({ kind: 'web' }, { $set: { seen: true } }), { matched: 3, modified: 3 });
    tt.same(await c.updateMany({ kind: 'web' }, { $set: { seen: true } }), { matched: 3, modified: 0 }, 'unchanged documents are not modified');
    tt.same(ids(await c.find({ seen: true })), ['a', 'c', 'f']);
  });

  await tap.test('upsert semantics', async (tt) => {
    const c = await fresh(store);
    const created = D('2026-11-26T00:00:00.000Z');
    const r1 = await c.updateOne({ _id: 'u1', kind: 'x' }, { $set: { n: 1 }, $setOnInsert: { created } }, { upsert: true });
    tt.same(r1, { matched: 0, modified: 0, upsertedId: 'u1' }, 'upsert inserts with the filter _id');
    tt.same(await c.findOne({ _id: 'u1' }), { _id: 'u1', kind: 'x', n: 1, created }, 'equalities copied, update and $setOnInsert applied');
    const r2 = await c.updateOne({ _id: 'u1', kind: 'x' }, { $set: { n: 2 }, $setOnInsert: { created: D('2030-01-01T00:00:00.000Z') } }, { upsert: true });
    tt.same(r2, { matched: 1, modified: 1 }, 'second upsert updates');
    tt.same(await c.findOne({ _id: 'u1' }), { _id: 'u1', kind: 'x', n: 2, created }, '$setOnInsert ignored on update');

    const r3 = await c.updateOne({ kind: 'y', 'meta.owner': 'ops', $and: [{ tier: { $eq: 2 } }] }, { $inc: { hits: 1 } }, { upsert: true });
    tt.type(r3.upsertedId, 'string', 'generated _id is a string');
    const d3 = await c.findOne({ kind: 'y' });
    tt.same(d3, { _id: r3.upsertedId, kind: 'y', meta: { owner: 'ops' }, tier: 2, hits: 1 }, 'dotted and $and equalities seed the document');

    const r4 = await c.updateOne({ kind: { $in: ['z'] }, n: { $gt: 5 } }, { $set: { note: 'only update fields' } }, { upsert: true });
    const d4 = await c.findOne({ _id: r4.upsertedId ?? '' });
    tt.same(d4, { _id: r4.upsertedId, note: 'only update fields' }, 'non-equality conditions do not seed');

    const r5 = await c.updateOne({ kind: 'q' }, { $setOnInsert: { _id: 'chosen' }, $set: { v: 1 } }, { upsert: true });
    tt.equal(r5.upsertedId, 'chosen', '$setOnInsert may choose the _id');

    const before = await c.findOneAndUpdate({ _id: 'f1' }, { $set: { v: 1 } }, { upsert: true });
    tt.equal(before, null, 'findOneAndUpdate upsert returns null for before');
    const after = await c.findOneAndUpdate({ _id: 'f2' }, { $set: { v: 1 } }, { upsert: true, returnDocument: 'after' });
    tt.same(after, { _id: 'f2', v: 1 }, 'and the document for after');
    tt.same(await c.findOneAndUpdate({ _id: 'f2' }, { $inc: { v: 1 } }), { _id: 'f2', v: 1 }, "returnDocument defaults to 'before' (MongoDB's default)");
    tt.equal(await c.findOneAndUpdate({ _id: 'nope' }, { $inc: { v: 1 } }), null, 'no match, no upsert');
    tt.equal(await c.count({ _id: 'nope' }), 0);

    const rr = await c.replaceOne({ _id: 'r1' }, { _id: 'r1', whole: true }, { upsert: true });
    tt.same(rr, { matched: 0, modified: 0, upsertedId: 'r1' }, 'replaceOne upsert');
  });

  await tap.test('compare-and-swap and lease patterns', async (tt) => {
    const c = await fresh(store);
    await c.insertOne({ _id: 'cfg', version: 1, value: 'a' });
    const won = await c.findOneAndUpdate({ _id: 'cfg', version: 1 }, { $set: { value: 'b' }, $inc: { version: 1 } }, { returnDocument: 'after' });
    tt.same(won, { _id: 'cfg', version: 2, value: 'b' }, 'CAS on the current version wins');
    tt.equal(await c.findOneAndUpdate({ _id: 'cfg', version: 1 }, { $set: { value: 'c' }, $inc: { version: 1 } }), null, 'CAS on a stale version loses');
    tt.same(await c.findOne({ _id: 'cfg' }), { _id: 'cfg', version: 2, value: 'b' }, 'loser changed nothing');

    const t0 = Date.UTC(2026, 10, 26, 1, 0, 0);
    const at = (s: number): Date => new Date(t0 + s * 1000);
    await c.insertOne({ _id: 'lease', holder: null, until: null });
    const acquire = (who: string, now: Date, ttlS: number): Promise<Doc | null> => c.findOneAndUpdate(
      { _id: 'lease', $or: [{ holder: null }, { holder: who }, { until: { $lt: now } }] },
      { $set: { holder: who, until: new Date(now.getTime() + ttlS * 1000) } },
      { returnDocument: 'after' },
    );
    tt.equal((await acquire('A', at(0), 30))?.['holder'], 'A', 'A takes the free lease');
    tt.equal(await acquire('B', at(10), 30), null, 'B cannot take a live lease');
    tt.same((await acquire('A', at(20), 30))?.['until'], at(50), 'A renews');
    tt.equal(await acquire('B', at(49), 30), null, 'still live at 49 s');
    tt.equal((await acquire('B', at(51), 30))?.['holder'], 'B', 'B takes the expired lease');
    tt.equal(await c.findOneAndUpdate({ _id: 'lease', holder: 'A' }, { $set: { holder: null } }), null, 'A can no longer release it');

    await c.insertMany([
      { _id: 'job3', state: 'queued', queuedAt: at(3) }, { _id: 'job1', state: 'queued', queuedAt: at(1) },
      { _id: 'job2', state: 'queued', queuedAt: at(2) }, { _id: 'job0', state: 'done', queuedAt: at(0) },
    ]);
    const claimed: string[] = [];
    for (;;) {
      const job = await c.findOneAndUpdate({ state: 'queued' }, { $set: { state: 'running', worker: 'w1' } }, { sort: { queuedAt: 1 }, returnDocument: 'after' });
      if (job === null) break;
      claimed.push(job._id);
    }
    tt.same(claimed, ['job1', 'job2', 'job3'], 'a sorted findOneAndUpdate claims the oldest queued job first');
    tt.same(await c.findOneAndUpdate({ state: 'running' }, { $set: { state: 'done' } }, { sort: { queuedAt: -1 }, projection: { state: 1 }, returnDocument: 'after' }), { _id: 'job3', state: 'done' }, 'projection on findOneAndUpdate');
  });

  const atomic = gaps.atomicUpdates === undefined ? {} : { todo: gaps.atomicUpdates };
  await tap.test('200 concurrent $inc give 200 distinct values; 200 concurrent CAS give 1 winner', atomic, async (tt) => {
    const c = await fresh(store);
    await c.insertOne({ _id: 'seq', n: 0 });
    const values = await Promise.all(Array.from({ length: 200 }, () =>
      c.findOneAndUpdate({ _id: 'seq' }, { $inc: { n: 1 } }, { returnDocument: 'after' }).then((d) => d?.['n'] as number)));
    tt.equal(new Set(values).size, 200, '200 distinct values');
    tt.same([...values].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1), 'exactly 1..200');
    tt.equal((await c.findOne({ _id: 'seq' }))?.['n'], 200, 'final value 200');

    await c.insertOne({ _id: 'cas', version: 1 });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      c.findOneAndUpdate({ _id: 'cas', version: 1 }, { $inc: { version: 1 }, $set: { by: i } }, { returnDocument: 'after' })));
    const winners = results.filter((r) => r !== null);
    tt.equal(winners.length, 1, 'exactly one CAS winner');
    tt.same(await c.findOne({ _id: 'cas' }), winners[0], 'the stored document is the winner');

    const ups = await Promise.all(Array.from({ length: 50 }, () => c.updateMany({}, { $inc: { touched: 1 } })));
    tt.equal(ups.length, 50);
    tt.same((await c.find({}, { sort: { _id: 1 } })).map((d) => d['touched']), [50, 50], 'concurrent updateMany loses no increment');
  });

  await tap.test('unique and partial-unique indexes', async (tt) => {
    const c = await fresh(store, [
      { name: 'email', fields: { email: 1 }, unique: true },
      { name: 'token', fields: { token: 1 }, unique: true, partialExists: true },
      { name: 'by_age', fields: { age: -1 } },
    ]);
    await c.insertOne({ _id: 'u1', email: 'a@x', age: 30 });
    try {
      await c.insertOne({ _id: 'u2', email: 'a@x' });
      tt.fail('duplicate email accepted');
    } catch (err) {
      tt.ok(err instanceof DuplicateKeyError, 'DuplicateKeyError');
      tt.equal((err as DuplicateKeyError).index, 'email', 'names the index');
      tt.equal((err as DuplicateKeyError).code, 'DUPLICATE_KEY');
    }
    try {
      await c.insertOne({ _id: 'u1', email: 'b@x' });
      tt.fail('duplicate _id accepted');
    } catch (err) {
      tt.ok(err instanceof DuplicateKeyError && err.index === '_id', 'duplicate _id names _id');
    }
    await c.insertOne({ _id: 'u3', email: 'c@x' });
    await c.insertOne({ _id: 'u4', email: 'd@x' });
    tt.pass('two documents without the partial field are fine');
    await c.updateOne({ _id: 'u3' }, { $set: { token: 't1' } });
    await tt.rejects(c.updateOne({ _id: 'u4' }, { $set: { token: 't1' } }), DuplicateKeyError, 'duplicate via update');
    await tt.rejects(c.updateOne({ _id: 'u4' }, { $set: { email: 'a@x' } }), DuplicateKeyError, 'duplicate email via update');
    await tt.rejects(c.findOneAndUpdate({ _id: 'u4' }, { $set: { email: 'a@x' } }), DuplicateKeyError, 'duplicate via findOneAndUpdate');
    await tt.rejects(c.updateOne({ _id: 'new' }, { $set: { email: 'a@x' } }, { upsert: true }), DuplicateKeyError, 'duplicate via upsert');
    await tt.rejects(c.replaceOne({ _id: 'u4' }, { _id: 'u4', email: 'c@x' }), DuplicateKeyError, 'duplicate via replace');
    tt.equal((await c.findOne({ _id: 'u4' }))?.['email'], 'd@x', 'u4 unchanged');

    await rejectsCode(tt, c.insertOne({ _id: 'm1' }), 'UNIQUE_FIELD_MISSING', 'missing non-partial unique field');
    await rejectsCode(tt, c.insertOne({ _id: 'm2', email: null }), 'UNIQUE_FIELD_MISSING', 'null unique field');
    await rejectsCode(tt, c.insertOne({ _id: 'm3', email: 'm3@x', token: null }), 'UNIQUE_FIELD_MISSING', 'null partial unique field');
    await rejectsCode(tt, c.updateOne({ _id: 'u1' }, { $unset: { email: 1 } }), 'UNIQUE_FIELD_MISSING', '$unset of a unique field');
    await rejectsCode(tt, c.updateOne({ _id: 'u1' }, { $set: { email: null } }), 'UNIQUE_FIELD_MISSING', '$set null on a unique field');
    await c.updateOne({ _id: 'u3' }, { $unset: { token: 1 } });
    tt.pass('$unset of a partial unique field is allowed');

    const before = await c.count({});
    await tt.rejects(c.insertMany([{ _id: 'i1', email: 'i1@x' }, { _id: 'i2', email: 'a@x' }, { _id: 'i3', email: 'i3@x' }]), DuplicateKeyError, 'insertMany stops at the duplicate');
    tt.same(ids(await c.find({ _id: { $in: ['i1', 'i2', 'i3'] } })), ['i1'], 'ordered: earlier documents stay, later ones are not inserted');
    tt.equal(await c.count({}), before + 1);

    await rejectsCode(tt, store.collection(c.name, [{ name: 'Bad-Name', fields: { a: 1 } }]), 'BAD_NAME', 'bad index name');
    await rejectsCode(tt, store.collection(c.name, [{ name: 'x', fields: {} }]), 'BAD_INDEX', 'index without fields');
    await rejectsCode(tt, store.collection('../etc', []), 'BAD_NAME', 'bad collection name');
  });

  const compound = gaps.compoundPartialIndex === undefined ? {} : { todo: gaps.compoundPartialIndex };
  await tap.test('a compound partial-unique index', compound, async (tt) => {
    const c = await fresh(store, [{ name: 'pair', fields: { 'k.a': 1, 'k.b': 1 }, unique: true, partialExists: true }]);
    await c.insertOne({ _id: 'p1', k: { a: 1, b: 2 } });
    await c.insertOne({ _id: 'p2', k: { a: 1, b: 3 } });
    await c.insertOne({ _id: 'p3', k: { a: 1 } });
    await c.insertOne({ _id: 'p4', k: { a: 1 } });
    tt.pass('documents missing one of the fields are not indexed');
    await tt.rejects(c.insertOne({ _id: 'p5', k: { a: 1, b: 2 } }), DuplicateKeyError, 'compound unique');
    await rejectsCode(tt, c.updateOne({ _id: 'p1' }, { $set: { k: { a: 1, b: null } } }), 'UNIQUE_FIELD_MISSING', '$set of a parent with a null unique field');
  });

  await tap.test('replace and delete', async (tt) => {
    const c = await fresh(store);
    await c.insertMany(filterFixture());
    tt.same(await c.replaceOne({ _id: 'a' }, { _id: 'a', only: 1 }), { matched: 1, modified: 1 });
    tt.same(await c.findOne({ _id: 'a' }), { _id: 'a', only: 1 }, 'replaced whole');
    tt.same(await c.replaceOne({ _id: 'a' }, { _id: 'a', only: 1 }), { matched: 1, modified: 0 }, 'same content: not modified');
    tt.same(await c.replaceOne({ _id: 'zz' }, { _id: 'zz', only: 1 }), { matched: 0, modified: 0 }, 'no match without upsert');
    await rejectsCode(tt, c.replaceOne({ _id: 'b' }, { _id: 'other', x: 1 }), 'IMMUTABLE_ID', 'replace cannot change _id');
    await rejectsCode(tt, c.replaceOne({ _id: 'b' }, JSON.parse('{"_id":"b","__proto__":1}') as Doc), 'BAD_DOCUMENT', 'replacement checked');
    tt.equal(await c.deleteOne({ kind: 'web' }), 1, 'deleteOne deletes one');
    tt.equal(await c.count({ kind: 'web' }), 1);
    tt.equal(await c.deleteOne({ _id: 'nope' }), 0);
    tt.equal(await c.deleteMany({ kind: { $in: ['db', 'cache'] } }), 3);
    tt.equal(await c.deleteMany({}), await Promise.resolve(3), 'deleteMany({}) deletes the rest');
    tt.equal(await c.count({}), 0);
  });

  await tap.test('blobs: 3 MB put/get/range/delete, wrong hash refused', async (tt) => {
    const b = await store.blobs(`b${++counter}`);
    const data = randomBytes(3 * 1024 * 1024 + 123);
    const key = createHash('sha256').update(data).digest('hex');
    tt.equal(await b.put(key, data, { name: 'bundle.tar', type: 'application/x-tar' }), true, 'stored');
    tt.equal(await b.put(key, data), false, 'second put of the same content is a no-op');
    tt.ok((await b.get(key))?.equals(data), 'get returns the bytes');
    tt.equal(await b.has(key), true);
    tt.same(await b.stat(key), { key, size: data.length, meta: { name: 'bundle.tar', type: 'application/x-tar' } }, 'stat');
    const ranges: [number, number][] = [[0, 10], [262_140, 262_150], [1_048_570, 2_097_160], [data.length - 3, data.length + 100], [5, 5], [data.length, data.length]];
    for (const [s, e] of ranges) {
      tt.ok((await b.getRange(key, s, e))?.equals(data.subarray(s, Math.min(e, data.length))), `range [${s}, ${e})`);
    }
    await rejectsCode(tt, b.getRange(key, data.length + 1, data.length + 2), 'BAD_RANGE', 'start beyond the end');
    await rejectsCode(tt, b.getRange(key, 10, 5), 'BAD_RANGE', 'end before start');
    await rejectsCode(tt, b.getRange(key, -1, 5), 'BAD_RANGE', 'negative start');

    const other = Buffer.from('other content');
    const otherKey = createHash('sha256').update(other).digest('hex');
    await rejectsCode(tt, b.put(otherKey, Buffer.from('tampered content')), 'BLOB_HASH_MISMATCH', 'wrong hash refused');
    tt.equal(await b.has(otherKey), false, 'nothing stored for the wrong hash');
    for (const badKey of ['../etc/passwd', key.toUpperCase(), `${key.slice(0, 63)}`, `${key}0`, `${key.slice(0, 63)}%`, '']) {
      await rejectsCode(tt, b.get(badKey), 'BAD_BLOB_KEY', `bad key ${JSON.stringify(badKey.slice(0, 20))}`);
    }
    await rejectsCode(tt, b.put(otherKey, other, { 'bad key': 'x' }), 'BAD_DOCUMENT', 'bad meta key');
    const empty = Buffer.alloc(0);
    const emptyKey = createHash('sha256').update(empty).digest('hex');
    tt.equal(await b.put(emptyKey, empty), true, 'empty blob');
    tt.equal((await b.get(emptyKey))?.length, 0);
    tt.same(await b.keys(), [key, emptyKey].sort(), 'keys lists both');
    tt.equal(await b.get(otherKey), null, 'absent blob is null');
    tt.equal(await b.getRange(otherKey, 0, 1), null, 'absent blob range is null');
    tt.equal(await b.stat(otherKey), null);
    tt.equal(await b.delete(key), true, 'deleted');
    tt.equal(await b.get(key), null, 'gone');
    tt.equal(await b.delete(key), false, 'second delete');
    tt.same(await b.keys(), [emptyKey]);
  });

  await tap.test('blobs: read() streams bounded chunks, ranges, absent and deleted blobs', async (tt) => {
    const b = await store.blobs(`b${++counter}`);
    const data = randomBytes(3 * 1024 * 1024 + 777);
    const key = createHash('sha256').update(data).digest('hex');
    await b.put(key, data);
    const collect = async (r: BlobReader | null): Promise<{ bytes: Buffer; chunks: number; max: number }> => {
      const parts: Buffer[] = [];
      let max = 0;
      for await (const c of r!.chunks) {
        parts.push(c);
        max = Math.max(max, c.length);
      }
      return { bytes: Buffer.concat(parts), chunks: parts.length, max };
    };
    const whole = await b.read(key);
    tt.same([whole?.size, whole?.start, whole?.end], [data.length, 0, data.length]);
    const got = await collect(whole);
    tt.ok(got.bytes.equals(data), 'the chunks make up the blob');
    tt.ok(got.max <= 256 * 1024, `no chunk over 256 KiB (largest ${got.max})`);
    tt.ok(got.chunks >= Math.ceil(data.length / (256 * 1024)), `read in ${got.chunks} chunks, not one buffer`);
    for (const [s, e] of [[0, 1], [262_143, 262_145], [1_000_000, 2_500_000], [data.length - 5, data.length + 50], [7, 7]] as const) {
      const r = await b.read(key, { start: s, end: e });
      tt.equal(r?.end, Math.min(e, data.length));
      tt.ok((await collect(r)).bytes.equals(data.subarray(s, Math.min(e, data.length))), `read [${s}, ${e})`);
    }
    await rejectsCode(tt, b.read(key, { start: data.length + 1 }), 'BAD_RANGE', 'start beyond the end');
    await rejectsCode(tt, b.read('nothex'), 'BAD_BLOB_KEY', 'bad key');
    tt.equal(await b.read(createHash('sha256').update('absent').digest('hex')), null, 'absent: null');
    const empty = Buffer.alloc(0);
    const emptyKey = createHash('sha256').update(empty).digest('hex');
    await b.put(emptyKey, empty);
    tt.equal((await collect(await b.read(emptyKey))).chunks, 0, 'an empty blob has no chunks');
    // deleted between two chunks: an error, never short bytes passed off as the blob
    const reading = await b.read(key);
    const it = reading!.chunks[Symbol.asyncIterator]();
    const first = await it.next();
    tt.equal(first.done, false);
    await b.delete(key);
    const parts: Buffer[] = [first.value as Buffer];
    let err: unknown;
    try {
      for (let r = await it.next(); !r.done; r = await it.next()) parts.push(r.value);
    } catch (e) {
      err = e;
    }
    // a backend that had already fetched the rest may still finish; it must then be all the bytes
    if (err === undefined) tt.ok(Buffer.concat(parts).equals(data), 'a read that finishes after the delete has every byte');
    else tt.equal((err as { code?: string }).code, 'BLOB_GONE', 'a blob deleted mid-read ends the read with BLOB_GONE');
  });

  await tap.test('a 1 MB document; a document over 16 MiB is refused', async (tt) => {
    const c = await fresh(store);
    const big = { _id: 'big', text: 'x'.repeat(1024 * 1024), list: Array.from({ length: 2000 }, (_, i) => ({ i, s: `item-${i}` })) };
    await c.insertOne(big);
    tt.same(await c.findOne({ _id: 'big' }), big, 'read back equal');
    await c.updateOne({ _id: 'big' }, { $push: { list: { i: -1, s: 'end' } } });
    tt.equal(((await c.findOne({ _id: 'big' }))?.['list'] as unknown[]).length, 2001, 'updated');
    await rejectsCode(tt, c.insertOne({ _id: 'huge', text: 'y'.repeat(17 * 1024 * 1024) }), 'DOC_TOO_LARGE', '17 MiB refused');
  });
}
