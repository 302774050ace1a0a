/**
 * Request nonces claimed in the store: a signed request replayed inside the freshness window,
 * after the server restarted (or crashed) or to another server behind the same load balancer,
 * finds its nonce taken. One insert per signed request (a unique _id; the embedded store
 * group-commits concurrent inserts into one fsync), awaited before the request is served, so a
 * served request's nonce is durable. Expired claims are deleted by housekeeping in bounded
 * batches. Every server uses it, embedded store or MongoDB (ADR 0008); domain/nonce-cache.ts
 * answers repeats from memory first.
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
