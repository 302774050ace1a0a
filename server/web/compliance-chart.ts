/**
 * Chart data for the console's uPlot charts (server/web/assets/dashboard.js draws them; ADR 0019).
 * Pure: the server puts this in the page as JSON inside <script type="application/json"> (see
 * jsonForScript) and renders the same numbers as a table for pages read without script.
 *
 * Compliance: hosts per state over three ranges — 48 hours (hourly rollups, the current hour
 * taken from the live summary so the chart is never behind the tiles), 30 days (daily means)
 * and 12 months (monthly means). Periods without a rollup are gaps (null), not zeros.
 * Drift: events per UTC day and kind over a window; days without events are zeros.
 */
import { complianceStates, hourStart, type ComplianceState, type StateCounts } from '../domain/compliance.js';
import { dayStart, driftKinds, monthStart, type DriftKind } from '../domain/drift.js';

export type RangeId = '48h' | '30d' | '12m';

export interface SeriesInput {
  readonly at: number;
  readonly counts: StateCounts;
}

export interface ComplianceRange {
  readonly id: RangeId;
  readonly label: string;
  readonly step: 'hour' | 'day' | 'month';
  /** Slot starts, seconds since the epoch (uPlot's x). */
  readonly x: readonly number[];
  /** Per state, one value per slot (null: no data). */
  readonly y: Readonly<Record<ComplianceState, readonly (number | null)[]>>;
  /** Slots with data. */
  readonly points: number;
}

export interface ComplianceChart {
  readonly kind: 'compliance';
  readonly states: readonly ComplianceState[];
  readonly ranges: readonly ComplianceRange[];
  readonly initial: RangeId;
}

export const rangeIds: readonly RangeId[] = ['48h', '30d', '12m'];
const labels: Record<RangeId, string> = { '48h': '48 hours, hourly', '30d': '30 days, daily', '12m': '12 months, monthly' };

/** The slot starts of a range ending with the slot containing nowMs. */
export function slots(id: RangeId, nowMs: number): number[] {
  if (id === '48h') {
    const last = hourStart(nowMs);
    return Array.from({ length: 48 }, (_, i) => last - (47 - i) * 3_600_000);
  }
  if (id === '30d') {
    const last = dayStart(nowMs);
    return Array.from({ length: 30 }, (_, i) => last - (29 - i) * 86_400_000);
  }
  const d = new Date(monthStart(nowMs));
  return Array.from({ length: 12 }, (_, i) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - (11 - i), 1));
}

/** One range from its rollups; `current` (the live counts) fills the newest hourly slot. */
export function complianceRange(id: RangeId, points: readonly SeriesInput[], nowMs: number, current?: StateCounts): ComplianceRange {
  const xs = slots(id, nowMs);
  const byAt = new Map<number, StateCounts>();
  for (const p of points) byAt.set(p.at, p.counts);
  if (id === '48h' && current) byAt.set(xs[xs.length - 1]!, current);
  const y = {} as Record<ComplianceState, (number | null)[]>;
  for (const s of complianceStates) y[s] = xs.map((at) => byAt.get(at)?.[s] ?? null);
  return { id, label: labels[id], step: id === '48h' ? 'hour' : id === '30d' ? 'day' : 'month', x: xs.map((ms) => ms / 1000), y, points: xs.filter((at) => byAt.has(at)).length };
}

export function complianceChart(ranges: readonly ComplianceRange[], initial: RangeId): ComplianceChart {
  return { kind: 'compliance', states: complianceStates, ranges, initial };
}

export interface DriftChart {
  readonly kind: 'drift';
  readonly kinds: readonly DriftKind[];
  readonly x: readonly number[];
  readonly y: Readonly<Record<DriftKind, readonly number[]>>;
  readonly total: number;
}

/** Events per day over the `days` days ending today (UTC). */
export function driftChart(days: readonly { day: number; counts: Record<DriftKind, number> }[], nowMs: number, span = 30): DriftChart {
  const last = dayStart(nowMs);
  const xs = Array.from({ length: span }, (_, i) => last - (span - 1 - i) * 86_400_000);
  const by = new Map(days.map((d) => [d.day, d.counts] as const));
  const y = {} as Record<DriftKind, number[]>;
  let total = 0;
  for (const k of driftKinds) {
    y[k] = xs.map((d) => by.get(d)?.[k] ?? 0);
    total += y[k].reduce((a, b) => a + b, 0);
  }
  return { kind: 'drift', kinds: driftKinds, x: xs.map((ms) => ms / 1000), y, total };
}

/** Table rows (newest first) of a compliance range, for the page without script. */
export function rangeRows(r: ComplianceRange): { at: string; counts: Record<ComplianceState, number | null>; total: number }[] {
  const rows = [];
  for (let i = r.x.length - 1; i >= 0; i--) {
    const counts = {} as Record<ComplianceState, number | null>;
    let any = false;
    let total = 0;
    for (const s of complianceStates) {
      const v = r.y[s][i] ?? null;
      counts[s] = v;
      if (v !== null) {
        any = true;
        total += v;
      }
    }
    if (!any) continue;
    const iso = new Date(r.x[i]! * 1000).toISOString();
    rows.push({ at: r.step === 'hour' ? `${iso.slice(0, 13).replace('T', ' ')}:00` : r.step === 'day' ? iso.slice(0, 10) : iso.slice(0, 7), counts, total: Math.round(total * 100) / 100 });
  }
  return rows;
}

/**
 * JSON for a <script type="application/json"> element: the text of such an element is raw (no
 * entity decoding), so the page marks it safe and this escapes what could end the element or
 * confuse a parser instead: <, >, & and the two JavaScript line separators.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
