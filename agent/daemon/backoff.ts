/**
 * Timing for the pull loop: exponential backoff with jitter after failures, and interval plus
 * splay between runs. Randomness is injected so tests are deterministic.
 */

/** A source of uniform numbers in [0, 1), like Math.random. */
export type Random = () => number;

export interface BackoffOptions {
  /** First delay after a failure. */
  readonly minMs: number;
  /** Largest delay. */
  readonly maxMs: number;
  /** Growth per consecutive failure. Default 2. */
  readonly factor?: number;
  readonly random?: Random;
}

/**
 * Exponential backoff with "equal jitter": the n-th consecutive failure waits a random time in
 * [d/2, d) where d = min(maxMs, minMs * factor^n). Half the delay is guaranteed (no thundering
 * herd of zero waits), the other half spreads agents that failed at the same moment.
 */
export class Backoff {
  readonly #min: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #random: Random;
  #attempt = 0;

  constructor(opts: BackoffOptions) {
    if (!(opts.minMs > 0) || !(opts.maxMs >= opts.minMs)) throw new RangeError('backoff needs 0 < minMs <= maxMs');
    this.#min = opts.minMs;
    this.#max = opts.maxMs;
    this.#factor = opts.factor ?? 2;
    this.#random = opts.random ?? Math.random;
  }

  /** Consecutive failures so far. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next try, and counts one more failure. */
  next(): number {
    const ceiling = Math.min(this.#max, this.#min * this.#factor ** this.#attempt);
    this.#attempt++;
    const half = ceiling / 2;
    return Math.round(half + this.#random() * half);
  }

  /** After a success. */
  reset(): void {
    this.#attempt = 0;
  }
}

/** The wait between two runs: the interval plus a random splay in [0, splayMs). */
export function nextRunDelay(intervalMs: number, splayMs: number, random: Random = Math.random): number {
  return Math.round(intervalMs + (splayMs > 0 ? random() * splayMs : 0));
}

/**
 * Waits `ms`, or less when `signal` aborts. Resolves true when the full time passed, false when
 * aborted; never rejects (shutdown is a branch of every wait, not an exception).
 */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
