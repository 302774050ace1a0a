/**
 * MongoCollection: the contract over the official driver. Inputs are checked exactly as the
 * SQLite store checks them, then passed through (filters via toMongoFilter); the driver's
 * own atomicity gives findOneAndUpdate its compare-and-swap semantics.
 */
import { BSON, type Collection as DriverCollection, type Document, type Filter as DriverFilter } from 'mongodb';
import { checkDocument, checkUniqueFields, MAX_DOCUMENT_BYTES } from '../check-document.js';
import { DuplicateKeyError, StoreError } from '../store-error.js';
import { checkFilter } from '../check-filter.js';
import { checkFindOptions, type ParsedFindOptions } from '../check-options.js';
import { checkUpdate, checkUpdateKeepsUniqueFields } from '../check-update.js';
import { checkPath, getPath } from '../field-path.js';
import { project } from '../projection.js';
import type {
  Collection, Doc, Filter, FindOneAndUpdateOptions, FindOptions, GroupCount, IndexSpec, ReadOptions, Scalar,
  Update, UpdateOptions, UpdateResult,
} from '../types.js';
import { compareValues } from '../value-order.js';
import { toStoreError } from './mongo-errors.js';
import { toMongoFilter, toMongoSort, toMongoUpdate } from './to-mongo.js';

/** The MongoDB implementation of Collection (built by MongoStore.collection). */
export class MongoCollection<T extends Doc> implements Collection<T> {
  readonly name: string;
  readonly #c: DriverCollection<Document>;
  readonly #indexes: readonly IndexSpec[];
  readonly #assertOpen: () => void;
  readonly #uniqueNames: readonly string[];

  constructor(c: DriverCollection<Document>, indexes: readonly IndexSpec[], assertOpen: () => void) {
    this.#c = c;
    this.name = c.collectionName;
    this.#indexes = indexes;
    this.#uniqueNames = indexes.filter((ix) => ix.unique === true).map((ix) => ix.name);
    this.#assertOpen = assertOpen;
  }

  async insertOne(doc: T): Promise<void> {
    this.#checkNew(doc);
    try {
      await this.#run(() => this.#c.insertOne({ ...doc } as Document));
    } catch (err) {
      throw await this.#nameDuplicate(err, doc);
    }
  }

  async insertMany(docs: readonly T[]): Promise<void> {
    for (const d of docs) this.#checkNew(d);
    if (docs.length === 0) return;
    try {
      await this.#run(() => this.#c.insertMany(docs.map((d) => ({ ...d }) as Document), { ordered: true }));
    } catch (err) {
      const at = (err as { cause?: { writeErrors?: { index?: unknown }[] } }).cause?.writeErrors?.[0]?.index;
      throw await this.#nameDuplicate(err, typeof at === 'number' ? docs[at] : undefined);
    }
  }

  async findOne(filter: Filter, options?: FindOptions): Promise<T | null> {
    return (await this.find(filter, { ...options, limit: 1 }))[0] ?? null;
  }

  async find(filter: Filter, options?: FindOptions): Promise<T[]> {
    checkFilter(filter);
    const o = checkFindOptions(options);
    this.#assertOpen();
    const docs = await this.#run(() => this.#c.find(mf(filter), { ...findOpts(o), ...signalOpt(options?.signal) }).toArray());
    return docs as unknown as T[];
  }

  async count(filter: Filter, options?: ReadOptions): Promise<number> {
    checkFilter(filter);
    this.#assertOpen();
    return this.#run(() => this.#c.countDocuments(mf(filter), signalOpt(options?.signal)));
  }

