/**
 * The stored shapes of schedules and their fires, and the collections that hold them.
 * `schedules`: one document per schedule (unique name). `schedule_fires`: one document per
 * fire, `_id` = `<scheduleId>@<scheduled ms>`; inserting it is the lease that makes a fire
 * happen once across servers.
 */
import type { ScheduleSpec } from '../../../schemas/schedule-spec.js';
import type { Collection, DocumentStore } from '../../store/types.js';

export type MissedPolicy = 'skip' | 'run-once';

/** The outcome of the newest fire of a schedule. */
export interface LastFire {
  /** The scheduled time (ms). */
  readonly at: number;
  /** When it was launched (ms). */
  readonly firedAt: number;
  readonly jobId?: string;
  /** Why the launch failed (the launcher's message). */
  readonly error?: string;
  /** Earlier runs folded into this one (missed policy run-once). */
  readonly missedRuns: number;
}

export interface ScheduleDoc {
  _id: string;
  name: string;
  spec: ScheduleSpec;
  /** The launch body as JSON text (bodies may hold keys the store refuses, like "a.b"). */
  launchJson: string;
  planId?: string;
  missed: MissedPolicy;
  enabled: boolean;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  /** Fire times at or before this (ms) have been considered (fired, or skipped). */
  cursor: number;
  last?: LastFire;
  /** Runs skipped because every server was down (policy skip): how many, the newest. */
  skipped?: { count: number; capped: boolean; latest: number; at: number };
  [key: string]: unknown;
}

export type FireState = 'claimed' | 'launched' | 'failed';

export interface FireDoc {
  _id: string;
  scheduleId: string;
  at: number;
  state: FireState;
  owner: string;
  claimedAt: number;
  leaseUntil: number;
  missedRuns: number;
  jobId?: string;
  error?: string;
  [key: string]: unknown;
}

export interface ScheduleCollections {
  readonly schedules: Collection<ScheduleDoc>;
  readonly fires: Collection<FireDoc>;
}

export async function openScheduleCollections(store: DocumentStore): Promise<ScheduleCollections> {
  return {
    schedules: await store.collection<ScheduleDoc>('schedules', [{ name: 'by_name', fields: { name: 1 }, unique: true }]),
    fires: await store.collection<FireDoc>('schedule_fires', [
      { name: 'by_schedule', fields: { scheduleId: 1, at: 1 } },
      { name: 'by_state', fields: { state: 1, leaseUntil: 1 } },
    ]),
  };
}

export const fireId = (scheduleId: string, at: number): string => `${scheduleId}@${at}`;
