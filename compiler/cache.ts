/**
 * A compile cache keyed by (revision content, host inputs): the repository's content hash and
 * revision label, the host name, its facts and the launch variables (canonical JSON, hashed),
 * and a fingerprint of the secret key (never the key). Equal keys give equal results because
 * compileHost is pure, so a hit returns the stored result itself: treat it as immutable.
 * Least-recently-used entries are evicted beyond `maxEntries`.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './catalog/canonical-json.js';
import { compileHost, type CompileResult } from './compile.js';
import type { Repository } from './repo/repository.js';
import type { VarMap } from './vars/merge.js';

export interface CompileCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
}

export class CompileCache {
  readonly #entries = new Map<string, CompileResult>();
  readonly #max: number;
  #hits = 0;
  #misses = 0;

  constructor(opts: { maxEntries?: number } = {}) {
    this.#max = Math.max(1, opts.maxEntries ?? 10_000);
  }

  /** The cache key of a compile's inputs. */
  static key(repo: Repository, hostName: string, facts: unknown = {}, launchVars?: VarMap): string {
    const h = createHash('sha256');
    h.update(repo.contentHash).update('\0').update(repo.revision).update('\0').update(hostName).update('\0');
    h.update(canonicalJson(facts ?? {})).update('\0').update(launchVars === undefined ? '-' : canonicalJson(launchVars)).update('\0');
    h.update(repo.secretKey ? createHash('sha256').update('stead-secret-key-id\0').update(repo.secretKey).digest('hex') : 'no-key');
    return h.digest('hex');
  }

  /** compileHost, answered from the cache when the same inputs were compiled before. */
  compile(repo: Repository, hostName: string, facts: unknown = {}, launchVars?: VarMap): CompileResult & { readonly cached: boolean } {
    const key = CompileCache.key(repo, hostName, facts, launchVars);
    const hit = this.#entries.get(key);
    if (hit) {
      this.#hits++;
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return { ...hit, cached: true };
    }
    this.#misses++;
    const result = compileHost(repo, hostName, facts, launchVars);
    this.#entries.set(key, result);
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    return { ...result, cached: false };
  }

  stats(): CompileCacheStats {
    return { hits: this.#hits, misses: this.#misses, entries: this.#entries.size };
  }

  clear(): void {
    this.#entries.clear();
  }
}
