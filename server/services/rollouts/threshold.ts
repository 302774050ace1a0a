/**
 * The failure threshold (ADR 0017 §3): a rollout pauses when failures exceed
 * max(count, ceil(percent × n / 100)), n being the batch size (per batch) or all hosts of the
 * rollout (overall). Without a rule, any failure pauses.
 */
import { termHosts } from './batches.js';

export interface MaxFailures {
  readonly count?: number;
  readonly percent?: number;
}

/** Failures tolerated among n hosts. */
export function tolerated(n: number, max: MaxFailures | undefined): number {
  const count = max?.count ?? 0;
  const pct = max?.percent ?? 0;
  return Math.max(count, pct > 0 ? termHosts({ value: pct, percent: true }, n) : 0);
}

/** Do `failures` among n hosts exceed the rule? */
export function exceeds(failures: number, n: number, max: MaxFailures | undefined): boolean {
  return failures > tolerated(n, max);
}
