/**
 * Periodic, level-triggered housekeeping: roll up the current hour's compliance, delete raw
 * reports past their retention, hourly and daily history and drift events past theirs, and sweep
 * expired bootstrap tokens, audit log events past their retention, and (cluster mode) expired
 * shared nonce claims. Each tick is idempotent, so a missed or doubled tick is harmless.
 */
import type { Logger } from '../log.js';
import type { Services } from '../services/services.js';

export interface HousekeepingOptions {
  readonly intervalMs?: number;
  /** Raw reports older than this are deleted. Default 14 days. */
  readonly reportRetentionMs?: number;
  /** Hourly compliance buckets older than this are deleted. Default 400 days. */
  readonly historyRetentionMs?: number;
  /** Audit log events older than this are deleted (bounded batches per tick). Default 400 days. */
  readonly auditRetentionMs?: number;
  /** Daily compliance buckets older than this are deleted. Default 5 years (1826 days). */
  readonly dailyRetentionMs?: number;
  /** Drift events older than this are deleted. Default 90 days. */
  readonly driftRetentionMs?: number;
}

/** Blob sweeps run at most this often (a sweep lists every blob); marking runs every tick. */
export const BLOB_SWEEP_EVERY_MS = 3_600_000;

export class Housekeeping {
  #timer: NodeJS.Timeout | undefined;
  #lastBlobSweep = Number.NEGATIVE_INFINITY;
  #running: Promise<void> | undefined;
  readonly #ac = new AbortController();
  readonly intervalMs: number;
  readonly reportRetentionMs: number;
  readonly historyRetentionMs: number;
  readonly auditRetentionMs: number;
  readonly dailyRetentionMs: number;
  readonly driftRetentionMs: number;

  constructor(
    private readonly services: Services,
    private readonly log: Logger,
    opts: HousekeepingOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 5 * 60_000;
    this.reportRetentionMs = opts.reportRetentionMs ?? 14 * 86_400_000;
    this.historyRetentionMs = opts.historyRetentionMs ?? 400 * 86_400_000;
    this.auditRetentionMs = opts.auditRetentionMs ?? 400 * 86_400_000;
    this.dailyRetentionMs = opts.dailyRetentionMs ?? 1826 * 86_400_000;
    this.driftRetentionMs = opts.driftRetentionMs ?? 90 * 86_400_000;
  }

  /** One pass; resolves what it did. */
  async tick(): Promise<{ buckets: number; reportsDeleted: number; historyDeleted: number; tokensDeleted: number; noncesDeleted: number; auditDeleted: number; dailyDeleted: number; driftDeleted: number; blobsMarked: number; blobsDeleted: number }> {
    const s = this.services;
    const now = s.clock.now();
    const signal = this.#ac.signal;
    const buckets = await s.compliance.rollup(signal);
    const reportsDeleted = await s.reports.prune(now - this.reportRetentionMs, signal);
    const historyDeleted = await s.compliance.prune(now - this.historyRetentionMs, signal);
    const tokensDeleted = await s.enrollment.sweepTokens(signal);
    const noncesDeleted = (await s.sharedNonces?.prune(now, signal)) ?? 0;
    // At most 200 batches of 1000 per tick: a backlog (a shortened retention) drains over ticks.
    const auditDeleted = await s.auditLog.prune(now - this.auditRetentionMs, signal);
    const dailyDeleted = await s.compliance.pruneDaily(now - this.dailyRetentionMs, signal);
    const driftDeleted = await s.drift.prune(now - this.driftRetentionMs, signal);
    // Every server marks what its cached catalogs serve, sweeping or not (ADR 0022).
    const blobsMarked = await s.catalogs.markServed(signal);
    let blobsDeleted = 0;
    if (s.blobRetention.graceMs !== undefined && now - this.#lastBlobSweep >= BLOB_SWEEP_EVERY_MS) {
      this.#lastBlobSweep = now;
      blobsDeleted = (await s.blobRetention.sweep(signal)).reduce((n, b) => n + b.deleted, 0);
    }
    return { buckets, reportsDeleted, historyDeleted, tokensDeleted, noncesDeleted, auditDeleted, dailyDeleted, driftDeleted, blobsMarked, blobsDeleted };
  }

  start(): void {
    if (this.#timer) return;
    const run = (): void => {
      if (this.#running || this.#ac.signal.aborted) return;
      this.#running = this.tick()
        .then((r) => this.log.debug('housekeeping', r))
        .catch((err: unknown) => this.log.error('housekeeping failed', { err }))
        .finally(() => (this.#running = undefined));
    };
    this.#timer = setInterval(run, this.intervalMs);
    this.#timer.unref();
    setImmediate(run);
  }

  async stop(): Promise<void> {
    this.#ac.abort();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
