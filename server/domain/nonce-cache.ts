/**
 * Remembers request nonces for the freshness window so a captured signed request cannot be
 * replayed. Entries expire with the window; memory is bounded by (requests per window).
 * The memory half is per process; the server also claims every nonce in the store (the shared
 * claim), so a replay after a restart or to a *different* server is refused too (ADR 0003,
 * ADR 0008; services/shared-nonce-store.ts, or services/nonce-ledger.ts on a store the server
 * has to itself, which refills this cache at start through remember(): ADR 0025).
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
    // (A key seen again after it expired is re-inserted at the end, keeping the map in expiry order.)
    if (expires !== undefined) this.#seen.delete(key);
    this.#seen.set(key, nowMs + 2 * this.windowMs);
    return true;
  }

  /** Marks `sharedKey` ("host/nonce", as claimShared passes it) seen until `expiresAtMs`: a restart's preload. */
  remember(sharedKey: string, expiresAtMs: number): void {
    const slash = sharedKey.indexOf('/'); // host names have no '/'; nonces may
    if (slash <= 0) return;
    const key = `${sharedKey.slice(0, slash)}\u0000${sharedKey.slice(slash + 1)}`;
    this.#seen.set(key, Math.max(expiresAtMs, this.#seen.get(key) ?? 0));
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

  /**
   * Drops expired entries, at most once a second. Entries are inserted in expiry order (every
   * claim expires 2×window after its own time), so the sweep stops at the first one still valid:
   * its cost is the number of entries it deletes, however many are held. (Preloaded entries and a
   * clock stepped back break the order only by a little; such an entry waits for the ones before
   * it, and a repeat is still refused: claim() compares expiry times, not positions.)
   */
  #sweep(nowMs: number): void {
    if (nowMs - this.#lastSweep < 1000) return;
    this.#lastSweep = nowMs;
    for (const [k, exp] of this.#seen) {
      if (exp > nowMs) break;
      this.#seen.delete(k);
    }
  }
}
