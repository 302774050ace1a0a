/**
 * DataDirLock: makes the embedded store single-server. The lock is an exclusive SQLite lock
 * on `<dataDir>/stead.lock` held by a dedicated connection in locking_mode=EXCLUSIVE, so the
 * operating system releases it when the process ends in any way (kill -9 included): there is
 * never a stale lock to remove by hand, and no pid file to misread.
 */
import { chmodSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../store-error.js';

/** The lock file inside the data directory. */
export const LOCK_FILE_NAME = 'stead.lock';

/** A held data-directory lock. */
export interface DataDirLock {
  /** Releases the lock (idempotent). */
  release(): void;
}

/**
 * acquireDataDirLock takes the lock at once or throws StoreError BAD_CONFIG naming the
 * directory: another server (process or store in this process) is using it.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE_NAME);
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS owner (id INTEGER PRIMARY KEY, pid INTEGER NOT NULL)');
    db.prepare('INSERT OR REPLACE INTO owner (id, pid) VALUES (1, ?)').run(process.pid); // the write takes the exclusive lock, kept until close
  } catch (err) {
    db.close();
    const busy = (err as { code?: unknown }).code;
    if (busy === 'SQLITE_BUSY' || busy === 'SQLITE_LOCKED') {
      throw new StoreError('BAD_CONFIG', `another Stead server is using the data directory ${dataDir}; several servers need MongoDB`, { cause: err });
    }
    throw err;
  }
  let held = true;
  return {
    release: () => {
      if (!held) return;
      held = false;
      db.close();
    },
  };
}
