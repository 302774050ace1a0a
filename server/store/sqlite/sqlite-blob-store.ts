/**
 * SqliteBlobStore: content-addressed blobs inside the store's SQLite file, in 256 KiB chunks
 * (table "blob_<bucket>" for metadata, "blob_<bucket>_chunks" for bytes). A put writes all
 * chunks and the metadata row as one write (GroupCommit), so a crash never leaves a partial
 * blob visible and there is no temp file to clean up; range reads load only the chunks they need.
 */
import { checkBlobData, checkBlobKey, checkBlobMeta, checkRange } from '../check-blob.js';
import { StoreError } from '../store-error.js';
import type { BlobInfo, BlobReader, BlobStore, ReadOptions } from '../types.js';
import type { SqliteHandle } from './sqlite-handle.js';

/** Chunk size of stored blobs. */
export const BLOB_CHUNK_BYTES = 256 * 1024;

interface FileRow {
  key: string;
  size: number;
  meta: string;
  chunk: number;
}

/** The SQLite implementation of BlobStore (built by SqliteStore.blobs). */
export class SqliteBlobStore implements BlobStore {
  readonly #h: SqliteHandle;
  readonly #files: string;
  readonly #chunks: string;

  constructor(handle: SqliteHandle, bucket: string) {
    this.#h = handle;
    this.#files = `blob_${bucket}`;
    this.#chunks = `blob_${bucket}_chunks`;
  }

  /** Creates the bucket's tables when missing (called once by SqliteStore.blobs). */
  init(): void {
    this.#h.db.exec(`CREATE TABLE IF NOT EXISTS "${this.#files}" (key TEXT PRIMARY KEY NOT NULL, size INTEGER NOT NULL, meta TEXT NOT NULL, chunk INTEGER NOT NULL) WITHOUT ROWID`);
    this.#h.db.exec(`CREATE TABLE IF NOT EXISTS "${this.#chunks}" (key TEXT NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (key, n))`);
  }

  async put(key: string, data: Uint8Array, meta?: Readonly<Record<string, string>>): Promise<boolean> {
    checkBlobKey(key);
    const buf = checkBlobData(key, data);
    const m = JSON.stringify(checkBlobMeta(meta));
    this.#h.assertOpen();
    return this.#h.write(() => {
      if (this.#file(key) !== undefined) return false;
      const insert = this.#h.prepare(`INSERT INTO "${this.#chunks}" (key, n, data) VALUES (?, ?, ?)`);
      for (let n = 0; n * BLOB_CHUNK_BYTES < buf.length || n === 0; n++) {
        insert.run(key, n, buf.subarray(n * BLOB_CHUNK_BYTES, (n + 1) * BLOB_CHUNK_BYTES));
      }
      this.#h.prepare(`INSERT INTO "${this.#files}" (key, size, meta, chunk) VALUES (?, ?, ?, ?)`).run(key, buf.length, m, BLOB_CHUNK_BYTES);
      return true;
    });
  }

  async get(key: string, options?: ReadOptions): Promise<Buffer | null> {
    checkBlobKey(key);
    options?.signal?.throwIfAborted();
    this.#h.assertOpen();
    return this.#h.db.transaction(() => {
      const file = this.#file(key);
      return file === undefined ? null : this.#read(file, 0, file.size);
    })();
  }

  async getRange(key: string, start: number, end: number, options?: ReadOptions): Promise<Buffer | null> {
    checkBlobKey(key);
    options?.signal?.throwIfAborted();
    this.#h.assertOpen();
    return this.#h.db.transaction(() => {
      const file = this.#file(key);
      return file === undefined ? null : this.#read(file, start, checkRange(start, end, file.size));
    })();
  }

  async read(key: string, options?: ReadOptions & { start?: number; end?: number }): Promise<BlobReader | null> {
    checkBlobKey(key);
    options?.signal?.throwIfAborted();
    this.#h.assertOpen();
    const file = this.#file(key);
    if (file === undefined) return null;
    const start = options?.start ?? 0;
    const end = checkRange(start, options?.end ?? file.size, file.size);
    return { size: file.size, start, end, chunks: this.#chunksOf(file, start, end, options?.signal) };
  }

  /** One chunk row per step, each read on its own: a long download never holds a read transaction. */
  async *#chunksOf(file: FileRow, start: number, end: number, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
    if (end <= start) return;
    const one = this.#h.prepare(`SELECT data FROM "${this.#chunks}" WHERE key = ? AND n = ?`);
    for (let n = Math.floor(start / file.chunk); n * file.chunk < end; n++) {
      signal?.throwIfAborted();
      this.#h.assertOpen();
      const row = one.get(file.key, n) as { data: Buffer } | undefined;
      if (row === undefined) throw new StoreError('BLOB_GONE', `blob ${file.key} was deleted while it was read`);
      const from = Math.max(0, start - n * file.chunk);
      const to = Math.min(row.data.length, end - n * file.chunk);
      yield row.data.subarray(from, to);
    }
  }

  async has(key: string): Promise<boolean> {
    checkBlobKey(key);
    this.#h.assertOpen();
    return this.#file(key) !== undefined;
  }

  async stat(key: string): Promise<BlobInfo | null> {
    checkBlobKey(key);
    this.#h.assertOpen();
    const file = this.#file(key);
    return file === undefined ? null : { key, size: file.size, meta: JSON.parse(file.meta) as Record<string, string> };
  }

  async keys(options?: ReadOptions): Promise<string[]> {
    options?.signal?.throwIfAborted();
    this.#h.assertOpen();
    return (this.#h.prepare(`SELECT key FROM "${this.#files}" ORDER BY key`).all() as { key: string }[]).map((r) => r.key);
  }

  async delete(key: string): Promise<boolean> {
    checkBlobKey(key);
    this.#h.assertOpen();
    return this.#h.write(() => {
      this.#h.prepare(`DELETE FROM "${this.#chunks}" WHERE key = ?`).run(key);
      return this.#h.prepare(`DELETE FROM "${this.#files}" WHERE key = ?`).run(key).changes > 0;
    });
  }

  #file(key: string): FileRow | undefined {
    return this.#h.prepare(`SELECT key, size, meta, chunk FROM "${this.#files}" WHERE key = ?`).get(key) as FileRow | undefined;
  }

  /** Reads bytes [start, end) from the chunks that hold them, in one read transaction. */
  #read(file: FileRow, start: number, end: number): Buffer {
    if (end <= start) return Buffer.alloc(0);
    const first = Math.floor(start / file.chunk);
    const last = Math.floor((end - 1) / file.chunk);
    const rows = this.#h.prepare(`SELECT n, data FROM "${this.#chunks}" WHERE key = ? AND n BETWEEN ? AND ? ORDER BY n`)
      .all(file.key, first, last) as { n: number; data: Buffer }[];
    const joined = Buffer.concat(rows.map((r) => r.data));
    const offset = start - first * file.chunk;
    return joined.subarray(offset, offset + (end - start));
  }
}
