/**
 * Catalog serving with a compile cache per (live revision, host inputs). The inputs are the
 * host's facts hash when the revision's catalog for that host depends on facts, nothing
 * otherwise. A poll for an unchanged catalog is answered from memory: no store access, no
 * compile (the live pointer itself is re-read at most every couple of seconds).
 * Compiles are single-flight per host; blobs a compile produces are written to the `content`
 * bucket before the catalog is served, so every blob a catalog names is downloadable.
 */
import type { BlobStore, DocumentStore } from '../store/types.js';
import type { Catalog } from '../../schemas/catalog.js';
import { ApiError, isApiError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import type { CompileResult, LocatedProblem } from './compiler-port.js';
import type { HostStateService } from './host-state-service.js';
import type { LiveRevision, RevisionService } from './revision-service.js';
import type { CatalogIndexService } from './catalog-index.js';
import { resourceId } from '../../schemas/resource.js';

/** Which revision a host is pinned to while a revision rollout is active (RolloutService.revisionFor). */
export interface RevisionPin {
  revisionFor(host: string): Promise<string | undefined>;
}

/** What CatalogService needs of blob marks (BlobMarks.touch, the clock, the refresh period). */
export interface CatalogBlobMarks {
  touch(bucket: 'content', ids: Iterable<string>, signal?: AbortSignal): Promise<Set<string>>;
  now(): number;
  readonly refreshMs: number;
}

export interface ServedCatalog {
  /**
   * The serialised catalog, ready to send. The parsed catalog is not kept: at 100,000 hosts its
   * objects were most of the heap, and every major GC marked them (pauses of 0.3-0.5 s under load).
   */
  readonly body: Buffer;
  /** The revision the catalog names (`catalog.revision`). */
  readonly catalogRevision: string;
  /** Catalog id, the ETag without quotes. */
  readonly etag: string;
  /** Blob ids (hex) the catalog references. */
  readonly blobIds: ReadonlySet<string>;
  /**
   * Blobs of sensitive resources (their content depends on a secret): kept in memory only and
   * never written to the store, so no plaintext secret rests in the database (S3).
   */
  readonly memoryBlobs: ReadonlyMap<string, Buffer>;
  readonly revision: string;
}

interface Entry extends ServedCatalog {
  readonly inputs: string;
  /** LiveRevision.key: the revision and the inventory it was compiled under. */
  readonly loadKey: string;
}

export class CatalogService {
  readonly #cache = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<Entry>>();
  /** Blob id → when this server last put (and so marked) it; older than #refreshMs: put again. */
  readonly #stored = new Map<string, number>();
  #marks: CatalogBlobMarks | undefined;
  #hits = 0;
  #compiles = 0;
  #compileFailures = 0;
  #pin: RevisionPin | undefined;

  private constructor(
    private readonly revisions: RevisionService,
    private readonly hostStates: HostStateService,
    private readonly blobs: BlobStore,
    private readonly log: Logger,
    private readonly index: CatalogIndexService | undefined,
  ) {}

  /** `index`: where served catalogs' resource ids are recorded for compact reports (ADR 0021). */
  static async open(store: DocumentStore, revisions: RevisionService, hostStates: HostStateService, log: Logger, index?: CatalogIndexService): Promise<CatalogService> {
    return new CatalogService(revisions, hostStates, await store.blobs('content'), log, index);
  }

  /** hits: polls answered from the cache; compiles (and compileFailures among them: COMPILE_FAILED); cached hosts. */
  get counters(): { hits: number; compiles: number; compileFailures: number; cached: number } {
    return { hits: this.#hits, compiles: this.#compiles, compileFailures: this.#compileFailures, cached: this.#cache.size };
  }

  /**
   * Blob retention (ADR 0022): the `content` bucket's blobs are referenced only by the catalogs
   * servers hold, so this server re-marks the blobs of its cached catalogs (markServed) and puts a
   * blob again at a compile when its last put is older than `marks.refreshMs` (a quarter of the
   * grace period at most), so a blob a served catalog names is never older than the grace.
   */
  setBlobMarks(marks: CatalogBlobMarks): void {
    this.#marks = marks;
  }

  /**
   * Marks the blobs of every cached catalog whose mark is due (housekeeping calls it on every
   * server, whether or not it sweeps). A blob a sweep had condemned meanwhile may be gone: the
   * catalogs naming it are dropped from the cache and recompiled (and the blob stored) at the
   * host's next poll. Resolves how many blobs were marked.
   */
  async markServed(signal: AbortSignal): Promise<number> {
    const m = this.#marks;
    if (!m) return 0;
    const now = m.now();
    const due = new Set<string>();
    for (const e of this.#cache.values()) {
      for (const id of e.blobIds) {
        if (e.memoryBlobs.has(id)) continue;
        if (now - (this.#stored.get(id) ?? Number.NEGATIVE_INFINITY) >= m.refreshMs) due.add(id);
      }
    }
    if (due.size === 0) return 0;
    const revived = await m.touch('content', due, signal);
    for (const id of due) if (!revived.has(id)) this.#stored.set(id, now);
    if (revived.size > 0) {
      for (const id of revived) this.#stored.delete(id);
      for (const [host, e] of this.#cache) {
        for (const id of revived) {
          if (e.blobIds.has(id)) {
            this.#cache.delete(host);
            break;
          }
        }
      }
    }
    return due.size;
  }

  /** Rollouts (ADR 0017): hosts of started batches of the active revision rollout get its revision. */
  setRevisionPin(pin: RevisionPin): void {
    this.#pin = pin;
  }

  /** The revision `host` is served: the one a rollout pins it to, else the live one. */
  async #servedRevision(host: string, signal: AbortSignal): Promise<LiveRevision | undefined> {
    const live = await this.revisions.live(signal);
    const pinned = this.#pin ? await this.#pin.revisionFor(host) : undefined;
    if (pinned !== undefined && pinned !== live?.id) return this.revisions.loadRevision(pinned, signal);
    return live;
  }

  /** The catalog `host` should enforce now. 404 NO_LIVE_REVISION / NOT_FOUND, 422 COMPILE_FAILED. */
  async forHost(host: string, signal: AbortSignal): Promise<ServedCatalog> {
    const live = await this.#servedRevision(host, signal);
    if (!live) throw new ApiError('NO_LIVE_REVISION', 'no manifest revision has been published yet');
    const inputs = live.loaded.usesFacts(host) ? ((await this.hostStates.factsHash(host)) ?? 'no-facts') : '-';
    const hit = this.#cache.get(host);
    if (hit && hit.loadKey === live.key && hit.inputs === inputs) {
      this.#hits++;
      return hit;
    }
    const key = `${host}\u0000${live.key}\u0000${inputs}`;
    let p = this.#inflight.get(key);
    if (!p) {
      // One compile serves every concurrent poll of this host: it must not die with the first
      // caller's request (the worker's own deadline bounds it); each caller waits on its own signal.
      // Its own signal, never aborted: a shared compile is bounded by the compile worker's deadline
      // and ends when the worker is closed. Not one signal for all compiles: thousands queue at
      // once after a publish, and listeners on one signal cost O(listeners) per add (bench:fleet).
      p = this.#compile(host, live.key, inputs, new AbortController().signal).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, p);
    }
    return untilAborted(p, signal);
  }


  async #compile(host: string, loadKey: string, inputs: string, signal: AbortSignal): Promise<Entry> {
    const live = await this.#servedRevision(host, signal);
    if (!live || live.key !== loadKey) return this.forHost(host, signal) as Promise<Entry>;
    const revision = live.id;
    if (!live.loaded.hosts.some((h) => h.name === host)) throw new ApiError('NOT_FOUND', `host ${host} is not in the inventory of the ${this.#pin && (await this.revisions.liveId()) !== revision ? `revision ${revision.slice(0, 12)} (being rolled out to it)` : 'live revision'}`);
    const facts = inputs === '-' ? undefined : await this.hostStates.facts(host);
    this.#compiles++;
    let result: CompileResult;
    try {
      result = await live.loaded.compile(host, facts, signal);
    } catch (err) {
      if (isApiError(err) && err.code === 'COMPILE_FAILED') this.#compileFailures++; // worker deadline or crash
      throw err;
    }
    const errors = result.problems.filter((p) => (p.severity ?? 'error') === 'error');
    if (!result.catalog || errors.length > 0) {
      this.#compileFailures++;
      this.log.error('compile failed', { host, revision, problems: errors.slice(0, 20) });
      throw new ApiError('COMPILE_FAILED', `the catalog of ${host} does not compile in revision ${revision.slice(0, 12)}: ${describe(errors[0])}`, { problems: errors.slice(0, 50) });
    }
    const blobIds = new Set<string>();
    for (const ref of Object.keys(result.catalog.blobs ?? {})) blobIds.add(ref.replace(/^sha256:/, ''));
    const sensitive = new Set<string>();
    for (const r of result.catalog.resources as { sensitive?: unknown; source?: unknown }[]) {
      const marked = r.sensitive === true || (Array.isArray(r.sensitive) && r.sensitive.length > 0);
      if (marked && typeof r.source === 'string' && r.source.startsWith('sha256:')) sensitive.add(r.source.slice(7));
    }
    const memoryBlobs = new Map<string, Buffer>();
    for (const [ref, data] of result.blobs) {
      const id = ref.replace(/^sha256:/, '');
      blobIds.add(id);
      if (sensitive.has(id)) {
        memoryBlobs.set(id, data);
        continue;
      }
      const now = this.#marks?.now();
      const last = this.#stored.get(id);
      if (last === undefined || (now !== undefined && this.#marks !== undefined && now - last >= this.#marks.refreshMs)) {
        await this.blobs.put(id, data); // the store given to open() marks before each put
        this.#stored.set(id, now ?? 0);
      }
    }
    // Recorded before it is served: a compact report of this catalog always finds its record.
    if (this.index) await this.index.record(result.catalog.id, host, result.catalog.resources.map(resourceId));
    const entry: Entry = { body: Buffer.from(JSON.stringify(result.catalog)), catalogRevision: result.catalog.revision, etag: result.catalog.id, blobIds, memoryBlobs, revision, inputs, loadKey };
    if (this.#cache.size > 500_000) this.#cache.clear();
    this.#cache.set(host, entry);
    return entry;
  }

  /** A compile for an operator's preview: not cached, problems returned instead of thrown. */
  async preview(host: string, signal: AbortSignal): Promise<{ revision: string; catalog: Catalog | undefined; problems: readonly LocatedProblem[] }> {
    const live = await this.revisions.live(signal);
    if (!live) throw new ApiError('NO_LIVE_REVISION', 'no manifest revision has been published yet');
    if (!live.loaded.hosts.some((h) => h.name === host)) throw new ApiError('NOT_FOUND', `host ${host} is not in the inventory of the live revision`);
    const r = await live.loaded.compile(host, await this.hostStates.facts(host), signal);
    return { revision: live.id, catalog: r.catalog, problems: r.problems };
  }

  /**
   * Where to read blob `id` for `host`: undefined unless the catalog the host gets now
   * references it (F2); its bytes when it is a memory-only (sensitive) blob; 'store' otherwise.
   */
  async blobFor(host: string, id: string, signal: AbortSignal): Promise<Buffer | 'store' | undefined> {
    let served: ServedCatalog;
    try {
      served = await this.forHost(host, signal);
    } catch {
      return undefined;
    }
    if (!served.blobIds.has(id)) return undefined;
    return served.memoryBlobs.get(id) ?? 'store';
  }

  get blobStore(): BlobStore {
    return this.blobs;
  }
}

function describe(p: LocatedProblem | undefined): string {
  if (!p) return 'the compiler returned no catalog';
  return `${p.file !== undefined ? `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ` : ''}${p.message}`.slice(0, 300);
}

/** Resolves like `p`, or rejects with the signal's reason as soon as `signal` aborts (p keeps running). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}
