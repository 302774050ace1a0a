/**
 * The store contract: a narrow subset of MongoDB's query and update syntax that both the
 * embedded SQLite store and the MongoDB store implement with the same results. Services
 * depend on these types only. Rules every implementation keeps:
 *
 * - Ids are strings (`_id`). Stores never read the clock and never generate ids, except the
 *   `_id` of a document created by an upsert whose filter does not fix it (a random UUID).
 * - Single-document atomicity only: no multi-document transactions, no change streams. Use
 *   `findOneAndUpdate` with a `version` (compare-and-swap) or an `until` (lease) in the filter.
 * - Anything outside the contract is refused with a StoreError, never passed through:
 *   `$where`, `$function`, `$expr`, `$regex` and unknown operators; documents with keys
 *   `__proto__`, `constructor`, `prototype`, keys starting with `$` or containing `.`.
 * - Field paths are dotted (`a.b`), never traverse arrays and have no numeric segments.
 *   Scalar operators are for scalar fields; an array field is queried with `$all` only.
 *   A field used in `sort` holds one type across documents (or is missing).
 * - Fields of a unique index are never null; a non-partial unique index requires them present.
 */
import type { StoreErrorCode } from './store-error.js';

export { DuplicateKeyError, StoreError, isDuplicateKey, isStoreError } from './store-error.js';
export type { StoreErrorCode };

/** A scalar a filter can compare with. Dates round-trip as Date objects. */
export type Scalar = string | number | boolean | null | Date;

/** A value that can be ordered: ranges take only these. */
export type Ordered = string | number | Date;

/** Operators allowed on one field. Several operators on one field are ANDed. */
export interface FieldOperators {
  $eq?: Scalar;
  $ne?: Scalar;
  $in?: readonly Scalar[];
  $nin?: readonly Scalar[];
  $gt?: Ordered;
  $gte?: Ordered;
  $lt?: Ordered;
  $lte?: Ordered;
  $exists?: boolean;
  /** The array field contains every listed value. For array fields only (see docs/adr/0002-store.md). */
  $all?: readonly Scalar[];
  /** The string field starts with this prefix (MongoDB: an anchored, escaped $regex). */
  $startsWith?: string;
}

/** The condition on one field: a scalar (equality, `null` also matches missing) or operators. */
export type FieldCondition = Scalar | FieldOperators;

/**
 * A filter: field paths with conditions, combined with $and / $or. `{}` matches everything.
 * A field whose value is `undefined` is refused (BAD_FILTER), never ignored: `{host: maybe}`
 * must not silently match every document.
 */
export interface Filter {
  $and?: readonly Filter[];
  $or?: readonly Filter[];
  [path: string]: FieldCondition | readonly Filter[] | undefined;
}

/** An element list for $push / $addToSet. */
export interface Each {
  $each: readonly unknown[];
  /** $push only: keep the first n (n ≥ 0) or the last -n (n < 0) elements afterwards. */
  $slice?: number;
}

/** Update operators; each maps field paths to values. Paths of two operators must not overlap. */
export interface Update {
  $set?: Readonly<Record<string, unknown>>;
  $unset?: Readonly<Record<string, true | 1 | ''>>;
  $inc?: Readonly<Record<string, number>>;
  $min?: Readonly<Record<string, Ordered>>;
  $max?: Readonly<Record<string, Ordered>>;
  $push?: Readonly<Record<string, unknown>>;
  $addToSet?: Readonly<Record<string, unknown>>;
  /** Removes array elements equal to the scalar, or to any of `{$in: [...]}`. */
  $pull?: Readonly<Record<string, Scalar | { $in: readonly Scalar[] }>>;
  /** Applied only when an upsert inserts. */
  $setOnInsert?: Readonly<Record<string, unknown>>;
}

/** Sort: field path → 1 ascending / -1 descending. `_id` ascending is always the last key. */
export type Sort = Readonly<Record<string, 1 | -1>>;

/** Options of find/findOne. */
export interface FindOptions {
  sort?: Sort | undefined;
  skip?: number | undefined;
  limit?: number | undefined;
  /** Inclusion projection (`{a: 1, 'b.c': 1}`); `_id` is included unless `_id: 0`. */
  projection?: Readonly<Record<string, 1 | 0>> | undefined;
  /** Aborts a read that has not finished (MongoDB); checked before the query (SQLite). */
  signal?: AbortSignal | undefined;
}

/** Options of read-only aggregates (count, countBy). */
export interface ReadOptions {
  signal?: AbortSignal | undefined;
}

/** Options of updateOne / updateMany / replaceOne. */
export interface UpdateOptions {
  /** When nothing matches, insert a document built from the filter's equalities plus the update. */
  upsert?: boolean | undefined;
}

/** Options of findOneAndUpdate. */
export interface FindOneAndUpdateOptions extends UpdateOptions {
  /** Which version to return; MongoDB's default, 'before', applies when absent. */
  returnDocument?: 'before' | 'after' | undefined;
  /** Which document to take when several match (e.g. the oldest queued job). */
  sort?: Sort | undefined;
  projection?: Readonly<Record<string, 1 | 0>> | undefined;
}

/** The result of updateOne / updateMany / replaceOne. */
export interface UpdateResult {
  /** Documents the filter matched (0 when an upsert inserted). */
  matched: number;
  /** Documents whose content changed. */
  modified: number;
  /** The _id of the document an upsert inserted. */
  upsertedId?: string;
}

