/**
 * Manifest revisions. An upload is a whole repository; it becomes a revision only after the
 * compiler validated it as a whole (schema, references, a compile of every host). Files are
 * stored content-addressed in the `repo` blob bucket and the revision document lists them;
 * publishing flips one `live` pointer with a compare-and-swap, so the live revision is always
 * exactly the old one or the new one. A rejected upload leaves the live revision unchanged.
 *
 * Each server keeps an immutable checkout per revision under <dataDir>/revisions/<id> (the
 * compiler reads templates and files/ from it) and rebuilds it from the blobs when missing.
 * At start it removes what a killed process left there (checkout-cleanup.ts).
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { BlobStore, Collection, DocumentStore } from '../store/types.js';
import { isDuplicateKey } from '../store/types.js';
import type { Clock } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import type { CompilerPort, InventoryOverlayInput, LoadedRevision, LocatedProblem } from './compiler-port.js';
import { cleanCheckouts } from './checkout-cleanup.js';
import { exists, revisionId, writeCheckout } from './repository-files.js';

/** Characters of a revision id the console shows, and the shortest prefix the API accepts for one. */
export const SHORT_REVISION_ID = 12;

type RevisionDoc = {
  _id: string;
  createdAt: number;
  createdBy: string;
  message?: string;
  files: { path: string; sha256: string; size: number }[];
};

type PointerDoc = {
  _id: string;
  revision: string;
  version: number;
  updatedAt: number;
};

export interface RevisionInfo {
  readonly id: string;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly message?: string;
  readonly fileCount: number;
  readonly live: boolean;
}

export interface PublishOptions {
  /**
   * false: validate and store the revision but leave the live pointer alone (a rollout delivers
   * it batch by batch and flips the pointer when it completes). Default true.
   */
  readonly makeLive?: boolean;
}

export interface LiveRevision {
  readonly id: string;
  readonly loaded: LoadedRevision;
  /**
   * What the load depended on: the revision id, and the inventory overlay's digest when the
   * store's inventory is merged in (ADR 0018). Two equal keys compile alike.
   */
  readonly key: string;
}

/** The store's inventory as RevisionService needs it (InventoryService implements it). */
export interface InventoryOverlaySource {
  overlay(signal?: AbortSignal): Promise<InventoryOverlayInput & { readonly generation: number }>;
  /** The current generation (cheap; a change made by this server is seen at once). */
  generation?(signal?: AbortSignal): Promise<number>;
}

export interface RevisionServiceOptions {
  /** How long the live pointer is trusted before the store is asked again (several servers). Default 2 s. */
  readonly liveTtlMs?: number;
}

export class RevisionService {
  #live: { at: number; generation: number | undefined; value: LiveRevision | undefined } | undefined;
  #loading: Promise<LiveRevision | undefined> | undefined;
  readonly #loaded = new Map<string, Promise<LoadedRevision>>();
  #inventory: InventoryOverlaySource | undefined;
  readonly #liveTtl: number;
  /** Serialises uploads in this process (validation is CPU heavy; one at a time is enough). */
  #uploadChain: Promise<unknown> = Promise.resolve();
  #published = 0;
  #rejected = 0;

  private constructor(
    private readonly revisions: Collection<RevisionDoc>,
    private readonly pointers: Collection<PointerDoc>,
    private readonly blobs: BlobStore,
    private readonly root: string,
    private readonly compiler: CompilerPort,
    private readonly clock: Clock,
    private readonly log: Logger,
    opts: RevisionServiceOptions,
  ) {
    this.#liveTtl = opts.liveTtlMs ?? 2000;
  }

