/**
 * The fleet compliance-history chart as geometry for an inline SVG (drawn by views.ts, so every
 * string still goes through the autoescaping environment; no script, nothing fetched).
 *
 * One stacked bar per UTC hour over the window: the hourly rollups the housekeeping stored
 * (ComplianceService.history), with the current hour taken from the live summary so the chart
 * is never behind the tiles above it. Hours without a rollup are gaps, not zeros.
 */
import { complianceStates, hourStart, type ComplianceState, type StateCounts } from '../domain/compliance.js';

export interface ChartPoint {
  readonly hour: number;
  readonly counts: StateCounts;
}

export interface ChartRect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly state: ComplianceState;
  readonly title: string;
}

export interface ChartTick {
  readonly x: number;
  readonly label: string;
}

export interface ChartModel {
  readonly width: number;
  readonly height: number;
  /** Plot area: left, top, right, bottom. */
  readonly plot: { readonly l: number; readonly t: number; readonly r: number; readonly b: number };
  readonly rects: readonly ChartRect[];
  readonly xTicks: readonly ChartTick[];
  readonly yTicks: readonly { readonly y: number; readonly label: string }[];
  readonly max: number;
  /** Hours with data. */
  readonly points: number;
  readonly from: string;
  readonly to: string;
}

const hourMs = 3_600_000;

/** Builds the chart for `hours` hours ending with the hour containing nowMs. Pure. */
export function complianceChart(history: readonly ChartPoint[], current: StateCounts, nowMs: number, hours = 48, width = 960, height = 220): ChartModel {
  const plot = { l: 40, t: 10, r: width - 10, b: height - 26 };
  const last = hourStart(nowMs);
  const first = last - (hours - 1) * hourMs;
  const byHour = new Map<number, StateCounts>();
  for (const p of history) if (p.hour >= first && p.hour < last) byHour.set(p.hour, p.counts);
  byHour.set(last, current);
  const total = (c: StateCounts): number => complianceStates.reduce((n, s) => n + c[s], 0);
  const max = Math.max(1, ...[...byHour.values()].map(total));
  const slot = (plot.r - plot.l) / hours;
  const barW = Math.max(1, slot * 0.8);
  const scale = (plot.b - plot.t) / max;
  const rects: ChartRect[] = [];
  for (const [hour, counts] of [...byHour.entries()].sort(([a], [b]) => a - b)) {
    const i = (hour - first) / hourMs;
    const x = round(plot.l + i * slot + (slot - barW) / 2);
    let y = plot.b;
    const label = new Date(hour).toISOString().slice(0, 13).replace('T', ' ') + ':00 UTC';
    for (const state of complianceStates) {
      const n = counts[state];
      if (n <= 0) continue;
      const h = n * scale;
      y -= h;
      rects.push({ x, y: round(y), w: round(barW), h: round(h), state, title: `${label}${hour === last ? ' (now)' : ''}: ${n} ${state}` });
    }
  }
  const xTicks: ChartTick[] = [];
  const every = hours <= 24 ? 3 : hours <= 72 ? 6 : 24;
  for (let i = 0; i < hours; i++) {
    const hour = first + i * hourMs;
    if (new Date(hour).getUTCHours() % every !== 0) continue;
    const d = new Date(hour).toISOString();
    xTicks.push({ x: round(plot.l + i * slot + slot / 2), label: d.slice(11, 13) === '00' ? d.slice(5, 10) : `${d.slice(11, 13)}:00` });
  }
  const step = niceStep(max);
  const yTicks = [];
  for (let v = 0; v <= max; v += step) yTicks.push({ y: round(plot.b - v * scale), label: String(v) });
  return { width, height, plot, rects, xTicks, yTicks, max, points: byHour.size, from: new Date(first).toISOString(), to: new Date(last + hourMs).toISOString() };
}

function niceStep(max: number): number {
  for (const s of [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000]) if (max / s <= 5) return s;
  return Math.ceil(max / 5);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
