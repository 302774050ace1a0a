/**
 * The plan driver: moves a job through its steps. Level-triggered: `advance(jobId)` reads the
 * job and its current step's dispatches from the store and does the one next thing (start the
 * step, expire dispatches past their deadlines, finish the step by its failure policy). Every
 * job transition is a compare-and-swap on the job's `version`, and every dispatch transition a
 * compare-and-swap on its `state`, so several servers driving the same job make each
 * transition once. It is kicked when a dispatch starts or finishes, and every second by a timer
 * (which also resumes running jobs after a restart).
 */
import { CoalescingChains } from '../coalescing-chains.js';
import type { JobWork } from '../../../schemas/job-protocol.js';
import type { Clock } from '../../domain/clock.js';
import { isDuplicateKey, type Filter } from '../../store/types.js';
import type { Logger } from '../../log.js';
import { answerGraceMs, type JobChannel } from './job-channel.js';
import { dispatchIdOf, failedStates, inFlightStates, resultsMap, serverHost, toStoredResult, type DispatchDoc, type JobCollections, type JobDoc, type StoredStep } from './job-model.js';
import type { StepRunners } from './ports.js';
import type { TargetResolver } from './targets.js';
import { resultEnv, varsEnv } from './script-env.js';

export interface PlanDriverOptions {
  /** Interval of the timer that re-drives running jobs. Default 1000 ms. */
  readonly tickMs?: number;
  /** Probes and local scripts run at once by this server. Default 32. */
  readonly serverConcurrency?: number;
}

const cancelGraceMs = 30_000;
/** Dispatches written in one store transaction. */
const dispatchBatch = 500;

export class PlanDriver {
  readonly #chains = new CoalescingChains();
  /** Probes and local scripts running in this process: dispatch id → controller. */
  readonly #tasks = new Map<string, AbortController>();
  readonly #taskPromises = new Set<Promise<void>>();
  readonly #queue: (() => Promise<void>)[] = [];
  #active = 0;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #closed = false;
  readonly #tickMs: number;
  readonly #concurrency: number;

  constructor(
    private readonly c: JobCollections,
    private readonly clock: Clock,
    private readonly targets: TargetResolver,
    private readonly runners: StepRunners,
    private readonly channel: JobChannel,
    private readonly log: Logger,
    opts: PlanDriverOptions = {},
  ) {
    this.#tickMs = opts.tickMs ?? 1000;
    this.#concurrency = opts.serverConcurrency ?? 32;
    channel.onProgress((id) => void this.kick(id));
  }

