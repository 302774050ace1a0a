/**
 * Local content-addressed blob cache in `<data-dir>/blobs/<sha256 hex>`. Blobs are fetched
 * from the server only when missing, verified on arrival and again on every read (a file
 * damaged on disk, or not the agent's own regular file, is refetched, never used). Implements the engine's BlobSource.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../../schemas/index.js';
import type { BlobSource } from '../resources/resource.js';
import { ensurePrivateDir, readFileIfExists, removeStaleTemps, writeFileAtomic } from '../spool/atomic-file.js';
import { UnsafePathError } from '../spool/owned-files.js';

const REF = /^sha256:([0-9a-f]{64})$/;

export interface EnsureOptions {
  /** Blobs fetched at the same time; default 4. */
  readonly concurrency?: number;
  /** Called after each blob fetched: (fetched so far, missing in all). */
  readonly onProgress?: (done: number, missing: number) => void;
}

/** Fetches a blob's verified bytes from somewhere else (the server). */
export type BlobFetcher = (sha256: string, signal: AbortSignal) => Promise<Buffer>;

export class BlobCorruptError extends Error {
  readonly code = 'BLOB_CORRUPT';
}
export class BlobMissingError extends Error {
  readonly code = 'BLOB_MISSING';
}

/** Refs per catalog object: the daemon keeps its catalog between polls, and so this list. */
const refsOf = new WeakMap<Catalog, readonly string[]>();

/** Every "sha256:<hex>" a catalog references: its `blobs` table and any resource `source` (sorted; the same array for the same catalog object). */
export function catalogBlobRefs(catalog: Catalog): readonly string[] {
  let refs = refsOf.get(catalog);
  if (!refs) {
    refs = Object.freeze(collectRefs(catalog));
    refsOf.set(catalog, refs);
  }
  return refs;
}

function collectRefs(catalog: Catalog): string[] {
  const refs = new Set<string>(Object.keys(catalog.blobs ?? {}).filter((r) => REF.test(r)));
  for (const r of catalog.resources) {
    const source = (r as { source?: unknown }).source;
    if (typeof source === 'string' && REF.test(source)) refs.add(source);
  }
  return [...refs].sort();
}

export class BlobCache implements BlobSource {
  readonly dir: string;
  /**
   * The last refs list found complete, and the cache directory's identity and change time
   * then: while both are the same, no blob was added or removed since, and `ensure` need not
   * list the directory again (a damaged blob is removed when read, which changes the time).
   */
  #complete: { readonly refs: readonly string[]; readonly stamp: string } | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  async open(): Promise<void> {
    await ensurePrivateDir(this.dir);
    await removeStaleTemps(this.dir);
  }

  /**
   * The verified bytes of a cached blob, or undefined when absent or damaged (a damaged file is
   * removed). A file that is not the agent's own regular file (a link, another owner,
   * group/other-writable: owned-files.ts) counts as damaged: removed, fetched again.
   */
  async read(sha256: string): Promise<Buffer | undefined> {
    const path = join(this.dir, sha256);
    let data: Buffer | undefined;
    try {
      data = await readFileIfExists(path);
    } catch (err) {
      if (!(err instanceof UnsafePathError)) throw err;
      await fsp.rm(path, { force: true });
      return undefined;
    }
    if (!data) return undefined;
    if (createHash('sha256').update(data).digest('hex') !== sha256) {
      await fsp.rm(path, { force: true });
      return undefined;
    }
    return data;
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await fsp.access(join(this.dir, sha256));
      return true;
    } catch {
      return false;
    }
  }

  /** Stores bytes under their own hash; returns the hash. */
  async put(data: Buffer): Promise<string> {
    const sha = createHash('sha256').update(data).digest('hex');
    await writeFileAtomic(join(this.dir, sha), data, 0o600);
    return sha;
  }

  /**
   * Makes every referenced blob available locally, fetching only the missing ones, up to
   * `concurrency` at a time (default 4: the client keeps 4 connections to the server). Returns
   * how many were fetched. On the first blob that cannot be fetched or fails verification, the
   * other fetches are stopped and that error is thrown (blobs already written stay: each is
   * verified and complete). `onProgress(done, missing)` is called after each blob.
   */
  async ensure(refs: readonly string[], fetch: BlobFetcher, signal: AbortSignal, opts: EnsureOptions = {}): Promise<number> {
    const before = await this.#stamp();
    if (this.#complete && this.#complete.refs === refs && this.#complete.stamp === before) return 0;
    // One directory listing instead of a stat per blob.
    const present = new Set(refs.length > 0 ? await fsp.readdir(this.dir) : []);
    const missing: string[] = [];
    for (const ref of refs) {
      const m = REF.exec(ref);
      if (m && !present.has(m[1]!)) missing.push(m[1]!);
    }
    let fetched = 0;
    if (missing.length > 0) {
      const stop = new AbortController();
      const both = AbortSignal.any([signal, stop.signal]);
      let next = 0;
      let failure: { error: unknown } | undefined;
      const worker = async (): Promise<void> => {
        while (next < missing.length && !failure) {
          const sha = missing[next++]!;
          try {
            both.throwIfAborted();
            const data = await fetch(sha, both);
            if (createHash('sha256').update(data).digest('hex') !== sha) throw new BlobCorruptError(`blob ${sha} failed verification`);
            await writeFileAtomic(join(this.dir, sha), data, 0o600);
            fetched++;
            opts.onProgress?.(fetched, missing.length);
          } catch (error) {
            failure ??= { error };
            stop.abort(error);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, missing.length)) }, worker));
      if (failure) throw failure.error;
    }
    // Complete as of `before` (taken before the listing: anything changed since shows next time).
    // After fetching, the directory changed under our own writes: list once more next time.
    this.#complete = fetched === 0 ? { refs, stamp: before } : undefined;
    return fetched;
  }

  /** The cache directory's inode and modification time (ns): changes with every entry added, removed or renamed. */
  async #stamp(): Promise<string> {
    const st = await fsp.stat(this.dir, { bigint: true });
    return `${st.dev}:${st.ino}:${st.mtimeNs}`;
  }

  /** BlobSource: the verified bytes of "sha256:<hex>". */
  async get(ref: string, _signal: AbortSignal): Promise<Buffer> {
    const m = REF.exec(ref);
    if (!m) throw new BlobMissingError(`not a blob reference: ${JSON.stringify(ref)}`);
    const data = await this.read(m[1]!);
    if (!data) throw new BlobMissingError(`blob ${m[1]!} is not in the local cache`);
    return data;
  }

  /** Deletes cached blobs no longer referenced by `keep` (called after a run on a new catalog). */
  async prune(keep: readonly string[]): Promise<number> {
    const wanted = new Set(keep.map((r) => REF.exec(r)?.[1]).filter((s): s is string => s !== undefined));
    let removed = 0;
    for (const name of await fsp.readdir(this.dir)) {
      if (/^[0-9a-f]{64}$/.test(name) && !wanted.has(name)) {
        await fsp.rm(join(this.dir, name), { force: true });
        removed++;
      }
    }
    return removed;
  }
}
