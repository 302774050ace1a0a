/**
 * After a job rollout started (`stead job run --batches …`, POST /api/v1/rollouts): print the
 * rollout, or with --wait follow it until it is over (completed, aborted, rolled back) or
 * paused, a line on stderr per change of a batch's state or of the rollout's state.
 *
 * Exit codes: without --wait 0 once the server accepted the rollout; with --wait 0 only when it
 * completed with no failed host, 1 otherwise (paused, aborted, rolled back, failures), 130 when
 * interrupted (the rollout goes on on the server).
 */
import { sleep } from '../../agent/daemon/backoff.js';
import { writeLine } from '../io.js';
import { OperatorError, operatorExitCodes } from './errors.js';
import { interruptSignal } from './interrupt.js';
import { cell, jsonText, printJson, printLines } from './output.js';
import { formatRollout, RolloutOptionError, stateLine, type RolloutLike } from './rollout-view.js';
import type { Session } from './session.js';
import type { CliIo } from '../io.js';

/** States a --wait ends on: over, or paused (a person has to decide). */
export const rolloutWaitEnds: ReadonlySet<unknown> = new Set(['completed', 'aborted', 'rolled-back', 'paused']);

interface BatchLike {
  readonly index?: unknown;
  readonly hosts?: unknown;
  readonly state?: unknown;
  readonly failures?: unknown;
  readonly jobId?: unknown;
}

function batchesOf(r: RolloutLike): BatchLike[] {
  return Array.isArray(r.batches) ? (r.batches as unknown[]).filter((b): b is BatchLike => b !== null && typeof b === 'object').slice(0, 10_000) : [];
}

/** `batch 1/2 (1 host): succeeded · job j123` — one batch's state, for the progress lines. */
export function batchLine(b: BatchLike, i: number, of: number): string {
  const n = Array.isArray(b.hosts) ? b.hosts.length : 0;
  const failed = Array.isArray(b.failures) ? b.failures.length : 0;
  const index = typeof b.index === 'number' ? b.index : i;
  return `batch ${index + 1}/${of} (${n} host${n === 1 ? '' : 's'}): ${cell(b.state)}${failed > 0 ? ` · ${failed} failed` : ''}${b.jobId !== undefined ? ` · job ${cell(b.jobId, 64)}` : ''}`;
}

/**
 * The progress lines between two views of a rollout: one per batch whose state (or job, or
 * failure count) changed, then one when the rollout's own state changed. `prev` undefined:
 * the lines of the first view (every started batch, and the state).
 */
export function rolloutProgress(prev: RolloutLike | undefined, next: RolloutLike): string[] {
  const lines: string[] = [];
  const before = prev ? batchesOf(prev) : [];
  const now = batchesOf(next);
  for (const [i, b] of now.entries()) {
    const line = batchLine(b, i, now.length);
    const old = before[i];
    if (old === undefined ? b.state !== 'pending' : batchLine(old, i, before.length) !== line) lines.push(line);
  }
  const key = (r: RolloutLike): string => JSON.stringify([r.state, r.gate, r.nextAt, r.reason]);
  if (!prev || key(prev) !== key(next)) lines.push(`rollout ${cell(next.id, 64)}: ${stateLine(next)}`);
  return lines;
}

/** A completed rollout with no failed host. */
export function rolloutSucceeded(r: RolloutLike): boolean {
  return r.state === 'completed' && (r.failures === 0 || r.failures === undefined) && batchesOf(r).every((b) => !Array.isArray(b.failures) || b.failures.length === 0);
}

/** Prints a rollout option the server would refuse (bad --batches, …): exit 2, like the server's 400. */
export function refuseRolloutOption(io: CliIo, command: string, err: RolloutOptionError, json: boolean): number {
  writeLine(io.stderr, `stead ${command}: ${err.message}`);
  writeLine(io.stderr, `Run "stead ${command.split(' ')[0]!} --help" for usage.`);
  if (json) writeLine(io.stdout, jsonText({ error: { code: 'BAD_REQUEST', message: err.message } }));
  return operatorExitCodes.refused;
}

async function getRollout(s: Session, id: string, signal?: AbortSignal): Promise<RolloutLike> {
  const r = await s.client.request<RolloutLike>('GET', `/rollouts/${encodeURIComponent(id)}`, undefined, signal);
  if (r === null || typeof r !== 'object' || typeof r.id !== 'string') throw new OperatorError('BAD_RESPONSE', `the server answered no rollout for ${id}`, operatorExitCodes.unavailable);
  return r;
}

export async function afterRolloutLaunch(s: Session, created: unknown, wait: boolean, opts: { intervalMs?: number; maxFailures?: number } = {}): Promise<number> {
  const first = (created ?? {}) as RolloutLike;
  if (typeof first.id !== 'string') throw new OperatorError('BAD_RESPONSE', 'the server answered no rollout id', operatorExitCodes.unavailable);
  const id = first.id;
  if (!wait) {
    if (s.json) printJson(s.io, first);
    else {
      printLines(s.io, formatRollout(first));
      writeLine(s.io.stdout, `Follow it with: stead rollout show ${cell(id, 64)}`);
    }
    return operatorExitCodes.ok;
  }
  const stop = interruptSignal();
  const interval = opts.intervalMs ?? 1000;
  const maxFailures = opts.maxFailures ?? 30;
  let last: RolloutLike | undefined;
  let view: RolloutLike = first;
  let failures = 0;
  try {
    for (;;) {
      for (const line of rolloutProgress(last, view)) writeLine(s.io.stderr, line);
      last = view;
      if (rolloutWaitEnds.has(view.state)) break;
      if (!(await sleep(interval, stop.signal))) break;
      try {
        view = await getRollout(s, id, stop.signal);
        failures = 0;
      } catch (err) {
        if (stop.signal.aborted) break;
        if (!(err instanceof OperatorError) || err.exitCode !== operatorExitCodes.unavailable) throw err;
        if (++failures >= maxFailures) throw new OperatorError(err.code, `gave up waiting after ${failures} failed polls: ${err.message}`, err.exitCode, err.status);
        if (failures === 1) writeLine(s.io.stderr, `stead ${s.command}: ${err.message}; still trying`);
      }
    }
  } finally {
    stop.dispose();
  }
  if (stop.signal.aborted) {
    writeLine(s.io.stderr, `stead ${s.command}: stopped waiting; rollout ${cell(id, 64)} goes on (stead rollout show ${cell(id, 64)}, stead rollout abort ${cell(id, 64)})`);
    if (s.json) printJson(s.io, last ?? first);
    return operatorExitCodes.interrupted;
  }
  if (s.json) printJson(s.io, view);
  else printLines(s.io, formatRollout(view));
  return rolloutSucceeded(view) ? operatorExitCodes.ok : operatorExitCodes.failed;
}