  /** Starts the timer (running jobs are resumed on its first tick, at once). */
  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => void this.tick(), this.#tickMs);
    this.#timer.unref();
    void this.tick();
  }

  /** Stops the timer, aborts this process's probes and local scripts, and waits for work in flight. */
  async stop(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const ac of this.#tasks.values()) ac.abort(new Error('server stopping'));
    this.#queue.length = 0;
    await this.settle();
  }

  /** Advances a job soon; calls for one job run one after another, and queued calls coalesce. */
  kick(jobId: string): Promise<void> {
    return this.#chains.kick(jobId, async (k) => {
      if (!this.#closed) await this.advance(k);
    }, (err: unknown) => this.log.error('job driver failed', { jobId: jobId, err: (err as Error)?.message ?? String(err) }));
  }

  /** Resolves when no advance, tick or server task of this process is in flight (tests, shutdown). */
  async settle(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      const pending = [...this.#chains.pending(), ...this.#taskPromises, ...(this.#ticking ? [this.#ticking] : [])];
      if (pending.length === 0) return;
      await Promise.allSettled(pending);
    }
  }

  /** One pass: re-drive every running job, expire stale cancels, stop local work that was cancelled. */
  tick(): Promise<void> {
    this.#ticking ??= (async () => {
      try {
        const running = await this.c.jobs.find({ state: 'running' }, { projection: { _id: 1 }, sort: { _id: 1 }, limit: 10_000 });
        await Promise.all(running.map((j) => this.kick(j._id)));
        const now = this.clock.now();
        await this.c.dispatches.updateMany({ state: 'cancelling', cancelDeadline: { $lt: now } }, { $set: { state: 'cancelled', finishedAt: now, message: 'cancelled; the agent did not confirm the cancel in time' } });
        for (const [id, ac] of this.#tasks) {
          const d = await this.c.dispatches.findOne({ _id: id }, { projection: { state: 1 } });
          if (d?.state === 'cancelling') ac.abort(new Error('cancelled'));
        }
      } catch (err) {
        this.log.error('job driver tick failed', { err: (err as Error)?.message ?? String(err) });
      } finally {
        this.#ticking = undefined;
      }
    })();
    return this.#ticking;
  }

  /** Does what the job needs next, until it waits for something outside (an agent, an operator, a deadline). */
  async advance(jobId: string): Promise<void> {
    for (let round = 0; round < 10_000; round++) {
      const job = await this.c.jobs.findOne({ _id: jobId });
      if (!job || job.state !== 'running') return;
      const step = job.steps[job.current];
      if (!step) {
        const failed = job.steps.some((s) => s.state === 'failed');
        await this.#cas(job, { state: failed ? 'failed' : 'succeeded', finishedAt: this.clock.now() });
        return;
      }
      if (step.state === 'pending') {
        await this.#startStep(job, step);
        continue;
      }
      if (step.state === 'running') {
        if (await this.#progressStep(job, step)) continue;
        return;
      }
      if (step.state === 'waiting') return;
      // A finished step the position did not move past (cannot happen through this driver).
      await this.#cas(job, { current: job.current + 1 });
    }
  }

  async #cas(job: JobDoc, set: Partial<JobDoc>): Promise<boolean> {
    return (await this.c.jobs.findOneAndUpdate({ _id: job._id, version: job.version }, { $set: set, $inc: { version: 1 } })) !== null;
  }

  #withStep(job: JobDoc, index: number, patch: Partial<StoredStep>): StoredStep[] {
    return job.steps.map((s) => (s.index === index ? { ...s, ...patch } : s));
  }

  async #startStep(job: JobDoc, step: StoredStep): Promise<void> {
    const now = this.clock.now();
    if (!step.selected) {
      await this.#cas(job, { steps: this.#withStep(job, step.index, { state: 'skipped', note: 'not chosen for this redo' }), current: job.current + 1 });
      return;
    }
    if (step.kind === 'confirm') {
      if (job.dryRun) await this.#cas(job, { steps: this.#withStep(job, step.index, { state: 'would-run', startedAt: now, finishedAt: now, note: `would ask: ${step.message ?? ''}` }), current: job.current + 1 });
      else await this.#cas(job, { state: 'paused', steps: this.#withStep(job, step.index, { state: 'waiting', startedAt: now }) });
      return;
    }
    let hosts: string[];
    let note: string | undefined;
    try {
      hosts = await this.#stepHosts(job, step);
    } catch (err) {
      hosts = [];
      note = `the targets could not be resolved: ${(err as Error)?.message ?? String(err)}`;
    }
    const started = { state: 'running' as const, hosts, startedAt: now, deadline: now + step.timeoutSeconds * 1000, ...(note !== undefined ? { note } : {}) };
    const next = { ...job, version: job.version + 1, steps: this.#withStep(job, step.index, started) };
    if (!(await this.#cas(job, { steps: next.steps }))) return;
    if (note !== undefined) {
      // Nothing could be targeted: the step fails by its policy.
      await this.#finishStep(next, next.steps[step.index]!, true);
      return;
    }
    await this.#ensureDispatches(next, next.steps[step.index]!);
  }

  /** The hosts of a step: its own targets or the job's, within a redo's hosts. */
  async #stepHosts(job: JobDoc, step: StoredStep): Promise<string[]> {
    if (step.kind === 'script' && step.local) return [serverHost];
    let hosts: string[];
    if (step.targets === undefined) hosts = job.hosts;
    else if (typeof step.targets === 'string') hosts = (await this.targets.resolve(step.targets, AbortSignal.timeout(60_000), { includeInactive: job.includeInactive })).hosts;
    else {
      const failed = await this.c.dispatches.find({ jobId: job._id, step: step.targets.failedOf, state: { $in: [...failedStates] } }, { projection: { host: 1 } });
      hosts = failed.map((d) => d.host).filter((h) => h !== serverHost);
    }
    if (job.restrictTo) {
      const allowed = new Set(job.restrictTo);
      hosts = hosts.filter((h) => allowed.has(h));
    }
    return [...new Set(hosts)];
  }

  /** Creates the step's missing dispatches (all of them the first time; after a crash, the rest). */
  async #ensureDispatches(job: JobDoc, step: StoredStep): Promise<void> {
    const hosts = step.hosts ?? [];
    const existing = new Set((await this.c.dispatches.find({ jobId: job._id, step: step.index }, { projection: { host: 1 } })).map((d) => d.host));
    const missing = hosts.filter((h) => !existing.has(h));
    if (missing.length === 0) return;
    const results = step.kind === 'script' && !step.local ? await this.#earlierResults(job, step.index) : new Map<string, Record<string, string>>();
    const addresses = step.kind === 'probe' ? new Map((await this.targets.inventory(AbortSignal.timeout(60_000))).map((h) => [h.name, h.ip ?? h.name] as const)) : new Map<string, string>();
    // Inserted in batches, one store transaction each (one per host made a 1,000-host launch
    // take seconds); a batch that meets a dispatch another server inserted meanwhile is retried
    // one by one. Hosts are woken batch by batch, so the first agents start while later batches
    // are still being written.
    for (let i = 0; i < missing.length; i += dispatchBatch) {
      const docs: DispatchDoc[] = [];
      for (const host of missing.slice(i, i + dispatchBatch)) docs.push(await this.#dispatchFor(job, step, host, results.get(host) ?? {}, addresses.get(host) ?? host));
      try {
        await this.c.dispatches.insertMany(docs);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        for (const doc of docs) {
          try {
            await this.c.dispatches.insertOne(doc);
          } catch (e) {
            if (!isDuplicateKey(e)) throw e;
          }
        }
      }
      for (const doc of docs) if (doc.runner === 'agent' && doc.state === 'dispatched') this.channel.wake(doc.host);
    }
  }

  /** key=value results of the host's earlier steps (later steps win). */
  async #earlierResults(job: JobDoc, step: number): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    if (step === 0) return out;
    const docs = await this.c.dispatches.find({ jobId: job._id, step: { $lt: step } }, { projection: { host: 1, step: 1, 'result.results': 1 }, sort: { step: 1 } });
    for (const d of docs) {
      const r = resultsMap(d.result);
      if (r) out.set(d.host, { ...(out.get(d.host) ?? {}), ...r });
    }
    return out;
  }

  async #dispatchFor(job: JobDoc, step: StoredStep, host: string, results: Record<string, string>, address: string): Promise<DispatchDoc> {
    const now = this.clock.now();
    const base = { _id: dispatchIdOf(job._id, step.index, host), jobId: job._id, step: step.index, host, noop: job.dryRun, createdAt: now, startAcks: 0 };
    switch (step.kind) {
      case 'script': {
        const s = step.script!;
        if (step.local) {
          return { ...base, runner: 'server', kind: 'local', state: job.dryRun ? 'would-run' : 'dispatched', ...(job.dryRun ? { finishedAt: now, message: `would run the ${s.lang} script on the server` } : {}) };
        }
        const work: JobWork = {
          id: base._id,
          jobId: job._id,
          step: step.index,
          kind: 'script',
          noop: job.dryRun,
          timeoutSeconds: step.timeoutSeconds,
          script: { lang: s.lang, source: s.source, args: s.args, env: { ...s.env, ...varsEnv(job.vars), ...resultEnv(results) }, ...(s.user !== undefined ? { user: s.user } : {}) },
        };
        return { ...base, runner: 'agent', kind: 'script', state: 'dispatched', work };
      }
      case 'files': {
        try {
          const prepared = await this.runners.files({ files: step.files ?? [] }, host, { jobId: job._id, step: step.index, vars: job.vars, dryRun: job.dryRun, blobs: this.c.blobs, signal: AbortSignal.timeout(step.timeoutSeconds * 1000) });
          const work: JobWork = { id: base._id, jobId: job._id, step: step.index, kind: 'files', noop: job.dryRun, timeoutSeconds: step.timeoutSeconds, files: prepared.files, blobs: prepared.blobs };
          return { ...base, runner: 'agent', kind: 'files', state: 'dispatched', work, blobIds: Object.keys(prepared.blobs).map((k) => k.replace(/^sha256:/, '')) };
        } catch (err) {
          return { ...base, runner: 'agent', kind: 'files', state: 'failed', finishedAt: now, message: `the files could not be prepared: ${(err as Error)?.message ?? String(err)}`.slice(0, 4000) };
        }
      }
      case 'resources': {
        const work: JobWork = { id: base._id, jobId: job._id, step: step.index, kind: 'resources', noop: job.dryRun, timeoutSeconds: step.timeoutSeconds, resources: (step.resources ?? []).map((r) => ({ ...r })) };
        return { ...base, runner: 'agent', kind: 'resources', state: 'dispatched', work };
      }
      case 'probe':
      default: {
        const p = step.probe ?? {};
        const what = p.http ? `http${p.http.https ? 's' : ''} port ${p.http.port}${p.http.path ?? '/'}` : `tcp port ${p.tcp?.port ?? 0}`;
        return { ...base, runner: 'server', kind: 'probe', address, state: job.dryRun ? 'would-run' : 'dispatched', ...(job.dryRun ? { finishedAt: now, message: `would check ${what} at ${address}` } : {}) };
      }
    }
  }

  /** A running step: expire what is past its deadline, run server work, finish when every host is done. Resolves true when the job moved on. */
  async #progressStep(job: JobDoc, step: StoredStep): Promise<boolean> {
    await this.#ensureDispatches(job, step);
    const now = this.clock.now();
    const mine: Filter = { jobId: job._id, step: step.index };
    if (step.deadline !== undefined && now > step.deadline) {
      await this.c.dispatches.updateMany({ ...mine, state: 'dispatched' }, { $set: { state: 'unreachable', finishedAt: now, message: 'not started before the step deadline (the agent did not poll, or did not start it)' } });
    }
    await this.c.dispatches.updateMany({ ...mine, state: 'running', runDeadline: { $lt: now } }, { $set: { state: 'timeout', finishedAt: now, message: 'no result: the agent never answered within the timeout and its grace' } });
    await this.#runServerWork(job, step);
    const counts = await this.c.dispatches.countBy('state', mine);
    if (counts.some((g) => (inFlightStates as readonly string[]).includes(String(g.value)) && g.count > 0)) return false;
    const failed = counts.some((g) => (failedStates as readonly string[]).includes(String(g.value)) && g.count > 0);
    return this.#finishStep(job, step, failed);
  }

  async #finishStep(job: JobDoc, step: StoredStep, failed: boolean): Promise<boolean> {
    const now = this.clock.now();
    if (!failed) return this.#cas(job, { steps: this.#withStep(job, step.index, { state: job.dryRun ? 'would-run' : 'succeeded', finishedAt: now }), current: job.current + 1 });
    const failedStep = this.#withStep(job, step.index, { state: 'failed', finishedAt: now });
    switch (step.onFailure) {
      case 'ignore':
        return this.#cas(job, { steps: failedStep, current: job.current + 1 });
      case 'pause':
        await this.#cas(job, { state: 'paused', steps: this.#withStep(job, step.index, { state: 'waiting', finishedAt: now, note: 'failed on some hosts; waiting for confirm (continue or stop)' }) });
        return false;
      case 'stop':
      default: {
        const steps = failedStep.map((s) => (s.index > step.index ? { ...s, state: 'skipped' as const, note: `step ${step.index} failed` } : s));
        await this.#cas(job, { state: 'failed', steps, current: job.steps.length, finishedAt: now });
        return false;
      }
    }
  }

  /** Claims and runs (in this process) the step's probes and local script. */
  async #runServerWork(job: JobDoc, step: StoredStep): Promise<void> {
    if (step.kind !== 'probe' && !(step.kind === 'script' && step.local)) return;
    const offered = await this.c.dispatches.find({ jobId: job._id, step: step.index, runner: 'server', state: 'dispatched' }, { limit: 10_000 });
    for (const d of offered) {
      if (this.#tasks.has(d._id) || this.#closed) continue;
      const now = this.clock.now();
      const claimed = await this.c.dispatches.findOneAndUpdate({ _id: d._id, state: 'dispatched' }, { $set: { state: 'running', startedAt: now, runDeadline: now + step.timeoutSeconds * 1000 + answerGraceMs }, $inc: { startAcks: 1 } }, { returnDocument: 'after' });
      if (!claimed) continue;
      const ac = new AbortController();
      this.#tasks.set(d._id, ac);
      const p = this.#limit(() => this.#serverTask(job, step, claimed, ac.signal)).finally(() => {
        this.#tasks.delete(d._id);
        this.#taskPromises.delete(p);
        void this.kick(job._id);
      });
      this.#taskPromises.add(p);
    }
  }

  #limit(fn: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const run = async (): Promise<void> => {
        this.#active++;
        try {
          await fn();
        } finally {
          this.#active--;
          resolve();
          this.#queue.shift()?.();
        }
      };
      if (this.#active < this.#concurrency) void run();
      else this.#queue.push(run);
    });
  }

  async #serverTask(job: JobDoc, step: StoredStep, d: DispatchDoc, cancel: AbortSignal): Promise<void> {
    const startedAt = new Date(this.clock.now()).toISOString();
    const signal = AbortSignal.any([cancel, AbortSignal.timeout(step.timeoutSeconds * 1000)]);
    let state: 'succeeded' | 'failed' | 'timeout' | 'cancelled' | 'interrupted' | 'would-run';
    let result;
    try {
      if (d.kind === 'probe') {
        const r = await this.runners.probe(step.probe ?? {}, d.address ?? d.host, signal);
        state = r.ok ? 'succeeded' : 'failed';
        result = { state, exitCode: null, stdout: '', stderr: '', message: r.message.slice(0, 4000), startedAt, finishedAt: new Date(this.clock.now()).toISOString() };
      } else {
        const s = step.script!;
        result = await this.runners.local({ lang: s.lang, source: s.source, args: s.args, env: { ...s.env, ...varsEnv(job.vars) } }, step.timeoutSeconds, signal);
        state = result.state;
      }
    } catch (err) {
      state = cancel.aborted ? 'cancelled' : signal.aborted ? 'timeout' : 'failed';
      result = { state, exitCode: null, stdout: '', stderr: '', message: `${(err as Error)?.message ?? String(err)}`.slice(0, 4000), startedAt, finishedAt: new Date(this.clock.now()).toISOString() };
    }
    const now = this.clock.now();
    const stored = toStoredResult(result);
    const done = await this.c.dispatches.findOneAndUpdate({ _id: d._id, state: 'running' }, { $set: { state, result: stored, finishedAt: now } });
    if (!done) await this.c.dispatches.findOneAndUpdate({ _id: d._id, state: 'cancelling' }, { $set: { state: 'cancelled', result: { ...stored, state: 'cancelled' }, finishedAt: now } });
  }

  /** Aborts this process's server work of a job (cancel). */
  abortJob(jobId: string): void {
    for (const [id, ac] of this.#tasks) if (id.startsWith(`${jobId}.`)) ac.abort(new Error('cancelled'));
  }
}

export { cancelGraceMs };
