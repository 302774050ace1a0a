/**
 * Remembers request nonces for the freshness window so a captured signed request cannot be
 * replayed. Entries expire with the window; memory is bounded by (requests per window).
 * Per process: with several servers behind a balancer this moves to the shared store (ADR 0003).
 */
export class NonceCache {
  readonly #seen = new Map<string, number>();
  #lastSweep = 0;

  constructor(private readonly windowMs: number) {}

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

  get size(): number {
    return this.#seen.size;
  }

  #sweep(nowMs: number): void {
    if (nowMs - this.#lastSweep < 10_000 && this.#seen.size < 1_000_000) return;
    this.#lastSweep = nowMs;
    for (const [k, exp] of this.#seen) if (exp <= nowMs) this.#seen.delete(k);
  }
}
