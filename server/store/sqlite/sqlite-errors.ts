/**
 * Translation of better-sqlite3 errors into store errors.
 */
import { DuplicateKeyError } from '../store-error.js';

/**
 * toStoreError maps SQLite unique and primary-key violations to DuplicateKeyError, naming the
 * index as declared (`_id` for the primary key); anything else is returned unchanged.
 */
export function toStoreError(err: unknown, table: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== 'SQLITE_CONSTRAINT_UNIQUE' && code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return err;
  const message = err instanceof Error ? err.message : String(err);
  const named = /index '([^']+)'/.exec(message)?.[1];
  const prefix = `${table}__`;
  const index = named === undefined ? '_id' : named.startsWith(prefix) ? named.slice(prefix.length) : named;
  return new DuplicateKeyError(`duplicate key in ${table.replace(/^doc_/, '')} (index ${index})`, index, { cause: err });
}
