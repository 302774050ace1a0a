/** A BlobSource over an in-memory map, for stead apply (blobs from the compiler) and tests. */
import type { BlobSource } from '../resources/resource.js';
import { blobHex, blobRef, verifyBlob } from './blob-ref.js';
import { ResourceError } from '../engine/engine-error.js';

export interface MemoryBlobSource extends BlobSource {
  /** Adds content and returns its reference. */
  put(data: Buffer | string): string;
  readonly size: number;
}

/** Creates a BlobSource holding the given blobs (by reference; each is verified on get). */
export function createMemoryBlobSource(initial?: Iterable<[string, Buffer]>): MemoryBlobSource {
  const blobs = new Map<string, Buffer>(initial ?? []);
  return {
    async get(ref: string, signal: AbortSignal): Promise<Buffer> {
      signal.throwIfAborted();
      blobHex(ref);
      const b = blobs.get(ref);
      if (!b) throw new ResourceError('BLOB_MISSING', `blob ${ref} is not available`);
      return verifyBlob(ref, b);
    },
    put(data: Buffer | string): string {
      const b = typeof data === 'string' ? Buffer.from(data) : data;
      const ref = blobRef(b);
      blobs.set(ref, b);
      return ref;
    },
    get size() {
      return blobs.size;
    },
  };
}
