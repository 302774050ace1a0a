/**
 * Translation of MongoDB driver errors into store errors.
 */
import { DuplicateKeyError, StoreError } from '../store-error.js';

/**
 * toStoreError maps code 11000 (also inside bulk write errors) to DuplicateKeyError naming
 * the index (`_id` for `_id_`), and code 66 (ImmutableField) to IMMUTABLE_ID; anything else
 * is returned unchanged.
 */
export function toStoreError(err: unknown, collection: string): unknown {
  const e = err as { code?: unknown; message?: unknown; writeErrors?: unknown; errorResponse?: { code?: unknown } } | null;
  const codes = [e?.code, e?.errorResponse?.code];
  if (Array.isArray(e?.writeErrors)) for (const w of e.writeErrors as { code?: unknown }[]) codes.push(w.code);
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (codes.includes(11000)) {
    const named = /index: (\S+)/.exec(message)?.[1];
    const index = named === undefined || named === '_id_' ? '_id' : named;
    return new DuplicateKeyError(`duplicate key in ${collection} (index ${index})`, index, { cause: err });
  }
  if (codes.includes(66)) return new StoreError('IMMUTABLE_ID', `cannot change _id in ${collection}`, { cause: err });
  return err;
}
