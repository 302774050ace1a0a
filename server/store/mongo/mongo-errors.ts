/**
 * Translation of MongoDB driver errors into store errors.
 */
import { DuplicateKeyError, StoreError } from '../store-error.js';

/**
 * Codes MongoDB answers an update that does not fit the stored document with: BadValue (2,
 * e.g. $push or $pull on a non-array), TypeMismatch (14, $inc on a string), PathNotViable (28,
 * $set through a scalar or an array). The SQLite store refuses the same updates as BAD_UPDATE.
 */
const BAD_UPDATE_CODES = [2, 14, 28];

/** A unique constraint violation as SQLite and PostgreSQL word it (FerretDB v1 passes it on). */
const BACKEND_DUPLICATE = /UNIQUE constraint failed|duplicate key value violates unique constraint/;

/**
 * toStoreError maps code 11000 (also inside bulk write errors) to DuplicateKeyError naming
 * the index (`_id` for `_id_`), code 66 (ImmutableField) to IMMUTABLE_ID and, for updates
 * (`update` true), the codes of an update that does not fit the document to BAD_UPDATE;
 * anything else is returned unchanged.
 */
export function toStoreError(err: unknown, collection: string, update = false, uniqueIndexes: readonly string[] = []): unknown {
  const e = err as { code?: unknown; message?: unknown; writeErrors?: unknown; errorResponse?: { code?: unknown } } | null;
  const codes = [e?.code, e?.errorResponse?.code];
  if (Array.isArray(e?.writeErrors)) for (const w of e.writeErrors as { code?: unknown }[]) codes.push(w.code);
  const message = typeof e?.message === 'string' ? e.message : String(err);
  // FerretDB v1 answers a duplicate made by an update with InternalError (code 1) and its
  // backend's message (SQLite or PostgreSQL), naming the index inside a longer table index name.
  if (codes.includes(11000) || (codes.includes(1) && BACKEND_DUPLICATE.test(message))) {
    const named = /index: (\S+)/.exec(message)?.[1];
    const index = named === '_id_' ? '_id' : named ?? uniqueIndexes.find((n) => new RegExp(`_${n}(?:_[0-9a-f]{8}_idx)?["']`).test(message));
    return new DuplicateKeyError(`duplicate key in ${collection} (index ${index ?? 'not named by the server'})`, index, { cause: err });
  }
  if (codes.includes(66)) return new StoreError('IMMUTABLE_ID', `cannot change _id in ${collection}`, { cause: err });
  if (update && BAD_UPDATE_CODES.some((c) => codes.includes(c))) {
    return new StoreError('BAD_UPDATE', `update does not fit the document in ${collection}: ${message}`, { cause: err });
  }
  return err;
}
