/**
 * What one host may send as reports: a size limit per report (413 beyond) and a rate (a token
 * bucket per host: a burst, then a steady rate; 429 with Retry-After beyond). Limits of
 * `stead server` (--report-max-bytes, --reports-per-hour), documented in docs/server.md.
 */
import type { Clock } from './clock.js';
import { TokenBuckets, type BucketAnswer } from './token-bucket.js';

export interface ReportQuotaOptions {
  /** Largest report body in bytes. Default 4 MiB. */
  readonly maxBytes?: number;
  /** Reports a host may send at once after a quiet period. Default 30. */
  readonly burst?: number;
  /** Reports per hour a host may send in the long run. Default 360 (one per 10 s). */
  readonly perHour?: number;
}

export const reportQuotaDefaults = { maxBytes: 4 * 1024 * 1024, burst: 30, perHour: 360 } as const;

/**
 * The range --report-max-bytes may take. The top is half the store's 16 MiB document limit: a
 * stored report also carries its compliance summary (every resource id once more).
 */
export const reportMaxBytesRange = { min: 64 * 1024, max: 8 * 1024 * 1024 } as const;

export class ReportQuota {
  readonly maxBytes: number;
  readonly #buckets: TokenBuckets;

  constructor(clock: Clock, opts: ReportQuotaOptions = {}) {
    this.maxBytes = opts.maxBytes ?? reportQuotaDefaults.maxBytes;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < reportMaxBytesRange.min || this.maxBytes > reportMaxBytesRange.max) {
      throw new RangeError(`the report size limit must be ${reportMaxBytesRange.min}-${reportMaxBytesRange.max} bytes`);
    }
    this.#buckets = new TokenBuckets(clock, opts.burst ?? reportQuotaDefaults.burst, opts.perHour ?? reportQuotaDefaults.perHour);
  }

  get burst(): number {
    return this.#buckets.capacity;
  }

  get perHour(): number {
    return this.#buckets.refillPerHour;
  }

  /** Counts one report of `host`. */
  take(host: string): BucketAnswer {
    return this.#buckets.take(host);
  }
}
