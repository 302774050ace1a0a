/**
 * SqliteStore: the embedded default DocumentStore, one SQLite file (better-sqlite3 12) with
 * journal_mode=WAL, synchronous=FULL (an acknowledged write survives kill -9 and power loss)
 * and busy_timeout (several processes on one host may share the file; writers queue).
 * Writes go through GroupCommit: concurrent writes share one transaction and one fsync.
 * Not for network filesystems, and not shared by several servers: that needs MongoDB.
 */
import { chmodSync, closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { checkIndexes, checkName } from '../check-options.js';
import { StoreError } from '../store-error.js';
import type { BlobStore, Collection, Doc, DocumentStore, IndexSpec } from '../types.js';
import type { DataDirLock } from './data-dir-lock.js';
import { GroupCommit } from './group-commit.js';
import { SqliteBlobStore } from './sqlite-blob-store.js';
import { SqliteCollection } from './sqlite-collection.js';
import type { SqliteHandle } from './sqlite-handle.js';
import { syncIndexes } from './sqlite-indexes.js';

/** Options of SqliteStore.open. */
export interface SqliteStoreOptions {
  /** The database file, or ':memory:' for tests. Created with mode 0600 when missing. */
  readonly path: string;
  /** How long a writer waits for another process's lock before failing (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** FULL (default) survives power loss; NORMAL survives process crashes only, and is faster. */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** A lock to release when the store closes (openStore's single-server data-directory lock). */
  readonly lock?: DataDirLock;
  /** Called when the store closes (openStore: stop an integrity check still running). */
  readonly onClose?: () => void;
}

const STATEMENT_CACHE_SIZE = 512;
/** Page size of a new database file (SQLite's default is 4096). */
const PAGE_SIZE = 8192;

/** The embedded DocumentStore. Create it with SqliteStore.open; only one per file per process. */
export class SqliteStore implements DocumentStore {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #handle: SqliteHandle;
  readonly #writes: GroupCommit;
  readonly #lock: DataDirLock | undefined;
  readonly #onClose: (() => void) | undefined;
  #closed = false;

  private constructor(path: string, db: Database.Database, lock: DataDirLock | undefined, onClose: (() => void) | undefined) {
    this.path = path;
    this.#db = db;
    this.#lock = lock;
    this.#onClose = onClose;
    this.#writes = new GroupCommit(db);
    this.#handle = {
      db,
      prepare: (sql) => this.#prepare(sql),
      write: (fn) => this.#writes.write(fn),
      assertOpen: () => {
        if (this.#closed) throw new StoreError('CLOSED', 'the store is closed');
      },
    };
  }

  /** Opens (creating if needed) the database file and applies the pragmas. Synchronous. */
  static open(options: SqliteStoreOptions): SqliteStore {
    if (options.path !== ':memory:') {
      closeSync(openSync(options.path, 'a', 0o600));
      chmodSync(options.path, 0o600);
    }
    const db = new Database(options.path);
    try {
      // A new file gets 8 KiB pages (ADR 0024): a document up to ~2 KB (a run report) stays
      // inside its b-tree page instead of spilling into an overflow page of its own. It takes
      // effect only before the first table exists: an existing file keeps the page size it has.
      db.pragma(`page_size = ${PAGE_SIZE}`);
      if (options.path !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteStore(options.path, db, options.lock, options.onClose);
  }

  async collection<T extends Doc>(name: string, indexes: readonly IndexSpec[] = []): Promise<Collection<T>> {
    checkName('collection', name);
    checkIndexes(indexes);
    this.#handle.assertOpen();
    const table = `doc_${name}`;
    this.#db.exec(`CREATE TABLE IF NOT EXISTS "${table}" (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID`);
    syncIndexes(this.#db, table, indexes);
    this.#statements.clear(); // schema changed: cached statements are re-prepared
    return new SqliteCollection<T>(this.#handle, name, indexes.map((ix) => ({ ...ix, fields: { ...ix.fields } })));
  }

  async blobs(bucket: string): Promise<BlobStore> {
    checkName('bucket', bucket);
    this.#handle.assertOpen();
    const store = new SqliteBlobStore(this.#handle, bucket);
    store.init();
    return store;
  }

  /** The connection's durability settings, for diagnostics and start-up logs. */
  settings(): { journalMode: string; synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA'; busyTimeoutMs: number; pageSize: number } {
    this.#handle.assertOpen();
    const sync = this.#db.pragma('synchronous', { simple: true }) as number;
    return {
      journalMode: String(this.#db.pragma('journal_mode', { simple: true })),
      synchronous: (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[sync] ?? 'OFF',
      busyTimeoutMs: this.#db.pragma('busy_timeout', { simple: true }) as number,
      pageSize: this.#db.pragma('page_size', { simple: true }) as number,
    };
  }

  /** Runs PRAGMA integrity_check; resolves ['ok'] when the file is sound. */
  integrityCheck(): string[] {
    this.#handle.assertOpen();
    return (this.#db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  }

  /** Writes a consistent online copy of the database to `destination` (SQLite backup API). */
  async backup(destination: string): Promise<void> {
    this.#handle.assertOpen();
    await this.#db.backup(destination);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose?.();
    this.#writes.flush(); // acknowledge (or reject) every write already requested
    this.#statements.clear();
    try {
      this.#db.close();
    } finally {
      this.#lock?.release();
    }
  }

  #prepare(sql: string): Database.Statement {
    let stmt = this.#statements.get(sql);
    if (stmt === undefined) {
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) this.#statements.clear();
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }
}
