/**
 * SqliteHandle: what a SQLite collection or blob bucket needs from its store: the
 * connection, a prepared-statement cache and the closed check.
 */
import type Database from 'better-sqlite3';

export interface SqliteHandle {
  readonly db: Database.Database;
  /** A cached prepared statement for `sql` (SQL text is built only from checked names and paths). */
  prepare(sql: string): Database.Statement;
  /** Throws StoreError CLOSED after close(). */
  assertOpen(): void;
}
