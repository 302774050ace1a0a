/**
 * A fixed-window counter per key (client address): at most `limit` events per `windowMs`.
 * In memory, bounded (cleared when it holds more than maxKeys keys). Used for unauthenticated
 * entrances: enrollment without a bootstrap token, console logins.
 */
import type { Clock } from './clock.js';

export class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Counts one event for `key`; false when the key is over its limit in this window. */
  take(key: string): boolean {
    const now = this.clock.now();
    let w = this.#windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (this.#windows.size >= this.maxKeys) this.#windows.clear();
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    w.count++;
    return w.count <= this.limit;
  }

  /** Whether `key` is under its limit now, without counting an event. */
  peek(key: string): boolean {
    const w = this.#windows.get(key);
    return !w || this.clock.now() - w.start >= this.windowMs || w.count < this.limit;
  }
}
