/**
 * Runs one started dispatch to its result: a script step (script-run.ts), a files step
 * (files-run.ts) or a resources step (resources-run.ts). Never throws for what the work does; an unexpected error becomes a `failed`
 * result that says so. `stop` aborts with reason 'cancel' (the server cancelled the dispatch)
 * or 'shutdown' (the agent is stopping): the result is then `cancelled` or `interrupted`.
 * `onSpawn` learns the script's process group id (the ledger records it, to kill a group an agent
 * crash left behind).
 */
import type { JobResult, JobWork } from '../../schemas/index.js';
import { runFiles } from './files-run.js';
import { runResources } from './resources-run.js';
import { isoTime, type JobContext } from './job-context.js';
import { runScript } from './script-run.js';

export async function executeDispatch(work: JobWork, ctx: JobContext, stop: AbortSignal, onSpawn?: (pid: number) => void): Promise<JobResult> {
  const started = ctx.now();
  try {
    switch (work.kind) {
      case 'script':
        return await runScript(work, ctx, stop, onSpawn);
      case 'files':
        return await runFiles(work, ctx, stop);
      case 'resources':
        return await runResources(work, ctx, stop);
      default:
        return work.kind satisfies never;
    }
  } catch (err) {
    const t = isoTime(started);
    return { state: 'failed', exitCode: null, stdout: '', stderr: '', message: `the agent could not run this step: ${err instanceof Error ? err.message : String(err)}`.slice(0, 4096), startedAt: t, finishedAt: isoTime(ctx.now()) };
  }
}
