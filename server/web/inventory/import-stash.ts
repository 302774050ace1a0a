/**
 * Files checked by an import dry run, kept so "Apply this import" applies exactly the file the
 * operator saw (a form without script cannot re-send a file). Bounded: at most `maxEntries` files
 * and `maxBytes` in total (the oldest go first), each for `ttlMs`; an entry belongs to the
 * operator who uploaded it and is taken (removed) when applied.
 */
import { randomBytes } from 'node:crypto';
import type { ImportOptions } from './inventory-port.js';

export interface StashedImport {
  readonly owner: string;
  readonly body: Buffer;
  readonly format: ImportOptions['format'];
  readonly mode: ImportOptions['mode'];
  readonly at: number;
}

export class ImportStash {
  readonly #entries = new Map<string, StashedImport>();
  constructor(
    private readonly now: () => number,
    private readonly limits: { maxEntries: number; maxBytes: number; ttlMs: number } = { maxEntries: 8, maxBytes: 128 * 1024 * 1024, ttlMs: 15 * 60_000 },
  ) {}

  /** Keeps a file; returns its token (unguessable, 32 hex characters). */
  put(entry: Omit<StashedImport, 'at'>): string {
    this.#expire();
    const token = randomBytes(16).toString('hex');
    this.#entries.set(token, { ...entry, at: this.now() });
    let bytes = 0;
    for (const e of this.#entries.values()) bytes += e.body.length;
    for (const [k, e] of this.#entries) {
      if (this.#entries.size <= this.limits.maxEntries && bytes <= this.limits.maxBytes) break;
      this.#entries.delete(k);
      bytes -= e.body.length;
    }
    return token;
  }

  /** The file of `token` when `owner` uploaded it and it has not expired; removed from the stash. */
  take(token: string, owner: string): StashedImport | undefined {
    this.#expire();
    const e = this.#entries.get(token);
    if (!e || e.owner !== owner) return undefined;
    this.#entries.delete(token);
    return e;
  }

  get size(): number {
    return this.#entries.size;
  }

  #expire(): void {
    const now = this.now();
    for (const [k, e] of this.#entries) if (now - e.at > this.limits.ttlMs) this.#entries.delete(k);
  }
}
