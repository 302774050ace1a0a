/**
 * What the job pages need from the services, in the shapes of ADR 0014 (JobView, JobSummary,
 * the launch body, the preview answer, plans). The pages call this port; `jobsPort(services)`
 * builds it from the composed services (the job, plan, script and account services), so the
 * pages never speak HTTP to their own server. A missing service leaves its part undefined and
 * the page says so (503) instead of failing.
 */
import { jobLaunchSchema, type JobLaunch } from '../../../schemas/api/jobs.js';
import { jobRolloutRequestSchema, type JobRolloutRequest } from '../../../schemas/api/rollouts.js';
import { compileGuard, type Guard } from '../../../schemas/validate.js';
import { ApiError } from '../../domain/errors.js';
import type { Services } from '../../services/services.js';
import type { Role, Scope } from '../../domain/roles.js';

/** Who acts (the session's operator); the services record it and check the role. */
export interface Actor {
  readonly name: string;
  readonly role: Role;
  readonly scope?: Scope | undefined;
  /** The client address (for the audit log). */
  readonly address?: string;
}

export type Time = string | number;

export interface ScriptSpec {
  lang?: 'shell' | 'python';
  source?: string;
  scriptId?: string;
  version?: number;
  params?: Record<string, string>;
  account?: string;
}

export interface StepSpec {
  name?: string;
  kind: string;
  onFailure?: 'stop' | 'ignore' | 'pause';
  targets?: string | { failedOf: number };
  timeoutSeconds?: number;
  script?: ScriptSpec;
  message?: string;
  [more: string]: unknown;
}

export interface LaunchBody {
  name?: string;
  targets: string;
  vars?: Record<string, string>;
  dryRun?: boolean;
  approve?: { reason: string };
  steps: StepSpec[];
}

/** One finding of the safety audit. */
export interface AuditFinding {
  readonly rule: string;
  /** scan: logged (a warning); block: refused unless an admin approves. */
  readonly mode: 'scan' | 'block';
  readonly line: number;
  readonly column?: number;
  readonly message: string;
  readonly excerpt?: string;
}

/** The audit's verdict on one script step. */
export interface AuditVerdict {
  readonly step: number;
  readonly verdict: 'pass' | 'warn' | 'block';
  readonly findings: readonly AuditFinding[];
}

/** A selected host that cannot run, and why. */
export interface Unavailable {
  readonly host: string;
  readonly reason: string;
}

export interface PreviewAnswer {
  readonly targets: readonly { step: number; hosts: readonly string[]; local?: boolean; failedOf?: number }[];
  readonly unavailable: readonly Unavailable[];
  readonly audit: readonly AuditVerdict[];
}

export interface JobStepView {
  readonly index: number;
  readonly name?: string;
  readonly kind: string;
  readonly state: string;
  readonly onFailure?: string;
  readonly counts: Readonly<Record<string, number>>;
  readonly message?: string;
  readonly confirmedBy?: string;
}

export interface JobHostStepView {
  readonly step: number;
  readonly state: string;
  readonly exitCode?: number | null;
  readonly startedAt?: Time;
  readonly finishedAt?: Time;
  readonly startAcks?: number;
  readonly message?: string;
}

export interface JobHostView {
  readonly host: string;
  readonly state: string;
  readonly exitCode?: number | null;
  readonly stdout?: string;
  readonly stderr?: string;
  readonly stdoutTruncated?: boolean;
  readonly stderrTruncated?: boolean;
  readonly message?: string;
  readonly steps: readonly JobHostStepView[];
}

export interface JobView {
  readonly id: string;
  readonly name?: string;
  readonly state: string;
  readonly createdBy: string;
  readonly createdAt: Time;
  readonly finishedAt?: Time;
  readonly dryRun?: boolean;
  readonly redoOf?: string;
  readonly scheduleId?: string;
  readonly planId?: string;
  readonly targets: string;
  readonly unavailable?: readonly Unavailable[];
  readonly steps: readonly JobStepView[];
  readonly hosts: readonly JobHostView[];
}

export interface JobSummary {
  readonly id: string;
  readonly name?: string;
  readonly state: string;
  readonly createdBy: string;
  readonly createdAt: Time;
  readonly finishedAt?: Time;
  readonly dryRun?: boolean;
  readonly redoOf?: string;
  readonly targets?: string;
  readonly hostCount?: number;
  readonly stepCount?: number;
  /** Dispatches per state, when the service gives them (the list shows a progress bar). */
  readonly counts?: Readonly<Record<string, number>>;
}

