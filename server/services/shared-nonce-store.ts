/**
 * Request nonces claimed in the shared store, for several servers behind a load balancer: a
 * signed request replayed to another server inside the freshness window finds its nonce taken.
 * One insert per signed request (a unique _id, no transaction); expired claims are deleted by
 * housekeeping in bounded batches. Used only in cluster mode (servers > 1), where the store is
 * MongoDB; a single server keeps nonces in memory only (domain/nonce-cache.ts).
 */
import { deleteOlderThan } from '../store/retention.js';
import { isDuplicateKey, type Collection, type DocumentStore } from '../store/types.js';

type NonceDoc = { _id: string; expiresAtMs: number };

export class SharedNonceStore {
  private constructor(private readonly nonces: Collection<NonceDoc>) {}

  static async open(store: DocumentStore): Promise<SharedNonceStore> {
    return new SharedNonceStore(await store.collection<NonceDoc>('request_nonces', [{ name: 'by_expiry', fields: { expiresAtMs: 1 } }]));
  }

  /** See SharedNonceClaim: false when `key` is claimed and unexpired at `nowMs`. */
  async claim(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    try {
      await this.nonces.insertOne({ _id: key, expiresAtMs });
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Taken: only an expired claim (not yet swept) may be taken over, atomically.
      const r = await this.nonces.updateOne({ _id: key, expiresAtMs: { $lte: nowMs } }, { $set: { expiresAtMs } });
      return r.matched === 1;
    }
  }

  /** Deletes claims expired at `nowMs` (housekeeping); resolves how many. */
  async prune(nowMs: number, signal?: AbortSignal): Promise<number> {
    return (await deleteOlderThan(this.nonces, { field: 'expiresAtMs', cutoff: nowMs + 1, ...(signal ? { signal } : {}) })).deleted;
  }
}
