/**
 * CompilerPort backed by a worker thread (compile-worker.ts): the server's event loop never
 * runs a compile. Each call has a deadline; a call that overruns it (a runaway template) or a
 * worker that dies (out of memory: the worker has its own heap limit) fails the calls in
 * flight with COMPILE_FAILED and the next call starts a fresh worker. One worker: compiles are
 * serial, and share the worker's compile cache.
 */
import { Worker } from 'node:worker_threads';
import type { Catalog } from '../../schemas/catalog.js';
import { ApiError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import type { CompilerPort, CompileResult, InventoryHost, LoadedRevision, LocatedProblem, VariablesView } from './compiler-port.js';

export interface WorkerCompilerOptions {
  readonly secretKey?: Buffer;
  /** Deadline of one host's compile (and of a variables view). Default 30 s. */
  readonly compileTimeoutMs?: number;
  /** Deadline of loading or validating a whole repository. Default 10 min. */
  readonly validateTimeoutMs?: number;
  /** Heap limit of the worker. Default 1024 MiB. */
  readonly maxHeapMb?: number;
  readonly log?: Logger;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout;
}

export class WorkerCompiler implements CompilerPort {
  #worker: Worker | undefined;
  #next = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #opts: WorkerCompilerOptions;

  constructor(opts: WorkerCompilerOptions = {}) {
    this.#opts = opts;
  }

  #spawn(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(new URL('./compile-worker.js', import.meta.url), {
      workerData: this.#opts.secretKey ? { secretKeyHex: this.#opts.secretKey.toString('hex') } : {},
      resourceLimits: { maxOldGenerationSizeMb: this.#opts.maxHeapMb ?? 1024 },
      // Templates render here: give them an empty environment (no MONGODB_URL, no tokens) and
      // no stdin; the store, the admin token and sessions live only in the main thread.
      env: {},
      stdin: false,
    });
    w.unref();
    w.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: { message: string; code?: unknown } }) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.value);
      else p.reject(Object.assign(new Error(m.error?.message ?? 'compile failed'), { code: m.error?.code }));
    });
    const fail = (why: string): void => {
      if (this.#worker !== w) return;
      this.#worker = undefined;
      this.#opts.log?.error('compile worker stopped', { why });
      for (const [id, p] of this.#pending) {
        clearTimeout(p.timer);
        p.reject(new ApiError('COMPILE_FAILED', `the compiler stopped: ${why}`));
        this.#pending.delete(id);
      }
    };
    w.on('error', (err) => fail(err.message));
    w.on('exit', (code) => fail(`exited with code ${code}`));
    this.#worker = w;
    return w;
  }

  #call<T>(msg: Record<string, unknown>, timeoutMs: number): Promise<T> {
    const w = this.#spawn();
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ApiError('COMPILE_FAILED', `compiling took longer than ${Math.round(timeoutMs / 1000)} s and was stopped (a runaway template?)`));
        // The worker is busy with the runaway call: replace it.
        if (this.#worker === w) {
          this.#worker = undefined;
          void w.terminate();
          for (const [pid, p] of this.#pending) {
            clearTimeout(p.timer);
            p.reject(new ApiError('COMPILE_FAILED', 'the compiler was restarted after another compile overran its deadline; retry'));
            this.#pending.delete(pid);
          }
        }
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      w.postMessage({ id, ...msg });
    });
  }

  async validate(dir: string, revision: string): Promise<readonly LocatedProblem[]> {
    return this.#call<LocatedProblem[]>({ op: 'validate', dir, revision }, this.#opts.validateTimeoutMs ?? 600_000);
  }

  async load(dir: string, revision: string): Promise<LoadedRevision> {
    const { hosts } = await this.#call<{ hosts: InventoryHost[] }>({ op: 'load', dir, revision }, this.#opts.validateTimeoutMs ?? 600_000);
    const compileMs = this.#opts.compileTimeoutMs ?? 30_000;
    return {
      hosts,
      usesFacts: () => true,
      compile: async (host, facts): Promise<CompileResult> => {
        const r = await this.#call<{ catalog: Catalog | undefined; problems: LocatedProblem[]; blobs: [string, Uint8Array][] }>({ op: 'compile', dir, revision, host, facts }, compileMs);
        return { catalog: r.catalog, problems: r.problems, blobs: new Map(r.blobs.map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength)])) };
      },
      variables: async (host, facts): Promise<VariablesView> => {
        const v = await this.#call<{ yaml: string; flat: Record<string, unknown> }>({ op: 'variables', dir, revision, host, facts }, compileMs);
        return { yaml: v.yaml, flat: v.flat, explain: (key) => this.#call<unknown>({ op: 'explain', dir, revision, host, facts, key }, compileMs) };
      },
    };
  }

  /** Stops the worker; calls in flight fail. */
  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new ApiError('COMPILE_FAILED', 'the server is stopping'));
      this.#pending.delete(id);
    }
    if (w) await w.terminate();
  }
}
