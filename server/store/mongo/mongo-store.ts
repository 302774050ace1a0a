/**
 * MongoStore: the DocumentStore for fleets (several servers, HA) on MongoDB through the
 * official driver. Writes use w: 'majority' with retryable writes; indexes are created at
 * start-up (collection()); undefined values are dropped, as in the SQLite store. Use a
 * replica-set URL in production; a standalone works but has no failover.
 */
import { MongoClient, type Db } from 'mongodb';
import { checkIndexes, checkName } from '../check-options.js';
import { StoreError } from '../store-error.js';
import type { BlobStore, Collection, Doc, DocumentStore, IndexSpec } from '../types.js';
import { MongoBlobStore } from './mongo-blob-store.js';
import { MongoCollection } from './mongo-collection.js';
import { mongoIndexOptions } from './to-mongo.js';

/** Options of MongoStore.connect. */
export interface MongoStoreOptions {
  /** mongodb:// or mongodb+srv:// URL; credentials belong in it (or in the environment that builds it). */
  readonly url: string;
  /** Database name; default: the URL's path, else "stead". */
  readonly dbName?: string;
  /** How long to wait for a reachable server before failing an operation (default 10000 ms). */
  readonly serverSelectionTimeoutMs?: number;
}

/** Index option conflicts: an index of that name exists with another definition. */
const INDEX_CONFLICT_CODES = new Set([85, 86]);

/** The MongoDB DocumentStore. Create it with MongoStore.connect. */
export class MongoStore implements DocumentStore {
  readonly kind = 'mongo' as const;
  /**
   * Set when the server is not MongoDB: FerretDB v1 (found by buildInfo's ferretdbVersion) does
   * not make an update atomic, so concurrent compare-and-swap and leases can both win
   * (docs/store.md). The server logs it at start.
   */
  readonly warning: string | undefined;
  /**
   * False on stock FerretDB v1 (updates not atomic): openStore refuses it for several servers.
   * True on MongoDB, and on the FerretDB the test suite builds with Stead's serialize-writes
   * patch (its version ends in `-stead-serialized-writes`; ADR 0023).
   */
  readonly atomicWrites: boolean;
  readonly #client: MongoClient;
  readonly #db: Db;
  #closed = false;
  readonly #assertOpen = (): void => {
    if (this.#closed) throw new StoreError('CLOSED', 'the store is closed');
  };

  private constructor(client: MongoClient, db: Db, warning: string | undefined, atomicWrites: boolean) {
    this.#client = client;
    this.#db = db;
    this.warning = warning;
    this.atomicWrites = atomicWrites;
  }

  /** Connects (and checks the server answers a ping) before resolving. */
  static async connect(options: MongoStoreOptions, signal?: AbortSignal): Promise<MongoStore> {
    const client = new MongoClient(options.url, {
      writeConcern: { w: 'majority' },
      retryWrites: true,
      ignoreUndefined: true,
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 10_000,
      appName: 'stead',
    });
    try {
      await client.connect();
      const named = client.db(options.dbName ?? databaseInUrl(options.url) ?? 'stead');
      await named.command({ ping: 1 }, signal === undefined ? {} : { signal });
      const info = await named.command({ buildInfo: 1 }, signal === undefined ? {} : { signal });
      const { warning, atomicWrites } = judgeServer(info['ferretdbVersion']);
      return new MongoStore(client, named, warning, atomicWrites);
    } catch (err) {
      await client.close().catch(() => undefined);
      throw err;
    }
  }

  async collection<T extends Doc>(name: string, indexes: readonly IndexSpec[] = []): Promise<Collection<T>> {
    checkName('collection', name);
    checkIndexes(indexes);
    this.#assertOpen();
    const c = this.#db.collection(name);
    for (const ix of indexes) {
      const options = mongoIndexOptions(ix);
      try {
        await c.createIndex({ ...ix.fields }, options);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code !== 'number' || !INDEX_CONFLICT_CODES.has(code)) {
          throw new StoreError('BAD_INDEX', `cannot create index ${ix.name} on ${name}`, { cause: err });
        }
        await c.dropIndex(ix.name); // the declaration changed: re-create it
        await c.createIndex({ ...ix.fields }, options);
      }
    }
    return new MongoCollection<T>(c, indexes.map((ix) => ({ ...ix, fields: { ...ix.fields } })), this.#assertOpen);
  }

  async blobs(bucket: string): Promise<BlobStore> {
    checkName('bucket', bucket);
    this.#assertOpen();
    const store = new MongoBlobStore(this.#db, bucket, this.#assertOpen);
    await store.init();
    return store;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.close();
  }
}

/** The suffix of the version of a FerretDB built with test/mongo/ferretdb-serialize-writes.patch. */
export const SERIALIZED_FERRETDB_SUFFIX = '-stead-serialized-writes';

/** What buildInfo's ferretdbVersion (absent on MongoDB) says of the server's write atomicity. */
export function judgeServer(ferretdbVersion: unknown): { warning: string | undefined; atomicWrites: boolean } {
  if (typeof ferretdbVersion !== 'string' || !/^v?1\./.test(ferretdbVersion)) return { warning: undefined, atomicWrites: true };
  if (ferretdbVersion.endsWith(SERIALIZED_FERRETDB_SUFFIX)) {
    return { warning: `the MongoDB URL names FerretDB ${ferretdbVersion}, the test suite's build whose writes are serialized (ADR 0023); use it for tests only (docs/store.md)`, atomicWrites: true };
  }
  return { warning: `the MongoDB URL names FerretDB ${ferretdbVersion}, whose updates are not atomic: leases and compare-and-swap are unsafe under concurrency; use it for tests only (docs/store.md)`, atomicWrites: false };
}

/** databaseInUrl: the database named in the URL's path, if any. */
export function databaseInUrl(url: string): string | undefined {
  const name = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/.exec(url)?.[1];
  return name === undefined || name === '' ? undefined : decodeURIComponent(name);
}
