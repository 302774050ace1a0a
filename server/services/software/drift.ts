/**
 * Service drift (ADR 0018 §7): a tracked service that was running and is now stopped or failed,
 * with no stop/restart job targeting it since it was last seen running, is drift.
 *
 * The server keeps a small memory per host × service, moved by every report (server receive
 * times, so they compare with the launch times of operator actions):
 *
 *   running / restarting  → lastRunningAt = now, stoppedSince cleared
 *   stopped / failed      → stoppedSince = first report that saw it down (lastRunningAt kept)
 *   unknown               → unchanged (the agent could not tell)
 *
 * Drift is then a pure function of the current state, that memory and the last action an
 * operator asked for on that host. An action launched shortly before a report still saw the
 * service running (the job had not run yet) must not count as "before": an action counts when it
 * was launched at or after lastRunningAt, or at most `graceMs` before the service was first seen
 * down (the job was in flight while the agent last saw it running).
 */

export type ServiceState = 'running' | 'stopped' | 'failed' | 'restarting' | 'unknown';
export type ServiceAction = 'start' | 'stop' | 'restart';

/** What the server remembers of one service on one host (times: ms, server clock). */
export interface ServiceMemory {
  readonly lastRunningAt?: number;
  readonly stoppedSince?: number;
}

/** The last start/stop/restart an operator launched on this host × service. */
export interface LastAction {
  readonly action: ServiceAction;
  readonly at: number;
}

/** Default grace of an action in flight: a stop job usually runs within seconds of its launch. */
export const defaultActionGraceMs = 120_000;

/** The memory after a report saw `state` at `now`. */
export function nextMemory(prev: ServiceMemory | undefined, state: ServiceState, now: number): ServiceMemory {
  switch (state) {
    case 'running':
    case 'restarting':
      return { lastRunningAt: now };
    case 'stopped':
    case 'failed':
      return { ...(prev?.lastRunningAt !== undefined ? { lastRunningAt: prev.lastRunningAt } : {}), stoppedSince: prev?.stoppedSince ?? now };
    default:
      return prev ?? {};
  }
}

/** Whether a service in `state` with this memory and last action is drift. */
export function isDrift(state: ServiceState, memory: ServiceMemory | undefined, last: LastAction | undefined, graceMs = defaultActionGraceMs): boolean {
  if (state !== 'stopped' && state !== 'failed') return false;
  const ranAt = memory?.lastRunningAt;
  if (ranAt === undefined) return false; // never seen running: not a change, just how it is
  if (last && (last.action === 'stop' || last.action === 'restart')) {
    if (last.at >= ranAt) return false;
    if (memory?.stoppedSince !== undefined && last.at >= memory.stoppedSince - graceMs) return false;
  }
  return true;
}
