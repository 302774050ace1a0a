/**
 * `--wait`: polls the job every second until it finishes, reporting each change (a new job
 * state, or hosts moving between states) once. A failed poll (network, timeout, 5xx) is retried
 * until `maxFailures` in a row; a refused one (401, 403, 404) ends the wait at once. Aborting
 * the signal (Ctrl-C) ends the wait with 'interrupted'; the job keeps running on the server.
 */
import { sleep } from '../../agent/daemon/backoff.js';
import { OperatorError, operatorExitCodes } from './errors.js';
import { finishedJobStates, type JobView } from './job-view.js';

export interface WaitOptions {
  readonly signal: AbortSignal;
  /** Between polls; default 1000. */
  readonly intervalMs?: number;
  /** Failed polls in a row before giving up; default 30. */
  readonly maxFailures?: number;
  /** Called with the first view and with every view that differs from the one before. */
  readonly onChange?: (job: JobView) => void;
  /** Called once per run of failed polls, with the first failure. */
  readonly onRetry?: (err: OperatorError) => void;
}

/** What changes the progress line: the job state and each host's state and each step's state. */
export function progressKey(job: JobView): string {
  return JSON.stringify([job.state, (job.steps ?? []).map((s) => s.state), (job.hosts ?? []).map((h) => [h.host, h.state])]);
}

export async function waitForJob(fetchJob: (signal: AbortSignal) => Promise<JobView>, opts: WaitOptions): Promise<JobView | 'interrupted'> {
  const interval = opts.intervalMs ?? 1000;
  const maxFailures = opts.maxFailures ?? 30;
  let lastKey: string | undefined;
  let failures = 0;
  for (;;) {
    if (opts.signal.aborted) return 'interrupted';
    let job: JobView | undefined;
    try {
      job = await fetchJob(opts.signal);
      failures = 0;
    } catch (err) {
      if (opts.signal.aborted) return 'interrupted';
      if (!(err instanceof OperatorError) || err.exitCode !== operatorExitCodes.unavailable) throw err;
      failures++;
      if (failures >= maxFailures) throw new OperatorError(err.code, `gave up waiting after ${failures} failed polls: ${err.message}`, err.exitCode, err.status);
      if (failures === 1) opts.onRetry?.(err);
    }
    if (job !== undefined) {
      const key = progressKey(job);
      if (key !== lastKey) {
        lastKey = key;
        opts.onChange?.(job);
      }
      if (finishedJobStates.has(job.state)) return job;
    }
    if (!(await sleep(interval, opts.signal))) return 'interrupted';
  }
}