  static async open(store: DocumentStore, dataDir: string, compiler: CompilerPort, clock: Clock, log: Logger, opts: RevisionServiceOptions = {}): Promise<RevisionService> {
    const root = join(dataDir, 'revisions');
    await fsp.mkdir(root, { recursive: true, mode: 0o750 });
    const revisions = await store.collection<RevisionDoc>('revisions', [{ name: 'by_created', fields: { createdAt: -1 } }]);
    // Leftovers of a process killed mid-publish are never a checkout (checkout-cleanup.ts).
    await cleanCheckouts(root, async (id) => (await revisions.findOne({ _id: id }, { projection: { _id: 1 } })) !== null, log);
    return new RevisionService(
      revisions,
      await store.collection<PointerDoc>('pointers'),
      await store.blobs('repo'),
      root,
      compiler,
      clock,
      log,
      opts,
    );
  }

  /** Every blob a stored revision lists (the roots of the `repo` bucket for blob retention). */
  async referencedBlobs(signal: AbortSignal): Promise<Set<string>> {
    const out = new Set<string>();
    let after = '';
    for (;;) {
      signal.throwIfAborted();
      const page = await this.revisions.find({ _id: { $gt: after } }, { sort: { _id: 1 }, limit: 200, projection: { _id: 1, files: 1 } });
      for (const r of page) for (const f of r.files) out.add(f.sha256);
      if (page.length < 200) return out;
      after = page[page.length - 1]!._id;
    }
  }

  /**
   * Validates `files` as a whole and, when valid, stores them as a revision and makes it live.
   * Throws REVISION_INVALID (422) with every located problem otherwise; nothing changes then.
   */
  async publish(files: ReadonlyMap<string, Buffer>, meta: { message?: string; createdBy: string }, signal: AbortSignal, opts: PublishOptions = {}): Promise<RevisionInfo> {
    const run = this.#uploadChain.then(() => this.#publish(files, meta, signal, opts));
    this.#uploadChain = run.catch(() => undefined);
    run.then(
      () => this.#published++,
      (err: unknown) => {
        if (err instanceof ApiError && (err.code === 'REVISION_INVALID' || err.code === 'COMPILE_FAILED')) this.#rejected++;
      },
    );
    return run;
  }

  /**
   * ADR 0018: revisions load with the store's inventory merged over their inventory files; a
   * change of the inventory (a new generation) is a new load, seen within the live TTL.
   */
  setInventory(source: InventoryOverlaySource): void {
    this.#inventory = source;
    this.#live = undefined;
  }