/** One group of countBy. `value` is null for documents where the field is missing or null. */
export interface GroupCount {
  value: Scalar;
  count: number;
}

/** A declared index, created (or re-created when its definition changed) at start-up. */
export interface IndexSpec {
  /** [a-z][a-z0-9_]* — unique within the collection. */
  name: string;
  /** Field paths in key order; direction is kept for MongoDB and ignored by SQLite. */
  fields: Readonly<Record<string, 1 | -1>>;
  unique?: boolean;
  /** Only documents where every field exists are indexed (MongoDB partialFilterExpression $exists). */
  partialExists?: boolean;
}

/** A stored document: string ids only. */
export interface Doc {
  _id: string;
  [key: string]: unknown;
}

/**
 * One collection of documents of type T. Every method validates its arguments against the
 * contract first and throws StoreError (code BAD_*, UNSUPPORTED_OPERATOR) without touching
 * data; unique violations throw DuplicateKeyError. Returned documents are fresh copies.
 */
export interface Collection<T extends Doc> {
  readonly name: string;
  /** Inserts one document; DuplicateKeyError when its _id or a unique key exists. */
  insertOne(doc: T): Promise<void>;
  /** Inserts in order and stops at the first error; documents before it stay inserted. */
  insertMany(docs: readonly T[]): Promise<void>;
  findOne(filter: Filter, options?: FindOptions): Promise<T | null>;
  find(filter: Filter, options?: FindOptions): Promise<T[]>;
  count(filter: Filter, options?: ReadOptions): Promise<number>;
  /** Counts matching documents per value of `field`, ordered by value (null first). */
  countBy(field: string, filter: Filter, options?: ReadOptions): Promise<GroupCount[]>;
  updateOne(filter: Filter, update: Update, options?: UpdateOptions): Promise<UpdateResult>;
  /** Applies the update to every matching document; each document is updated atomically. */
  updateMany(filter: Filter, update: Update): Promise<UpdateResult>;
  /**
   * The lease and compare-and-swap primitive: atomically finds one document (the first by
   * `sort`), updates it and returns it (before or after). Null when nothing matched and no
   * upsert happened. Of N concurrent calls whose filter pins a `version`, exactly one wins.
   */
  findOneAndUpdate(filter: Filter, update: Update, options?: FindOneAndUpdateOptions): Promise<T | null>;
  /** Replaces the first matching document; the replacement keeps (or must equal) its _id. */
  replaceOne(filter: Filter, doc: T, options?: UpdateOptions): Promise<UpdateResult>;
  /** Deletes the first matching document; resolves the number deleted (0 or 1). */
  deleteOne(filter: Filter): Promise<number>;
  deleteMany(filter: Filter): Promise<number>;
}

/** Metadata of a stored blob. */
export interface BlobInfo {
  key: string;
  size: number;
  meta: Readonly<Record<string, string>>;
}

/** An open read of a blob: its size, the range read and the bytes as a stream of chunks. */
export interface BlobReader {
  readonly size: number;
  readonly start: number;
  /** Exclusive, clamped to the size. */
  readonly end: number;
  /**
   * Bytes [start, end) in order, one store chunk (at most 256 KiB) at a time: never the whole
   * blob in one buffer. Iterate once. A blob deleted while it is read ends the iteration with
   * StoreError BLOB_GONE rather than short bytes.
   */
  readonly chunks: AsyncIterable<Buffer>;
}

/**
 * Immutable, content-addressed blobs: the key is the lowercase hex sha256 of the bytes.
 * Keys that are not /^[0-9a-f]{64}$/ are refused with BAD_BLOB_KEY before any I/O.
 */
export interface BlobStore {
  /**
   * Stores `data` under `key` after checking sha256(data) === key (BLOB_HASH_MISMATCH
   * otherwise, nothing stored). Resolves true if stored now, false if it already existed.
   * A blob becomes visible only complete.
   */
  put(key: string, data: Uint8Array, meta?: Readonly<Record<string, string>>): Promise<boolean>;
  get(key: string, options?: ReadOptions): Promise<Buffer | null>;
  /** Bytes [start, end) of the blob (end exclusive, clamped to the size); null if absent. */
  getRange(key: string, start: number, end: number, options?: ReadOptions): Promise<Buffer | null>;
  /**
   * Opens the blob for a streamed read of [start, end) (default: all of it; end clamped to the
   * size, BAD_RANGE as getRange); null if absent. Memory stays bounded by the chunk size.
   */
  read(key: string, options?: ReadOptions & { start?: number; end?: number }): Promise<BlobReader | null>;
  has(key: string): Promise<boolean>;
  stat(key: string): Promise<BlobInfo | null>;
  /** All keys, in key order (for garbage collection of unreferenced blobs). */
  keys(options?: ReadOptions): Promise<string[]>;
  /** Resolves true if the blob existed. */
  delete(key: string): Promise<boolean>;
}

/** Which implementation a DocumentStore is. */
export type StoreKind = 'sqlite' | 'mongo';

/**
 * A database: named collections with declared indexes, and blob buckets. Names are
 * [a-z][a-z0-9_]{0,62}. collection() creates the collection and its indexes when missing.
 */
export interface DocumentStore {
  readonly kind: StoreKind;
  collection<T extends Doc>(name: string, indexes?: readonly IndexSpec[]): Promise<Collection<T>>;
  blobs(bucket: string): Promise<BlobStore>;
  /** Releases the connection; later calls throw StoreError CLOSED. Idempotent. */
  close(): Promise<void>;
}
