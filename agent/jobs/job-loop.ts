/**
 * The job loop (ADR 0014): beside the pull loop, it long-polls the server for dispatches and
 * cancels, claims each dispatch in the ledger, asks to start it, marks it started, runs it
 * (at most `maxConcurrent` at a time, never waiting on a catalog run), spools its result and
 * delivers it. Network and server errors back off with jitter (daemon/backoff.ts); aborting
 * `signal` stops the loop promptly: running scripts are killed and answered `interrupted`
 * (spooled; delivered by the next start when the server cannot be told now).
 *
 * At start it settles what a previous process left (job-ledger.ts): a dispatch marked started
 * without a result is answered `interrupted` (never spawned again), a claimed one has its start
 * retried, a spooled result is delivered.
 */
import type { JobResult, JobWork } from '../../schemas/index.js';
import type { AgentClient } from '../client/agent-client.js';
import { ApiError } from '../client/api-error.js';
import { TransportError } from '../client/http-transport.js';
import { Backoff, sleep, type Random } from '../daemon/backoff.js';
import { errorFields, type Logger } from '../daemon/json-logger.js';
import { isoTime, type JobContext, type StopReason } from './job-context.js';
import { executeDispatch } from './job-executor.js';
import { LedgerFullError, type JobLedger } from './job-ledger.js';
import { killLeftoverGroup, processStartTime } from './leftover-group.js';

export type JobChannel = Pick<AgentClient, 'pollJobs' | 'startJob' | 'sendJobResult'>;

export interface JobLoopDeps {
  readonly client: JobChannel;
  readonly ledger: JobLedger;
  readonly ctx: JobContext;
  readonly log: Logger;
  readonly random?: Random;
  /** Runs a started dispatch (default executeDispatch). */
  readonly execute?: (work: JobWork, ctx: JobContext, stop: AbortSignal, onSpawn?: (pid: number) => void) => Promise<JobResult>;
}

export interface JobLoopConfig {
  /** Long-poll wait asked of the server, seconds (0–55). Default 25. */
  readonly waitSeconds?: number;
  /** Dispatches run at the same time. Default 4. */
  readonly maxConcurrent?: number;
  /** Backoff after a failed poll. Defaults 1 s … 60 s. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** When work was offered but every slot is busy: wait this long (or until a slot frees) before polling again. Default 2 s. */
  readonly saturatedWaitMs?: number;
  /** Agent-wide dry run (`stead agent --noop`): every dispatch is run as a dry run. */
  readonly noop?: boolean;
}

interface Running {
  readonly stop: AbortController;
  readonly done: Promise<void>;
}

/** True for an answer the server will give again however often the result is sent (a malformed or unknown dispatch). */
function refusedForGood(err: unknown): err is ApiError {
  return err instanceof ApiError && err.status >= 400 && err.status < 500 && ![401, 403, 408, 429].includes(err.status);
}

export class JobLoop {
  readonly #d: JobLoopDeps;
  readonly #max: number;
  readonly #noop: boolean;
  readonly #running = new Map<string, Running>();
  #slotFreed: (() => void) | undefined;
  #deliveryFailedAt = 0;

  constructor(deps: JobLoopDeps, config: JobLoopConfig = {}) {
    this.#d = deps;
    this.#max = Math.max(1, config.maxConcurrent ?? 4);
    this.#noop = config.noop === true;
  }

