/**
 * Field paths ("a.b.c") as the store contract accepts them, and the small helpers that read,
 * write and remove values at a path in a plain JS document.
 */
import { StoreError } from './store-error.js';

/** Keys that could reach an object's prototype chain; refused everywhere (security D2). */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const MAX_PATH_LENGTH = 256;
// No quote or backslash (SQLite JSON paths quote segments), no control characters, no dot.
const SEGMENT = /^[^$."\\\u0000-\u001f][^."\\\u0000-\u001f]*$/;
const NUMERIC = /^[0-9]+$/;

/**
 * checkPath refuses a field path outside the contract: empty segments, segments starting with
 * `$`, containing `"` `\` or control characters, all-digit segments (array positions), the
 * prototype keys, and `_id` sub-paths. Returns the segments.
 */
export function checkPath(path: string, where: string): string[] {
  if (typeof path !== 'string' || path.length === 0 || path.length > MAX_PATH_LENGTH) {
    throw new StoreError('BAD_PATH', `${where}: field path must be 1-${MAX_PATH_LENGTH} characters`);
  }
  const segments = path.split('.');
  for (const s of segments) {
    if (!SEGMENT.test(s)) throw new StoreError('BAD_PATH', `${where}: field path ${JSON.stringify(path)} is not allowed`);
    if (NUMERIC.test(s)) {
      throw new StoreError('BAD_PATH', `${where}: numeric segment in ${JSON.stringify(path)} (array positions are not supported)`);
    }
    if (FORBIDDEN_KEYS.has(s)) throw new StoreError('BAD_PATH', `${where}: field path ${JSON.stringify(path)} is forbidden`);
  }
  if (segments[0] === '_id' && segments.length > 1) {
    throw new StoreError('BAD_PATH', `${where}: _id has no sub-fields`);
  }
  return segments;
}

/** isPlainObject: an object literal (or null-prototype object), not an array, Date or class instance. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** getPath reads the value at `path`; undefined when any step is missing or not an object. */
export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const s of path.split('.')) {
    if (!isPlainObject(cur) || !Object.hasOwn(cur, s)) return undefined;
    cur = cur[s];
  }
  return cur;
}

/**
 * setPath writes `value` at `path`, creating missing intermediate objects. Throws BAD_UPDATE
 * when an intermediate step holds a non-object (MongoDB refuses the same update).
 */
export function setPath(doc: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split('.');
  let cur: Record<string, unknown> = doc;
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i] as string;
    const next = Object.hasOwn(cur, s) ? cur[s] : undefined;
    if (next === undefined) {
      const created: Record<string, unknown> = {};
      cur[s] = created;
      cur = created;
    } else if (isPlainObject(next)) {
      cur = next;
    } else {
      throw new StoreError('BAD_UPDATE', `cannot create field in ${JSON.stringify(path)}: ${segments.slice(0, i + 1).join('.')} is not an object`);
    }
  }
  cur[segments[segments.length - 1] as string] = value;
}

/** unsetPath removes the value at `path`; resolves true if something was removed. */
export function unsetPath(doc: Record<string, unknown>, path: string): boolean {
  const segments = path.split('.');
  let cur: unknown = doc;
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i] as string;
    if (!isPlainObject(cur) || !Object.hasOwn(cur, s)) return false;
    cur = cur[s];
  }
  const last = segments[segments.length - 1] as string;
  if (!isPlainObject(cur) || !Object.hasOwn(cur, last)) return false;
  delete cur[last];
  return true;
}

/** overlaps: true when one path equals the other or is a dotted prefix of it. */
export function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}
