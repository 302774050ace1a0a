/**
 * JobService: the operator side of jobs — preview, launch, list, get, cancel, redo and confirm
 * (docs/adr/0014-jobs.md). A launch resolves every step (library scripts, parameters,
 * accounts), runs the safety audit on every script, resolves the targets, stores the job and
 * kicks the plan driver, which creates the first step's dispatches before launch answers.
 */
import { randomBytes } from 'node:crypto';
import type { JobLaunch, JobRedo, JobConfirm, JobStep } from '../../../schemas/api/jobs.js';
import type { Clock } from '../../domain/clock.js';
import { isAdmin, type Role, type Scope } from '../../domain/roles.js';
import { ApiError } from '../../domain/errors.js';
import { isDuplicateKey } from '../../store/types.js';
import { auditUnchanged, type AuditLog } from '../audit-log.js';
import { failedStates, serverHost, type DispatchDoc, type JobCollections, type JobDoc, type StoredScript, type StoredStep } from './job-model.js';
import type { JobPorts, ScriptLang, AuditVerdict } from './ports.js';
import type { PlanDriver } from './plan-driver.js';
import { cancelGraceMs } from './plan-driver.js';
import type { JobChannel } from './job-channel.js';
import type { TargetResolver } from './targets.js';
import { checkScope, type ScopeGuard } from '../users/scope-guard.js';
import { isScoped } from '../../domain/roles.js';
import { parseSelector } from './selector.js';
import { jobSummary, jobView, type JobSummaryView, type JobViewOut } from './job-view.js';

export const defaultStepTimeoutSeconds = 600;

/** Who acts (an operator: the API's principal fits), and from where (for the audit log). */
export interface Actor {
  readonly principal: { readonly name: string; readonly role: Role; readonly scope?: Scope | undefined };
  readonly address?: string;
  /** The audit log's actor when not the principal (a schedule's fire: "schedule:<name>"). */
  readonly auditAs?: string;
}

export interface PreviewResult {
  targets: { step: number; hosts: string[]; local?: boolean; failedOf?: number }[];
  unavailable: { host: string; reason: string }[];
  audit: ({ step: number } & AuditVerdict)[];
}

interface Prepared {
  steps: StoredStep[];
  audit: ({ step: number } & AuditVerdict)[];
  hosts: string[];
  unavailable: { host: string; reason: string }[];
}

export interface LaunchOptions {
  /** The schedule that launched it (schedules service). */
  readonly scheduleId?: string;
  /** The schedule fire: a second launch of the same fire answers the job the first made. */
  readonly fireId?: string;
  /** A rollout batch (ADR 0017): the job runs on these of its targets' hosts only. */
  readonly restrictTo?: readonly string[];
  /** The rollout and batch that launched it. */
  readonly rollout?: { readonly id: string; readonly batch: number };
}

export class JobService {
  constructor(
    private readonly c: JobCollections,
    private readonly clock: Clock,
    private readonly ports: JobPorts,
    private readonly targets: TargetResolver,
    readonly driver: PlanDriver,
    readonly channel: JobChannel,
    private readonly auditLog: AuditLog,
    /** Checks scoped operators' targets (ADR 0020); without it a scoped operator is refused. */
    private readonly scopes?: ScopeGuard,
  ) {}

