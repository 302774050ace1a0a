/**
 * The thin translation from the store contract to MongoDB: the contract is already MongoDB
 * syntax, except `$startsWith` (an anchored, escaped $regex) and the few defaults MongoDB
 * leaves open (a stable sort, string ids on upsert). Pure functions, unit-tested alone and
 * used by the contract suite to feed mingo the exact filter MongoDB would receive.
 */
import { randomUUID } from 'node:crypto';
import { isPlainObject, overlaps } from '../field-path.js';
import type { Filter, IndexSpec, Update } from '../types.js';
import { upsertSeed } from '../upsert-seed.js';

/** escapeRegex makes a string match itself literally inside a regular expression. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A MongoDB filter document. */
export type MongoFilter = Record<string, unknown>;

/** toMongoFilter translates a checked filter; `$startsWith: s` becomes `$regex: '^' + escape(s)`. */
export function toMongoFilter(filter: Filter): MongoFilter {
  const out: MongoFilter = {};
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') {
      out[key] = (cond as readonly Filter[]).map(toMongoFilter);
    } else if (isPlainObject(cond)) {
      const ops: Record<string, unknown> = {};
      for (const [op, arg] of Object.entries(cond)) {
        if (op === '$startsWith') ops['$regex'] = `^${escapeRegex(arg as string)}`;
        else ops[op] = Array.isArray(arg) ? [...(arg as unknown[])] : arg;
      }
      out[key] = ops;
    } else {
      out[key] = cond;
    }
  }
  return out;
}

/** toMongoSort appends `_id: 1` unless present, so ties come back in the same order as SQLite. */
export function toMongoSort(sort: readonly [string, 1 | -1][]): [string, 1 | -1][] {
  return sort.some(([p]) => p === '_id') ? [...sort] : [...sort, ['_id', 1]];
}

/**
 * toMongoUpdate returns the update MongoDB receives:
 * - `$pull: {f: {$in: [...]}}` becomes `$pullAll: {f: [...]}` (the same removal of listed
 *   scalars on MongoDB; FerretDB v1 ignores a `$pull` condition but applies `$pullAll`);
 * - for an upsert, the filter's equalities (top level and inside `$and`, which MongoDB copies
 *   into the new document and FerretDB v1 copies only from the top level) are repeated in
 *   `$setOnInsert`, except paths an update operator writes (MongoDB would call that a conflict);
 * - for an upsert whose filter and $setOnInsert do not fix `_id`, `$setOnInsert._id` = a random
 *   UUID, so ids stay strings (MongoDB would otherwise generate an ObjectId).
 */
export function toMongoUpdate(filter: Filter, update: Update, upsert: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { ...update };
  if (update.$pull !== undefined) {
    const pull: Record<string, unknown> = {};
    const pullAll: Record<string, unknown[]> = {};
    for (const [path, cond] of Object.entries(update.$pull)) {
      if (isPlainObject(cond) && Array.isArray(cond['$in'])) pullAll[path] = [...(cond['$in'] as unknown[])];
      else pull[path] = cond;
    }
    delete out['$pull'];
    if (Object.keys(pull).length > 0) out['$pull'] = pull;
    if (Object.keys(pullAll).length > 0) out['$pullAll'] = pullAll;
  }
  if (!upsert) return out;
  const written = Object.entries(update).flatMap(([op, fields]) => op === '$setOnInsert' ? [] : Object.keys(fields as object));
  const onInsert: Record<string, unknown> = { ...(update.$setOnInsert ?? {}) };
  const taken = [...written, ...Object.keys(onInsert)];
  const seed = upsertSeed(filter);
  for (const [path, value] of leafPaths(seed)) {
    if (path === '_id' || taken.some((w) => overlaps(w, path))) continue;
    onInsert[path] = value;
  }
  if (seed['_id'] === undefined && onInsert['_id'] === undefined) onInsert['_id'] = randomUUID();
  if (Object.keys(onInsert).length > 0) out['$setOnInsert'] = onInsert;
  return out;
}

/** The dotted path and value of every non-object leaf of a seed document. */
function leafPaths(doc: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(doc).flatMap(([k, v]) => isPlainObject(v)
    ? leafPaths(v, `${prefix}${k}.`)
    : [[`${prefix}${k}`, v] as [string, unknown]]);
}

/** The options createIndex receives for a spec. */
export interface MongoIndexOptions {
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Record<string, { $exists: true }>;
}

/**
 * mongoIndexOptions: name, unique, and for partialExists: `sparse` on a one-field index (on
 * MongoDB the same as a partial index on `$exists: true`: documents without the field are not
 * indexed, null is; FerretDB v1 has no partialFilterExpression but accepts sparse), else a
 * partialFilterExpression with `$exists` on every field (refused by FerretDB v1).
 */
export function mongoIndexOptions(ix: IndexSpec): MongoIndexOptions {
  const o: MongoIndexOptions = { name: ix.name };
  if (ix.unique === true) o.unique = true;
  if (ix.partialExists === true && Object.keys(ix.fields).length === 1) {
    o.sparse = true;
  } else if (ix.partialExists === true) {
    o.partialFilterExpression = Object.fromEntries(Object.keys(ix.fields).map((f) => [f, { $exists: true as const }]));
  }
  return o;
}
