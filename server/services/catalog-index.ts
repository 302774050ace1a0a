/**
 * The resource ids of every catalog the server served, by catalog id (ADR 0021): what compact
 * reports are checked against on ingest and expanded with when read. A catalog is recorded
 * before it is first served (so a report of it always finds its record, on any server of a
 * cluster), once per catalog id; the record is kept while a stored report may name it.
 *
 * Retention: a record's usedAtMs is refreshed (at most hourly) when a report names it, and
 * prune() deletes records unused since well before the raw-report cutoff, except those the
 * newest report of each host names (those reports are kept however old they are).
 */
import type { Collection, DocumentStore } from '../store/types.js';
import { isDuplicateKey } from '../store/types.js';
import type { Clock } from '../domain/clock.js';
import { indexCatalog, type CatalogIndex } from '../../schemas/compact-report.js';

type IndexDoc = {
  _id: string;
  host: string;
  /** JSON array of the resource ids in catalog order. */
  ids: string;
  count: number;
  usedAtMs: number;
};

/** A catalog's index, with the host it was compiled for. */
export interface HostCatalogIndex extends CatalogIndex {
  readonly host: string;
}

interface Cached {
  readonly index: HostCatalogIndex;
  usedAtMs: number;
}

export interface CatalogIndexOptions {
  /** Resource ids kept in memory across cached catalogs (least recently used go first). Default 5,000,000. */
  readonly maxCachedIds?: number;
}

const touchEveryMs = 3_600_000;
const maxIdsChars = 8 * 1024 * 1024;

export class CatalogIndexService {
  readonly #cache = new Map<string, Cached>();
  #cachedIds = 0;
  readonly #maxCachedIds: number;
  #recorded = 0;

  private constructor(
    private readonly docs: Collection<IndexDoc>,
    private readonly clock: Clock,
    opts: CatalogIndexOptions,
  ) {
    this.#maxCachedIds = opts.maxCachedIds ?? 5_000_000;
  }

  static async open(store: DocumentStore, clock: Clock, opts: CatalogIndexOptions = {}): Promise<CatalogIndexService> {
    const docs = await store.collection<IndexDoc>('catalog_index', [{ name: 'by_used', fields: { usedAtMs: 1 } }]);
    return new CatalogIndexService(docs, clock, opts);
  }

  /** Catalogs recorded by this process; cached catalogs and their ids. */
  get counters(): { recorded: number; cached: number; cachedIds: number } {
    return { recorded: this.#recorded, cached: this.#cache.size, cachedIds: this.#cachedIds };
  }

  /**
   * Records the resource ids of catalog `catalogId` of `host` (before it is served). Idempotent;
   * a catalog already recorded costs a map look-up. A catalog whose ids repeat, or whose id list
   * passes 8 MiB, is not recorded (no compact report can name it; its reports go in full).
   */
  async record(catalogId: string, host: string, ids: readonly string[]): Promise<void> {
    if (this.#cache.has(catalogId)) return;
    const index = indexCatalog(catalogId, ids);
    if (!index) return;
    const text = JSON.stringify(ids);
    // Far past any real catalog (~150,000 resources); a store document holds 16 MiB at most. Not
    // recorded, its reports are refused compact and stored as sent: serving it must not fail.
    if (text.length > maxIdsChars) return;
    const now = this.clock.now();
    try {
      await this.docs.insertOne({ _id: catalogId, host, ids: text, count: ids.length, usedAtMs: now });
      this.#recorded++;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await this.docs.updateOne({ _id: catalogId }, { $set: { usedAtMs: now } });
    }
    this.#remember({ index: { ...index, host }, usedAtMs: now });
  }

  /**
   * The index of catalog `catalogId`, from memory or the store; undefined when this server (or
   * its cluster) never served it or it was pruned. Marks it used (for retention).
   */
  async get(catalogId: string): Promise<HostCatalogIndex | undefined> {
    let c = this.#cache.get(catalogId);
    if (c) {
      // Most recently used last.
      this.#cache.delete(catalogId);
      this.#cache.set(catalogId, c);
    } else {
      const d = await this.docs.findOne({ _id: catalogId });
      if (!d) return undefined;
      const ids = JSON.parse(d.ids) as string[];
      const index = indexCatalog(catalogId, ids);
      if (!index) return undefined;
      c = { index: { ...index, host: d.host }, usedAtMs: d.usedAtMs };
      this.#remember(c);
    }
    const now = this.clock.now();
    if (now - c.usedAtMs >= touchEveryMs) {
      c.usedAtMs = now;
      await this.docs.updateOne({ _id: catalogId }, { $set: { usedAtMs: now } });
    }
    return c.index;
  }

  #remember(c: Cached): void {
    const n = c.index.ids.length;
    if (n > this.#maxCachedIds) return;
    this.#cache.set(c.index.catalogId, c);
    this.#cachedIds += n;
    for (const [id, old] of this.#cache) {
      if (this.#cachedIds <= this.#maxCachedIds) break;
      this.#cache.delete(id);
      this.#cachedIds -= old.index.ids.length;
    }
  }

  /**
   * Deletes records unused since two hours before `beforeMs` (the raw-report cutoff: a report
   * received after it refreshed its record's usedAtMs within the hour before), except those in
   * `keep` (catalogs the kept newest reports name). Bounded batches; stops when `signal` aborts.
   */
  async prune(beforeMs: number, keep: readonly string[], signal?: AbortSignal): Promise<number> {
    const cutoff = beforeMs - 2 * touchEveryMs;
    const kept = new Set(keep);
    let deleted = 0;
    let after = '';
    for (let batch = 0; batch < 200 && signal?.aborted !== true; batch++) {
      const docs = await this.docs.find({ usedAtMs: { $lt: cutoff }, _id: { $gt: after } }, { sort: { _id: 1 }, limit: 500, projection: { _id: 1 } });
      if (docs.length === 0) break;
      after = docs[docs.length - 1]!._id;
      const gone = docs.map((d) => d._id).filter((id) => !kept.has(id));
      if (gone.length > 0) deleted += await this.docs.deleteMany({ _id: { $in: gone }, usedAtMs: { $lt: cutoff } });
      for (const id of gone) {
        const c = this.#cache.get(id);
        if (c) {
          this.#cache.delete(id);
          this.#cachedIds -= c.index.ids.length;
        }
      }
    }
    return deleted;
  }
}
