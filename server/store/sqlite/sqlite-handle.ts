/**
 * SqliteHandle: what a SQLite collection or blob bucket needs from its store: the
 * connection, a prepared-statement cache and the closed check.
 */
import type Database from 'better-sqlite3';

export interface SqliteHandle {
  readonly db: Database.Database;
  /** A cached prepared statement for `sql` (SQL text is built only from checked names and paths). */
  prepare(sql: string): Database.Statement;
  /**
   * Runs `fn` (synchronous SQLite work) in the group-commit write path: atomically, in request
   * order, resolved only after its transaction committed. See GroupCommit.
   */
  write<R>(fn: () => R): Promise<R>;
  /** Throws StoreError CLOSED after close(). */
  assertOpen(): void;
}
