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
 *
 * Integrity (docs/adr/0011): the file is sealed. Its first line is
 * `stead-catalog v1 hmac-sha256:<hex>`, an HMAC of the rest of the file (the JSON) under a key
 * derived from the agent's private key (identity/key.pem, 0600), so only this agent can have
 * written it. A file is used only when it is the agent's own regular file (O_NOFOLLOW, owner and
 * mode checked on the descriptor: owned-files.ts) and its seal verifies; otherwise it is moved
 * aside to `catalog.json.rejected`, `onReject` says why, and the agent behaves as if none were
 * cached (it fetches a fresh catalog; it never enforces the rejected one).
 */
import { createHmac, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { promises as fsp, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../../schemas/index.js';
import { checkCatalog } from '../client/agent-client.js';
import { readFileIfExists, writeFileAtomic } from '../spool/atomic-file.js';
import { UnsafePathError } from '../spool/owned-files.js';

const SEAL = /^stead-catalog v1 hmac-sha256:([0-9a-f]{64})\n/;

/** The key sealing the cached catalog: HKDF-SHA256 of the agent's private key (PKCS#8 DER). */
export function catalogSealKey(privateKey: KeyObject): Buffer {
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  return Buffer.from(hkdfSync('sha256', der, Buffer.alloc(0), 'stead agent: cached catalog seal v1', 32));
}

function seal(key: Buffer, body: Buffer): string {
  return createHmac('sha256', key).update(body).digest('hex');
}

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
  /** The key the file is sealed with (catalogSealKey of the agent's private key). */
  readonly sealKey: Buffer;
  /** A file changed less than this long before its stamp was taken is read again on the next load. Default 2000. */
  readonly racyWindowMs?: number;
  /** Called when a cached file is refused (moved aside to catalog.json.rejected): why. */
  readonly onReject?: (path: string, reason: string) => void;
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
  readonly #key: Buffer;
  readonly #onReject: ((path: string, reason: string) => void) | undefined;
  #kept: Kept | undefined;

  constructor(dataDir: string, opts: CatalogCacheOptions) {
    this.path = join(dataDir, 'catalog.json');
    this.#racyWindowMs = opts.racyWindowMs ?? 2000;
    this.#key = opts.sealKey;
    this.#onReject = opts.onReject;
  }

  /**
   * The cached catalog for `host`, or undefined when there is none (or it is for another host).
   * A file that is not the agent's own, whose seal does not verify, or that no longer passes the
   * schemas is moved aside and reported (onReject), never used. Served from memory while the
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
    let buf: Buffer | undefined;
    try {
      buf = await readFileIfExists(this.path);
    } catch (err) {
      if (err instanceof UnsafePathError) return this.#reject(err.message);
      throw err;
    }
    if (!buf) return undefined;
    this.counters.reads++;
    const head = SEAL.exec(buf.subarray(0, 100).toString('latin1'));
    const body = buf.subarray(head ? head[0].length : 0);
    if (!head || !timingSafeEqual(Buffer.from(head[1]!, 'hex'), Buffer.from(seal(this.#key, body), 'hex'))) {
      return this.#reject(`its seal does not verify: it was not written by this agent's key, or was changed since (${head ? 'wrong HMAC' : 'no seal line'})`);
    }
    let entry: CachedCatalog;
    try {
      const data = JSON.parse(body.toString('utf8')) as { catalog?: unknown; receivedAt?: unknown };
      if (typeof data.receivedAt !== 'string') return this.#reject('it has no receivedAt');
      this.counters.validations++;
      const problems = checkCatalog(data.catalog);
      if (problems.length > 0) return this.#reject(`it does not pass the catalog schemas (${problems.slice(0, 3).join('; ')})`);
      entry = { catalog: data.catalog as Catalog, receivedAt: data.receivedAt };
    } catch {
      return this.#reject('it is not valid JSON');
    }
    // Keep it only when the file did not change while it was read (else the next load reads again).
    if ((await this.#stamp())?.key === before.key) this.#keep(entry, before);
    return entry.catalog.host === host ? entry : undefined;
  }

  /** Writes the entry (already validated by the caller), sealed, and keeps it in memory for later loads. */
  async save(entry: CachedCatalog): Promise<void> {
    this.#kept = undefined;
    const body = Buffer.from(JSON.stringify(entry));
    await writeFileAtomic(this.path, Buffer.concat([Buffer.from(`stead-catalog v1 hmac-sha256:${seal(this.#key, body)}\n`), body]), 0o600);
    const stamp = await this.#stamp();
    if (stamp !== undefined) this.#keep(entry, stamp);
  }

  /** Moves a refused file aside (kept for inspection, never read again) and says why. */
  async #reject(reason: string): Promise<undefined> {
    const aside = `${this.path}.rejected`;
    // rename never follows a link: a planted link is moved, not its target.
    await fsp.rename(this.path, aside).catch(() => undefined);
    this.#onReject?.(this.path, `refused the cached catalog ${this.path} (moved to ${aside}): ${reason}`);
    return undefined;
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
      st = await fsp.lstat(this.path, { bigint: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const changedNs = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;
    return { key: `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`, changedMs: Number(changedNs / 1_000_000n) };
  }
}
