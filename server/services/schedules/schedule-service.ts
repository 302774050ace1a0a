/**
 * ScheduleService keeps named schedules (collection `schedules`): create, list with next and
 * last run, get, delete, enable and disable, and previews of a spec. A schedule launches a job
 * body (ADR 0014's launch body) or a saved plan through a JobLauncher; the firing itself is
 * ScheduleRunner's (started by compose.ts only when a launcher is wired).
 */
import { randomUUID } from 'node:crypto';
import type { ScheduleSpec } from '../../../schemas/schedule-spec.js';
import type { Clock } from '../../domain/clock.js';
import { actorName, byFields, type ActorLike, type AuditLog } from '../audit-log.js';
import { ApiError } from '../../domain/errors.js';
import type { Logger } from '../../log.js';
import { isDuplicateKey, type DocumentStore } from '../../store/types.js';
import type { JobLauncher } from './job-launcher.js';
import { openScheduleCollections, type LastFire, type MissedPolicy, type ScheduleCollections, type ScheduleDoc } from './schedule-records.js';
import { ScheduleRunner, type ScheduleRunnerOptions } from './schedule-runner.js';
import { compileSpec, nextRuns, type CompiledSchedule } from './schedule-spec.js';
import type { Timer } from './timer.js';

/** Schedule names: lowercase letters, digits and dashes, 1–63 characters, starting with a letter or digit. */
export const scheduleNamePattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A new schedule: exactly one of `job` (a launch body) and `plan`. */
export interface NewSchedule {
  readonly name: string;
  readonly spec: ScheduleSpec;
  readonly job?: unknown;
  /** A saved plan; `body` is what POST /api/v1/plans/:id/run takes (targets, vars), default {}. */
  readonly plan?: { readonly id: string; readonly body?: unknown };
  /** Default skip. */
  readonly missed?: MissedPolicy;
  /** Created disabled (default: enabled). */
  readonly disabled?: boolean;
}

/** A schedule as callers see it. */
export interface ScheduleInfo {
  readonly id: string;
  readonly name: string;
  readonly spec: ScheduleSpec;
  readonly description: string;
  readonly tz: string;
  readonly enabled: boolean;
  readonly missed: MissedPolicy;
  readonly job?: unknown;
  readonly plan?: { readonly id: string; readonly body: unknown };
  readonly createdBy: string;
  readonly createdAt: number;
  /** The next fire times (up to five; none when disabled or when a "once" has passed). */
  readonly nextRuns: readonly number[];
  readonly last?: LastFire & { readonly jobState?: string };
  readonly skipped?: { readonly count: number; readonly capped: boolean; readonly latest: number; readonly at: number };
}

/** The preview of a spec. */
export interface SchedulePreview {
  readonly description: string;
  readonly tz: string;
  readonly nextRuns: readonly number[];
}

export interface ScheduleServiceOptions {
  readonly launcher?: JobLauncher;
  /** Most schedules kept (default 1000). */
  readonly maxSchedules?: number;
  readonly ids?: () => string;
}

const maxLaunchJson = 256 * 1024;

/** What the audit log keeps of a schedule. */
function scheduleSummary(d: ScheduleDoc): unknown {
  return { id: d._id, spec: d.spec, enabled: d.enabled, missed: d.missed, ...(d.planId !== undefined ? { plan: d.planId } : {}), launch: JSON.parse(d.launchJson) as unknown };
}

export class ScheduleService {
  #runner: ScheduleRunner | undefined;
  readonly #ids: () => string;
  readonly #max: number;

  private constructor(
    private readonly db: ScheduleCollections,
    private readonly clock: Clock,
    private readonly opts: ScheduleServiceOptions,
  ) {
    this.#ids = opts.ids ?? (() => `sch_${randomUUID()}`);
    this.#max = opts.maxSchedules ?? 1000;
  }

  #audit: AuditLog | undefined;

  /** Schedule changes are recorded in the audit log from now on. */
  setAuditLog(log: AuditLog): void {
    this.#audit = log;
  }

  static async open(store: DocumentStore, clock: Clock, opts: ScheduleServiceOptions = {}): Promise<ScheduleService> {
    return new ScheduleService(await openScheduleCollections(store), clock, opts);
  }

  /** Whether schedules fire on this server (a launcher is wired). */
  get firing(): boolean {
    return this.opts.launcher !== undefined;
  }

  /**
   * Starts the runner (once). Throws when no launcher was given: schedules cannot fire without
   * a way to launch jobs.
   */
  startRunner(timer: Timer, log: Logger, opts: ScheduleRunnerOptions = {}): ScheduleRunner {
    if (!this.opts.launcher) throw new Error('ScheduleService.startRunner needs a JobLauncher');
    this.#runner ??= new ScheduleRunner(this.db, this.opts.launcher, this.clock, timer, log, opts);
    this.#runner.start();
    return this.#runner;
  }

  async stopRunner(): Promise<void> {
    await this.#runner?.stop();
  }

  /** Next five runs of a spec from now (ApiError BAD_REQUEST with the problem when it is not valid). */
  preview(spec: ScheduleSpec, count = 5): SchedulePreview {
    const c = compileSpec(spec);
    return { description: c.description, tz: c.tz, nextRuns: nextRuns(c, this.clock.now(), count) };
  }

