/**
 * CompilerPort backed by a small pool of worker threads (compile-worker.ts): the server's event
 * loop never runs a compile. Calls wait in one queue and go to the first idle worker; each call's
 * deadline starts when a worker takes it and has finished loading the compiler, so neither time
 * spent waiting behind another host's compile nor a new worker's start-up (seconds on a loaded
 * machine) counts against it. A call that overruns its deadline (a runaway template) fails alone:
 * its worker is terminated and replaced, and the queue goes on. A worker that dies (out of
 * memory: each has its own heap limit) fails only the call it was running. Workers beyond the
 * first are started on demand and stop when idle, so a quiet server holds one.
 */
import { Worker } from 'node:worker_threads';
import type { Catalog } from '../../schemas/catalog.js';
import { ApiError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import type { CompilerPort, CompileResult, InventoryHost, InventoryOverlayInput, LoadedRevision, LocatedProblem, VariablesView } from './compiler-port.js';

export interface WorkerCompilerOptions {
  readonly secretKey?: Buffer;
  /** Deadline of one host's compile (and of a variables view), counted from when a worker takes it. Default 30 s. */
  readonly compileTimeoutMs?: number;
  /** Deadline of loading or validating a whole repository. Default 10 min. */
  readonly validateTimeoutMs?: number;
  /** Heap limit of each worker. Default 1024 MiB. */
  readonly maxHeapMb?: number;
  /** Workers compiling at once. Default 2: one runaway compile never holds up the others. */
  readonly workers?: number;
  /** A worker other than the first stops after this long without work. Default 60 s. */
  readonly idleMs?: number;
  /** The worker script; tests substitute one that wraps the real worker. */
  readonly workerUrl?: URL;
  readonly log?: Logger;
}

interface Job {
  readonly id: number;
  readonly msg: Record<string, unknown>;
  readonly timeoutMs: number;
  /** What the call does, for messages ("compiling web-1"). */
  readonly label: string;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
  /** The worker has loaded the compiler (its first message, { ready: true }). */
  ready: boolean;
  deadline: NodeJS.Timeout | undefined;
  idle: NodeJS.Timeout | undefined;
}

type Reply = { id: number; ok: boolean; value?: unknown; error?: { message: string; code?: unknown } } | { ready: true };

export class WorkerCompiler implements CompilerPort {
  readonly #slots: (Slot | undefined)[];
  readonly #queue: Job[] = [];
  #next = 1;
  #closed = false;
  readonly #opts: WorkerCompilerOptions;

  constructor(opts: WorkerCompilerOptions = {}) {
    this.#opts = opts;
    this.#slots = new Array<Slot | undefined>(Math.max(1, Math.floor(opts.workers ?? 2))).fill(undefined);
  }

  /** Workers running now (for tests and metrics). */
  get workerCount(): number {
    return this.#slots.filter((s) => s !== undefined).length;
  }

  #spawn(i: number): Slot {
    const w = new Worker(this.#opts.workerUrl ?? new URL('./compile-worker.js', import.meta.url), {
      workerData: this.#opts.secretKey ? { secretKeyHex: this.#opts.secretKey.toString('hex') } : {},
      resourceLimits: { maxOldGenerationSizeMb: this.#opts.maxHeapMb ?? 1024 },
      // Templates render here: give them an empty environment (no MONGODB_URL, no tokens) and
      // no stdin; the store, the admin token and sessions live only in the main thread.
      env: {},
      stdin: false,
    });
    w.unref();
    const slot: Slot = { worker: w, job: undefined, ready: false, deadline: undefined, idle: undefined };
    w.on('message', (m: Reply) => {
      if ('ready' in m) {
        slot.ready = true;
        if (slot.job) this.#arm(i, slot, slot.job);
        return;
      }
      const job = slot.job;
      if (!job || job.id !== m.id) return;
      this.#release(i, slot);
      if (m.ok) job.resolve(m.value);
      else job.reject(Object.assign(new Error(m.error?.message ?? 'compile failed'), { code: m.error?.code }));
      this.#pump();
    });
    const fail = (why: string): void => {
      if (this.#slots[i] !== slot) return;
      this.#retire(i, slot);
      this.#opts.log?.error('compile worker stopped', { why, during: slot.job?.label });
      slot.job?.reject(new ApiError('COMPILE_FAILED', `the compiler stopped while ${slot.job.label}: ${why}`));
      slot.job = undefined;
      this.#pump();
    };
    // A worker that never finishes loading (it cannot: the module graph is ours) is not left
    // holding its call for good: it fails like an overrun after the repository deadline.
    const boot = setTimeout(() => {
      if (slot.ready) return;
      fail('it did not finish starting');
      void w.terminate();
    }, this.#opts.validateTimeoutMs ?? 600_000);
    boot.unref();
    w.on('message', () => clearTimeout(boot));
    w.on('error', (err) => fail(err.message));
    w.on('exit', (code) => fail(`exited with code ${code}`));
    this.#slots[i] = slot;
    return slot;
  }

  /** Hands queued calls to idle workers (warm ones first), starting workers up to the pool size. */
  #pump(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      let i = this.#slots.findIndex((s) => s !== undefined && s.job === undefined);
      if (i < 0) i = this.#slots.findIndex((s) => s === undefined);
      if (i < 0) return;
      const slot = this.#slots[i] ?? this.#spawn(i);
      const job = this.#queue.shift()!;
      clearTimeout(slot.idle);
      slot.idle = undefined;
      slot.job = job;
      if (slot.ready) this.#arm(i, slot, job);
      slot.worker.postMessage({ id: job.id, ...job.msg });
    }
  }

  /** Starts the deadline of the call `slot` runs (a new worker's once it has loaded). */
  #arm(i: number, slot: Slot, job: Job): void {
    clearTimeout(slot.deadline);
    slot.deadline = setTimeout(() => this.#overrun(i, slot, job), job.timeoutMs);
  }

  #release(i: number, slot: Slot): void {
    clearTimeout(slot.deadline);
    slot.deadline = undefined;
    slot.job = undefined;
    if (i > 0) {
      slot.idle = setTimeout(() => {
        if (this.#slots[i] === slot && slot.job === undefined) {
          this.#retire(i, slot);
          void slot.worker.terminate();
        }
      }, this.#opts.idleMs ?? 60_000);
      slot.idle.unref();
    }
  }

  #retire(i: number, slot: Slot): void {
    clearTimeout(slot.deadline);
    clearTimeout(slot.idle);
    if (this.#slots[i] === slot) this.#slots[i] = undefined;
  }

  /** The call running on `slot` overran: it fails alone; the worker is replaced; the queue goes on. */
  #overrun(i: number, slot: Slot, job: Job): void {
    if (slot.job !== job) return;
    slot.job = undefined;
    this.#retire(i, slot);
    void slot.worker.terminate();
    this.#opts.log?.error('compile overran its deadline', { during: job.label, timeoutMs: job.timeoutMs });
    job.reject(new ApiError('COMPILE_FAILED', `${job.label} took longer than ${Math.round(job.timeoutMs / 1000)} s and was stopped (a runaway template?)`));
    this.#pump();
  }

  #call<T>(msg: Record<string, unknown>, timeoutMs: number, label: string, signal?: AbortSignal): Promise<T> {
    if (this.#closed) return Promise.reject(new ApiError('COMPILE_FAILED', 'the server is stopping'));
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      // The listener goes when the call settles: a signal shared by many calls would otherwise
      // keep one listener per call ever made, and each add scans them all.
      const onAbort = (): void => {
        const at = this.#queue.indexOf(job);
        if (at >= 0) {
          this.#queue.splice(at, 1);
          reject(signal!.reason);
        }
      };
      const settle = <A>(f: (a: A) => void) => (a: A): void => {
        signal?.removeEventListener('abort', onAbort);
        f(a);
      };
      const job: Job = { id: this.#next++, msg, timeoutMs, label, resolve: settle(resolve as (v: unknown) => void), reject: settle(reject) };
      // A caller that gives up before a worker takes its call leaves the queue.
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(job);
      this.#pump();
    });
  }

  // Loading and validating are shared by every caller waiting for the revision (RevisionService
  // memoises them): one caller's signal must not cancel them, so they run to their deadline.
  /**
   * A call under an inventory overlay (ADR 0018): the message names the overlay by digest; a
   * worker that does not hold it (a new or replaced worker) answers OVERLAY_UNKNOWN and the call
   * is sent again once with the records, so 100,000 records cross to a worker once per change,
   * not with every compile.
   */
  async #overlayCall<T>(overlay: InventoryOverlayInput | undefined, msg: Record<string, unknown>, timeoutMs: number, label: string, signal?: AbortSignal): Promise<T> {
    if (!overlay) return this.#call<T>(msg, timeoutMs, label, signal);
    try {
      return await this.#call<T>({ ...msg, overlayDigest: overlay.digest }, timeoutMs, label, signal);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'OVERLAY_UNKNOWN') throw err;
      return this.#call<T>({ ...msg, overlayDigest: overlay.digest, overlayRecords: [...overlay.records.values()] }, timeoutMs, label, signal);
    }
  }

  async validate(dir: string, revision: string, _signal?: AbortSignal, overlay?: InventoryOverlayInput): Promise<readonly LocatedProblem[]> {
    return this.#overlayCall<LocatedProblem[]>(overlay, { op: 'validate', dir, revision }, this.#opts.validateTimeoutMs ?? 600_000, `validating revision ${revision.slice(0, 12)}`);
  }

  async check(dir: string, revision: string, signal: AbortSignal, overlay: InventoryOverlayInput | undefined, templates: readonly string[]): Promise<readonly LocatedProblem[]> {
    return this.#overlayCall<LocatedProblem[]>(overlay, { op: 'check', dir, revision, templates: [...templates] }, this.#opts.compileTimeoutMs ?? 30_000, `checking revision ${revision.slice(0, 12)}`, signal);
  }

  async load(dir: string, revision: string, _signal?: AbortSignal, overlay?: InventoryOverlayInput): Promise<LoadedRevision> {
    const { hosts } = await this.#overlayCall<{ hosts: InventoryHost[] }>(overlay, { op: 'load', dir, revision }, this.#opts.validateTimeoutMs ?? 600_000, `loading revision ${revision.slice(0, 12)}`);
    const compileMs = this.#opts.compileTimeoutMs ?? 30_000;
    return {
      hosts,
      usesFacts: () => true,
      // A compile's signal is its caller's own (CatalogService shares compiles under a signal
      // that never aborts): a caller that gives up while the compile is queued removes it.
      compile: async (host, facts, sig): Promise<CompileResult> => {
        const r = await this.#overlayCall<{ catalog: Catalog | undefined; problems: LocatedProblem[]; blobs: [string, Uint8Array][] }>(overlay, { op: 'compile', dir, revision, host, facts }, compileMs, `compiling ${host}`, sig);
        return { catalog: r.catalog, problems: r.problems, blobs: new Map(r.blobs.map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength)])) };
      },
      compileResources: async (host, resources, o, sig): Promise<CompileResult> => {
        const r = await this.#overlayCall<{ catalog: Catalog | undefined; problems: LocatedProblem[]; blobs: [string, Uint8Array][] }>(overlay, { op: 'compileResources', dir, revision, host, resources, facts: o.facts, launchVars: o.launchVars, origin: o.origin }, compileMs, `rendering ${o.origin} for ${host}`, sig);
        return { catalog: r.catalog, problems: r.problems, blobs: new Map(r.blobs.map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength)])) };
      },
      variables: async (host, facts): Promise<VariablesView> => {
        const v = await this.#overlayCall<{ yaml: string; flat: Record<string, unknown> }>(overlay, { op: 'variables', dir, revision, host, facts }, compileMs, `computing the variables of ${host}`);
        return { yaml: v.yaml, flat: v.flat, explain: (key) => this.#overlayCall<unknown>(overlay, { op: 'explain', dir, revision, host, facts, key }, compileMs, `explaining ${key} for ${host}`) };
      },
    };
  }

  /** Stops the workers; calls in flight or queued fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const stopping = new ApiError('COMPILE_FAILED', 'the server is stopping');
    for (const job of this.#queue.splice(0)) job.reject(stopping);
    const workers: Worker[] = [];
    this.#slots.forEach((slot, i) => {
      if (!slot) return;
      this.#retire(i, slot);
      slot.job?.reject(stopping);
      slot.job = undefined;
      workers.push(slot.worker);
    });
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
