/**
 * Retention: deleting raw documents (reports, expired leases, old events) older than a cutoff,
 * in bounded batches so neither backend holds a long lock and the server keeps answering.
 * The caller decides the collections and cutoffs (the clock is passed in, never read here);
 * rolled-up history is kept in other collections and is not touched.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { checkPath } from './field-path.js';
import { StoreError } from './store-error.js';
import type { Collection, Doc, Filter } from './types.js';

/** What to delete. */
export interface RetentionOptions {
  /** The field compared with the cutoff (e.g. "receivedAt"). An index on it keeps batches cheap. */
  readonly field: string;
  /**
   * Documents with `field` < cutoff are deleted: a Date for Date fields, a number for numeric
   * ones (e.g. epoch milliseconds). Documents without the field, or holding another type, are kept.
   */
  readonly cutoff: Date | number;
  /** Extra conditions ANDed to the age condition (e.g. `{ hostId: 'h1' }`). */
  readonly where?: Filter;
  /** Documents per batch (default 500, 1-10000). */
  readonly batchSize?: number;
  /** Stop after this many batches (default: until none is left). */
  readonly maxBatches?: number;
  /** Stops between batches when aborted; the result then has done: false. */
  readonly signal?: AbortSignal;
}

/** What a retention pass did. */
export interface RetentionResult {
  readonly deleted: number;
  readonly batches: number;
  /** True when no matching document was left at the end. */
  readonly done: boolean;
}

/**
 * deleteOlderThan deletes the oldest matching documents first, batch by batch: each batch
 * reads up to batchSize ids sorted by `field`, then deletes those ids that still match.
 * Safe to run concurrently from several servers (a document is deleted once); resumable.
 */
export async function deleteOlderThan<T extends Doc>(collection: Collection<T>, options: RetentionOptions): Promise<RetentionResult> {
  checkPath(options.field, 'retention');
  const c = options.cutoff;
  if (!(c instanceof Date ? !Number.isNaN(c.getTime()) : typeof c === 'number' && Number.isFinite(c))) {
    throw new StoreError('BAD_FILTER', 'retention cutoff must be a valid Date or a finite number');
  }
  const batchSize = options.batchSize ?? 500;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new StoreError('BAD_FILTER', 'batchSize must be 1-10000');
  const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
  const old: Filter = { [options.field]: { $lt: options.cutoff } };
  const match: Filter = options.where === undefined ? old : { $and: [old, options.where] };
  let deleted = 0;
  let batches = 0;
  while (batches < maxBatches) {
    if (options.signal?.aborted === true) return { deleted, batches, done: false };
    const ids = (await collection.find(match, { sort: { [options.field]: 1 }, limit: batchSize, projection: { _id: 1 } }))
      .map((d) => d._id);
    if (ids.length === 0) return { deleted, batches, done: true };
    deleted += await collection.deleteMany({ $and: [match, { _id: { $in: ids } }] });
    batches++;
    if (ids.length < batchSize) return { deleted, batches, done: true };
    await yieldToLoop();
  }
  return { deleted, batches, done: (await collection.count(match)) === 0 };
}
