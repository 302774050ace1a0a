/** Blob references: "sha256:" and 64 lowercase hex digits. */
import { createHash } from 'node:crypto';
import { ResourceError } from '../engine/engine-error.js';

const REF = /^sha256:[0-9a-f]{64}$/;

/** Whether `ref` is a well-formed blob reference. */
export function isBlobRef(ref: string): boolean {
  return REF.test(ref);
}

/** The reference of some bytes. */
export function blobRef(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Throws BLOB_INVALID unless `data` hashes to `ref`; returns data. */
export function verifyBlob(ref: string, data: Buffer): Buffer {
  if (blobRef(data) !== ref) throw new ResourceError('BLOB_INVALID', `blob content does not match ${ref}`);
  return data;
}

/** Throws BLOB_REF_INVALID unless `ref` is well formed; returns the hex digest. */
export function blobHex(ref: string): string {
  if (!isBlobRef(ref)) throw new ResourceError('BLOB_REF_INVALID', `not a blob reference ("sha256:<64 hex>"): ${JSON.stringify(ref.slice(0, 80))}`);
  return ref.slice(7);
}
