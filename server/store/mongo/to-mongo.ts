/**
 * The thin translation from the store contract to MongoDB: the contract is already MongoDB
 * syntax, except `$startsWith` (an anchored, escaped $regex) and the few defaults MongoDB
 * leaves open (a stable sort, string ids on upsert). Pure functions, unit-tested alone and
 * used by the contract suite to feed mingo the exact filter MongoDB would receive.
 */
import { randomUUID } from 'node:crypto';
import { isPlainObject } from '../field-path.js';
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
 * toMongoUpdate returns the update MongoDB receives. For an upsert whose filter and
 * $setOnInsert do not fix `_id`, it adds `$setOnInsert._id` = a random UUID, so ids stay
 * strings (MongoDB would otherwise generate an ObjectId).
 */
export function toMongoUpdate(filter: Filter, update: Update, upsert: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { ...update };
  if (upsert && upsertSeed(filter)['_id'] === undefined && update.$setOnInsert?.['_id'] === undefined) {
    out['$setOnInsert'] = { ...(update.$setOnInsert ?? {}), _id: randomUUID() };
  }
  return out;
}

/** The options createIndex receives for a spec. */
export interface MongoIndexOptions {
  name: string;
  unique?: boolean;
  partialFilterExpression?: Record<string, { $exists: true }>;
}

/** mongoIndexOptions: name, unique, and for partialExists a $exists filter on every field. */
export function mongoIndexOptions(ix: IndexSpec): MongoIndexOptions {
  const o: MongoIndexOptions = { name: ix.name };
  if (ix.unique === true) o.unique = true;
  if (ix.partialExists === true) {
    o.partialFilterExpression = Object.fromEntries(Object.keys(ix.fields).map((f) => [f, { $exists: true as const }]));
  }
  return o;
}