  async countBy(field: string, filter: Filter, options?: ReadOptions): Promise<GroupCount[]> {
    checkPath(field, 'countBy');
    checkFilter(filter);
    this.#assertOpen();
    const rows = await this.#run(() => this.#c.aggregate(
      [{ $match: toMongoFilter(filter) }, { $group: { _id: `$${field}`, n: { $sum: 1 } } }],
      signalOpt(options?.signal),
    ).toArray());
    return rows.map((r) => ({ value: (r['_id'] ?? null) as Scalar, count: r['n'] as number }))
      .sort((a, b) => compareValues(a.value, b.value));
  }

  async updateOne(filter: Filter, update: Update, options?: UpdateOptions): Promise<UpdateResult> {
    checkFilter(filter);
    this.#checkUpdate(update);
    this.#assertOpen();
    const upsert = options?.upsert === true;
    const r = await this.#run(() => this.#c.updateOne(mf(filter), toMongoUpdate(filter, update, upsert), { upsert }), true);
    return result(r.matchedCount, r.modifiedCount, r.upsertedId);
  }

  async updateMany(filter: Filter, update: Update): Promise<UpdateResult> {
    checkFilter(filter);
    this.#checkUpdate(update);
    this.#assertOpen();
    const r = await this.#run(() => this.#c.updateMany(mf(filter), toMongoUpdate(filter, update, false)), true);
    return result(r.matchedCount, r.modifiedCount, null);
  }

  async findOneAndUpdate(filter: Filter, update: Update, options?: FindOneAndUpdateOptions): Promise<T | null> {
    checkFilter(filter);
    this.#checkUpdate(update);
    const o = checkFindOptions({ ...(options?.sort ? { sort: options.sort } : {}), ...(options?.projection ? { projection: options.projection } : {}) });
    this.#assertOpen();
    const upsert = options?.upsert === true;
    // The projection is applied here, not sent: FerretDB v1 refuses findAndModify's `fields`.
    const doc = await this.#run(() => this.#c.findOneAndUpdate(mf(filter), toMongoUpdate(filter, update, upsert), {
      upsert,
      returnDocument: options?.returnDocument ?? 'before',
      sort: toMongoSort(o.sort),
    }), true);
    if (doc === null) return null;
    return (o.projection === undefined ? doc : project(doc, o.projection)) as unknown as T;
  }

  async replaceOne(filter: Filter, doc: T, options?: UpdateOptions): Promise<UpdateResult> {
    checkFilter(filter);
    this.#checkNew(doc);
    this.#assertOpen();
    const r = await this.#run(() => this.#c.replaceOne(mf(filter), { ...doc }, { upsert: options?.upsert === true }));
    return result(r.matchedCount, r.modifiedCount, r.upsertedId);
  }

  async deleteOne(filter: Filter): Promise<number> {
    checkFilter(filter);
    this.#assertOpen();
    return (await this.#run(() => this.#c.deleteOne(mf(filter)))).deletedCount;
  }

  async deleteMany(filter: Filter): Promise<number> {
    checkFilter(filter);
    this.#assertOpen();
    return (await this.#run(() => this.#c.deleteMany(mf(filter)))).deletedCount;
  }

  #checkNew(doc: unknown): void {
    checkDocument(doc);
    checkUniqueFields(doc, this.#indexes);
    if (BSON.calculateObjectSize(doc) > MAX_DOCUMENT_BYTES) throw new StoreError('DOC_TOO_LARGE', 'document exceeds 16 MiB');
    this.#assertOpen();
  }

  /**
   * A duplicate-key error whose server did not name the index (FerretDB v1 on insert) gets it
   * from a look-up: the `_id`, else the first unique index another document holds the
   * inserted values of. MongoDB always names it, so this never runs there.
   */
  async #nameDuplicate(err: unknown, doc: T | undefined): Promise<unknown> {
    if (!(err instanceof DuplicateKeyError) || err.index !== undefined || doc === undefined) return err;
    let index: string | undefined;
    try {
      if (await this.#c.countDocuments({ _id: doc._id } as unknown as DriverFilter<Document>, { limit: 1 }) > 0) index = '_id';
      for (const ix of this.#indexes) {
        if (index !== undefined || ix.unique !== true) continue;
        const values = Object.keys(ix.fields).map((f) => [f, getPath(doc, f)] as const);
        if (values.some(([, v]) => v === undefined)) continue;
        const filter = { ...Object.fromEntries(values), _id: { $ne: doc._id } } as unknown as DriverFilter<Document>;
        if (await this.#c.countDocuments(filter, { limit: 1 }) > 0) index = ix.name;
      }
    } catch {
      return err; // the look-up is a courtesy; the duplicate stands
    }
    return index === undefined ? err : new DuplicateKeyError(`duplicate key in ${this.name} (index ${index})`, index, { cause: err.cause });
  }

  #checkUpdate(update: Update): void {
    checkUpdateKeepsUniqueFields(checkUpdate(update), this.#indexes);
  }

  async #run<R>(fn: () => Promise<R>, update = false): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(err, this.name, update, this.#uniqueNames);
    }
  }
}

function mf(filter: Filter): DriverFilter<Document> {
  return toMongoFilter(filter) as DriverFilter<Document>;
}

function signalOpt(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}

function findOpts(o: ParsedFindOptions): Document {
  const opts: Document = { sort: toMongoSort(o.sort) };
  if (o.skip > 0) opts['skip'] = o.skip;
  if (o.limit > 0) opts['limit'] = o.limit;
  if (o.projection !== undefined) {
    opts['projection'] = Object.fromEntries([
      ...o.projection.paths.map((p) => [p, o.projection?.mode === 'include' ? 1 : 0]),
      ...(o.projection.withId ? [] : [['_id', 0]]),
    ]);
  }
  return opts;
}

function result(matched: number, modified: number, upsertedId: unknown): UpdateResult {
  return upsertedId === null || upsertedId === undefined ? { matched, modified } : { matched, modified, upsertedId: String(upsertedId) };
}
