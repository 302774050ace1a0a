/**
 * SqliteCollection: one collection as table "doc_<name>" (id TEXT PRIMARY KEY, doc TEXT)
 * WITHOUT ROWID. Reads compile the filter to SQL and run at once; every write, including each
 * read-modify-write (update, upsert, findOneAndUpdate, replace), runs as one unit inside a
 * BEGIN IMMEDIATE transaction (GroupCommit), which serializes writers across every process
 * sharing the file, so it is atomic. SQLite waits at most busy_timeout for the write lock.
 */
import { randomUUID } from 'node:crypto';
import { applyUpdate, cloneValue } from '../apply-update.js';
import { checkDocument, checkUniqueFields, MAX_DOCUMENT_BYTES } from '../check-document.js';
import { checkFilter } from '../check-filter.js';
import { checkFindOptions, type ParsedFindOptions } from '../check-options.js';
import { checkUpdate, checkUpdateKeepsUniqueFields, type UpdateOp } from '../check-update.js';
import { decodeJson, encodeJson } from '../ejson.js';
import { checkPath } from '../field-path.js';
import { project } from '../projection.js';
import { StoreError } from '../store-error.js';
import type {
  Collection, Doc, Filter, FindOneAndUpdateOptions, FindOptions, GroupCount, IndexSpec, ReadOptions, Scalar,
  Update, UpdateOptions, UpdateResult,
} from '../types.js';
import { upsertSeed } from '../upsert-seed.js';
import { compareValues } from '../value-order.js';
import { compileFilter, compileSort, fieldExpr, typeExpr, type SqlFragment } from './compile-filter.js';
import { toStoreError } from './sqlite-errors.js';
import type { SqliteHandle } from './sqlite-handle.js';

interface Row {
  id: string;
  doc: string;
}

/** The SQLite implementation of Collection (built by SqliteStore.collection). */
export class SqliteCollection<T extends Doc> implements Collection<T> {
  readonly name: string;
  readonly #h: SqliteHandle;
  readonly #table: string;
  readonly #indexes: readonly IndexSpec[];

  constructor(handle: SqliteHandle, name: string, indexes: readonly IndexSpec[]) {
    this.#h = handle;
    this.name = name;
    this.#table = `doc_${name}`;
    this.#indexes = indexes;
  }

  async insertOne(doc: T): Promise<void> {
    const text = this.#checkNew(doc);
    this.#h.assertOpen();
    await this.#tx(() => this.#h.prepare(`INSERT INTO "${this.#table}" (id, doc) VALUES (?, ?)`).run(doc._id, text));
  }