  /** The store's inventory overlay revisions load under now (undefined: none). */
  async inventoryOverlay(signal: AbortSignal): Promise<InventoryOverlayInput | undefined> {
    if (!this.#inventory) return undefined;
    const o = await this.#inventory.overlay(signal);
    return o.generation === 0 && o.records.size === 0 ? undefined : o;
  }

  /** Publishes by this process: accepted, and refused as invalid (REVISION_INVALID, COMPILE_FAILED). */
  get counters(): { published: number; rejected: number } {
    return { published: this.#published, rejected: this.#rejected };
  }

  async #publish(files: ReadonlyMap<string, Buffer>, meta: { message?: string; createdBy: string }, signal: AbortSignal, opts: PublishOptions): Promise<RevisionInfo> {
    const { id, entries } = revisionId(files);
    let doc = await this.revisions.findOne({ _id: id });
    if (!doc) {
      const dir = join(this.root, id);
      const fresh = !(await exists(dir));
      if (fresh) await writeCheckout(dir, files);
      let problems: readonly LocatedProblem[];
      try {
        problems = await this.compiler.validate(dir, id, signal, await this.inventoryOverlay(signal));
      } catch (err) {
        if (fresh) await fsp.rm(dir, { recursive: true, force: true });
        throw err;
      }
      const errors = problems.filter((p) => (p.severity ?? 'error') === 'error');
      if (errors.length > 0) {
        if (fresh) await fsp.rm(dir, { recursive: true, force: true });
        throw new ApiError('REVISION_INVALID', `the repository has ${errors.length} error(s); the live revision is unchanged. First: ${describe(errors[0]!)}`, { problems: errors.slice(0, 500), warnings: problems.filter((p) => p.severity === 'warning').slice(0, 100) });
      }
      // Safety-audit warnings (scan-mode rules, audit_allow) do not refuse a revision: they are logged.
      const auditWarnings = problems.filter((p) => p.code === 'AUDIT_WARNING');
      if (auditWarnings.length > 0) this.log.warn('revision has safety-audit warnings', { revision: id, warnings: auditWarnings.slice(0, 100).map(describe) });
      const shaOf = new Map(entries.map((e) => [e.path, e.sha256]));
      for (const [path, data] of files) await this.blobs.put(shaOf.get(path)!, data);
      doc = { _id: id, createdAt: this.clock.now(), createdBy: meta.createdBy, ...(meta.message !== undefined ? { message: meta.message } : {}), files: entries };
      try {
        await this.revisions.insertOne(doc);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    if (opts.makeLive === false) {
      this.log.info('revision stored (not live: a rollout delivers it)', { revision: id, files: entries.length, by: meta.createdBy });
      return info(doc, id === (await this.liveId()));
    }
    await this.#setLive(id);
    this.log.info('revision published', { revision: id, files: entries.length, by: meta.createdBy });
    return info(doc, true);
  }

  /** Makes an existing (validated) revision live again: a rollback. */
  async activate(id: string): Promise<RevisionInfo> {
    const doc = await this.revisions.findOne({ _id: id });
    if (!doc) throw new ApiError('NOT_FOUND', `no revision ${id}`);
    await this.#setLive(id);
    return info(doc, true);
  }

  async #setLive(id: string): Promise<void> {
    for (let i = 0; i < 10; i++) {
      const cur = await this.pointers.findOne({ _id: 'live' });
      if (!cur) {
        try {
          await this.pointers.insertOne({ _id: 'live', revision: id, version: 1, updatedAt: this.clock.now() });
          break;
        } catch (err) {
          if (isDuplicateKey(err)) continue;
          throw err;
        }
      }
      const ok = await this.pointers.findOneAndUpdate({ _id: 'live', version: cur.version }, { $set: { revision: id, updatedAt: this.clock.now() }, $inc: { version: 1 } });
      if (ok) break;
    }
    this.#live = undefined;
  }

  /** The live revision id straight from the store (undefined: nothing published yet). */
  async liveId(): Promise<string | undefined> {
    return (await this.pointers.findOne({ _id: 'live' }))?.revision;
  }

  /** The live revision, loaded; from memory unless older than the TTL. */
  async live(signal: AbortSignal): Promise<LiveRevision | undefined> {
    const now = this.clock.now();
    // An inventory change made here (a lifecycle move, say) is seen by the next selector at once,
    // not after the TTL: `stead hosts set H lifecycle=maintenance && stead job run …` leaves H out.
    const generation = await this.#inventory?.generation?.(signal);
    if (this.#live && now - this.#live.at < this.#liveTtl && this.#live.generation === generation) return this.#live.value;
    this.#loading ??= (async () => {
      try {
        const id = await this.liveId();
        const value = id === undefined ? undefined : await this.loadRevision(id, signal);
        this.#live = { at: this.clock.now(), generation, value };
        return value;
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  /** A revision loaded by the compiler (memoised; the newest few are kept), under the current inventory. */
  async load(id: string, signal: AbortSignal): Promise<LoadedRevision> {
    return (await this.loadRevision(id, signal)).loaded;
  }

  /** A revision loaded under the current inventory overlay, with the key of that load. */
  async loadRevision(id: string, signal: AbortSignal): Promise<LiveRevision> {
    const overlay = await this.inventoryOverlay(signal);
    const key = overlay ? `${id}@${overlay.digest}` : id;
    let p = this.#loaded.get(key);
    if (!p) {
      p = (async () => {
        const dir = join(this.root, id);
        if (!(await exists(dir))) await this.#materialise(id, dir);
        return this.compiler.load(dir, id, signal, overlay);
      })();
      p.catch(() => this.#loaded.delete(key));
      this.#loaded.set(key, p);
      while (this.#loaded.size > 4) this.#loaded.delete(this.#loaded.keys().next().value!);
    }
    return { id, key, loaded: await p };
  }

  /** The checkout directory of a stored revision, written from the store when missing (read-only use). */
  async checkoutDir(id: string): Promise<string> {
    const dir = join(this.root, id);
    if (!(await exists(dir))) await this.#materialise(id, dir);
    return dir;
  }

  async #materialise(id: string, dir: string): Promise<void> {
    await writeCheckout(dir, await this.files(id));
  }

  /** The files of a stored revision, path → bytes (NOT_FOUND when there is no such revision). */
  async files(id: string): Promise<Map<string, Buffer>> {
    const doc = await this.revisions.findOne({ _id: id });
    if (!doc) throw new ApiError('NOT_FOUND', `no revision ${id}`);
    const files = new Map<string, Buffer>();
    for (const e of doc.files) {
      const data = await this.blobs.get(e.sha256);
      if (!data) throw new Error(`revision ${id}: blob ${e.sha256} of ${e.path} is missing from the store`);
      files.set(e.path, data);
    }
    return files;
  }

  /**
   * The full id of the revision `ref` names: its 64 hex characters, or a unique prefix of at
   * least SHORT_REVISION_ID characters (the length the console shows). NOT_FOUND when none
   * matches; AMBIGUOUS_REVISION (409), naming the matches, when several do; BAD_REQUEST for
   * anything else. The lookup is a range over the id index ([prefix, prefix + "g")).
   */
  async resolveId(ref: string): Promise<string> {
    if (!/^[0-9a-f]+$/.test(ref) || ref.length > 64 || ref.length < SHORT_REVISION_ID) {
      throw new ApiError('BAD_REQUEST', `a revision is named by its id: 64 lowercase hex characters, or a unique prefix of at least ${SHORT_REVISION_ID} (as the console shows it); got ${JSON.stringify(ref.slice(0, 80))}`);
    }
    if (ref.length === 64) return ref;
    const found = await this.revisions.find({ _id: { $gte: ref, $lt: `${ref}g` } }, { sort: { _id: 1 }, limit: 3 });
    if (found.length === 0) throw new ApiError('NOT_FOUND', `no revision starts with ${ref}`);
    if (found.length > 1) {
      throw new ApiError('AMBIGUOUS_REVISION', `${ref} is the start of more than one revision (${found.slice(0, 2).map((d) => d._id.slice(0, ref.length + 4)).join(', ')}${found.length > 2 ? ', …' : ''}); give more characters`, { matches: found.slice(0, 2).map((d) => d._id) });
    }
    return found[0]!._id;
  }

  async list(limit = 50): Promise<RevisionInfo[]> {
    const live = await this.liveId();
    return (await this.revisions.find({}, { sort: { createdAt: -1 }, limit })).map((d) => info(d, d._id === live));
  }

  async get(id: string): Promise<(RevisionInfo & { files: { path: string; sha256: string; size: number }[] }) | undefined> {
    const d = await this.revisions.findOne({ _id: id });
    if (!d) return undefined;
    return { ...info(d, d._id === (await this.liveId())), files: d.files };
  }
}

function info(d: RevisionDoc, live: boolean): RevisionInfo {
  return { id: d._id, createdAt: d.createdAt, createdBy: d.createdBy, ...(d.message !== undefined ? { message: d.message } : {}), fileCount: d.files.length, live };
}

function describe(p: LocatedProblem): string {
  const where = p.file !== undefined ? `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ` : '';
  return `${where}${p.message}${p.host !== undefined ? ` [host ${p.host}]` : ''}`.slice(0, 500);
}