  async create(input: NewSchedule, actor: ActorLike): Promise<ScheduleInfo> {
    const by = actorName(actor);
    if (!scheduleNamePattern.test(input.name)) throw new ApiError('BAD_REQUEST', `schedule name "${input.name.slice(0, 80)}" must be 1-63 of a-z, 0-9 and "-", starting with a letter or digit`);
    if ((input.job === undefined) === (input.plan === undefined)) throw new ApiError('BAD_REQUEST', 'a schedule launches exactly one of job (a launch body) or plan');
    const c = compileSpec(input.spec);
    const now = this.clock.now();
    if (c.next(now) === undefined) throw new ApiError('BAD_REQUEST', `${c.description} never fires after now (${new Date(now).toISOString()})`);
    const launchJson = JSON.stringify(input.plan ? (input.plan.body ?? {}) : input.job);
    if (launchJson.length > maxLaunchJson) throw new ApiError('PAYLOAD_TOO_LARGE', `the launch body is over ${maxLaunchJson} bytes`);
    if ((await this.db.schedules.count({})) >= this.#max) throw new ApiError('CONFLICT', `there are already ${this.#max} schedules; delete one first`);
    const doc: ScheduleDoc = {
      _id: this.#ids(),
      name: input.name,
      spec: input.spec,
      launchJson,
      ...(input.plan ? { planId: input.plan.id } : {}),
      missed: input.missed ?? 'skip',
      enabled: input.disabled !== true,
      createdBy: by,
      createdAt: now,
      updatedAt: now,
      cursor: now,
    };
    try {
      await this.db.schedules.insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) throw new ApiError('CONFLICT', `a schedule named ${input.name} exists`);
      throw err;
    }
    this.#runner?.wake();
    await this.#audit?.record({ ...byFields(actor), action: 'schedule.create', target: `schedule:${input.name}`, after: scheduleSummary(doc) });
    return this.#info(doc, c);
  }

  async list(): Promise<ScheduleInfo[]> {
    const docs = await this.db.schedules.find({}, { sort: { name: 1 }, limit: this.#max });
    return Promise.all(docs.map((d) => this.#info(d)));
  }

  async get(name: string): Promise<ScheduleInfo> {
    return this.#info(await this.#doc(name));
  }

  /** Deletes a schedule and its fire records. */
  async delete(name: string, by?: ActorLike): Promise<void> {
    const d = await this.#doc(name);
    const n = await this.db.schedules.deleteOne({ _id: d._id });
    await this.db.fires.deleteMany({ scheduleId: d._id });
    if (n === 1) await this.#audit?.record({ ...byFields(by), action: 'schedule.delete', target: `schedule:${name}`, before: scheduleSummary(d) });
  }

  /**
   * Enables or disables a schedule. Enabling moves its cursor to now: runs that fell while it
   * was disabled were not missed, they were not wanted.
   */
  async setEnabled(name: string, enabled: boolean, by?: ActorLike): Promise<ScheduleInfo> {
    const d = await this.#doc(name);
    const action = enabled ? 'schedule.enable' : 'schedule.disable';
    if (d.enabled === enabled) {
      await this.#audit?.record({ ...byFields(by), action, target: `schedule:${name}`, before: { enabled: d.enabled }, after: { enabled }, details: { unchanged: true } });
      return this.#info(d);
    }
    const now = this.clock.now();
    const after = await this.db.schedules.findOneAndUpdate({ _id: d._id }, { $set: { enabled, updatedAt: now, ...(enabled ? { cursor: Math.max(now, d.cursor) } : {}) } }, { returnDocument: 'after' });
    if (!after) throw new ApiError('NOT_FOUND', `no schedule named ${name}`);
    await this.#audit?.record({ ...byFields(by), action, target: `schedule:${name}`, before: { enabled: d.enabled }, after: { enabled } });
    this.#runner?.wake();
    return this.#info(after);
  }

  async #doc(name: string): Promise<ScheduleDoc> {
    if (!scheduleNamePattern.test(name)) throw new ApiError('BAD_REQUEST', 'a schedule name is 1-63 of a-z, 0-9 and "-"');
    const d = await this.db.schedules.findOne({ name });
    if (!d) throw new ApiError('NOT_FOUND', `no schedule named ${name}`);
    return d;
  }

  async #info(d: ScheduleDoc, compiled?: CompiledSchedule): Promise<ScheduleInfo> {
    let c = compiled;
    if (!c) {
      try {
        c = compileSpec(d.spec);
      } catch {
        c = undefined;
      }
    }
    const now = this.clock.now();
    const runs = c && d.enabled ? nextRuns(c, Math.max(now, d.cursor), 5) : [];
    const body: unknown = JSON.parse(d.launchJson);
    let jobState: string | undefined;
    if (d.last?.jobId !== undefined && this.opts.launcher?.state) {
      try {
        jobState = await this.opts.launcher.state(d.last.jobId);
      } catch {
        jobState = undefined;
      }
    }
    return {
      id: d._id,
      name: d.name,
      spec: d.spec,
      description: c?.description ?? 'not valid any more',
      tz: c?.tz ?? 'UTC',
      enabled: d.enabled,
      missed: d.missed,
      ...(d.planId !== undefined ? { plan: { id: d.planId, body } } : { job: body }),
      createdBy: d.createdBy,
      createdAt: d.createdAt,
      nextRuns: runs,
      ...(d.last ? { last: { ...d.last, ...(jobState !== undefined ? { jobState } : {}) } } : {}),
      ...(d.skipped ? { skipped: d.skipped } : {}),
    };
  }
}