  async insertMany(docs: readonly T[]): Promise<void> {
    const texts = docs.map((d) => [d._id, this.#checkNew(d)] as const);
    this.#h.assertOpen();
    const failure = await this.#tx((): unknown => {
      const insert = this.#h.prepare(`INSERT INTO "${this.#table}" (id, doc) VALUES (?, ?)`);
      for (const [id, text] of texts) {
        try {
          insert.run(id, text);
        } catch (err) {
          return toStoreError(err, this.#table); // ordered: keep what was inserted, stop here
        }
      }
      return undefined;
    });
    if (failure !== undefined) throw failure;
  }

  async findOne(filter: Filter, options?: FindOptions): Promise<T | null> {
    return (await this.find(filter, { ...options, limit: 1 }))[0] ?? null;
  }

  async find(filter: Filter, options?: FindOptions): Promise<T[]> {
    checkFilter(filter);
    const o = checkFindOptions(options);
    options?.signal?.throwIfAborted();
    this.#h.assertOpen();
    const w = compileFilter(filter);
    const rows = this.#h.prepare(`SELECT doc FROM "${this.#table}" WHERE ${w.sql} ${compileSort(o.sort)}${limitSql(o)}`)
      .all(...w.params) as { doc: string }[];
    return rows.map((r) => this.#output(decodeJson(r.doc) as Record<string, unknown>, o.projection));
  }

  async count(filter: Filter, options?: ReadOptions): Promise<number> {
    checkFilter(filter);
    options?.signal?.throwIfAborted();
    this.#h.assertOpen();
    const w = compileFilter(filter);
    return (this.#h.prepare(`SELECT count(*) AS n FROM "${this.#table}" WHERE ${w.sql}`).get(...w.params) as { n: number }).n;
  }

  async countBy(field: string, filter: Filter, options?: ReadOptions): Promise<GroupCount[]> {
    checkPath(field, 'countBy');
    checkFilter(filter);
    options?.signal?.throwIfAborted();
    this.#h.assertOpen();
    const w = compileFilter(filter);
    const x = fieldExpr(field);
    const t = typeExpr(field);
    const kind = `CASE ${t} WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' WHEN 'null' THEN NULL ELSE ${t} END`;
    const rows = this.#h.prepare(`SELECT ${x} AS v, ${kind} AS k, count(*) AS n FROM "${this.#table}" WHERE ${w.sql} GROUP BY k, v`)
      .all(...w.params) as { v: unknown; k: string | null; n: number }[];
    return rows.map((r) => ({ value: groupValue(r.v, r.k), count: r.n })).sort((a, b) => compareValues(a.value, b.value));
  }

  async updateOne(filter: Filter, update: Update, options?: UpdateOptions): Promise<UpdateResult> {
    checkFilter(filter);
    const ops = this.#checkUpdate(update);
    this.#h.assertOpen();
    return this.#tx(() => {
      const row = this.#first(compileFilter(filter), '');
      if (row !== undefined) return { matched: 1, modified: this.#rewrite(row, ops) === undefined ? 0 : 1 };
      if (options?.upsert !== true) return { matched: 0, modified: 0 };
      return { matched: 0, modified: 0, upsertedId: this.#upsert(filter, ops)._id as string };
    });
  }

  async updateMany(filter: Filter, update: Update): Promise<UpdateResult> {
    checkFilter(filter);
    const ops = this.#checkUpdate(update);
    this.#h.assertOpen();
    return this.#tx(() => {
      const w = compileFilter(filter);
      const rows = this.#h.prepare(`SELECT id, doc FROM "${this.#table}" WHERE ${w.sql}`).all(...w.params) as Row[];
      let modified = 0;
      for (const row of rows) if (this.#rewrite(row, ops) !== undefined) modified++;
      return { matched: rows.length, modified };
    });
  }

  async findOneAndUpdate(filter: Filter, update: Update, options?: FindOneAndUpdateOptions): Promise<T | null> {
    checkFilter(filter);
    const ops = this.#checkUpdate(update);
    const o = checkFindOptions({ ...(options?.sort ? { sort: options.sort } : {}), ...(options?.projection ? { projection: options.projection } : {}) });
    this.#h.assertOpen();
    const after = options?.returnDocument === 'after';
    return this.#tx(() => {
      const row = this.#first(compileFilter(filter), compileSort(o.sort));
      if (row !== undefined) {
        const before = decodeJson(row.doc) as Record<string, unknown>;
        const changed = this.#rewrite(row, ops);
        return this.#output(after ? (changed ?? before) : before, o.projection);
      }
      if (options?.upsert !== true) return null;
      const inserted = this.#upsert(filter, ops);
      return after ? this.#output(inserted, o.projection) : null;
    });
  }