  /** Dispatches running (or being claimed and started) in this process. */
  get running(): readonly string[] {
    return [...this.#running.keys()];
  }

  /** Settles what a previous process left: started without result → interrupted. Call once, before the first poll. */
  async recover(): Promise<void> {
    for (const id of this.#d.ledger.ids('started')) {
      const e = await this.#d.ledger.get(id);
      const at = this.#d.ctx.now();
      const killed = e?.pgid !== undefined && killLeftoverGroup(e.pgid, e.pgidStart);
      const result: JobResult = {
        state: 'interrupted',
        exitCode: null,
        stdout: '',
        stderr: '',
        message: `the agent restarted while this dispatch ran; it is not run again${killed ? ' (its processes, still running, were killed)' : ''}`,
        startedAt: isoTime(e?.startedAt ?? at),
        finishedAt: isoTime(at),
      };
      await this.#d.ledger.finish(id, result);
      this.#d.log.warn('a dispatch was running when the agent stopped: answered interrupted', { dispatch: id, killedLeftovers: killed });
    }
  }

  /** Delivers every spooled result not yet acknowledged; stops at the first that cannot be sent (kept for later). */
  async deliverPending(signal: AbortSignal): Promise<boolean> {
    for (const id of this.#d.ledger.ids('finished')) {
      if (signal.aborted) return false;
      if (this.#running.has(id)) continue;
      if (!(await this.#deliver(id, signal))) return false;
    }
    return true;
  }

  /** Claimed dispatches whose start was not answered (a lost answer, a restart): asks again while slots are free. */
  async retryClaimed(signal: AbortSignal): Promise<void> {
    for (const id of this.#d.ledger.ids('claimed')) {
      if (signal.aborted || this.#running.size >= this.#max) return;
      if (this.#running.has(id)) continue;
      const e = await this.#d.ledger.get(id);
      if (e?.work) this.#launch(e.work, signal, true);
    }
  }

  /**
   * Acts on one poll answer. Returns false when offered work was not newly taken (no free slot,
   * or already being started here): the server would answer the next poll at once with the same
   * work, so the caller waits a little first.
   */
  async handle(answer: { readonly work: readonly JobWork[]; readonly cancel: readonly string[] }, signal: AbortSignal): Promise<boolean> {
    for (const id of answer.cancel) await this.#cancel(id, signal);
    let launched = 0;
    for (const work of answer.work) {
      if (this.#running.has(work.id)) continue;
      const state = this.#d.ledger.state(work.id);
      if (state === 'started' || state === 'finished' || state === 'delivered') {
        // Offered again: it ran (or runs) here already, and never runs twice.
        this.#d.log.debug('a dispatch the ledger knows was offered again; not run again', { dispatch: work.id, ledger: state });
        continue;
      }
      if (this.#running.size >= this.#max) continue;
      this.#launch(work, signal, state === 'claimed');
      launched++;
    }
    return answer.work.length === 0 || launched > 0;
  }

  /** Resolves when a slot frees (or a start was answered), after `ms`, or on abort. */
  async waitForSlot(ms: number, signal: AbortSignal): Promise<void> {
    const freed = new Promise<void>((resolve) => {
      this.#slotFreed = resolve;
    });
    await Promise.race([freed, sleep(ms, signal)]);
    this.#slotFreed = undefined;
  }

  /** Kills every running dispatch (answered `interrupted`) and waits for them to end. */
  async stopAll(): Promise<void> {
    for (const r of this.#running.values()) r.stop.abort('shutdown' satisfies StopReason);
    await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  #launch(work: JobWork, signal: AbortSignal, claimed: boolean): void {
    const stop = new AbortController();
    const done = this.#run(work, signal, stop.signal, claimed)
      .catch((err: unknown) => this.#d.log.error('a dispatch could not be handled; it stays in the job ledger', { dispatch: work.id, err: errorFields(err) }))
      .finally(() => {
        this.#running.delete(work.id);
        this.#slotFreed?.();
      });
    this.#running.set(work.id, { stop, done });
  }

  async #run(work: JobWork, signal: AbortSignal, stop: AbortSignal, claimed: boolean): Promise<void> {
    const { ledger, client, log } = this.#d;
    if (!claimed) {
      try {
        await ledger.claim(work);
      } catch (err) {
        if (err instanceof LedgerFullError) {
          log.error(err.message, { dispatch: work.id });
          return;
        }
        throw err;
      }
    }
    let answer;
    try {
      answer = await client.startJob(work.id, signal);
    } catch (err) {
      // No answer: the claim stays, and the start is asked again (the server answers run again for a lost answer).
      if (!signal.aborted) log.warn('the start of a dispatch was not answered; will ask again', { dispatch: work.id, err: errorFields(err) });
      return;
    }
    this.#slotFreed?.();
    if (!answer.run) {
      log.info('the server said not to run a dispatch', { dispatch: work.id, reason: answer.reason?.slice(0, 200) });
      await ledger.forget(work.id);
      return;
    }
    if (stop.aborted) {
      // Cancelled (or the agent stopping) between the claim and the start: never spawned.
      await ledger.finish(work.id, this.#notRun(stop.reason === 'shutdown' ? 'interrupted' : 'cancelled', 'stopped before it started'));
    } else {
      await ledger.markStarted(work.id);
      log.info('dispatch started', { dispatch: work.id, kind: work.kind });
      const run = this.#noop && !work.noop ? { ...work, noop: true } : work;
      let recorded: Promise<void> = Promise.resolve();
      const onSpawn = (pid: number): void => {
        recorded = ledger.recordProcess(work.id, pid, processStartTime(pid)).catch((err: unknown) => log.warn('could not record the process group of a dispatch', { dispatch: work.id, err: errorFields(err) }));
      };
      const result = await (this.#d.execute ?? executeDispatch)(run, this.#d.ctx, stop, onSpawn);
      await recorded;
      await ledger.finish(work.id, result);
      log.info('dispatch finished', { dispatch: work.id, state: result.state, exitCode: result.exitCode });
    }
    if (!signal.aborted) await this.#deliver(work.id, signal);
  }

  async #cancel(id: string, signal: AbortSignal): Promise<void> {
    const running = this.#running.get(id);
    if (running) {
      if (!running.stop.signal.aborted) this.#d.log.info('dispatch cancelled by the server', { dispatch: id });
      running.stop.abort('cancel' satisfies StopReason);
      return;
    }
    const state = this.#d.ledger.state(id);
    if (state === 'finished' || state === 'delivered' || state === 'started') return;
    // Claimed but not started here, or unknown: nothing runs; answer cancelled.
    const result = this.#notRun('cancelled', state === 'claimed' ? 'cancelled before it started on this host' : 'cancelled; it was not running on this host');
    try {
      if (state === 'claimed') await this.#d.ledger.finish(id, result);
      else await this.#d.ledger.finishUnknown(id, result);
    } catch (err) {
      if (!(err instanceof LedgerFullError)) throw err;
      this.#d.log.error(err.message, { dispatch: id });
      return;
    }
    await this.#deliver(id, signal);
  }

  #notRun(state: JobResult['state'], message: string): JobResult {
    const t = isoTime(this.#d.ctx.now());
    return { state, exitCode: null, stdout: '', stderr: '', message, startedAt: t, finishedAt: t };
  }

  async #deliver(id: string, signal: AbortSignal): Promise<boolean> {
    const e = await this.#d.ledger.get(id);
    if (!e?.result) return true;
    try {
      const ack = await this.#d.client.sendJobResult(id, e.result, signal);
      await this.#d.ledger.markDelivered(id);
      this.#d.log.debug('dispatch result delivered', { dispatch: id, duplicate: ack.duplicate });
      return true;
    } catch (err) {
      if (refusedForGood(err)) {
        this.#d.log.error('the server refused a dispatch result; it is not sent again', { dispatch: id, err: errorFields(err) });
        await this.#d.ledger.markDelivered(id, err.message);
        return true;
      }
      const now = this.#d.ctx.now();
      if (!signal.aborted && now - this.#deliveryFailedAt > 60_000) this.#d.log.warn('a dispatch result could not be delivered; it stays spooled', { dispatch: id, err: errorFields(err) });
      this.#deliveryFailedAt = now;
      return false;
    }
  }
}

/**
 * Runs the job loop until `signal` aborts, then kills running dispatches (answered
 * `interrupted`) and resolves once they ended. Never rejects for the server's errors.
 */
export async function runJobLoop(deps: JobLoopDeps, config: JobLoopConfig, signal: AbortSignal): Promise<void> {
  const loop = new JobLoop(deps, config);
  const backoff = new Backoff({ minMs: config.minBackoffMs ?? 1000, maxMs: config.maxBackoffMs ?? 60_000, ...(deps.random ? { random: deps.random } : {}) });
  const wait = config.waitSeconds ?? 25;
  let lastPrune = 0;
  let recovered = false;
  let noChannelLogged = false;
  try {
    while (!signal.aborted) {
      try {
        if (!recovered) {
          await loop.recover();
          recovered = true;
        }
        await loop.deliverPending(signal);
        await loop.retryClaimed(signal);
        const answer = await deps.client.pollJobs(wait, signal);
        backoff.reset();
        if (!(await loop.handle(answer, signal))) await loop.waitForSlot(config.saturatedWaitMs ?? 2000, signal);
        const now = deps.ctx.now();
        if (now - lastPrune > 3600_000) {
          lastPrune = now;
          await deps.ledger.prune();
        }
      } catch (err) {
        if (signal.aborted) break;
        let delay = backoff.next();
        if (err instanceof ApiError && err.status === 404) {
          // A server without the job channel (older than the agent): ask again now and then, say so once.
          delay = config.maxBackoffMs ?? 60_000;
          if (!noChannelLogged) deps.log.info('the server has no job channel (404); asking again every few minutes', { retryInMs: delay });
          noChannelLogged = true;
        } else {
          const local = !(err instanceof ApiError) && !(err instanceof TransportError);
          deps.log[local ? 'error' : 'warn'](local ? 'the job loop failed; retrying' : 'job poll failed; retrying', { err: errorFields(err), retryInMs: delay, attempt: backoff.attempt });
        }
        await sleep(delay, signal);
      }
    }
  } finally {
    await loop.stopAll();
  }
}
