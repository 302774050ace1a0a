/**
 * ScheduleRunner fires due schedules. Level-triggered: each tick reads every enabled schedule
 * from the store and compares its fire times with the clock, so a tick missed or doubled is
 * harmless and several servers may run it at once. Between ticks it sleeps (through the Timer)
 * until the earliest next fire, at most `pollMs` (schedules other servers created are seen
 * within that), and wakes at once when this server changes a schedule.
 *
 * Exactly once: a fire is claimed by inserting `{_id: scheduleId@time}` into schedule_fires;
 * the server whose insert succeeds launches, the others get DuplicateKeyError and move on. A
 * claim whose server died before recording the launch is taken over after its lease
 * (`leaseMs`) and launched again with the same fireId (the launcher's idempotency key).
 *
 * Missed runs: fire times older than `graceMs` when a tick sees them were missed (every server
 * was down). Policy skip records them as skipped; run-once fires once, at the newest missed
 * time, with `missedRuns` = how many. Either way the cursor moves past them.
 */
import { randomUUID } from 'node:crypto';
import { isoAt, type Clock } from '../../domain/clock.js';
import type { Logger } from '../../log.js';
import { isDuplicateKey } from '../../store/types.js';
import type { JobLauncher } from './job-launcher.js';
import { fireId, type FireDoc, type ScheduleCollections, type ScheduleDoc } from './schedule-records.js';
import { compileSpec, dueBetween, type CompiledSchedule } from './schedule-spec.js';
import type { Timer } from './timer.js';

export interface ScheduleRunnerOptions {
  /** Longest sleep between ticks. Default 30 s. */
  readonly pollMs?: number;
  /** A fire time older than this when seen was missed. Default 60 s. */
  readonly graceMs?: number;
  /** A claim not recorded within this is taken over by another tick. Default 5 min. */
  readonly leaseMs?: number;
  /** This server's name in claims (default a random id). */
  readonly owner?: string;
}

/** What one tick did (for tests and logs). */
export interface TickResult {
  readonly fired: number;
  readonly skipped: number;
  readonly lost: number;
  readonly takenOver: number;
}

const maxSchedules = 1000;

export class ScheduleRunner {
  readonly owner: string;
  readonly pollMs: number;
  readonly graceMs: number;
  readonly leaseMs: number;
  readonly #ac = new AbortController();
  #wake: AbortController | undefined;
  #dirty = false;
  #loop: Promise<void> | undefined;
  readonly #compiled = new Map<string, { updatedAt: number; c: CompiledSchedule | undefined }>();

  constructor(
    private readonly db: ScheduleCollections,
    private readonly launcher: JobLauncher,
    private readonly clock: Clock,
    private readonly timer: Timer,
    private readonly log: Logger,
    opts: ScheduleRunnerOptions = {},
  ) {
    this.owner = opts.owner ?? randomUUID();
    this.pollMs = opts.pollMs ?? 30_000;
    this.graceMs = opts.graceMs ?? 60_000;
    this.leaseMs = opts.leaseMs ?? 5 * 60_000;
  }

  /** The compiled spec of a stored schedule (cached per update); undefined if it no longer compiles. */
  #compile(s: ScheduleDoc): CompiledSchedule | undefined {
    const hit = this.#compiled.get(s._id);
    if (hit && hit.updatedAt === s.updatedAt) return hit.c;
    let c: CompiledSchedule | undefined;
    try {
      c = compileSpec(s.spec);
    } catch (err) {
      this.log.error('a stored schedule does not compile; it will not fire', { schedule: s.name, err: (err as Error).message });
    }
    if (this.#compiled.size > maxSchedules * 2) this.#compiled.clear();
    this.#compiled.set(s._id, { updatedAt: s.updatedAt, c });
    return c;
  }

  /** One pass over every enabled schedule: fire what is due, apply the missed policy, take over stale claims. */
  async tick(): Promise<TickResult> {
    let fired = 0;
    let skipped = 0;
    let lost = 0;
    const schedules = await this.db.schedules.find({ enabled: true }, { limit: maxSchedules });
    for (const s of schedules) {
      if (this.#ac.signal.aborted) break;
      const c = this.#compile(s);
      if (!c) continue;
      const now = this.clock.now();
      const due = dueBetween(c, s.cursor, now);
      if (due.latest === undefined) continue;
      const latest = due.latest;
      const missed = now - latest > this.graceMs;
      if (missed && s.missed === 'skip') {
        await this.db.schedules.updateOne({ _id: s._id, cursor: { $lt: latest } }, { $set: { cursor: latest, skipped: { count: due.count, capped: due.capped, latest, at: now } } });
        this.log.warn('schedule runs missed while no server ran were skipped (policy skip)', { schedule: s.name, count: due.count, latest: isoAt(latest) });
        skipped += due.count;
        continue;
      }
      // On time: fire the newest due time (older ones in the same window count as missed).
      const missedRuns = missed ? due.count : due.count - 1;
      const won = await this.#claim(s, latest, missedRuns, now);
      await this.db.schedules.updateOne({ _id: s._id }, { $max: { cursor: latest } });
      if (!won) {
        lost++;
        continue;
      }
      await this.#launch(s, latest, missedRuns);
      fired++;
    }
    const takenOver = await this.#takeOverStale();
    return { fired, skipped, lost, takenOver };
  }

  async #claim(s: ScheduleDoc, at: number, missedRuns: number, now: number): Promise<boolean> {
    try {
      await this.db.fires.insertOne({ _id: fireId(s._id, at), scheduleId: s._id, at, state: 'claimed', owner: this.owner, claimedAt: now, leaseUntil: now + this.leaseMs, missedRuns });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false; // another server (or an earlier tick) fired it
      throw err;
    }
  }

