/**
 * The agent daemon's pull loop (STYLE §4, DESIGN §2.4). Level-triggered: a full run every
 * interval (+ splay) whether or not the catalog changed, so drift is repaired without
 * watching events. While the server is unreachable, runs keep enforcing the cached catalog
 * at the interval, and between runs the loop retries the server with exponential backoff and
 * jitter, delivering queued reports as soon as it answers; a new catalog triggers a run at
 * once. Shutdown is a branch of every wait: aborting `signal` ends the loop after the current
 * step (the engine gets the same signal).
 */
import { agentRun, probeServer, type AgentRunDeps, type AgentRunResult } from './agent-run.js';
import { Backoff, nextRunDelay, sleep, type Random } from './backoff.js';

export interface PullLoopConfig {
  readonly intervalMs: number;
  readonly splayMs: number;
  readonly noop: boolean;
  /** Backoff for server retries between runs. Defaults 1 s … 5 min. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** The first run waits a random splay too (many agents started together). Default false. */
  readonly splayFirstRun?: boolean;
}

export interface PullLoopDeps extends AgentRunDeps {
  readonly random?: Random;
  /** Called after every run (the CLI prints a summary line). */
  readonly onRun?: (result: AgentRunResult) => void;
}

export type PullLoopExit =
  | { readonly reason: 'stopped' }
  | { readonly reason: 'refused'; readonly message: string; readonly code: string };

export async function runPullLoop(deps: PullLoopDeps, config: PullLoopConfig, signal: AbortSignal): Promise<PullLoopExit> {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const backoff = new Backoff({ minMs: config.minBackoffMs ?? 1000, maxMs: config.maxBackoffMs ?? 300_000, random });
  let nextRunAt = now() + (config.splayFirstRun ? nextRunDelay(0, config.splayMs, random) : 0);
  let serverOk = true;
  while (!signal.aborted) {
    if (now() >= nextRunAt) {
      const result = await agentRun(deps, config.noop, signal);
      deps.onRun?.(result);
      if (result.identityRefused) return { reason: 'refused', message: result.identityRefused.message, code: result.identityRefused.code };
      nextRunAt = now() + nextRunDelay(config.intervalMs, config.splayMs, random);
      serverOk = result.serverReachable && result.pendingReports === 0;
      if (serverOk) backoff.reset();
    } else if (!serverOk) {
      const probe = await probeServer(deps, signal);
      if (probe.refused) return { reason: 'refused', message: probe.refused.message, code: probe.refused.code };
      if (probe.reachable) {
        serverOk = (await deps.spool.list()).length === 0;
        if (serverOk) backoff.reset();
        if (probe.newCatalog) nextRunAt = now();
      }
    }
    const untilRun = Math.max(0, nextRunAt - now());
    const wait = serverOk ? untilRun : Math.min(untilRun, backoff.next());
    if (wait > 0 && !(await sleep(wait, signal))) break;
  }
  return { reason: 'stopped' };
}
