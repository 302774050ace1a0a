/**
 * checkDocument and checkValue: what a stored document may contain (security D2 and the
 * types both backends store identically). Also the unique-index field rule.
 */
import { FORBIDDEN_KEYS, getPath, isPlainObject } from './field-path.js';
import { StoreError } from './store-error.js';
import type { IndexSpec } from './types.js';

/** A lone UTF-16 surrogate: both backends would silently replace it when storing. */
const LONE_SURROGATE = /\p{Cs}/u;
/** MongoDB's maximum nesting depth; we keep the same. */
const MAX_DEPTH = 100;
/** MongoDB's maximum BSON document size; SQLite enforces it on the JSON text. */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * checkValue refuses what cannot be stored identically in SQLite (JSON) and MongoDB (BSON):
 * keys `__proto__`/`constructor`/`prototype`, keys starting with `$` or containing `.` or NUL,
 * empty keys, non-finite numbers, invalid Dates, undefined inside arrays, bigint, functions,
 * symbols, Buffers and class instances. Undefined object properties are dropped by both.
 */
export function checkValue(value: unknown, where: string, depth = 0): void {
  if (depth > MAX_DEPTH) throw new StoreError('BAD_DOCUMENT', `${where}: nested deeper than ${MAX_DEPTH}`);
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) throw new StoreError('BAD_DOCUMENT', `${where}: string is not well-formed UTF-16`);
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new StoreError('BAD_DOCUMENT', `${where}: number is not finite`);
    return;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new StoreError('BAD_DOCUMENT', `${where}: invalid Date`);
    if (!isStorableDate(value)) throw new StoreError('BAD_DOCUMENT', `${where}: Date outside years 0-9999`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      if (v === undefined) throw new StoreError('BAD_DOCUMENT', `${where}[${i}]: undefined in an array`);
      checkValue(v, `${where}[${i}]`, depth + 1);
    });
    return;
  }
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      checkKey(key, where);
      const v = value[key];
      if (v !== undefined) checkValue(v, `${where}.${key}`, depth + 1);
    }
    return;
  }
  throw new StoreError('BAD_DOCUMENT', `${where}: values of type ${describe(value)} cannot be stored`);
}

/** isStorableDate: a valid Date in years 0-9999, whose ISO text is fixed width (and so sorts). */
export function isStorableDate(d: Date): boolean {
  const year = d.getUTCFullYear();
  return !Number.isNaN(d.getTime()) && year >= 0 && year <= 9999;
}

function checkKey(key: string, where: string): void {
  if (key.length === 0) throw new StoreError('BAD_DOCUMENT', `${where}: empty key`);
  if (FORBIDDEN_KEYS.has(key)) throw new StoreError('BAD_DOCUMENT', `${where}: key ${JSON.stringify(key)} is forbidden`);
  if (key.startsWith('$')) throw new StoreError('BAD_DOCUMENT', `${where}: key ${JSON.stringify(key)} starts with $`);
  if (key.includes('.')) throw new StoreError('BAD_DOCUMENT', `${where}: key ${JSON.stringify(key)} contains a dot`);
  if (key.includes('\u0000')) throw new StoreError('BAD_DOCUMENT', `${where}: key contains NUL`);
  if (LONE_SURROGATE.test(key)) throw new StoreError('BAD_DOCUMENT', `${where}: key is not well-formed UTF-16`);
}

function describe(v: unknown): string {
  if (typeof v === 'object' && v !== null) return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** checkDocument: a plain object with a non-empty string `_id` (≤ 512 chars) and storable values. */
export function checkDocument(doc: unknown): asserts doc is { _id: string } & Record<string, unknown> {
  if (!isPlainObject(doc)) throw new StoreError('BAD_DOCUMENT', 'a document must be a plain object');
  const id = doc['_id'];
  if (typeof id !== 'string' || id.length === 0 || id.length > 512) {
    throw new StoreError('BAD_DOCUMENT', '_id must be a string of 1-512 characters');
  }
  checkValue(doc, 'document');
}

/**
 * checkUniqueFields: every field of a unique index is non-null, not an array, and present
 * unless the index is partialExists. This keeps SQLite (where NULLs never collide) and MongoDB
 * (where missing and null collide) identical.
 */
export function checkUniqueFields(doc: Record<string, unknown>, indexes: readonly IndexSpec[]): void {
  for (const ix of indexes) {
    if (ix.unique !== true) continue;
    for (const field of Object.keys(ix.fields)) {
      if (field === '_id') continue;
      const v = getPath(doc, field);
      if (v === null) throw new StoreError('UNIQUE_FIELD_MISSING', `field ${field} of unique index ${ix.name} is null`);
      if (Array.isArray(v)) throw new StoreError('UNIQUE_FIELD_MISSING', `field ${field} of unique index ${ix.name} is an array`);
      if (v === undefined && ix.partialExists !== true) {
        throw new StoreError('UNIQUE_FIELD_MISSING', `field ${field} of unique index ${ix.name} is missing`);
      }
    }
  }
}
