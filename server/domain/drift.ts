/**
 * Drift events, pure. One report yields one event per resource that was not compliant in a way
 * an operator wants to see later, even after the host is back in sync:
 *   detected   a noop run found the resource would change (a corrective change: drift; or a
 *              desired change not applied yet: `corrective` false)
 *   repaired   an apply run made a corrective change (drift found and put right in one run)
 *   failed     the resource failed (or was skipped because a dependency failed) in any run
 * Changes an apply run made because the desired state moved (not corrective) and routine
 * changes are not drift and yield nothing. At most `maxPerReport` events per report; the rest
 * are counted in `dropped`.
 */
import type { RunReport } from '../../schemas/report.js';

export type DriftKind = 'detected' | 'repaired' | 'failed';
export const driftKinds: readonly DriftKind[] = ['detected', 'repaired', 'failed'];

export interface DriftEvent {
  readonly host: string;
  readonly resource: string;
  readonly kind: DriftKind;
  readonly runId: string;
  /** Whether any change was corrective (drift rather than a pending desired change). */
  readonly corrective: boolean;
  /** Names of the properties that moved (or would move), at most 16. */
  readonly properties: readonly string[];
  /** The failure's code (failed only). */
  readonly error?: string;
  /** Order of the resource in the run (keeps ids unique and stable). */
  readonly seq: number;
}

/** Longest resource id kept in an event (longer ids are cut; they still group together). */
export const maxResourceIdLength = 512;
export const defaultMaxEventsPerReport = 100;

export function driftEventsOf(host: string, report: RunReport, maxPerReport = defaultMaxEventsPerReport): { events: DriftEvent[]; dropped: number } {
  const events: DriftEvent[] = [];
  let dropped = 0;
  report.resources.forEach((r, seq) => {
    const corrective = r.changes.some((c) => c.corrective);
    let kind: DriftKind | undefined;
    if (r.state === 'failed' || r.state === 'skipped') kind = 'failed';
    else if (r.state === 'would-change') kind = 'detected';
    else if (r.state === 'changed' && corrective) kind = 'repaired';
    if (kind === undefined) return;
    if (events.length >= maxPerReport) {
      dropped++;
      return;
    }
    events.push({
      host,
      resource: r.id.slice(0, maxResourceIdLength),
      kind,
      runId: report.runId,
      corrective,
      properties: r.changes.slice(0, 16).map((c) => c.property.slice(0, 64)),
      ...(r.error ? { error: r.error.code.slice(0, 64) } : {}),
      seq,
    });
  });
  return { events, dropped };
}

/** Start of the UTC day containing `ms`. */
export function dayStart(ms: number): number {
  return Math.floor(ms / 86_400_000) * 86_400_000;
}

/** Start of the UTC month containing `ms`. */
export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** "7d", "48h", "30m" (minutes), "2w" → milliseconds; undefined when not such a duration. */
export function parseWindow(text: string): number | undefined {
  const m = /^([1-9][0-9]{0,4})([mhdw])$/.exec(text);
  if (!m) return undefined;
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}
