/**
 * compareValues: MongoDB's ordering of values (null < numbers < strings < objects < arrays <
 * booleans < dates), used for $min/$max and for ordering countBy groups identically in
 * every backend. Objects and arrays compare by their JSON text (enough for the contract,
 * which sorts and groups on scalar fields only).
 */
import { encodeJson } from './ejson.js';

function rank(v: unknown): number {
  if (v === null || v === undefined) return 1;
  if (typeof v === 'number') return 2;
  if (typeof v === 'string') return 3;
  if (v instanceof Date) return 9;
  if (typeof v === 'boolean') return 8;
  if (Array.isArray(v)) return 5;
  return 4;
}

/** compareValues resolves <0, 0 or >0. Strings compare by UTF-8 bytes, as MongoDB and SQLite do. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (ra === 1) return 0;
  return Buffer.compare(Buffer.from(encodeJson(a)), Buffer.from(encodeJson(b)));
}

/** sameValue: MongoDB value equality (field order matters in objects; Dates by time). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  return encodeJson(a) === encodeJson(b);
}
