/**
 * auditScript off the caller's thread. The shell parser is Go compiled to JavaScript and costs
 * tens of microseconds per syntax node, and a parse cannot be interrupted; so audits run in one
 * worker thread, one at a time, under a hard wall-clock limit after which the worker is
 * terminated (and started again for the next audit). A server's event loop never waits on a
 * large script, and a script that cannot be audited in time is refused, never passed.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PARSE_ERROR_RULE } from './rules.js';
import { defaultAuditLimits } from './limits.js';
import type { AuditInput, AuditRuleSetting, AuditVerdict } from './types.js';

interface Job {
  readonly id: number;
  readonly input: AuditInput;
  readonly settings: readonly AuditRuleSetting[];
  readonly resolve: (v: AuditVerdict) => void;
}

export interface AuditPoolOptions {
  /** Hard limit per audit, ms (default: twice the in-audit time budget, plus start-up). */
  readonly timeoutMs?: number;
  /** The compiled worker script (default: audit-worker.js beside this module, or under dist/). */
  readonly workerPath?: string;
}

function defaultWorkerPath(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = join(dirname(here), 'audit-worker.js');
  if (existsSync(sibling)) return sibling;
  // Running from the TypeScript sources (tests): the compiled copy under dist/.
  return join(resolve(dirname(here), '..', '..'), 'dist', 'compiler', 'audit', 'audit-worker.js');
}

export function refusal(message: string): AuditVerdict {
  return { verdict: 'block', findings: [{ rule: PARSE_ERROR_RULE, mode: 'block', line: 1, column: 1, message, excerpt: '' }], parseError: { line: 1, message } };
}

export class AuditPool {
  #worker: Worker | undefined;
  #running: { job: Job; timer: NodeJS.Timeout } | undefined;
  readonly #queue: Job[] = [];
  #nextId = 1;
  readonly #timeoutMs: number;
  readonly #workerPath: string;

  constructor(opts: AuditPoolOptions = {}) {
    this.#timeoutMs = opts.timeoutMs ?? defaultAuditLimits.timeBudgetMs * 2 + 5_000;
    this.#workerPath = opts.workerPath ?? defaultWorkerPath();
  }

  audit(input: AuditInput, settings: readonly AuditRuleSetting[]): Promise<AuditVerdict> {
    return new Promise((resolve) => {
      this.#queue.push({ id: this.#nextId++, input, settings: [...settings], resolve });
      this.#pump();
    });
  }

  /** Stops the worker; queued audits are refused. */
  async close(): Promise<void> {
    for (const j of this.#queue.splice(0)) j.resolve(refusal('the audit was stopped'));
    if (this.#running) this.#finish(refusal('the audit was stopped'));
    const w = this.#worker;
    this.#worker = undefined;
    if (w) await w.terminate();
  }

  #pump(): void {
    if (this.#running) return;
    const job = this.#queue.shift();
    if (!job) return;
    const w = this.#spawn();
    const timer = setTimeout(() => {
      this.#kill();
      this.#finish(refusal(`the audit took longer than ${this.#timeoutMs} ms; the script is refused`));
    }, this.#timeoutMs);
    this.#running = { job, timer };
    w.ref();
    w.postMessage({ id: job.id, input: job.input, settings: job.settings });
  }

  #spawn(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(this.#workerPath, { resourceLimits: { maxOldGenerationSizeMb: 256 } });
    w.on('message', (m: { id: number; verdict?: AuditVerdict; error?: string }) => {
      if (this.#running?.job.id !== m.id) return;
      this.#finish(m.verdict ?? refusal(`the audit failed: ${m.error ?? 'no answer'}`));
    });
    w.on('error', (err) => {
      if (this.#worker === w) this.#worker = undefined;
      this.#finish(refusal(`the audit failed: ${err.message}`));
    });
    w.on('exit', () => {
      if (this.#worker === w) this.#worker = undefined;
      this.#finish(refusal('the audit worker stopped'));
    });
    this.#worker = w;
    return w;
  }

  #kill(): void {
    const w = this.#worker;
    this.#worker = undefined;
    if (w) void w.terminate();
  }

  #finish(v: AuditVerdict): void {
    const r = this.#running;
    if (!r) return;
    clearTimeout(r.timer);
    this.#running = undefined;
    this.#worker?.unref();
    r.job.resolve(v);
    this.#pump();
  }
}
