/**
 * Blob marks (ADR 0022): one document per stored blob of a pruned bucket saying when it was last
 * known to be needed (`at`). Every put goes through touch() first, so a blob being uploaded, or
 * produced by a compile, is marked before it exists; the sweep (blob-retention.ts) removes only
 * unreferenced blobs whose mark is older than the grace period, and condemns a mark by
 * compare-and-swap before it deletes the bytes. A touch that meets a condemned mark waits until
 * that sweep has finished with it, then marks anew and reports the key as revived: its bytes may
 * be gone and must be put again.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { BlobStore, Collection, DocumentStore } from '../store/types.js';
import { isDuplicateKey } from '../store/types.js';
import type { Clock } from '../domain/clock.js';

export type MarkDoc = {
  _id: string;
  bucket: string;
  key: string;
  /** Last time (epoch ms) the blob was put or known to be referenced. */
  at: number;
  /** Set (epoch ms) by a sweep that is deleting the blob. */
  condemned?: number;
};

/** A condemnation older than this belongs to a sweep that died: a touch takes the mark back. */
export const STALE_CONDEMN_MS = 60_000;

export class BlobMarks {
  private constructor(readonly marks: Collection<MarkDoc>, readonly clock: Clock) {}

  static async open(store: DocumentStore, clock: Clock): Promise<BlobMarks> {
    return new BlobMarks(await store.collection<MarkDoc>('blob_marks', [{ name: 'bucket_at', fields: { bucket: 1, at: 1 } }]), clock);
  }

  /**
   * Marks `keys` of `bucket` as needed now. Resolves the keys whose mark a sweep had condemned
   * (their bytes may have been deleted: put them again). Waits at most ~STALE_CONDEMN_MS for a
   * sweep under way; throws when `signal` aborts.
   */
  async touch(bucket: string, keys: Iterable<string>, signal?: AbortSignal): Promise<Set<string>> {
    const revived = new Set<string>();
    for (const key of new Set(keys)) {
      const _id = `${bucket}:${key}`;
      for (;;) {
        signal?.throwIfAborted();
        const now = this.clock.now();
        try {
          await this.marks.updateOne({ _id, condemned: { $exists: false } }, { $set: { bucket, key, at: now } }, { upsert: true });
          break;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
        revived.add(key);
        // condemned by a sweep: wait for it to delete the blob and its mark, or take over a dead one
        const taken = await this.marks.updateOne({ _id, condemned: { $lt: now - STALE_CONDEMN_MS } }, { $set: { at: now }, $unset: { condemned: '' } });
        if (taken.matched > 0) break;
        await delay(50, undefined, signal ? { signal } : {});
      }
    }
    return revived;
  }

  /** A DocumentStore whose blobs(bucket), for the buckets named, touch the mark before each put. */
  marking(store: DocumentStore, buckets: ReadonlySet<string>): DocumentStore {
    const marks = this;
    return {
      get kind() { return store.kind; },
      collection: (name, indexes) => store.collection(name, indexes),
      close: () => store.close(),
      async blobs(bucket: string): Promise<BlobStore> {
        const inner = await store.blobs(bucket);
        if (!buckets.has(bucket)) return inner;
        return markedBlobStore(inner, (key) => marks.touch(bucket, [key]).then(() => undefined));
      },
    };
  }
}

/** `inner` with put() preceded by `touch(key)`. */
function markedBlobStore(inner: BlobStore, touch: (key: string) => Promise<void>): BlobStore {
  return {
    put: async (key, data, meta) => {
      await touch(key);
      return inner.put(key, data, meta);
    },
    get: (k, o) => inner.get(k, o),
    getRange: (k, s, e, o) => inner.getRange(k, s, e, o),
    read: (k, o) => inner.read(k, o),
    has: (k) => inner.has(k),
    stat: (k) => inner.stat(k),
    keys: (o) => inner.keys(o),
    delete: (k) => inner.delete(k),
  };
}
