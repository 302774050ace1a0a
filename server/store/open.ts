/**
 * openStore: picks the DocumentStore for a server configuration. MongoDB when `mongodbUrl` is
 * set; otherwise the embedded SQLite store in `dataDir` — which serves one server only, so a
 * multi-server configuration without MongoDB is refused, and so is a second server (or a
 * second openStore in one process) on a data directory whose store is open.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MongoStore } from './mongo/mongo-store.js';
import { acquireDataDirLock } from './sqlite/data-dir-lock.js';
import { checkStoreFiles, corrupt, startupQuickCheck, type QuickCheckResult } from './sqlite/integrity-check.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { StoreError } from './store-error.js';
import type { DocumentStore } from './types.js';

/** The file name of the embedded store inside the data directory. */
export const SQLITE_FILE_NAME = 'stead.db';

/** What openStore needs from the server's configuration. */
export interface StoreConfig {
  /** The server's data directory; the embedded store is `<dataDir>/stead.db`. */
  readonly dataDir?: string;
  /** mongodb:// or mongodb+srv:// URL: use MongoDB (required for more than one server). */
  readonly mongodbUrl?: string;
  /** MongoDB database name (default: the URL's, else "stead"). */
  readonly mongodbDatabase?: string;
  /** How many server processes share this state (default 1). */
  readonly servers?: number;
  /** Cluster mode: several servers behind a load balancer. Implies servers > 1. */
  readonly cluster?: boolean;
  /** Embedded store only: 'NORMAL' trades power-loss durability for speed (default 'FULL'). */
  readonly sqliteSynchronous?: 'FULL' | 'NORMAL';
  /**
   * Embedded store only: run SQLite's quick_check at open, for at most this long (0 or absent:
   * no check). Damage found in time refuses the open (StoreError CORRUPT); a check still running
   * then goes on in the background and `onLateCheck` gets its verdict (or why it could not run).
   */
  readonly startupCheckMs?: number;
  readonly onLateCheck?: (verdict: QuickCheckResult | Error) => void;
}

/**
 * openStore opens the configured store. Throws StoreError BAD_CONFIG for a multi-server or
 * cluster configuration without MongoDB or on stock FerretDB v1 (updates not atomic), a data directory already in use by an open store
 * (the lock dies with its process, so a crashed server never blocks a restart), a missing
 * data directory, or a URL that is not mongodb:// / mongodb+srv://. MongoDB connection failures reject with the driver's error.
 */
export async function openStore(config: StoreConfig, signal?: AbortSignal): Promise<DocumentStore> {
  const servers = config.servers ?? 1;
  if (!Number.isSafeInteger(servers) || servers < 1) throw new StoreError('BAD_CONFIG', 'servers must be a positive integer');
  if (config.mongodbUrl !== undefined && config.mongodbUrl !== '') {
    if (!/^mongodb(\+srv)?:\/\//.test(config.mongodbUrl)) {
      throw new StoreError('BAD_CONFIG', 'the MongoDB URL must start with mongodb:// or mongodb+srv://');
    }
    const store = await MongoStore.connect({
      url: config.mongodbUrl,
      ...(config.mongodbDatabase === undefined ? {} : { dbName: config.mongodbDatabase }),
    }, signal);
    if ((servers > 1 || config.cluster === true) && !store.atomicWrites) {
      await store.close();
      throw new StoreError('BAD_CONFIG',
        `several servers need atomic single-document updates, which this store lacks: ${store.warning ?? 'not MongoDB'}`);
    }
    return store;
  }
  if (servers > 1 || config.cluster === true) {
    throw new StoreError('BAD_CONFIG',
      'several servers need MongoDB: set a MongoDB URL (the embedded SQLite store serves exactly one server)');
  }
  if (config.dataDir === undefined || config.dataDir === '') {
    throw new StoreError('BAD_CONFIG', 'the embedded store needs a data directory (or set a MongoDB URL)');
  }
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const path = join(config.dataDir, SQLITE_FILE_NAME);
  const lock = acquireDataDirLock(config.dataDir);
  let cancelCheck: (() => void) | undefined;
  try {
    // A lost or emptied store must not turn into a fresh install; a damaged one must not be served.
    checkStoreFiles(config.dataDir, path);
    if (config.startupCheckMs !== undefined && config.startupCheckMs > 0 && existsSync(path)) {
      const check = await startupQuickCheck(path, config.startupCheckMs);
      if (check.status === 'unfinished') {
        cancelCheck = check.cancel;
        check.later.then(
          (verdict) => config.onLateCheck?.(verdict),
          (err: unknown) => config.onLateCheck?.(err instanceof Error ? err : new Error(String(err))),
        );
      }
    }
    const store = SqliteStore.open({
      path,
      lock,
      ...(config.sqliteSynchronous === undefined ? {} : { synchronous: config.sqliteSynchronous }),
      ...(cancelCheck ? { onClose: cancelCheck } : {}),
    });
    return store;
  } catch (err) {
    cancelCheck?.();
    lock.release();
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') throw corrupt(path, [`${code}: ${(err as Error).message}`]);
    throw err;
  }
}
