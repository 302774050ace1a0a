/**
 * The last catalog the agent received, kept in `<data-dir>/catalog.json` (atomic write,
 * 0600: catalogs may hold rendered secrets). The agent keeps enforcing it while the server is
 * unreachable, and sends its id in If-None-Match.
 *
 * The parsed, validated catalog is also kept in memory between polls: while the file on disk is
 * the one this cache last read or wrote (same inode, size, mtime and ctime, to the nanosecond),
 * `load` returns that object without reading, parsing or validating the file again. Any change
 * to the file (another process, an operator, a damaged disk) makes the next `load` read and
 * validate it in full; a catalog with a new id only ever arrives through `save`, whose caller
 * has validated it (the client checks every catalog it receives against the schemas).
 * File times have the kernel's coarse clock granularity (a few ms), so a same-size rewrite in
 * place right after a read could keep the same stamp: as git does for "racily clean" files, a
 * stamp whose mtime or ctime is less than `racyWindowMs` (default 2 s) older than the moment it
 * was taken is not trusted, and the next load reads the file again (once, for a new catalog).
 */
import { promises as fsp, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../../schemas/index.js';
import { checkCatalog } from '../client/agent-client.js';
import { readFileIfExists, writeFileAtomic } from '../spool/atomic-file.js';

export interface CachedCatalog {
  readonly catalog: Catalog;
  /** RFC 3339 time it was received. */
  readonly receivedAt: string;
}

/** How often the file was really read and validated (the rest of the loads were served from memory). */
export interface CatalogCacheCounters {
  /** Reads of catalog.json from disk. */
  reads: number;
  /** Full schema validations of a catalog read from disk. */
  validations: number;
}

export interface CatalogCacheOptions {
  /** A file changed less than this long before its stamp was taken is read again on the next load. Default 2000. */
  readonly racyWindowMs?: number;
}

interface Kept {
  readonly entry: CachedCatalog;
  /** Identity of the file the entry was read from or written to. */
  readonly stamp: string;
}

interface Stamp {
  /** dev, inode, size, mtime and ctime (ns). */
  readonly key: string;
  /** The later of mtime and ctime, in ms. */
  readonly changedMs: number;
}

export class CatalogCache {
  readonly path: string;
  readonly counters: CatalogCacheCounters = { reads: 0, validations: 0 };
  readonly #racyWindowMs: number;
  #kept: Kept | undefined;

  constructor(dataDir: string, opts: CatalogCacheOptions = {}) {
    this.path = join(dataDir, 'catalog.json');
    this.#racyWindowMs = opts.racyWindowMs ?? 2000;
  }

  /**
   * The cached catalog for `host`, or undefined when there is none. A file that no longer passes
   * the schemas (or is for another host) is ignored, as if absent. Served from memory while the
   * file is unchanged since this cache last read or wrote it.
   */
  async load(host: string): Promise<CachedCatalog | undefined> {
    const before = await this.#stamp();
    if (before === undefined) {
      this.#kept = undefined;
      return undefined;
    }
    const kept = this.#kept;
    if (kept && kept.stamp === before.key) return kept.entry.catalog.host === host ? kept.entry : undefined;
    this.#kept = undefined;
    const buf = await readFileIfExists(this.path);
    if (!buf) return undefined;
    this.counters.reads++;
    let entry: CachedCatalog;
    try {
      const data = JSON.parse(buf.toString('utf8')) as { catalog?: unknown; receivedAt?: unknown };
      if (typeof data.receivedAt !== 'string') return undefined;
      this.counters.validations++;
      if (checkCatalog(data.catalog).length > 0) return undefined;
      entry = { catalog: data.catalog as Catalog, receivedAt: data.receivedAt };
    } catch {
      return undefined;
    }
    // Keep it only when the file did not change while it was read (else the next load reads again).
    if ((await this.#stamp())?.key === before.key) this.#keep(entry, before);
    return entry.catalog.host === host ? entry : undefined;
  }

  /** Writes the entry (already validated by the caller) and keeps it in memory for later loads. */
  async save(entry: CachedCatalog): Promise<void> {
    this.#kept = undefined;
    await writeFileAtomic(this.path, JSON.stringify(entry), 0o600);
    const stamp = await this.#stamp();
    if (stamp !== undefined) this.#keep(entry, stamp);
  }

  #keep(entry: CachedCatalog, stamp: Stamp): void {
    if (stamp.changedMs > Date.now() - this.#racyWindowMs) return;
    this.#kept = { entry, stamp: stamp.key };
  }

  /** Forgets the in-memory copy: the next load reads and validates the file. */
  forget(): void {
    this.#kept = undefined;
  }

  async #stamp(): Promise<Stamp | undefined> {
    let st: BigIntStats;
    try {
      st = await fsp.stat(this.path, { bigint: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const changedNs = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;
    return { key: `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`, changedMs: Number(changedNs / 1_000_000n) };
  }
}
