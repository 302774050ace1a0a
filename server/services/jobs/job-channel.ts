/**
 * The server side of the agent job channel (schemas/job-protocol.ts): the long-poll, start
 * and result. A poll answers at once when the host has dispatches offered and not yet started,
 * or running ones being cancelled; otherwise it waits, woken in-process (an EventEmitter keyed
 * by host) when work is created here. Work another server created is found by one store query
 * a second for all the hosts waiting here (not one per poll), which wakes those hosts. One
 * waiting poll per host: a newer poll replaces the older, which answers empty lists at once.
 */
import { EventEmitter } from 'node:events';
import type { JobPollResponse, JobResult, JobResultAck, JobStartResponse, JobWork } from '../../../schemas/job-protocol.js';
import type { Clock } from '../../domain/clock.js';
import { ApiError } from '../../domain/errors.js';
import type { BlobStore } from '../../store/types.js';
import { toStoredResult, type JobCollections } from './job-model.js';

/** How long a running dispatch may outlive its timeout before the server gives up on the agent. */
export const answerGraceMs = 30_000;
/** Largest number of dispatches offered in one poll answer. */
export const maxWorkPerPoll = 100;
/** Longest poll wait (seconds). */
export const maxPollWaitSeconds = 55;

export interface JobChannelOptions {
  /** Interval of the store query that finds work other servers created for waiting hosts (ms). Default 1000. */
  readonly recheckMs?: number;
}

export class JobChannel {
  readonly #events = new EventEmitter();
  /** host → the waiting poll's controller (at most one per host). */
  readonly #waiting = new Map<string, AbortController>();
  /** host → wake count, for hosts with a waiting poll (closes the check-then-wait race). */
  readonly #wakes = new Map<string, number>();
  readonly #recheckMs: number;
  #recheckTimer: NodeJS.Timeout | undefined;
  #rechecking = false;
  #onProgress: (jobId: string) => void = () => {};

  constructor(
    private readonly c: JobCollections,
    private readonly clock: Clock,
    opts: JobChannelOptions = {},
  ) {
    this.#events.setMaxListeners(0);
    this.#recheckMs = opts.recheckMs ?? 1000;
  }

  /** Called with the job id whenever a dispatch starts or finishes (the plan driver advances). */
  onProgress(fn: (jobId: string) => void): void {
    this.#onProgress = fn;
  }

