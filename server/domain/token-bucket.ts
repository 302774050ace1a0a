/**
 * Token buckets per key (a host name): each key holds up to `capacity` tokens, refilled at
 * `refillPerHour`; an event takes one token or is refused with the time until the next one.
 * In memory and bounded: at most `maxKeys` keys (the fullest buckets are the ones forgotten
 * first, since a full bucket and a forgotten one behave the same).
 */
import type { Clock } from './clock.js';

export interface BucketAnswer {
  readonly ok: boolean;
  /** When refused: milliseconds until a token is available. */
  readonly retryAfterMs: number;
}

export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #perMs: number;

  constructor(
    private readonly clock: Clock,
    readonly capacity: number,
    readonly refillPerHour: number,
    private readonly maxKeys = 100_000,
  ) {
    if (!(capacity >= 1) || !(refillPerHour > 0)) throw new RangeError('a token bucket needs a capacity of at least 1 and a positive refill rate');
    this.#perMs = refillPerHour / 3_600_000;
  }

  /** Takes one token for `key`. */
  take(key: string): BucketAnswer {
    const now = this.clock.now();
    let b = this.#buckets.get(key);
    if (b) b.tokens = Math.min(this.capacity, b.tokens + Math.max(0, now - b.at) * this.#perMs);
    else {
      if (this.#buckets.size >= this.maxKeys) this.#forgetFull(now);
      b = { tokens: this.capacity, at: now };
      this.#buckets.set(key, b);
    }
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, retryAfterMs: 0 };
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - b.tokens) / this.#perMs) };
  }

  #forgetFull(now: number): void {
    for (const [k, b] of this.#buckets) if (b.tokens + (now - b.at) * this.#perMs >= this.capacity) this.#buckets.delete(k);
    // Still full of hosts that all spent tokens: forget the oldest half rather than grow.
    if (this.#buckets.size >= this.maxKeys) {
      let n = Math.floor(this.maxKeys / 2);
      for (const k of this.#buckets.keys()) {
        if (n-- <= 0) break;
        this.#buckets.delete(k);
      }
    }
  }
}
