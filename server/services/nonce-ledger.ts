/**
 * NonceLedger: request nonces made durable on a store this server has to itself (the embedded
 * store under its data-directory lock; ADR 0025). There the in-memory NonceCache is the whole
 * truth while the process runs, so the store only has to remember nonces across a restart: the
 * claims of one event-loop turn are written as one row (`request_nonce_batches`, an id that
 * sorts by time, so rows are appended), and each claim resolves only when that row has
 * committed, so a served request's nonce is durable exactly as with SharedNonceStore, at one
 * write per batch instead of one random insert per request. At start every unexpired key is
 * loaded back into the NonceCache (`preload`) before a request is served; housekeeping prunes
 * expired rows. A store other servers write (MongoDB) uses SharedNonceStore: there the store
 * itself must refuse a nonce another server claimed.
 */
import { randomBytes } from 'node:crypto';
import { deleteOlderThan } from '../store/retention.js';
import type { Collection, DocumentStore } from '../store/types.js';

type BatchDoc = { _id: string; expiresAtMs: number; keys: string[] };

interface Waiter {
  readonly resolve: (ok: boolean) => void;
  readonly reject: (err: unknown) => void;
}

/** Keys per row: a burst writes several rows rather than one unbounded document. */
const MAX_KEYS_PER_ROW = 2000;
/** Rows read per page when preloading. */
const PRELOAD_PAGE = 500;

export class NonceLedger {
  #keys: string[] = [];
  #expires = 0;
  #waiters: Waiter[] = [];
  #scheduled = false;
  #seq = 0;
  /** Distinguishes this process's row ids from an earlier process's written in the same millisecond. */
  readonly #run = randomBytes(4).toString('hex');

  private constructor(private readonly rows: Collection<BatchDoc>) {}

  static async open(store: DocumentStore): Promise<NonceLedger> {
    return new NonceLedger(await store.collection<BatchDoc>('request_nonce_batches', [{ name: 'by_expiry', fields: { expiresAtMs: 1 } }]));
  }

  /**
   * Records `key` (host/nonce) until `expiresAtMs`; resolves true once it is durable. It never
   * resolves false: a repeat is refused by the NonceCache, which preload() filled at start.
   */
  claim(key: string, expiresAtMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#keys.push(key);
      this.#expires = Math.max(this.#expires, expiresAtMs);
      this.#waiters.push({ resolve, reject });
      if (this.#keys.length >= MAX_KEYS_PER_ROW) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#keys.length === 0) return;
    const doc: BatchDoc = { _id: `${Date.now().toString().padStart(15, '0')}-${this.#run}-${(this.#seq++).toString(36).padStart(8, '0')}`, expiresAtMs: this.#expires, keys: this.#keys };
    const waiters = this.#waiters;
    this.#keys = [];
    this.#waiters = [];
    this.#expires = 0;
    this.rows.insertOne(doc).then(
      () => { for (const w of waiters) w.resolve(true); },
      (err: unknown) => { for (const w of waiters) w.reject(err); },
    );
  }

  /** Calls `remember(key, expiresAtMs)` for every key still unexpired at `nowMs`; resolves how many. */
  async preload(nowMs: number, remember: (key: string, expiresAtMs: number) => void): Promise<number> {
    let n = 0;
    let after = '';
    for (;;) {
      const page = await this.rows.find({ _id: { $gt: after }, expiresAtMs: { $gt: nowMs } }, { sort: { _id: 1 }, limit: PRELOAD_PAGE });
      for (const row of page) {
        for (const k of row.keys) remember(k, row.expiresAtMs);
        n += row.keys.length;
      }
      if (page.length < PRELOAD_PAGE) return n;
      after = page[page.length - 1]!._id;
    }
  }

  /** Deletes rows whose every key expired by `nowMs` (housekeeping); resolves how many rows. */
  async prune(nowMs: number, signal?: AbortSignal): Promise<number> {
    return (await deleteOlderThan(this.rows, { field: 'expiresAtMs', cutoff: nowMs + 1, ...(signal ? { signal } : {}) })).deleted;
  }
}