  async replaceOne(filter: Filter, doc: T, options?: UpdateOptions): Promise<UpdateResult> {
    checkFilter(filter);
    const text = this.#checkNew(doc);
    this.#h.assertOpen();
    return this.#tx(() => {
      const row = this.#first(compileFilter(filter), '');
      if (row !== undefined) {
        if (row.id !== doc._id) throw new StoreError('IMMUTABLE_ID', `replaceOne cannot change _id ${row.id} to ${doc._id}`);
        if (row.doc === text) return { matched: 1, modified: 0 };
        this.#h.prepare(`UPDATE "${this.#table}" SET doc = ? WHERE id = ?`).run(text, row.id);
        return { matched: 1, modified: 1 };
      }
      if (options?.upsert !== true) return { matched: 0, modified: 0 };
      this.#h.prepare(`INSERT INTO "${this.#table}" (id, doc) VALUES (?, ?)`).run(doc._id, text);
      return { matched: 0, modified: 0, upsertedId: doc._id };
    });
  }

  async deleteOne(filter: Filter): Promise<number> {
    checkFilter(filter);
    this.#h.assertOpen();
    const w = compileFilter(filter);
    return this.#tx(() => this.#h.prepare(`DELETE FROM "${this.#table}" WHERE id = (SELECT id FROM "${this.#table}" WHERE ${w.sql} LIMIT 1)`)
      .run(...w.params).changes);
  }

  async deleteMany(filter: Filter): Promise<number> {
    checkFilter(filter);
    this.#h.assertOpen();
    const w = compileFilter(filter);
    return this.#tx(() => this.#h.prepare(`DELETE FROM "${this.#table}" WHERE ${w.sql}`).run(...w.params).changes);
  }

  /** Validates a whole new document and returns its JSON text. */
  #checkNew(doc: unknown): string {
    checkDocument(doc);
    checkUniqueFields(doc, this.#indexes);
    return encodeChecked(doc);
  }

  #checkUpdate(update: Update): UpdateOp[] {
    const ops = checkUpdate(update);
    checkUpdateKeepsUniqueFields(ops, this.#indexes);
    return ops;
  }

  #first(w: SqlFragment, orderBy: string): Row | undefined {
    return this.#h.prepare(`SELECT id, doc FROM "${this.#table}" WHERE ${w.sql} ${orderBy} LIMIT 1`).get(...w.params) as Row | undefined;
  }

  /** Applies ops to a stored row and writes it back; resolves the new document, or undefined when unchanged. */
  #rewrite(row: Row, ops: readonly UpdateOp[]): Record<string, unknown> | undefined {
    const doc = decodeJson(row.doc) as Record<string, unknown>;
    if (!applyUpdate(doc, ops, false)) return undefined;
    checkUniqueFields(doc, this.#indexes);
    this.#h.prepare(`UPDATE "${this.#table}" SET doc = ? WHERE id = ?`).run(encodeChecked(doc), row.id);
    return doc;
  }

  /** Inserts the document an upsert builds: filter equalities, then the update with $setOnInsert. */
  #upsert(filter: Filter, ops: readonly UpdateOp[]): Record<string, unknown> {
    const doc = upsertSeed(filter);
    applyUpdate(doc, ops, true);
    if (doc['_id'] === undefined) doc['_id'] = randomUUID();
    const text = this.#checkNew(doc);
    this.#h.prepare(`INSERT INTO "${this.#table}" (id, doc) VALUES (?, ?)`).run(doc['_id'] as string, text);
    return doc;
  }

  #output(doc: Record<string, unknown>, projection: ParsedFindOptions['projection']): T {
    return (projection === undefined ? doc : project<T>(cloneValue(doc), projection)) as T;
  }

  /** Runs a write in the group-commit path; SQLite constraint errors become DuplicateKeyError. */
  #tx<R>(fn: () => R): Promise<R> {
    return this.#h.write(() => {
      try {
        return fn();
      } catch (err) {
        throw toStoreError(err, this.#table);
      }
    });
  }
}

function limitSql(o: ParsedFindOptions): string {
  if (o.limit === 0 && o.skip === 0) return '';
  return ` LIMIT ${o.limit === 0 ? -1 : o.limit} OFFSET ${o.skip}`;
}

/** encodeChecked serializes a checked document and enforces MongoDB's 16 MiB limit. */
function encodeChecked(doc: unknown): string {
  const text = encodeJson(doc);
  if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES) throw new StoreError('DOC_TOO_LARGE', 'document exceeds 16 MiB');
  return text;
}

function groupValue(v: unknown, kind: string | null): Scalar {
  switch (kind) {
    case null: return null;
    case 'true': return true;
    case 'false': return false;
    case 'number':
    case 'text': return v as Scalar;
    default: return decodeJson(String(v)) as Scalar; // object (Date) or array
  }
}
