/**
 * Errors raised by every DocumentStore implementation. Callers branch on `code`, never on
 * the message: the codes are stable across SQLite and MongoDB.
 */

/** The stable codes a store error can carry. */
export type StoreErrorCode =
  | 'UNSUPPORTED_OPERATOR' // a filter or update operator outside the contract ($where, $regex, $expr, …)
  | 'BAD_FILTER' // a filter that is structurally wrong (empty $or, array as a value, …)
  | 'BAD_UPDATE' // an update that is structurally wrong or cannot be applied to the document
  | 'BAD_DOCUMENT' // a document with a forbidden key or value (D2: __proto__, $-keys, dots, NaN, …)
  | 'BAD_PATH' // a field path the contract does not accept
  | 'BAD_NAME' // a collection, bucket or index name that is not [a-z][a-z0-9_]*
  | 'BAD_INDEX' // an index specification that is not valid
  | 'UNIQUE_FIELD_MISSING' // a document without (or with null in) a field of a unique index
  | 'IMMUTABLE_ID' // an update or replacement that would change _id
  | 'DOC_TOO_LARGE' // a document over the 16 MiB limit MongoDB imposes
  | 'BAD_BLOB_KEY' // a blob key that is not 64 lowercase hex characters
  | 'BLOB_HASH_MISMATCH' // put() data whose sha256 is not the key
  | 'BAD_RANGE' // a blob range outside the blob
  | 'BLOB_GONE' // a blob deleted while a streamed read of it was under way
  | 'BAD_CONFIG' // openStore() configuration that is refused (e.g. cluster mode without MongoDB)
  | 'CLOSED' // the store was closed
  | 'CORRUPT' // the embedded store's file is missing, emptied or damaged (found at start)
  | 'DUPLICATE_KEY'; // a unique index (or _id) already holds the key

/** StoreError is the base of every error a store throws on purpose. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

/**
 * DuplicateKeyError: an insert, update, replace or upsert hit a unique index or an existing
 * _id. `index` names the index when the backend reports it (`_id` for the primary key).
 * `mongoCode` is MongoDB's error number, for readers who know it.
 */
export class DuplicateKeyError extends StoreError {
  readonly index: string | undefined;
  readonly mongoCode = 11000;
  constructor(message: string, index: string | undefined, options?: { cause?: unknown }) {
    super('DUPLICATE_KEY', message, options);
    this.name = 'DuplicateKeyError';
    this.index = index;
  }
}

/** isDuplicateKey tells whether `err` is a DuplicateKeyError, for `catch` blocks. */
export function isDuplicateKey(err: unknown): err is DuplicateKeyError {
  return err instanceof DuplicateKeyError;
}

/** isStoreError tells whether `err` is a StoreError, optionally with a given code. */
export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}
