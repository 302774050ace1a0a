/**
 * Blob retention (ADR 0022): mark-and-sweep of the pruned blob buckets with a grace period.
 * - Roots: each bucket names the blobs its documents reference (every revision's files for
 *   `repo`, every job dispatch's blobs for `job_blobs`); `content` has none in documents: the
 *   catalogs servers hold in memory keep their blobs marked instead (CatalogService.markServed).
 * - Marks: blob-marks.ts; every put is marked first.
 * - Sweep: a blob is deleted when no root names it and its mark is older than the grace period;
 *   the mark is condemned by compare-and-swap first, so a put or mark racing the sweep either
 *   wins (the blob stays) or waits for it and stores the blob again. A blob with no mark at all
 *   (stored before marks existed) gets one now: it is never deleted on first sight.
 * Safe to run on several servers at once (each deletion is claimed by one CAS).
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { BlobStore } from '../store/types.js';
import { isDuplicateKey } from '../store/types.js';
import type { Logger } from '../log.js';
import type { JobCollections } from './jobs/job-model.js';
import { STALE_CONDEMN_MS, type BlobMarks, type MarkDoc } from './blob-marks.js';

/**
 * How often a server re-marks the blobs its cached catalogs name (and re-puts at a compile): a
 * quarter of the shortest grace period allowed (1 day), so a served blob's mark is never near it.
 */
export const BLOB_MARK_REFRESH_MS = 6 * 3_600_000;

/** The roots of `job_blobs`: every blob a job dispatch references, paged by _id. */
export async function jobBlobRoots(jobs: Pick<JobCollections, 'dispatches'>, signal: AbortSignal): Promise<Set<string>> {
  const out = new Set<string>();
  let after = '';
  for (;;) {
    signal.throwIfAborted();
    const page = await jobs.dispatches.find({ _id: { $gt: after }, blobIds: { $exists: true } }, { sort: { _id: 1 }, limit: 500, projection: { _id: 1, blobIds: 1 } });
    for (const d of page) for (const id of d.blobIds ?? []) out.add(id);
    if (page.length < 500) return out;
    after = page[page.length - 1]!._id;
  }
}

/** A pruned bucket: its store and the keys its documents reference now. */
export interface RetainedBucket {
  readonly name: string;
  readonly blobs: BlobStore;
  readonly roots?: (signal: AbortSignal) => Promise<ReadonlySet<string>>;
}

export interface BucketSweep {
  readonly bucket: string;
  /** Blobs in the bucket before the sweep. */
  readonly blobs: number;
  readonly referenced: number;
  /** Unreferenced, but marked within the grace period (or seen for the first time). */
  readonly inGrace: number;
  readonly deleted: number;
  readonly deletedBytes: number;
}

export interface BlobStats {
  readonly bucket: string;
  readonly blobs: number;
  readonly bytes: number;
  readonly referenced: number;
  /** Bytes of the referenced blobs (the rest of `bytes` is unreferenced). */
  readonly referencedBytes: number;
}

export class BlobRetention {
  /** Sweeps delete only when set: the grace period in ms (unset: marks are kept, nothing is deleted). */
  readonly graceMs: number | undefined;

  constructor(
    private readonly marks: BlobMarks,
    private readonly buckets: readonly RetainedBucket[],
    private readonly log: Logger,
    opts: { graceMs?: number } = {},
  ) {
    this.graceMs = opts.graceMs;
  }

  /** Count and bytes per bucket, and how many blobs (and bytes) documents reference. */
  async stats(signal: AbortSignal): Promise<BlobStats[]> {
    const out: BlobStats[] = [];
    for (const b of this.buckets) {
      const keys = await b.blobs.keys({ signal });
      const roots = b.roots ? await b.roots(signal) : new Set<string>();
      let bytes = 0;
      let referenced = 0;
      let referencedBytes = 0;
      for (const k of keys) {
        signal.throwIfAborted();
        const size = (await b.blobs.stat(k))?.size ?? 0;
        bytes += size;
        if (roots.has(k)) {
          referenced++;
          referencedBytes += size;
        }
      }
      out.push({ bucket: b.name, blobs: keys.length, bytes, referenced, referencedBytes });
    }
    return out;
  }

  /** One sweep of every bucket with `graceMs` (default: the configured one; none: nothing deleted). */
  async sweep(signal: AbortSignal, graceMs: number | undefined = this.graceMs): Promise<BucketSweep[]> {
    const out: BucketSweep[] = [];
    for (const b of this.buckets) out.push(await this.#sweepBucket(b, graceMs, signal));
    const deleted = out.reduce((n, s) => n + s.deleted, 0);
    if (deleted > 0) this.log.info('pruned unreferenced blobs', { buckets: out.filter((s) => s.deleted > 0) });
    return out;
  }

  async #sweepBucket(b: RetainedBucket, graceMs: number | undefined, signal: AbortSignal): Promise<BucketSweep> {
    const { marks, clock } = this.marks;
    const keys = await b.blobs.keys({ signal });
    const roots = b.roots ? await b.roots(signal) : new Set<string>();
    const byKey = new Map<string, MarkDoc>();
    for (const m of await marks.find({ bucket: b.name })) byKey.set(m.key, m);
    let referenced = 0;
    let inGrace = 0;
    let deleted = 0;
    let deletedBytes = 0;
    const now = clock.now();
    const cutoff = graceMs === undefined ? Number.NEGATIVE_INFINITY : now - graceMs;
    for (const [i, key] of keys.entries()) {
      signal.throwIfAborted();
      if (i % 200 === 199) await yieldToLoop();
      if (roots.has(key)) {
        referenced++;
        continue;
      }
      const _id = `${b.name}:${key}`;
      const mark = byKey.get(key);
      if (!mark) {
        inGrace++;
        try {
          await marks.insertOne({ _id, bucket: b.name, key, at: now });
        } catch (err) {
          if (!isDuplicateKey(err)) throw err; // marked meanwhile: needed
        }
        continue;
      }
      const deadSweep = mark.condemned !== undefined && mark.condemned < now - STALE_CONDEMN_MS;
      if (!(mark.at < cutoff) && !deadSweep) {
        inGrace++;
        continue;
      }
      // Claim the deletion: only a mark still old (not touched since it was read) is condemned.
      const claim = deadSweep
        ? await marks.updateOne({ _id, condemned: mark.condemned! }, { $set: { condemned: now } })
        : await marks.updateOne({ _id, at: { $lt: cutoff }, condemned: { $exists: false } }, { $set: { condemned: now } });
      if (claim.matched === 0) {
        inGrace++;
        continue;
      }
      const size = (await b.blobs.stat(key))?.size ?? 0;
      if (await b.blobs.delete(key)) {
        deleted++;
        deletedBytes += size;
      }
      await marks.deleteOne({ _id, condemned: now });
    }
    // Marks of blobs that are gone (deleted elsewhere) and old: nothing left to protect.
    const present = new Set(keys);
    for (const m of byKey.values()) {
      if (!present.has(m.key) && m.condemned === undefined && m.at < cutoff) await marks.deleteOne({ _id: m._id, at: m.at, condemned: { $exists: false } });
    }
    return { bucket: b.name, blobs: keys.length, referenced, inGrace, deleted, deletedBytes };
  }
}