export interface PlanView {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly targets?: string;
  readonly steps: readonly StepSpec[];
  readonly updatedAt?: Time;
  readonly createdBy?: string;
}

export interface JobsApi {
  list(q: { limit: number; before?: string }): Promise<{ jobs: readonly JobSummary[]; next?: string }>;
  get(id: string, opts: { output: boolean }): Promise<JobView | undefined>;
  preview(body: LaunchBody, by: Actor): Promise<PreviewAnswer>;
  launch(body: LaunchBody, by: Actor): Promise<JobView>;
  cancel(id: string, by: Actor): Promise<JobView>;
  redo(id: string, req: { hosts: 'failed' | 'all'; steps?: number[] }, by: Actor): Promise<JobView>;
  confirm(id: string, req: { step: number; action: 'continue' | 'stop' }, by: Actor): Promise<JobView>;
}

export interface PlansApi {
  list(): Promise<readonly PlanView[]>;
  get(id: string): Promise<PlanView | undefined>;
  run(id: string, req: { targets?: string; dryRun?: boolean }, by: Actor): Promise<JobView>;
}

export interface LibraryScript {
  readonly id: string;
  readonly name: string;
  readonly lang?: string;
  readonly latestVersion?: number;
}

export interface JobsPort {
  readonly jobs: JobsApi;
  readonly plans: PlansApi;
  /** Runs the launch batch by batch (POST /api/v1/rollouts, ADR 0017 §3); answers the rollout's id. */
  rollout(body: LaunchBody, policy: JobRolloutRequest['policy'], by: Actor): Promise<{ id: string }>;
  /** Execution account names. */
  accounts(): Promise<readonly string[]>;
  /** The script library (id, name, newest version). */
  scripts(): Promise<readonly LibraryScript[]>;
}

/** The job service's actor for a console operator (a session, never a bearer token). */
function principal(by: Actor): { principal: { kind: 'operator'; name: string; role: Role; scope?: Scope; via: 'session' }; address?: string } {
  return { principal: { kind: 'operator', name: by.name, role: by.role, ...(by.scope ? { scope: by.scope } : {}), via: 'session' }, ...(by.address !== undefined ? { address: by.address } : {}) };
}

const launchGuard: Guard<JobLaunch> = compileGuard(jobLaunchSchema);

/** The body the form built, checked against the API's schema (the same bounds as POST /api/v1/jobs). */
function checked(body: LaunchBody): JobLaunch {
  launchGuard.assert(body);
  return body;
}

const rolloutGuard: Guard<JobRolloutRequest> = compileGuard(jobRolloutRequestSchema);

/** The port over the composed services: the job service, saved plans, the script library, accounts. */
export function jobsPort(services: Services): JobsPort {
  const j = services.jobs;
  const jobs: JobsApi = {
    list: (q) => j.list(q),
    get: async (id, opts) => {
      try {
        return await j.get(id, opts.output);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return undefined;
        throw err;
      }
    },
    preview: async (body, by) => j.preview(checked(body), principal(by)),
    launch: async (body, by) => j.launch(checked(body), principal(by)),
    cancel: (id, by) => j.cancel(id, principal(by)),
    redo: (id, req, by) => j.redo(id, req, principal(by)),
    confirm: (id, req, by) => j.confirm(id, req, principal(by)),
  };
  const plans: PlansApi = {
    list: () => services.plans.list(),
    get: (id) => services.plans.get(id),
    // A plan run is a launch of the plan's steps (ADR 0014: POST /plans/:id/run).
    run: async (id, req, by) => jobs.launch(await services.plans.toLaunchBody(id, req), by),
  };
  return {
    jobs,
    plans,
    rollout: async (body, policy, by) => {
      // The same bounds as POST /api/v1/rollouts.
      const req = { job: body, policy };
      rolloutGuard.assert(req);
      const r = await services.rollouts.startJob(req.job, req.policy, { name: by.name, scope: by.scope, ...(by.address !== undefined ? { address: by.address } : {}) });
      return { id: r.id };
    },
    accounts: async () => (await services.accounts.list()).map((a) => a.name),
    scripts: async () => (await services.scripts.list({ limit: 500 })).scripts.map((s) => ({ id: s.id, name: s.name, lang: s.lang, latestVersion: s.latest })),
  };
}