  async #launch(s: ScheduleDoc, at: number, missedRuns: number): Promise<void> {
    const id = fireId(s._id, at);
    let jobId: string | undefined;
    let error: string | undefined;
    try {
      const body: unknown = JSON.parse(s.launchJson);
      const r = await this.launcher.launch(body, s.createdBy, { scheduleId: s._id, scheduleName: s.name, fireId: id, scheduledAt: isoAt(at), missedRuns, ...(s.planId !== undefined ? { planId: s.planId } : {}) });
      jobId = r.id;
    } catch (err) {
      error = (err instanceof Error ? err.message : String(err)).slice(0, 500);
    }
    const firedAt = this.clock.now();
    await this.db.fires.updateOne({ _id: id }, { $set: { state: error === undefined ? 'launched' : 'failed', ...(jobId !== undefined ? { jobId } : {}), ...(error !== undefined ? { error } : {}) } });
    const last = { at, firedAt, missedRuns, ...(jobId !== undefined ? { jobId } : {}), ...(error !== undefined ? { error } : {}) };
    await this.db.schedules.updateOne({ _id: s._id, $or: [{ 'last.at': { $lt: at } }, { 'last.at': { $exists: false } }] }, { $set: { last } });
    if (error !== undefined) this.log.error('a schedule fired but its launch failed', { schedule: s.name, at: isoAt(at), err: error });
    else this.log.info('schedule fired', { schedule: s.name, at: isoAt(at), job: jobId, missedRuns });
  }

  /** Claims whose server died before recording the launch: take over (compare-and-swap) and launch. */
  async #takeOverStale(): Promise<number> {
    const now = this.clock.now();
    let n = 0;
    const stale = await this.db.fires.find({ state: 'claimed', leaseUntil: { $lt: now } }, { limit: 100 });
    for (const f of stale) {
      const mine = await this.db.fires.findOneAndUpdate({ _id: f._id, state: 'claimed', leaseUntil: f.leaseUntil }, { $set: { owner: this.owner, leaseUntil: now + this.leaseMs } }, { returnDocument: 'after' });
      if (!mine) continue;
      const s = await this.db.schedules.findOne({ _id: f.scheduleId });
      if (!s) {
        await this.db.fires.updateOne({ _id: f._id }, { $set: { state: 'failed', error: 'the schedule was deleted' } });
        continue;
      }
      this.log.warn('taking over a schedule fire whose server did not record its launch', { schedule: s.name, at: isoAt(f.at), previousOwner: f.owner });
      await this.#launch(s, f.at, f.missedRuns);
      n++;
    }
    return n;
  }

  /** How long to sleep: until the earliest next fire of an enabled schedule, at most pollMs. */
  async #nextWait(): Promise<number> {
    const now = this.clock.now();
    let wait = this.pollMs;
    for (const s of await this.db.schedules.find({ enabled: true }, { limit: maxSchedules })) {
      const n = this.#compile(s)?.next(Math.max(s.cursor, now - this.graceMs));
      if (n !== undefined) wait = Math.min(wait, Math.max(0, n - now));
    }
    return wait;
  }

  /** Starts the loop (idempotent). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Ends the current sleep early (a schedule changed on this server). */
  wake(): void {
    this.#dirty = true;
    this.#wake?.abort();
  }

  async #run(): Promise<void> {
    const signal = this.#ac.signal;
    while (!signal.aborted) {
      let wait = this.pollMs;
      this.#dirty = false;
      try {
        const r = await this.tick();
        if (r.fired + r.skipped + r.takenOver > 0) this.log.debug('schedule tick', { ...r });
        wait = await this.#nextWait();
      } catch (err) {
        if (signal.aborted) break;
        this.log.error('schedule tick failed; retrying', { err: (err as Error).message });
      }
      if (this.#dirty) continue;
      const wake = new AbortController();
      this.#wake = wake;
      await this.timer.sleep(wait, AbortSignal.any([signal, wake.signal]));
      this.#wake = undefined;
    }
  }

  /** Stops the loop and waits for the tick in progress. */
  async stop(): Promise<void> {
    this.#ac.abort();
    await this.#loop;
  }
}