  /** Wakes the host's waiting poll, if any. */
  wake(host: string): void {
    if (!this.#waiting.has(host)) return;
    this.#wakes.set(host, (this.#wakes.get(host) ?? 0) + 1);
    this.#events.emit(host);
  }

  /** Hosts with a poll waiting in this process. */
  waitingHosts(): string[] {
    return [...this.#waiting.keys()];
  }

  /** What the host has to do now: offered work and cancels. */
  async pending(host: string): Promise<JobPollResponse> {
    const offered = await this.c.dispatches.find({ host, state: 'dispatched', runner: 'agent' }, { sort: { createdAt: 1 }, limit: maxWorkPerPoll });
    const cancelling = await this.c.dispatches.find({ host, state: 'cancelling', runner: 'agent' }, { projection: { _id: 1 }, limit: 1000 });
    return { work: offered.map((d) => d.work).filter((w): w is JobWork => w !== undefined), cancel: cancelling.map((d) => d._id) };
  }

  /** The long-poll: answers when there is work or a cancel, after `waitSeconds`, or when replaced/aborted. */
  async poll(host: string, waitSeconds: number, signal: AbortSignal): Promise<JobPollResponse> {
    this.#waiting.get(host)?.abort();
    const mine = new AbortController();
    this.#waiting.set(host, mine);
    const until = performance.now() + Math.min(Math.max(waitSeconds, 0), maxPollWaitSeconds) * 1000;
    try {
      for (;;) {
        const seen = this.#wakes.get(host) ?? 0;
        const r = await this.pending(host);
        if (r.work.length > 0 || r.cancel.length > 0) return r;
        const left = until - performance.now();
        if (left <= 0 || mine.signal.aborted || signal.aborted) return r;
        if ((this.#wakes.get(host) ?? 0) !== seen) continue;
        this.#startRechecks();
        await this.#sleep(host, left, mine.signal, signal);
      }
    } finally {
      if (this.#waiting.get(host) === mine) {
        this.#waiting.delete(host);
        this.#wakes.delete(host);
      }
    }
  }

  #startRechecks(): void {
    if (this.#recheckTimer) return;
    this.#recheckTimer = setInterval(() => void this.recheck(), this.#recheckMs);
    this.#recheckTimer.unref();
  }

  /** Wakes every host waiting here that has work in the store (created by any server). */
  async recheck(): Promise<void> {
    if (this.#rechecking) return;
    this.#rechecking = true;
    try {
      const hosts = [...this.#waiting.keys()];
      if (hosts.length === 0 && this.#recheckTimer) {
        clearInterval(this.#recheckTimer);
        this.#recheckTimer = undefined;
      }
      for (let i = 0; i < hosts.length; i += 1000) {
        const found = await this.c.dispatches.find({ host: { $in: hosts.slice(i, i + 1000) }, runner: 'agent', state: { $in: ['dispatched', 'cancelling'] } }, { projection: { host: 1 } });
        for (const h of new Set(found.map((d) => d.host))) this.wake(h);
      }
    } catch {
      // The store is unreachable: the next recheck tries again; polls end at their deadline.
    } finally {
      this.#rechecking = false;
    }
  }

  #sleep(host: string, ms: number, a: AbortSignal, b: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#events.off(host, done);
        a.removeEventListener('abort', done);
        b.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#events.on(host, done);
      a.addEventListener('abort', done, { once: true });
      b.addEventListener('abort', done, { once: true });
    });
  }

  /** POST …/jobs/:id/start: dispatched → running, once; a retry by the same host answers run: true again. */
  async start(host: string, id: string): Promise<JobStartResponse> {
    const now = this.clock.now();
    const offered = await this.c.dispatches.findOne({ _id: id, host, runner: 'agent' });
    if (!offered) return { run: false, reason: 'unknown dispatch' };
    const timeoutMs = (offered.work?.timeoutSeconds ?? 600) * 1000;
    const won = await this.c.dispatches.findOneAndUpdate(
      { _id: id, host, runner: 'agent', state: 'dispatched' },
      { $set: { state: 'running', startedAt: now, runDeadline: now + timeoutMs + answerGraceMs }, $inc: { startAcks: 1 } },
      { returnDocument: 'after' },
    );
    if (won) {
      this.#onProgress(won.jobId);
      return { run: true };
    }
    const again = await this.c.dispatches.findOneAndUpdate({ _id: id, host, runner: 'agent', state: 'running' }, { $inc: { startAcks: 1 } });
    if (again) return { run: true };
    const cur = await this.c.dispatches.findOne({ _id: id, host, runner: 'agent' });
    const state = cur?.state ?? 'gone';
    return { run: false, reason: state === 'cancelling' || state === 'cancelled' ? 'cancelled' : state === 'queued' ? 'not offered yet' : `already ${state}` };
  }

  /** POST …/jobs/:id/result: the first result is kept; later ones answer duplicate. */
  async result(host: string, id: string, result: JobResult): Promise<JobResultAck> {
    const stored = toStoredResult(result);
    const now = this.clock.now();
    const finished = await this.c.dispatches.findOneAndUpdate(
      { _id: id, host, runner: 'agent', state: { $in: ['dispatched', 'running', 'cancelling'] } },
      { $set: { state: result.state, result: stored, finishedAt: now } },
    );
    if (finished) {
      this.#onProgress(finished.jobId);
      return { stored: true, duplicate: false };
    }
    // The server gave up on it (unreachable, timeout) or cancelled it before it started: keep
    // the agent's word beside that state, once.
    const late = await this.c.dispatches.findOneAndUpdate({ _id: id, host, runner: 'agent', result: { $exists: false } }, { $set: { result: stored, lateResult: true } });
    if (late) return { stored: true, duplicate: false };
    if (!(await this.c.dispatches.findOne({ _id: id, host, runner: 'agent' }, { projection: { _id: 1 } }))) throw new ApiError('NOT_FOUND', `no dispatch ${id} for host ${host}`);
    return { stored: false, duplicate: true };
  }

  /** Is blob `sha256` referenced by an in-flight dispatch addressed to `host`? */
  async blobFor(host: string, sha256: string): Promise<boolean> {
    return (await this.c.dispatches.count({ host, runner: 'agent', state: { $in: ['dispatched', 'running'] }, blobIds: { $all: [sha256] } })) > 0;
  }

  /** The bucket of job blobs. */
  get blobStore(): BlobStore {
    return this.c.blobs;
  }

  /** Ends every waiting poll (server shutdown). */
  close(): void {
    if (this.#recheckTimer) clearInterval(this.#recheckTimer);
    this.#recheckTimer = undefined;
    for (const ac of this.#waiting.values()) ac.abort();
  }
}
