/**
 * View models for the host page: a run's resources ordered for an operator (failed, skipped,
 * changed, would-change first; in-sync last), property changes with printable before/after,
 * diff lines classified for colouring, and facts flattened to dotted keys. A run's resources are
 * shown a page at a time (runPageSize), so the work of one page view is bounded whatever the
 * size of the run. Pure; every string returned is data, escaped by the views.
 */
import type { PropertyChange, ResourceStatus, RunReport } from '../../schemas/report.js';

export interface ValueView {
  readonly text: string;
  /** absent: the thing did not exist; redacted: a "[redacted sha256:…]" marker. */
  readonly kind: 'absent' | 'redacted' | 'value';
}

export interface ChangeView {
  readonly property: string;
  readonly before: ValueView;
  readonly after: ValueView;
  readonly corrective: boolean;
  /** A change made on every run by design (an exec whose guards let it run each time). */
  readonly routine: boolean;
}

export interface DiffLine {
  readonly kind: 'add' | 'del' | 'hunk' | 'head' | 'ctx';
  readonly text: string;
}

export interface ResourceView {
  readonly id: string;
  readonly type: string;
  readonly state: ResourceStatus['state'];
  readonly corrective: boolean;
  readonly changes: readonly ChangeView[];
  readonly diff: readonly DiffLine[];
  readonly diffTruncated: boolean;
  readonly error?: { readonly code: string; readonly message: string };
  readonly output?: string;
  readonly refreshed: boolean;
  /** Absent for an in-sync resource a compact report summarised (its time was not kept, ADR 0021). */
  readonly durationMs?: number;
}

export interface RunView {
  readonly runId: string;
  readonly mode: RunReport['mode'];
  readonly outcome: RunReport['outcome'];
  readonly startedAt: string;
  readonly durationMs: number;
  readonly revision: string;
  readonly catalogId: string;
  readonly counts: RunReport['counts'];
  readonly error?: string;
  /** Resources of this page that need attention, in display order. */
  readonly attention: readonly ResourceView[];
  /** Resources of this page that are in sync. */
  readonly inSync: readonly ResourceView[];
  /** This page (1-based), the number of pages, and the resources shown: [first, last] of total (1-based). */
  readonly page: number;
  readonly pages: number;
  readonly first: number;
  readonly last: number;
  readonly total: number;
}

/** Resources on one page of a run. */
export const runPageSize = 100;

const order: Record<ResourceStatus['state'], number> = { failed: 0, skipped: 1, changed: 2, 'would-change': 3, 'in-sync': 4 };
/** Diff lines shown per resource, and on one page in all: a page's work stays bounded. */
const maxDiffLines = 200;
export const maxPageDiffLines = 2000;
const maxValue = 4000;

export function valueView(v: unknown): ValueView {
  if (v === undefined) return { text: 'absent', kind: 'absent' };
  const text = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  if (typeof v === 'string' && /^\[redacted\b/.test(v)) return { text, kind: 'redacted' };
  return { text: text.length > maxValue ? `${text.slice(0, maxValue)}… (${text.length} characters)` : text, kind: 'value' };
}

export function diffLines(diff: string | undefined, max = maxDiffLines): { lines: DiffLine[]; truncated: boolean } {
  if (!diff) return { lines: [], truncated: false };
  const all = diff.replace(/\n$/, '').split('\n', max + 1);
  const lines = all.slice(0, max).map((text): DiffLine => {
    if (text.startsWith('+++') || text.startsWith('---')) return { kind: 'head', text };
    if (text.startsWith('@@')) return { kind: 'hunk', text };
    if (text.startsWith('+')) return { kind: 'add', text };
    if (text.startsWith('-')) return { kind: 'del', text };
    return { kind: 'ctx', text };
  });
  return { lines, truncated: all.length > max };
}

function changeView(c: PropertyChange): ChangeView {
  return { property: c.property, before: valueView(c.before), after: valueView(c.after), corrective: c.corrective, routine: c.routine === true };
}

/** A resource for display, showing at most `diffBudget` lines of its diff. */
export function resourceView(r: ResourceStatus, diffBudget = maxDiffLines): ResourceView {
  const d = diffLines(r.diff, Math.min(maxDiffLines, diffBudget));
  return {
    id: r.id,
    type: r.type,
    state: r.state,
    corrective: r.changes.some((c) => c.corrective),
    changes: r.changes.map(changeView),
    diff: d.lines,
    diffTruncated: d.truncated,
    ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}),
    ...(r.output !== undefined ? { output: r.output } : {}),
    refreshed: r.refreshed ?? false,
    ...(r.durationMs !== undefined ? { durationMs: r.durationMs } : {}),
  };
}

/** The view of `page` (1-based; clamped to the pages there are) of a run. */
export function runView(report: RunReport, page = 1): RunView {
  const all = report.resources;
  const sorted = all.map((_, i) => i);
  sorted.sort((a, b) => order[all[a]!.state] - order[all[b]!.state] || a - b);
  const pages = Math.max(1, Math.ceil(all.length / runPageSize));
  const p = Math.min(Math.max(1, Math.floor(page)), pages);
  let budget = maxPageDiffLines;
  const shown = sorted.slice((p - 1) * runPageSize, p * runPageSize).map((i) => {
    const v = resourceView(all[i]!, budget);
    budget -= v.diff.length;
    return v;
  });
  return {
    runId: report.runId,
    mode: report.mode,
    outcome: report.outcome,
    startedAt: report.startedAt,
    durationMs: report.durationMs,
    revision: report.revision,
    catalogId: report.catalogId,
    counts: report.counts,
    ...(report.error !== undefined ? { error: report.error } : {}),
    attention: shown.filter((r) => r.state !== 'in-sync'),
    inSync: shown.filter((r) => r.state === 'in-sync'),
    page: p,
    pages,
    first: shown.length === 0 ? 0 : (p - 1) * runPageSize + 1,
    last: (p - 1) * runPageSize + shown.length,
    total: all.length,
  };
}

/** Facts as sorted (dotted key, printable value) rows; at most `limit` rows. */
export function factRows(facts: Record<string, unknown> | undefined, limit = 1000): { key: string; value: string }[] {
  const rows: { key: string; value: string }[] = [];
  const walk = (prefix: string, v: unknown): void => {
    if (rows.length >= limit) return;
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
      for (const k of Object.keys(v).sort()) walk(prefix ? `${prefix}.${k}` : k, (v as Record<string, unknown>)[k]);
      return;
    }
    rows.push({ key: prefix, value: valueView(v).text });
  };
  walk('', facts ?? {});
  return rows;
}
