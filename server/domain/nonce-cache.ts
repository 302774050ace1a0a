/**
 * Remembers request nonces for the freshness window so a captured signed request cannot be
 * replayed. Entries expire with the window; memory is bounded by (requests per window).
 * The memory half is per process; the server also claims every nonce in the store (the shared
 * claim), so a replay after a restart or to a *different* server is refused too (ADR 0003,
 * ADR 0008; services/shared-nonce-store.ts).
 */

/**
 * A claim in shared storage: resolves false when `key` is already claimed and not expired at
 * `nowMs`; otherwise records it until `expiresAtMs` and resolves true.
 */
export type SharedNonceClaim = (key: string, expiresAtMs: number, nowMs: number) => Promise<boolean>;

export class NonceCache {
  readonly #seen = new Map<string, number>();
  #lastSweep = 0;

  constructor(
    private readonly windowMs: number,
    private readonly shared?: SharedNonceClaim,
  ) {}

  /** True when nonces are also claimed in shared storage (the store). */
  get isShared(): boolean {
    return this.shared !== undefined;
  }

  /**
   * Records `nonce` seen at `nowMs`; false when it was already seen inside the window.
   * Keys are host-scoped so one agent cannot burn another's nonces.
   */
  claim(host: string, nonce: string, nowMs: number): boolean {
    this.#sweep(nowMs);
    const key = `${host}\u0000${nonce}`;
    const expires = this.#seen.get(key);
    if (expires !== undefined && expires > nowMs) return false;
    // A request is valid while its time is within ±window of now, so keep the nonce for 2×window.
    this.#seen.set(key, nowMs + 2 * this.windowMs);
    return true;
  }

  /**
   * The shared half of the check, after `claim` succeeded: false when another server (or this
   * one) already claimed the nonce in the store. Always true without shared storage.
   */
  async claimShared(host: string, nonce: string, nowMs: number): Promise<boolean> {
    if (!this.shared) return true;
    return this.shared(`${host}/${nonce}`, nowMs + 2 * this.windowMs, nowMs);
  }

  get size(): number {
    return this.#seen.size;
  }

  #sweep(nowMs: number): void {
    if (nowMs - this.#lastSweep < 10_000 && this.#seen.size < 1_000_000) return;
    this.#lastSweep = nowMs;
    for (const [k, exp] of this.#seen) if (exp <= nowMs) this.#seen.delete(k);
  }
}
