/**
 * Checks shared by every BlobStore: key format (security F1), content hash (F2), metadata and ranges.
 */
import { createHash } from 'node:crypto';
import { isPlainObject } from './field-path.js';
import { StoreError } from './store-error.js';

const KEY = /^[0-9a-f]{64}$/;
const META_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** checkBlobKey refuses anything but 64 lowercase hex characters. */
export function checkBlobKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || !KEY.test(key)) throw new StoreError('BAD_BLOB_KEY', 'blob key must be 64 lowercase hex characters (sha256)');
}

/** checkBlobData refuses data whose sha256 is not `key`; returns the data as a Buffer. */
export function checkBlobData(key: string, data: Uint8Array): Buffer {
  if (!(data instanceof Uint8Array)) throw new StoreError('BAD_DOCUMENT', 'blob data must be bytes');
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const actual = createHash('sha256').update(buf).digest('hex');
  if (actual !== key) throw new StoreError('BLOB_HASH_MISMATCH', `blob content hashes to ${actual}, not ${key}`);
  return buf;
}

/** checkBlobMeta: at most 32 entries, simple keys, string values of at most 1024 characters. */
export function checkBlobMeta(meta: unknown): Record<string, string> {
  if (meta === undefined) return {};
  if (!isPlainObject(meta)) throw new StoreError('BAD_DOCUMENT', 'blob meta must be a plain object');
  const entries = Object.entries(meta);
  if (entries.length > 32) throw new StoreError('BAD_DOCUMENT', 'blob meta has more than 32 entries');
  for (const [k, v] of entries) {
    if (!META_KEY.test(k)) throw new StoreError('BAD_DOCUMENT', `blob meta key ${JSON.stringify(k)} is not allowed`);
    if (typeof v !== 'string' || v.length > 1024) throw new StoreError('BAD_DOCUMENT', `blob meta ${k} must be a string of at most 1024 characters`);
  }
  return { ...meta } as Record<string, string>;
}

/**
 * checkRange validates [start, end) against a blob of `size` bytes: integers, 0 ≤ start ≤ end,
 * start ≤ size; `end` is clamped to size. Returns the clamped end.
 */
export function checkRange(start: number, end: number, size: number): number {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new StoreError('BAD_RANGE', `invalid range [${start}, ${end})`);
  }
  if (start > size) throw new StoreError('BAD_RANGE', `range start ${start} is beyond the blob size ${size}`);
  return Math.min(end, size);
}
