/**
 * After a launch (job run, job redo, plan run): print the new job, or with --wait follow it to
 * the end and print the result. Shared so the three commands print exactly the same.
 *
 * Exit codes: without --wait 0 once the server accepted the job; with --wait 0 only when every
 * host succeeded, 1 otherwise, 130 when interrupted (the job keeps running).
 */
import { writeLine } from '../io.js';
import { operatorExitCodes } from './errors.js';
import { interruptSignal } from './interrupt.js';
import { asJobView, formatJob, jobSucceeded, progressLine, waitResult, type JobView } from './job-view.js';
import { cell, jsonText, printJson, printLines } from './output.js';
import type { Session } from './session.js';
import { waitForJob } from './wait.js';

export async function getJob(s: Session, id: string, output: boolean, signal?: AbortSignal): Promise<JobView> {
  return asJobView(await s.client.request('GET', `/jobs/${encodeURIComponent(id)}${output ? '?output=true' : ''}`, undefined, signal), `job ${id}`);
}

export async function afterLaunch(s: Session, created: unknown, wait: boolean, opts: { intervalMs?: number } = {}): Promise<number> {
  const job = asJobView(created, 'the new job');
  if (!wait) {
    if (s.json) printJson(s.io, job);
    else {
      writeLine(s.io.stdout, `Started ${progressLine(job)}`);
      writeLine(s.io.stdout, `Follow it with: stead job show ${cell(job.id, 64)}`);
    }
    return operatorExitCodes.ok;
  }
  const stop = interruptSignal();
  let end: JobView | 'interrupted';
  let last = job;
  try {
    end = await waitForJob((signal) => getJob(s, job.id, false, signal), {
      signal: stop.signal,
      ...(opts.intervalMs !== undefined ? { intervalMs: opts.intervalMs } : {}),
      onChange: (j) => {
        last = j;
        if (!s.json) writeLine(s.io.stderr, progressLine(j));
      },
      onRetry: (err) => {
        if (!s.json) writeLine(s.io.stderr, `stead ${s.command}: ${err.message}; still trying`);
      },
    });
  } finally {
    stop.dispose();
  }
  if (end === 'interrupted') {
    writeLine(s.io.stderr, `stead ${s.command}: stopped waiting; job ${cell(job.id, 64)} keeps running (stead job show ${cell(job.id, 64)}, stead job cancel ${cell(job.id, 64)})`);
    // The state as last seen (still running): the one object --json promises.
    if (s.json) writeLine(s.io.stdout, jsonText(waitResult(last), true));
    return operatorExitCodes.interrupted;
  }
  const final = await getJob(s, job.id, true);
  if (s.json) writeLine(s.io.stdout, jsonText(waitResult(final), true));
  else printLines(s.io, formatJob(final, { output: true }));
  return jobSucceeded(final) ? operatorExitCodes.ok : operatorExitCodes.failed;
}
