/**
 * View models for the host page: a run's resources ordered for an operator (failed, skipped,
 * changed, would-change first; in-sync last), property changes with printable before/after,
 * diff lines classified for colouring, and facts flattened to dotted keys. Pure; every string
 * returned is data, escaped by the views.
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
  readonly durationMs: number;
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
  /** Resources that need attention, in display order. */
  readonly attention: readonly ResourceView[];
  readonly inSync: readonly ResourceView[];
}

const order: Record<ResourceStatus['state'], number> = { failed: 0, skipped: 1, changed: 2, 'would-change': 3, 'in-sync': 4 };
const maxDiffLines = 2000;
const maxValue = 4000;

export function valueView(v: unknown): ValueView {
  if (v === undefined) return { text: 'absent', kind: 'absent' };
  const text = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  if (typeof v === 'string' && /^\[redacted\b/.test(v)) return { text, kind: 'redacted' };
  return { text: text.length > maxValue ? `${text.slice(0, maxValue)}… (${text.length} characters)` : text, kind: 'value' };
}

export function diffLines(diff: string | undefined): { lines: DiffLine[]; truncated: boolean } {
  if (!diff) return { lines: [], truncated: false };
  const all = diff.replace(/\n$/, '').split('\n');
  const lines = all.slice(0, maxDiffLines).map((text): DiffLine => {
    if (text.startsWith('+++') || text.startsWith('---')) return { kind: 'head', text };
    if (text.startsWith('@@')) return { kind: 'hunk', text };
    if (text.startsWith('+')) return { kind: 'add', text };
    if (text.startsWith('-')) return { kind: 'del', text };
    return { kind: 'ctx', text };
  });
  return { lines, truncated: all.length > maxDiffLines };
}

function changeView(c: PropertyChange): ChangeView {
  return { property: c.property, before: valueView(c.before), after: valueView(c.after), corrective: c.corrective, routine: c.routine === true };
}

export function resourceView(r: ResourceStatus): ResourceView {
  const d = diffLines(r.diff);
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
    durationMs: r.durationMs,
  };
}

export function runView(report: RunReport): RunView {
  const resources = report.resources.map((r, i) => ({ v: resourceView(r), i }));
  resources.sort((a, b) => order[a.v.state] - order[b.v.state] || a.i - b.i);
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
    attention: resources.filter((r) => r.v.state !== 'in-sync').map((r) => r.v),
    inSync: resources.filter((r) => r.v.state === 'in-sync').map((r) => r.v),
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
