/**
 * The stored shape of rollouts (ADR 0017 §3) and their API view. One document per rollout in
 * `rollouts`; every transition is a compare-and-swap on `version`. `activeSlot` is set while a
 * revision rollout is active (running, waiting, paused): a unique index on it keeps one active
 * revision rollout at a time, whichever server starts it. `effect` is a side effect owed after a
 * transition (moving `live`, cancelling a batch job); the driver performs it and clears it, so
 * a crash between the transition and the effect does not lose it.
 */
import type { RolloutPolicy, RolloutView } from '../../../schemas/api/rollouts.js';
import type { JobLaunch } from '../../../schemas/api/jobs.js';
import { isoAt } from '../../domain/clock.js';
import type { Collection, DocumentStore } from '../../store/types.js';
import { tolerated } from './threshold.js';

export type RolloutState = RolloutView['state'];
export type BatchState = RolloutView['batches'][number]['state'];
export type RolloutKind = RolloutView['kind'];

export interface StoredBatch {
  index: number;
  hosts: string[];
  state: BatchState;
  /** When the batch was started; written by CAS before it is delivered (the intent). */
  startedAt?: number;
  /** Delivery finished (target.deliver returned); absent after a crash mid-delivery, which is re-run (idempotent). */
  deliveredAt?: number;
  finishedAt?: number;
  failures: { host: string; reason: string }[];
  succeeded?: number;
  /** What deliver returned (the job id of a job rollout). */
  ref?: string;
  /** Verifying: hosts whose runs passed and that the probes check; lease of the server probing. */
  passed?: string[];
  verifyUntil?: number;
}

export type RolloutEffect = 'activate-new' | 'activate-previous' | 'cancel-job';

export type RolloutDoc = {
  _id: string;
  kind: RolloutKind;
  state: RolloutState;
  version: number;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  policy: RolloutPolicy;
  current: number;
  batches: StoredBatch[];
  /** Every host with its probe address, in delivery order. */
  targets: { name: string; address: string }[];
  gate?: 'manual' | 'timer';
  nextAt?: number;
  reason?: string;
  revision?: string;
  previous?: string;
  commit?: string;
  job?: JobLaunch;
  activeSlot?: string;
  effects?: RolloutEffect[];
};

export const activeStates: readonly RolloutState[] = ['running', 'waiting', 'paused'];

export async function openRollouts(store: DocumentStore): Promise<Collection<RolloutDoc>> {
  return store.collection<RolloutDoc>('rollouts', [
    { name: 'active_slot', fields: { activeSlot: 1 }, unique: true, partialExists: true },
    { name: 'by_state', fields: { state: 1, updatedAt: -1 } },
  ]);
}

export function failureCount(d: RolloutDoc): number {
  return d.batches.reduce((n, b) => n + b.failures.length, 0);
}

export function rolloutView(d: RolloutDoc): RolloutView {
  const cur = d.batches[d.current];
  return {
    id: d._id,
    kind: d.kind,
    state: d.state,
    ...(d.state === 'waiting' && d.gate !== undefined ? { gate: d.gate } : {}),
    ...(d.state === 'waiting' && d.gate === 'timer' && d.nextAt !== undefined ? { nextAt: isoAt(d.nextAt) } : {}),
    ...(d.reason !== undefined ? { reason: d.reason } : {}),
    ...(d.revision !== undefined ? { revision: d.revision } : {}),
    ...(d.previous !== undefined ? { previous: d.previous } : {}),
    ...(d.commit !== undefined ? { commit: d.commit } : {}),
    ...(d.job !== undefined ? { job: d.job as unknown as Record<string, unknown> } : {}),
    createdAt: isoAt(d.createdAt),
    createdBy: d.createdBy,
    updatedAt: isoAt(d.updatedAt),
    policy: d.policy,
    current: d.current,
    batches: d.batches.map((b) => ({
      index: b.index,
      hosts: b.hosts,
      state: b.state,
      ...(b.startedAt !== undefined ? { startedAt: isoAt(b.startedAt) } : {}),
      ...(b.finishedAt !== undefined ? { finishedAt: isoAt(b.finishedAt) } : {}),
      failures: b.failures,
      ...(b.succeeded !== undefined ? { succeeded: b.succeeded } : {}),
      ...(d.kind === 'job' && b.ref !== undefined ? { jobId: b.ref } : {}),
    })),
    hosts: d.targets.length,
    failures: failureCount(d),
    threshold: { overall: tolerated(d.targets.length, d.policy.maxFailures), ...(cur ? { batch: tolerated(cur.hosts.length, d.policy.maxFailures) } : {}) },
  } as RolloutView;
}
