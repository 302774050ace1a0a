/**
 * MongoBlobStore: content-addressed blobs in GridFS (bucket "blob_<bucket>"), the file name
 * being the sha256 key. GridFS writes the files document after the last chunk, so a blob is
 * visible only complete; a unique index on filename makes concurrent puts of one key store
 * it once. A crashed upload can leave orphan chunks (invisible, reclaimable), never a partial blob.
 */
import type { Db, GridFSBucket, GridFSFile } from 'mongodb';
import { GridFSBucket as Bucket } from 'mongodb';
import { checkBlobData, checkBlobKey, checkBlobMeta, checkRange } from '../check-blob.js';
import { isDuplicateKey } from '../store-error.js';
import { StoreError } from '../store-error.js';
import type { BlobInfo, BlobReader, BlobStore, ReadOptions } from '../types.js';
import { toStoreError } from './mongo-errors.js';

/** The MongoDB implementation of BlobStore (built by MongoStore.blobs). */
export class MongoBlobStore implements BlobStore {
  readonly #db: Db;
  readonly #name: string;
  readonly #bucket: GridFSBucket;
  readonly #assertOpen: () => void;

  constructor(db: Db, bucket: string, assertOpen: () => void) {
    this.#db = db;
    this.#name = `blob_${bucket}`;
    this.#bucket = new Bucket(db, { bucketName: this.#name, writeConcern: { w: 'majority' } });
    this.#assertOpen = assertOpen;
  }

  /** Creates the unique filename index (idempotent); called once by MongoStore.blobs. */
  async init(): Promise<void> {
    await this.#db.collection(`${this.#name}.files`).createIndex({ filename: 1 }, { name: 'stead_filename_unique', unique: true });
  }

  async put(key: string, data: Uint8Array, meta?: Readonly<Record<string, string>>): Promise<boolean> {
    checkBlobKey(key);
    const buf = checkBlobData(key, data);
    const metadata = checkBlobMeta(meta);
    this.#assertOpen();
    if (await this.#file(key) !== null) return false;
    try {
      await new Promise<void>((resolve, reject) => {
        const up = this.#bucket.openUploadStream(key, { metadata });
        up.once('error', reject);
        up.once('finish', () => resolve());
        up.end(buf);
      });
      return true;
    } catch (err) {
      const mapped = toStoreError(err, `${this.#name}.files`);
      if (isDuplicateKey(mapped)) return false; // a concurrent put of the same content won
      throw mapped;
    }
  }

  async get(key: string, options?: ReadOptions): Promise<Buffer | null> {
    checkBlobKey(key);
    this.#assertOpen();
    const file = await this.#file(key, options?.signal);
    return file === null ? null : this.#read(file, 0, file.length, options?.signal);
  }

  async getRange(key: string, start: number, end: number, options?: ReadOptions): Promise<Buffer | null> {
    checkBlobKey(key);
    this.#assertOpen();
    const file = await this.#file(key, options?.signal);
    if (file === null) return null;
    return this.#read(file, start, checkRange(start, end, file.length), options?.signal);
  }

  async read(key: string, options?: ReadOptions & { start?: number; end?: number }): Promise<BlobReader | null> {
    checkBlobKey(key);
    this.#assertOpen();
    const file = await this.#file(key, options?.signal);
    if (file === null) return null;
    const start = options?.start ?? 0;
    const end = checkRange(start, options?.end ?? file.length, file.length);
    return { size: file.length, start, end, chunks: this.#chunksOf(file, start, end, options?.signal) };
  }

  /** GridFS chunks as the driver reads them (one 255 KiB chunk document at a time). */
  async *#chunksOf(file: GridFSFile, start: number, end: number, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
    if (end <= start) return;
    const stream = this.#bucket.openDownloadStream(file._id, { start, end });
    const onAbort = (): void => { stream.destroy(signal?.reason as Error); };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT' || /ChunkIsMissing|FileNotFound/.test(String((err as { name?: unknown }).name))) {
        throw new StoreError('BLOB_GONE', `blob ${file.filename} was deleted while it was read`, { cause: err });
      }
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      stream.destroy();
    }
  }

  async has(key: string): Promise<boolean> {
    checkBlobKey(key);
    this.#assertOpen();
    return (await this.#file(key)) !== null;
  }

  async stat(key: string): Promise<BlobInfo | null> {
    checkBlobKey(key);
    this.#assertOpen();
    const file = await this.#file(key);
    return file === null ? null : { key, size: file.length, meta: { ...(file.metadata ?? {}) } as Record<string, string> };
  }

  async keys(options?: ReadOptions): Promise<string[]> {
    this.#assertOpen();
    const files = await this.#bucket.find({}, { sort: { filename: 1 }, projection: { filename: 1 }, ...(options?.signal ? { signal: options.signal } : {}) }).toArray();
    return files.map((f) => f.filename);
  }

  async delete(key: string): Promise<boolean> {
    checkBlobKey(key);
    this.#assertOpen();
    const files = await this.#bucket.find({ filename: key }).toArray();
    for (const f of files) await this.#bucket.delete(f._id);
    return files.length > 0;
  }

  async #file(key: string, signal?: AbortSignal): Promise<GridFSFile | null> {
    const [file] = await this.#bucket.find({ filename: key }, { limit: 1, ...(signal ? { signal } : {}) }).toArray();
    return file ?? null;
  }

  async #read(file: GridFSFile, start: number, end: number, signal?: AbortSignal): Promise<Buffer> {
    if (end <= start) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    const stream = this.#bucket.openDownloadStream(file._id, { start, end });
    const onAbort = (): void => { stream.destroy(signal?.reason as Error); };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of stream) parts.push(chunk as Buffer);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return Buffer.concat(parts);
  }
}
