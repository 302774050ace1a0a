/**
 * The stored shape of jobs and dispatches. A job document holds the plan (its steps, already
 * resolved and audited at launch), the driver's position (`current`) and a `version` every
 * transition compares and swaps, so a step transition happens once with several servers. A
 * dispatch document is one step on one host, id "<jobId>.<step>.<host>", and moves through its
 * states by compare-and-swap on `state` alone.
 */
import type { JobResult, JobWork } from '../../../schemas/job-protocol.js';
import type { PackageResource } from '../../../schemas/resources/package.js';
import type { ServiceResource } from '../../../schemas/resources/service.js';
import type { BlobStore, Collection, DocumentStore } from '../../store/types.js';
import type { FilesStepFile, ProbeSpec, ScriptLang } from './ports.js';

export type JobState = 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled';
export type StepState = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'would-run';
export type DispatchState = 'queued' | 'dispatched' | 'running' | 'cancelling' | 'succeeded' | 'failed' | 'timeout' | 'cancelled' | 'interrupted' | 'would-run' | 'skipped' | 'unreachable';
export type StepKind = 'script' | 'files' | 'probe' | 'confirm' | 'resources';
export type FailurePolicy = 'stop' | 'ignore' | 'pause';
export type StepTargets = string | { failedOf: number };

/** One resource of a resources step, as the launch gave it (validated by the job step schema). */
export type StepResource = PackageResource | ServiceResource;

/** The host name of a local step's one dispatch (never a valid host name, so never an agent's). */
export const serverHost = ':server';

export const terminalJobStates: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];
export const inFlightStates: readonly DispatchState[] = ['queued', 'dispatched', 'running', 'cancelling'];
/** Outcomes that count as a failure of the host in its step (failedOf, redo failed, policies). */
export const failedStates: readonly DispatchState[] = ['failed', 'timeout', 'cancelled', 'interrupted', 'unreachable'];

/** A script as it runs: resolved from the library or inline, with parameters applied. */
export interface StoredScript {
  lang: ScriptLang;
  source: string;
  args: string[];
  /** Parameters as environment variables (job vars and results are added per dispatch). */
  env: Record<string, string>;
  user?: string;
  scriptId?: string;
  version?: number;
}

export interface StoredStep {
  index: number;
  name: string;
  kind: StepKind;
  local: boolean;
  onFailure: FailurePolicy;
  targets?: StepTargets;
  timeoutSeconds: number;
  script?: StoredScript;
  files?: FilesStepFile[];
  probe?: ProbeSpec;
  /** A resources step: package/service resources the agent's engine applies once (ADR 0018). */
  resources?: StepResource[];
  message?: string;
  /** false: a redo that did not choose this step (it is skipped). */
  selected: boolean;
  state: StepState;
  /** The hosts the step runs on, fixed when it starts. */
  hosts?: string[];
  startedAt?: number;
  /** Dispatches not started by then are unreachable. */
  deadline?: number;
  finishedAt?: number;
  confirmedBy?: string;
  note?: string;
}

export type JobDoc = {
  _id: string;
  name: string;
  state: JobState;
  version: number;
  createdBy: string;
  createdAt: number;
  finishedAt?: number;
  dryRun: boolean;
  redoOf?: string;
  scheduleId?: string;
  /** The schedule fire that launched it (`<scheduleId>@<ms>`): unique, so a fire launches once. */
  fireId?: string;
  /** A batch of a job rollout (ADR 0017): the rollout and the batch index. */
  rolloutId?: string;
  batch?: number;
  targets: string;
  vars: Record<string, string>;
  /** Runnable hosts of `targets` at launch. */
  hosts: string[];
  unavailable: { host: string; reason: string }[];
  /** A redo: every step runs on at most these hosts. */
  restrictTo?: string[];
  /** The launch included hosts whose lifecycle is not online (ADR 0018). */
  includeInactive?: boolean;
  /** Index of the step the driver is at (steps.length when done). */
  current: number;
  steps: StoredStep[];
  approval?: { by: string; reason: string };
};

/** A result as stored: `results` as a list, since their keys may contain dots. */
export type StoredResult = Omit<JobResult, 'results'> & { results?: { key: string; value: string }[] };

export type DispatchDoc = {
  _id: string;
  jobId: string;
  step: number;
  host: string;
  /** agent: offered over the job channel; server: a probe or local script run by a server. */
  runner: 'agent' | 'server';
  kind: 'script' | 'files' | 'probe' | 'local' | 'resources';
  state: DispatchState;
  noop: boolean;
  createdAt: number;
  /** What the agent receives (agent runner). */
  work?: JobWork;
  /** Blobs the work references (the blob route serves them to this host while in flight). */
  blobIds?: string[];
  /** Probe: the address checked. */
  address?: string;
  startAcks: number;
  startedAt?: number;
  finishedAt?: number;
  /** Running past this with no answer: timeout (the agent never answered). */
  runDeadline?: number;
  /** Cancelling past this with no answer: cancelled. */
  cancelDeadline?: number;
  result?: StoredResult;
  /** A result that arrived after the server had already given up on the dispatch. */
  lateResult?: boolean;
  message?: string;
};

export interface JobCollections {
  readonly jobs: Collection<JobDoc>;
  readonly dispatches: Collection<DispatchDoc>;
  /** Blobs of files steps (bucket "job_blobs"). */
  readonly blobs: BlobStore;
}

export async function openJobCollections(store: DocumentStore): Promise<JobCollections> {
  return {
    jobs: await store.collection<JobDoc>('jobs', [
      { name: 'state', fields: { state: 1 } },
      { name: 'redo_of', fields: { redoOf: 1 }, partialExists: true },
      // One job per schedule fire, whichever server launches it (a retried fire finds it).
      { name: 'fire_id', fields: { fireId: 1 }, unique: true, partialExists: true },
    ]),
    dispatches: await store.collection<DispatchDoc>('job_dispatches', [
      { name: 'host_state', fields: { host: 1, state: 1 } },
      { name: 'job_step', fields: { jobId: 1, step: 1 } },
    ]),
    blobs: await store.blobs('job_blobs'),
  };
}

export function dispatchIdOf(jobId: string, step: number, host: string): string {
  return `${jobId}.${step}.${host}`;
}

export function toStoredResult(r: JobResult): StoredResult {
  const { results, ...rest } = r;
  return results === undefined ? rest : { ...rest, results: Object.entries(results).map(([key, value]) => ({ key, value })) };
}

export function resultsMap(r: StoredResult | undefined): Record<string, string> | undefined {
  if (!r?.results) return undefined;
  const out: Record<string, string> = {};
  for (const { key, value } of r.results) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}
