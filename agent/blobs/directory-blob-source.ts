/**
 * A BlobSource over a directory of content-addressed files: `<dir>/<64 hex>`. Used for a local
 * blob cache and for `stead apply` when the compiler wrote its blobs to disk.
 */
import type { BlobSource } from '../resources/resource.js';
import { createNodeHost } from '../host/node-host.js';
import { blobHex, blobRef, verifyBlob } from './blob-ref.js';
import { ResourceError } from '../engine/engine-error.js';

export interface DirectoryBlobSource extends BlobSource {
  /** Stores content (atomically, mode 0600) and returns its reference. */
  put(data: Buffer | string, signal: AbortSignal): Promise<string>;
}

/** Creates a BlobSource reading (and verifying) blobs from an existing directory. */
export function createDirectoryBlobSource(dir: string): DirectoryBlobSource {
  const host = createNodeHost({ root: dir });
  return {
    async get(ref: string, signal: AbortSignal): Promise<Buffer> {
      signal.throwIfAborted();
      const hex = blobHex(ref);
      let data: Buffer;
      try {
        data = await host.readFile(`/${hex}`);
      } catch (err) {
        throw new ResourceError('BLOB_MISSING', `blob ${ref} is not available in ${dir}`, { cause: err });
      }
      return verifyBlob(ref, data);
    },
    async put(data: Buffer | string, signal: AbortSignal): Promise<string> {
      signal.throwIfAborted();
      const ref = blobRef(data);
      const path = `/${ref.slice(7)}`;
      if (!(await host.lstat(path))) await host.writeFileAtomic(path, data, { mode: 0o600 });
      return ref;
    },
  };
}
