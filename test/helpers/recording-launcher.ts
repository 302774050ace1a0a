/**
 * A test double behind the JobLauncher port: records every launch and answers a job id (or
 * fails when told to). Not a job service; the real one is wired by compose.ts.
 */
import type { JobLauncher, LaunchMeta } from '../../server/services/schedules/job-launcher.js';

export interface RecordedLaunch {
  readonly body: unknown;
  readonly by: string;
  readonly meta: LaunchMeta;
  readonly id: string;
}

export class RecordingLauncher implements JobLauncher {
  readonly launches: RecordedLaunch[] = [];
  /** When set, launches reject with this message. */
  failWith: string | undefined;
  /** Launches wait for this before answering (to hold one in flight). */
  gate: Promise<void> | undefined;
  readonly states = new Map<string, string>();

  async launch(body: unknown, by: string, meta: LaunchMeta): Promise<{ id: string }> {
    if (this.gate) await this.gate;
    if (this.failWith !== undefined) throw new Error(this.failWith);
    const id = `job-${this.launches.length + 1}`;
    this.launches.push({ body, by, meta, id });
    this.states.set(id, 'running');
    return { id };
  }

  async state(jobId: string): Promise<string | undefined> {
    return this.states.get(jobId);
  }
}
