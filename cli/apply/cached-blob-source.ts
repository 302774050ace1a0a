/**
 * The blobs of a catalog `stead apply` took from its compiled-catalog cache
 * (compiler/apply-cache): rendered content is in the entry; a files/ source is read again from
 * files/ (confined, as the compiler reads it) when a resource needs it, and must still hash to
 * its reference — a file changed since the key was computed fails that resource and asks for a
 * re-run, it is never applied unverified.
 */
import { blobHex, verifyBlob } from '../../agent/blobs/blob-ref.js';
import { ResourceError } from '../../agent/engine/engine-error.js';
import type { BlobSource } from '../../agent/resources/resource.js';
import { readConfined } from '../../compiler/catalog/confined-read.js';
import type { CachedCompile } from '../../compiler/apply-cache/compiled-catalog-cache.js';

export function createCachedBlobSource(entry: CachedCompile, filesRoot: string): BlobSource {
  return {
    async get(ref: string, signal: AbortSignal): Promise<Buffer> {
      signal.throwIfAborted();
      blobHex(ref);
      const held = entry.rendered.get(ref);
      if (held) return verifyBlob(ref, held);
      const rel = entry.sources.get(ref);
      if (rel === undefined) throw new ResourceError('BLOB_MISSING', `blob ${ref} is not available`);
      let data: Buffer;
      try {
        data = readConfined(filesRoot, rel);
      } catch (err) {
        throw new ResourceError('BLOB_MISSING', `files/${rel}: ${(err as Error).message}; run stead apply again`);
      }
      try {
        return verifyBlob(ref, data);
      } catch {
        throw new ResourceError('BLOB_INVALID', `files/${rel} changed while stead apply ran; run it again`);
      }
    },
  };
}