  /** Refuses a scoped operator whose job would reach a host outside its scope. */
  async #checkScope(actor: Actor, hosts: readonly string[], what: string): Promise<void> {
    await checkScope(this.scopes, actor.principal.scope, hosts, what);
  }

  /** A scoped operator may act on a job only when all its hosts (targets and dispatches) are in scope. */
  async #checkJobScope(job: JobDoc, actor: Actor, what: string): Promise<void> {
    if (!isScoped(actor.principal.scope)) return;
    const hosts = new Set(job.hosts);
    for (const d of await this.c.dispatches.find({ jobId: job._id }, { projection: { host: 1 }, limit: 200_000 })) if (d.host !== serverHost) hosts.add(d.host);
    if (job.steps.some((s) => s.local)) throw new ApiError('FORBIDDEN', `${what}: the job runs a script on the server; only an admin or an unscoped operator may act on it`);
    await this.#checkScope(actor, [...hosts], what);
  }

  /** Every host a prepared job can reach: its targets and each step's own selector. */
  async #reach(p: Prepared, includeInactive: boolean | undefined): Promise<string[]> {
    const all = new Set(p.hosts);
    for (const s of p.steps) {
      if (typeof s.targets === 'string') for (const h of (await this.targets.resolve(s.targets, AbortSignal.timeout(60_000), { includeInactive })).hosts) all.add(h);
    }
    return [...all];
  }

  #newId(): string {
    return `j${this.clock.now().toString(36).padStart(9, '0')}${randomBytes(5).toString('hex')}`;
  }

  /** Who each step targets and what the audit says; nothing runs and nothing is stored. */
  async preview(body: JobLaunch, actor: Actor): Promise<PreviewResult> {
    const p = await this.#prepare(body, actor);
    const targets: PreviewResult['targets'] = [];
    for (const s of p.steps) {
      if (s.kind === 'script' && s.local) targets.push({ step: s.index, hosts: [], local: true });
      else if (s.kind === 'confirm') targets.push({ step: s.index, hosts: [] });
      else if (s.targets === undefined) targets.push({ step: s.index, hosts: p.hosts });
      else if (typeof s.targets === 'string') targets.push({ step: s.index, hosts: (await this.targets.resolve(s.targets, AbortSignal.timeout(60_000), { includeInactive: body.includeInactive })).hosts });
      else targets.push({ step: s.index, hosts: [], failedOf: s.targets.failedOf });
    }
    return { targets, unavailable: p.unavailable, audit: p.audit };
  }

  /** Launches a job; resolves its view. 400 for a bad body, a blocked script without approval, no runnable host. */
  async launch(body: JobLaunch, actor: Actor, opts: LaunchOptions = {}): Promise<JobViewOut> {
    if (opts.fireId !== undefined) {
      const earlier = await this.c.jobs.findOne({ fireId: opts.fireId }, { projection: { _id: 1 } });
      if (earlier) return this.get(earlier._id, false);
    }
    const p = await this.#prepare(body, actor);
    if (opts.restrictTo !== undefined) {
      const allowed = new Set(opts.restrictTo);
      p.hosts = p.hosts.filter((h) => allowed.has(h));
      p.unavailable = [...p.unavailable.filter((u) => allowed.has(u.host)), ...opts.restrictTo.filter((h) => !p.hosts.includes(h) && !p.unavailable.some((u) => u.host === h)).map((host) => ({ host, reason: 'not a runnable host of the targets now' }))];
      if (p.hosts.length === 0) throw new ApiError('BAD_REQUEST', `none of the ${opts.restrictTo.length} hosts can run now: ${p.unavailable.slice(0, 5).map((u) => `${u.host} (${u.reason})`).join(', ')}`, { unavailable: p.unavailable.slice(0, 1000) });
    }
    if (isScoped(actor.principal.scope)) await this.#checkScope(actor, await this.#reach(p, body.includeInactive), 'this job');
    const blocked = p.audit.filter((a) => a.verdict === 'block');
    if (blocked.length > 0) {
      if (!body.approve) {
        const f = blocked[0]!.findings.find((x) => x.mode === 'block') ?? blocked[0]!.findings[0];
        throw new ApiError('BAD_REQUEST', `the safety audit blocks step ${blocked[0]!.step}${f ? `: rule ${f.rule} at line ${f.line}: ${f.message}` : ''}; an admin may launch it with approve: {reason}`, { audit: blocked });
      }
      if (!isAdmin(actor.principal.role)) throw new ApiError('FORBIDDEN', 'only an admin may approve a script the safety audit blocks');
    }
    const id = this.#newId();
    const job: JobDoc = {
      _id: id,
      name: body.name ?? this.#defaultName(p.steps),
      state: 'running',
      version: 1,
      createdBy: actor.principal.name,
      createdAt: this.clock.now(),
      dryRun: body.dryRun ?? false,
      ...(opts.scheduleId !== undefined ? { scheduleId: opts.scheduleId } : {}),
      ...(opts.fireId !== undefined ? { fireId: opts.fireId } : {}),
      ...(opts.restrictTo !== undefined ? { restrictTo: [...p.hosts] } : {}),
      ...(body.includeInactive === true ? { includeInactive: true } : {}),
      ...(opts.rollout !== undefined ? { rolloutId: opts.rollout.id, batch: opts.rollout.batch } : {}),
      targets: body.targets,
      vars: { ...(body.vars ?? {}) },
      hosts: p.hosts,
      unavailable: p.unavailable,
      current: 0,
      steps: p.steps,
      ...(blocked.length > 0 && body.approve ? { approval: { by: actor.principal.name, reason: body.approve.reason } } : {}),
    };
    try {
      await this.c.jobs.insertOne(job);
    } catch (err) {
      // Another server launched this schedule fire first: its job is the one.
      const earlier = opts.fireId !== undefined && isDuplicateKey(err) ? await this.c.jobs.findOne({ fireId: opts.fireId }, { projection: { _id: 1 } }) : null;
      if (earlier) return this.get(earlier._id, false);
      throw err;
    }
    if (blocked.length > 0 && body.approve) {
      await this.auditLog.record({ actor: actor.auditAs ?? actor.principal.name, action: 'job.approve-blocked', target: `job:${id}`, address: actor.address, details: { reason: body.approve.reason, audit: blocked } });
    }
    await this.auditLog.record({ actor: actor.auditAs ?? actor.principal.name, action: 'job.launch', target: `job:${id}`, address: actor.address, after: { name: job.name, targets: job.targets, steps: job.steps.length, hosts: job.hosts.length, dryRun: job.dryRun, ...(opts.scheduleId !== undefined ? { scheduleId: opts.scheduleId } : {}) }, ...(actor.auditAs !== undefined ? { details: { runsAs: actor.principal.name } } : {}) });
    await this.driver.kick(id);
    return this.get(id, false);
  }

  #defaultName(steps: readonly StoredStep[]): string {
    const first = steps[0]!;
    return steps.length === 1 ? `${first.kind}${first.script?.scriptId !== undefined ? ` ${first.script.scriptId}` : ''}` : `plan of ${steps.length} steps`;
  }

  async #prepare(body: JobLaunch, actor: Actor): Promise<Prepared> {
    const raw = this.#stepsOf(body);
    const steps: StoredStep[] = [];
    for (let i = 0; i < raw.length; i++) steps.push(await this.#resolveStep(raw[i]!, i, body, actor));
    const audit: Prepared['audit'] = [];
    for (const s of steps) if (s.script) audit.push({ step: s.index, ...(await this.ports.auditor.check({ lang: s.script.lang, source: s.script.source })) });
    const resolved = await this.targets.resolve(body.targets, AbortSignal.timeout(60_000), { includeInactive: body.includeInactive });
    const needsJobTargets = steps.some((s) => s.targets === undefined && (s.kind === 'files' || s.kind === 'probe' || s.kind === 'resources' || (s.kind === 'script' && !s.local)));
    if (needsJobTargets && resolved.hosts.length === 0) {
      throw new ApiError('BAD_REQUEST', `no host of "${body.targets.slice(0, 200)}" can run: ${resolved.unavailable.length === 0 ? 'the selector matches no host of the live revision' : resolved.unavailable.slice(0, 5).map((u) => `${u.host} (${u.reason})`).join(', ')}`, { unavailable: resolved.unavailable.slice(0, 1000) });
    }
    return { steps, audit, hosts: resolved.hosts, unavailable: resolved.unavailable };
  }

  #stepsOf(body: JobLaunch): JobStep[] {
    if (body.steps && body.script) throw new ApiError('BAD_REQUEST', 'give either steps or the one-script shorthand script, not both');
    if (body.steps) {
      if (body.timeoutSeconds !== undefined) throw new ApiError('BAD_REQUEST', 'timeoutSeconds at the top goes with the script shorthand; give each step its own timeoutSeconds');
      return body.steps;
    }
    if (body.script) return [{ kind: 'script', script: body.script, ...(body.timeoutSeconds !== undefined ? { timeoutSeconds: body.timeoutSeconds } : {}) }];
    throw new ApiError('BAD_REQUEST', 'a launch needs steps, or script for a one-script job');
  }

  async #resolveStep(s: JobStep, index: number, body: JobLaunch, actor: Actor): Promise<StoredStep> {
    if (typeof s.targets === 'object' && s.targets.failedOf >= index) throw new ApiError('BAD_REQUEST', `step ${index}: targets.failedOf must name an earlier step (0…${index - 1})`);
    if (typeof s.targets === 'string') parseSelector(s.targets);
    const common = {
      index,
      name: s.name ?? `${s.kind} ${index}`,
      kind: s.kind,
      local: false,
      onFailure: s.onFailure ?? 'stop',
      ...(s.targets !== undefined ? { targets: typeof s.targets === 'string' ? s.targets : { failedOf: s.targets.failedOf } } : {}),
      timeoutSeconds: s.timeoutSeconds ?? defaultStepTimeoutSeconds,
      selected: true,
      state: 'pending' as const,
    };
    switch (s.kind) {
      case 'script': {
        if (s.local) {
          if (!isAdmin(actor.principal.role)) throw new ApiError('FORBIDDEN', `step ${index}: a local script runs on the server; only an admin may launch it`);
          if (s.targets !== undefined) throw new ApiError('BAD_REQUEST', `step ${index}: a local script runs once on the server and takes no targets`);
        }
        return { ...common, local: s.local ?? false, script: await this.#resolveScript(s.script, index) };
      }
      case 'files':
        for (const f of s.files) {
          const sources = [f.content, f.contentBase64, f.template].filter((x) => x !== undefined).length;
          if (sources !== 1) throw new ApiError('BAD_REQUEST', `step ${index}: file ${f.path} needs exactly one of content, contentBase64, template`);
        }
        return { ...common, files: s.files.map((f) => ({ ...f })) };
      case 'probe':
        if ((s.probe.tcp === undefined) === (s.probe.http === undefined)) throw new ApiError('BAD_REQUEST', `step ${index}: a probe checks exactly one of tcp, http`);
        return { ...common, probe: s.probe };
      case 'resources': {
        const seen = new Set<string>();
        for (const r of s.resources) {
          const key = `${r.type}[${r.name}]`;
          if (seen.has(key)) throw new ApiError('BAD_REQUEST', `step ${index}: ${key} appears twice`);
          seen.add(key);
        }
        return { ...common, resources: s.resources.map((r) => ({ ...r })) };
      }
      case 'confirm':
        if (s.targets !== undefined) throw new ApiError('BAD_REQUEST', `step ${index}: a confirm step takes no targets`);
        return { ...common, message: s.message };
    }
  }

  async #resolveScript(spec: Extract<JobStep, { kind: 'script' }>['script'], index: number): Promise<StoredScript> {
    let lang: ScriptLang;
    let source: string;
    let declared: { name: string; required?: boolean; default?: string }[] | undefined;
    const lib: { scriptId?: string; version?: number } = {};
    if (spec.scriptId !== undefined) {
      if (spec.source !== undefined) throw new ApiError('BAD_REQUEST', `step ${index}: give source or scriptId, not both`);
      const r = await this.ports.scripts.resolve(spec.scriptId, spec.version);
      if (spec.lang !== undefined && spec.lang !== r.lang) throw new ApiError('BAD_REQUEST', `step ${index}: script ${spec.scriptId} is ${r.lang}, not ${spec.lang}`);
      lang = r.lang;
      source = r.source;
      declared = r.params;
      lib.scriptId = r.id;
      lib.version = r.version;
    } else {
      if (spec.source === undefined || spec.lang === undefined) throw new ApiError('BAD_REQUEST', `step ${index}: a script needs lang and source, or scriptId`);
      if (spec.version !== undefined) throw new ApiError('BAD_REQUEST', `step ${index}: version goes with scriptId`);
      lang = spec.lang;
      source = spec.source;
    }
    const given = spec.params ?? {};
    const args: string[] = [];
    const env: Record<string, string> = {};
    if (declared) {
      const known = new Set(declared.map((p) => p.name));
      const unknown = Object.keys(given).filter((k) => !known.has(k));
      if (unknown.length > 0) throw new ApiError('BAD_REQUEST', `step ${index}: script ${spec.scriptId} has no parameter ${unknown.join(', ')} (it takes: ${[...known].join(', ') || 'none'})`);
      for (const p of declared) {
        const v = Object.hasOwn(given, p.name) ? given[p.name] : p.default;
        if (v === undefined && p.required) throw new ApiError('BAD_REQUEST', `step ${index}: parameter ${p.name} of script ${spec.scriptId} is required`);
        args.push(v ?? '');
        if (v !== undefined) env[p.name] = v;
      }
    } else {
      for (const [k, v] of Object.entries(given)) {
        args.push(v);
        env[k] = v;
      }
    }
    let user: string | undefined;
    if (spec.account !== undefined) {
      const a = await this.ports.accounts.get(spec.account);
      if (!a) throw new ApiError('BAD_REQUEST', `step ${index}: no execution account ${spec.account}`);
      user = a.user;
    }
    return { lang, source, args, env, ...(user !== undefined ? { user } : {}), ...lib };
  }

  /** Jobs newest first; `before` is the `next` of the previous page. */
  async list(opts: { limit?: number; before?: string } = {}): Promise<{ jobs: JobSummaryView[]; next?: string }> {
    const limit = Math.min(Math.max(opts.limit ?? 50, 1), 500);
    const docs = await this.c.jobs.find(opts.before !== undefined ? { _id: { $lt: opts.before } } : {}, { sort: { _id: -1 }, limit: limit + 1 });
    const page = docs.slice(0, limit);
    return { jobs: page.map(jobSummary), ...(docs.length > limit ? { next: page[page.length - 1]!._id } : {}) };
  }

  /** Running and paused jobs, newest first (the dashboard); rides the state index. */
  async active(limit = 20): Promise<{ jobs: JobSummaryView[]; total: number }> {
    const filter = { state: { $in: ['running', 'paused'] } };
    const [docs, total] = await Promise.all([this.c.jobs.find(filter, { sort: { _id: -1 }, limit: Math.min(Math.max(limit, 1), 200) }), this.c.jobs.count(filter)]);
    return { jobs: docs.map(jobSummary), total };
  }

  async #job(id: string): Promise<JobDoc> {
    const job = await this.c.jobs.findOne({ _id: id });
    if (!job) throw new ApiError('NOT_FOUND', `no job ${id}`);
    return job;
  }

  /** One job with its steps and hosts; stdout/stderr only with `output`. */
  async get(id: string, output: boolean): Promise<JobViewOut> {
    const job = await this.#job(id);
    const dispatches = await this.c.dispatches.find({ jobId: id }, { sort: { step: 1 }, limit: 200_000 });
    return jobView(job, dispatches, output);
  }

  /** The job record itself (schedules, plans and the console read it). */
  async record(id: string): Promise<JobDoc> {
    return this.#job(id);
  }

  /** Cancels a running or paused job: unstarted dispatches are cancelled here, running ones are asked to stop. */
  async cancel(id: string, actor: Actor): Promise<JobViewOut> {
    for (let round = 0; round < 20; round++) {
      const job = await this.#job(id);
      if (round === 0) await this.#checkJobScope(job, actor, `cancelling job ${id}`);
      if (job.state === 'cancelled') {
        auditUnchanged();
        return this.get(id, false);
      }
      if (job.state !== 'running' && job.state !== 'paused') throw new ApiError('CONFLICT', `job ${id} already ${job.state}`);
      const now = this.clock.now();
      const steps = job.steps.map((s) => (s.state === 'pending' ? { ...s, state: 'skipped' as const, note: 'the job was cancelled' } : s.state === 'running' || s.state === 'waiting' ? { ...s, state: 'cancelled' as const, finishedAt: now } : s));
      const ok = await this.c.jobs.findOneAndUpdate({ _id: id, version: job.version }, { $set: { state: 'cancelled', steps, finishedAt: now }, $inc: { version: 1 } });
      if (!ok) continue;
      await this.c.dispatches.updateMany({ jobId: id, state: { $in: ['queued', 'dispatched'] } }, { $set: { state: 'cancelled', finishedAt: now, message: 'cancelled before it started' } });
      const running = await this.c.dispatches.find({ jobId: id, state: 'running' }, { projection: { host: 1, runner: 1 } });
      await this.c.dispatches.updateMany({ jobId: id, state: 'running' }, { $set: { state: 'cancelling', cancelDeadline: now + cancelGraceMs } });
      for (const d of running) if (d.runner === 'agent') this.channel.wake(d.host);
      this.driver.abortJob(id);
      await this.auditLog.record({ actor: actor.auditAs ?? actor.principal.name, action: 'job.cancel', target: `job:${id}`, address: actor.address, before: { state: job.state }, after: { state: 'cancelled', running: running.length } });
      return this.get(id, false);
    }
    throw new ApiError('CONFLICT', `job ${id} changed too often while being cancelled; retry`);
  }

  /** A new job that reruns this one's failed (or all) hosts, optionally only chosen steps. */
  async redo(id: string, req: JobRedo, actor: Actor): Promise<JobViewOut> {
    const orig = await this.#job(id);
    if (orig.state === 'running' || orig.state === 'paused') throw new ApiError('CONFLICT', `job ${id} is still ${orig.state}; cancel it or wait for it to finish`);
    for (const s of req.steps ?? []) if (s >= orig.steps.length) throw new ApiError('BAD_REQUEST', `job ${id} has no step ${s} (it has ${orig.steps.length})`);
    const dispatches = await this.c.dispatches.find({ jobId: id }, { projection: { host: 1, state: 1, step: 1 } });
    const chosen = new Set(req.steps ?? orig.steps.map((s) => s.index));
    let hosts: string[];
    if (req.hosts === 'failed') hosts = dispatches.filter((d) => d.host !== serverHost && (failedStates as readonly string[]).includes(d.state) && (req.steps === undefined || chosen.has(d.step))).map((d) => d.host);
    else hosts = [...orig.hosts, ...dispatches.filter((d) => d.host !== serverHost).map((d) => d.host)];
    hosts = [...new Set(hosts)];
    if (hosts.length === 0) throw new ApiError('BAD_REQUEST', req.hosts === 'failed' ? `job ${id} has no failed host${req.steps ? ' in those steps' : ''}` : `job ${id} ran on no host`);
    await this.#checkScope(actor, [...new Set([...hosts, ...orig.hosts])], `redoing job ${id}`);
    const run = await this.targets.runnable(hosts, { includeInactive: orig.includeInactive });
    if (run.hosts.length === 0) throw new ApiError('BAD_REQUEST', `none of the hosts can run now: ${run.unavailable.slice(0, 5).map((u) => `${u.host} (${u.reason})`).join(', ')}`);
    const steps: StoredStep[] = orig.steps.map((s) => {
      const { state: _s, hosts: _h, startedAt: _a, deadline: _d, finishedAt: _f, confirmedBy: _c, note: _n, ...spec } = s;
      return { ...spec, state: 'pending', selected: chosen.has(s.index) };
    });
    const newId = this.#newId();
    const job: JobDoc = {
      _id: newId,
      name: `redo of ${orig.name}`.slice(0, 200),
      state: 'running',
      version: 1,
      createdBy: actor.principal.name,
      createdAt: this.clock.now(),
      dryRun: orig.dryRun,
      redoOf: id,
      targets: orig.targets,
      vars: orig.vars,
      hosts: run.hosts,
      unavailable: run.unavailable,
      restrictTo: run.hosts,
      ...(orig.includeInactive === true ? { includeInactive: true } : {}),
      current: 0,
      steps,
      ...(orig.approval ? { approval: orig.approval } : {}),
    };
    await this.c.jobs.insertOne(job);
    await this.auditLog.record({ actor: actor.auditAs ?? actor.principal.name, action: 'job.redo', target: `job:${newId}`, address: actor.address, details: { redoOf: id, hosts: req.hosts, steps: req.steps ?? 'all', count: run.hosts.length } });
    await this.driver.kick(newId);
    return this.get(newId, false);
  }

  /** Answers a waiting step (a confirm step, or a failure under the pause policy). */
  async confirm(id: string, req: JobConfirm, actor: Actor): Promise<JobViewOut> {
    const job = await this.#job(id);
    await this.#checkJobScope(job, actor, `confirming job ${id}`);
    const step = job.steps[req.step];
    if (job.state !== 'paused' || job.current !== req.step || step?.state !== 'waiting') throw new ApiError('CONFLICT', `job ${id} is not waiting for a confirmation of step ${req.step} (job ${job.state}, at step ${job.current})`);
    const now = this.clock.now();
    let set: Partial<JobDoc>;
    if (req.action === 'continue') {
      const state = step.kind === 'confirm' ? 'succeeded' : 'failed';
      set = { state: 'running', current: job.current + 1, steps: job.steps.map((s) => (s.index === step.index ? { ...s, state, finishedAt: now, confirmedBy: actor.principal.name } : s)) };
    } else {
      const state = step.kind === 'confirm' ? 'cancelled' : 'failed';
      set = {
        state: step.kind === 'confirm' ? 'cancelled' : 'failed',
        current: job.steps.length,
        finishedAt: now,
        steps: job.steps.map((s) => (s.index === step.index ? { ...s, state, finishedAt: now, confirmedBy: actor.principal.name } : s.index > step.index ? { ...s, state: 'skipped' as const, note: `stopped at step ${step.index}` } : s)),
      };
    }
    const ok = await this.c.jobs.findOneAndUpdate({ _id: id, version: job.version }, { $set: set, $inc: { version: 1 } });
    if (!ok) throw new ApiError('CONFLICT', `job ${id} changed meanwhile; read it again`);
    await this.auditLog.record({ actor: actor.auditAs ?? actor.principal.name, action: 'job.confirm', target: `job:${id}`, address: actor.address, details: { step: req.step, action: req.action } });
    await this.driver.kick(id);
    return this.get(id, false);
  }

  /** Dispatches of a job (tests and the console). */
  dispatches(jobId: string): Promise<DispatchDoc[]> {
    return this.c.dispatches.find({ jobId }, { sort: { step: 1 } });
  }
}
