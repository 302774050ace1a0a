/**
 * Compliance rules, pure. A host's state comes from its last report and the clock:
 *   unknown        never reported
 *   not-reporting  last report older than staleAfterMs (N agent intervals)
 *   failing        the last run failed (a resource failed or was skipped, or the run errored)
 *   drifted        the last run found corrective changes (the host had moved away from what
 *                  was last applied), or a noop run found changes it did not make
 *   in-sync        otherwise (intentional and routine changes applied successfully count as
 *                  in sync: an exec whose guards let it run every run is routine, not drift)
 */
export type ComplianceState = 'in-sync' | 'drifted' | 'failing' | 'not-reporting' | 'unknown';
export const complianceStates: readonly ComplianceState[] = ['in-sync', 'drifted', 'failing', 'not-reporting', 'unknown'];

/** The facts about a host's last run that compliance needs (kept per host by the report service). */
export interface LastRunSummary {
  readonly runId: string;
  /** Run start, ms since epoch. */
  readonly atMs: number;
  /** When the server received the report, ms since epoch. */
  readonly receivedAtMs: number;
  readonly outcome: 'in-sync' | 'changed' | 'would-change' | 'failed';
  readonly mode: 'apply' | 'noop';
  readonly corrective: number;
  readonly changed: number;
  readonly failed: number;
  readonly catalogId: string;
  readonly revision: string;
  /** Resource ids in the run that were not compliant (failed, skipped, corrective, would-change). */
  readonly nonCompliant: readonly string[];
  /** Every resource id in the run. */
  readonly resources: readonly string[];
}

export function hostCompliance(last: LastRunSummary | undefined, nowMs: number, staleAfterMs: number): ComplianceState {
  if (!last) return 'unknown';
  if (nowMs - last.receivedAtMs > staleAfterMs) return 'not-reporting';
  if (last.outcome === 'failed' || last.failed > 0) return 'failing';
  if (last.corrective > 0 || last.outcome === 'would-change') return 'drifted';
  return 'in-sync';
}

export type StateCounts = Record<ComplianceState, number>;

export function emptyCounts(): StateCounts {
  return { 'in-sync': 0, drifted: 0, failing: 0, 'not-reporting': 0, unknown: 0 };
}

/** Percentage of in-sync hosts among all counted, rounded to 0.01; 100 for an empty set. */
export function percentInSync(c: StateCounts): number {
  const total = complianceStates.reduce((n, s) => n + c[s], 0);
  return total === 0 ? 100 : Math.round((c['in-sync'] / total) * 10000) / 100;
}

/** Start of the UTC hour containing `ms`. */
export function hourStart(ms: number): number {
  return Math.floor(ms / 3_600_000) * 3_600_000;
}
