/**
 * Rendering in child processes (security.md T4): nunjucks is not a sandbox, so the server renders
 * templates in a pool of forked Node processes that have an empty environment (no secrets, no
 * tokens), a small heap (--max-old-space-size), and a per-render wall-clock timeout after which the
 * child is killed (SIGKILL) and replaced. Output size and loop iterations are also bounded inside
 * the child (RenderLimits). A pathological regex, `range(1e9)`, a recursive macro or a huge output
 * therefore fails that one render with a TemplateError-shaped result, and the server's event loop
 * keeps answering.
 *
 * Each result is `{ ok: true, output }` or `{ ok: false, error }`; the promise itself only rejects
 * on abort or when the pool is closed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RenderLimits } from './python-runtime.js';
import type { SandboxJob, SandboxResult } from './sandbox-protocol.js';

export type { SandboxJob, SandboxResult, SandboxError } from './sandbox-protocol.js';

export interface SandboxOptions {
  /** Child processes (default 2). */
  readonly poolSize?: number;
  /** Wall-clock limit per render, ms (default 5000). */
  readonly timeoutMs?: number;
  /** V8 heap limit of each child, MiB (default 256). */
  readonly maxOldSpaceMb?: number;
  /** In-child limits on output size, loop iterations and range(). */
  readonly limits?: Partial<RenderLimits>;
  /** The compiled worker script; defaults to sandbox-worker.js next to this module (or under dist/). */
  readonly workerPath?: string;
}

interface Pending {
  readonly job: SandboxJob;
  readonly resolve: (r: SandboxResult) => void;
  readonly reject: (e: Error) => void;
  readonly signal: AbortSignal | undefined;
}

interface Slot {
  child: ChildProcess | undefined;
  busy: { id: number; pending: Pending; timer: NodeJS.Timeout; onAbort?: () => void } | undefined;
}

export class SandboxClosedError extends Error {
  readonly code = 'SANDBOX_CLOSED';
}

function defaultWorkerPath(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = join(dirname(here), 'sandbox-worker.js');
  if (existsSync(sibling)) return sibling;
  // Running from the TypeScript sources (tests): use the compiled copy under dist/.
  const root = resolve(dirname(here), '..', '..');
  return join(root, 'dist', 'compiler', 'jinja', 'sandbox-worker.js');
}

/** A pool of render child processes. Call close() when done. */
export class RenderSandbox {
  private readonly slots: Slot[];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly workerPath: string;
  private readonly execArgv: string[];
  private readonly limits: Partial<RenderLimits> | undefined;

  constructor(opts: SandboxOptions = {}) {
    const n = Math.max(1, Math.min(opts.poolSize ?? 2, 32));
    this.slots = Array.from({ length: n }, () => ({ child: undefined, busy: undefined }));
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.workerPath = opts.workerPath ?? defaultWorkerPath();
    this.execArgv = [`--max-old-space-size=${opts.maxOldSpaceMb ?? 256}`];
    this.limits = opts.limits;
  }

  /** Render one job. */
  render(job: SandboxJob, signal?: AbortSignal): Promise<SandboxResult> {
    if (this.closed) return Promise.reject(new SandboxClosedError('the render sandbox is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    return new Promise<SandboxResult>((res, rej) => {
      this.queue.push({ job, resolve: res, reject: rej, signal });
      this.pump();
    });
  }

  /** Render several jobs concurrently (up to the pool size); results in job order. */
  renderAll(jobs: readonly SandboxJob[], signal?: AbortSignal): Promise<SandboxResult[]> {
    return Promise.all(jobs.map((j) => this.render(j, signal)));
  }

  /** Kill every child and reject whatever is queued or running. */
  async close(): Promise<void> {
    this.closed = true;
    const err = new SandboxClosedError('the render sandbox is closed');
    for (const p of this.queue.splice(0)) p.reject(err);
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.busy) this.finish(slot, undefined, err);
        const child = slot.child;
        slot.child = undefined;
        if (child && child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>((r) => child.once('exit', () => r()));
          child.kill('SIGKILL');
          await exited;
        }
      }),
    );
  }

  private spawn(slot: Slot): ChildProcess {
    const child = fork(this.workerPath, [], {
      env: {},
      cwd: '/',
      execArgv: this.execArgv,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      serialization: 'json',
    });
    child.on('message', (msg: { id: number; result: SandboxResult }) => {
      if (slot.child === child && slot.busy && slot.busy.id === msg.id) this.finish(slot, msg.result);
    });
    child.on('exit', (code, sig) => {
      if (slot.child !== child) return;
      slot.child = undefined;
      if (slot.busy) {
        const name = slot.busy.pending.job.name;
        this.finish(slot, {
          ok: false,
          error: { code: 'TEMPLATE_ERROR', kind: 'LIMIT', template: name, message: `${name}: the render process died (${sig ?? `exit ${code}`}); out of memory?` },
        });
      }
    });
    child.on('error', () => {
      /* 'exit' follows and reports */
    });
    slot.child = child;
    return child;
  }

  private finish(slot: Slot, result: SandboxResult | undefined, err?: Error): void {
    const busy = slot.busy;
    if (!busy) return;
    slot.busy = undefined;
    clearTimeout(busy.timer);
    if (busy.onAbort) busy.pending.signal?.removeEventListener('abort', busy.onAbort);
    if (err) busy.pending.reject(err);
    else if (result) busy.pending.resolve(result);
    if (!this.closed) this.pump();
  }

  private kill(slot: Slot): void {
    const child = slot.child;
    slot.child = undefined;
    child?.kill('SIGKILL');
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const pending = this.queue.shift();
      if (!pending) return;
      if (pending.signal?.aborted) {
        pending.reject(pending.signal.reason instanceof Error ? pending.signal.reason : new Error('aborted'));
        continue;
      }
      const child = slot.child ?? this.spawn(slot);
      const id = this.nextId++;
      const timer = setTimeout(() => {
        const name = pending.job.name;
        this.kill(slot);
        this.finish(slot, { ok: false, error: { code: 'TEMPLATE_ERROR', kind: 'LIMIT', template: name, message: `${name}: rendering took longer than ${this.timeoutMs} ms and was stopped` } });
      }, this.timeoutMs);
      slot.busy = { id, pending, timer };
      if (pending.signal) {
        const onAbort = (): void => {
          this.kill(slot);
          const s = pending.signal as AbortSignal;
          this.finish(slot, undefined, s.reason instanceof Error ? s.reason : new Error('aborted'));
        };
        slot.busy.onAbort = onAbort;
        pending.signal.addEventListener('abort', onAbort, { once: true });
      }
      child.send({ id, job: pending.job, limits: this.limits });
    }
  }
}

/** One-shot: start a pool, render `jobs`, close the pool. Servers should keep a RenderSandbox instead. */
export async function renderInSandbox(jobs: readonly SandboxJob[], opts: SandboxOptions & { signal?: AbortSignal } = {}): Promise<SandboxResult[]> {
  const sb = new RenderSandbox({ ...opts, poolSize: Math.min(opts.poolSize ?? 2, Math.max(1, jobs.length)) });
  try {
    return await sb.renderAll(jobs, opts.signal);
  } finally {
    await sb.close();
  }
}
