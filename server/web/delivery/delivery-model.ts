/**
 * View models of the change-delivery pages (pure): history rows, a diff cut into files, the fleet
 * plan with its diffs as coloured lines, and a rollout with a progress bar per batch and the
 * actions its state allows.
 */
import type { FleetPlan } from '../../../schemas/api/fleet-plan.js';
import type { RolloutView } from '../../../schemas/api/rollouts.js';
import { isoAt } from '../../domain/clock.js';
import { diffLines, type DiffLine } from '../run-model.js';
import type { FileDiff, HistoryEntry, RolloutAction } from './delivery-port.js';

export const SHORT = 12;
/** Diff lines shown per file, and over a whole page. */
export const maxFileLines = 2000;
export const maxPageLines = 20_000;

function iso(t: number | string | undefined): string {
  if (t === undefined) return '';
  return typeof t === 'number' ? isoAt(t) : t;
}

export interface HistoryRow {
  readonly id: string;
  readonly short: string;
  readonly commit?: string;
  readonly author?: string;
  readonly by?: string;
  readonly message?: string;
  readonly at: string;
  readonly live: boolean;
  readonly files?: number;
  /** The entry before it in the list (for "diff with the previous"). */
  readonly previous?: string;
}

export function historyRows(entries: readonly HistoryEntry[]): HistoryRow[] {
  return entries.map((e, i) => {
    const prev = entries.slice(i + 1).find((p) => p.id !== e.id);
    return {
      id: e.id,
      short: e.id.slice(0, SHORT),
      ...(e.commit !== undefined ? { commit: e.commit.slice(0, SHORT) } : {}),
      ...(e.author !== undefined ? { author: e.author } : {}),
      ...(e.createdBy !== undefined ? { by: e.createdBy } : {}),
      ...(e.message !== undefined ? { message: e.message } : {}),
      at: iso(e.createdAt),
      live: e.live,
      ...(e.fileCount !== undefined ? { files: e.fileCount } : {}),
      ...(prev ? { previous: prev.id } : {}),
    };
  });
}

export interface FileDiffView {
  readonly path: string;
  readonly status: string;
  readonly lines: DiffLine[];
  readonly truncated: boolean;
  readonly note?: string;
  readonly adds: number;
  readonly dels: number;
}

/** Files with their diff lines, bounded per file and over the page. */
export function diffModel(files: readonly FileDiff[]): { files: FileDiffView[]; truncated: boolean; adds: number; dels: number } {
  let budget = maxPageLines;
  let truncated = false;
  let adds = 0;
  let dels = 0;
  const out = files.map((f) => {
    const d = diffLines(f.diff, Math.max(0, Math.min(maxFileLines, budget)));
    budget -= d.lines.length;
    if (d.truncated) truncated = true;
    const a = d.lines.filter((l) => l.kind === 'add').length;
    const r = d.lines.filter((l) => l.kind === 'del').length;
    adds += a;
    dels += r;
    return { path: f.path, status: f.status, lines: d.lines, truncated: d.truncated, ...(f.note !== undefined ? { note: f.note } : {}), adds: a, dels: r };
  });
  return { files: out, truncated, adds, dels };
}

export interface PlanChangeView {
  readonly resource: string;
  readonly action: string;
  readonly attributes: string;
  readonly sensitive: boolean;
  readonly lines: DiffLine[];
  readonly truncated: boolean;
}

export interface PlanHostView {
  readonly host: string;
  readonly status: string;
  readonly changes: PlanChangeView[];
  readonly problems: { where: string; message: string }[];
  readonly open: boolean;
}

/** The plan for display: hosts with changes or failures first (as the service orders them), diffs bounded. */
export function planModel(plan: FleetPlan, maxHosts = 500): { hosts: PlanHostView[]; unchanged: string[]; shown: number; total: number; truncated: boolean } {
  let budget = maxPageLines;
  let truncated = false;
  const interesting = plan.hosts.filter((h) => h.status !== 'unchanged');
  const hosts = interesting.slice(0, maxHosts).map((h, i): PlanHostView => ({
    host: h.host,
    status: h.status,
    open: i < 20,
    changes: h.changes.map((c) => {
      const d = diffLines(c.diff, Math.max(0, Math.min(maxFileLines, budget)));
      budget -= d.lines.length;
      if (d.truncated) truncated = true;
      return { resource: c.resource, action: c.action, attributes: (c.attributes ?? []).join(', '), sensitive: c.sensitive === true, lines: d.lines, truncated: d.truncated };
    }),
    problems: (h.problems ?? []).map((p) => ({ where: `${p.file}${p.line !== undefined ? `:${p.line}` : ''}`, message: p.message })),
  }));
  return {
    hosts,
    unchanged: plan.hosts.filter((h) => h.status === 'unchanged').map((h) => h.host),
    shown: hosts.length,
    total: interesting.length,
    truncated,
  };
}

export interface BatchView {
  readonly index: number;
  readonly size: number;
  readonly state: string;
  readonly passed: number;
  readonly failed: number;
  readonly waiting: number;
  readonly segments: { state: string; n: number; width: number }[];
  readonly hosts: readonly string[];
  readonly failures: readonly { host: string; reason: string }[];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly current: boolean;
  readonly jobId?: string;
}

export interface RolloutModel {
  readonly r: RolloutView;
  readonly batches: BatchView[];
  readonly done: number;
  readonly hostsDone: number;
  /** The page reloads itself while the rollout can still move on its own or by another operator. */
  readonly live: boolean;
  readonly gate: string;
  readonly actions: { action: RolloutAction; label: string; kind: 'primary' | 'danger' | '' }[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

const pct = (n: number, of: number): number => (of > 0 ? Math.round((n / of) * 10000) / 100 : 0);

/** What an operator can do in each state (the engine refuses anything else; the page offers only these). */
export function rolloutActions(r: Pick<RolloutView, 'state' | 'gate' | 'kind'>): RolloutModel['actions'] {
  switch (r.state) {
    case 'waiting':
      return [
        { action: 'continue', label: r.gate === 'manual' ? 'Approve next batch' : 'Start next batch now', kind: 'primary' },
        { action: 'pause', label: 'Pause', kind: '' },
        { action: 'abort', label: 'Abort', kind: 'danger' },
      ];
    case 'running':
      return [
        { action: 'pause', label: 'Pause', kind: '' },
        { action: 'abort', label: 'Abort', kind: 'danger' },
      ];
    case 'paused':
      return [
        { action: 'continue', label: 'Resume', kind: 'primary' },
        { action: 'abort', label: 'Abort', kind: 'danger' },
      ];
    case 'completed':
      return r.kind === 'revision' ? [{ action: 'rollback', label: 'Roll back', kind: 'danger' }] : [];
    default:
      return [];
  }
}

export function rolloutModel(r: RolloutView): RolloutModel {
  const batches = r.batches.map((b): BatchView => {
    const size = b.hosts.length;
    const failed = b.failures.length;
    const passed = b.succeeded ?? (b.state === 'succeeded' ? size - failed : 0);
    const waiting = Math.max(0, size - passed - failed);
    const waitState = b.state === 'pending' ? 'pending' : b.state === 'verifying' ? 'verifying' : b.state === 'running' ? 'running' : 'pending';
    const segments = [
      { state: 'succeeded', n: passed, width: pct(passed, size) },
      { state: 'failed', n: failed, width: pct(failed, size) },
      { state: waitState, n: waiting, width: pct(waiting, size) },
    ].filter((s) => s.n > 0);
    return {
      index: b.index,
      size,
      state: b.state,
      passed,
      failed,
      waiting,
      segments,
      hosts: b.hosts,
      failures: b.failures,
      startedAt: iso(b.startedAt),
      finishedAt: iso(b.finishedAt),
      current: b.index === r.current && r.state !== 'completed',
      ...(b.jobId !== undefined ? { jobId: b.jobId } : {}),
    };
  });
  const gate =
    r.state === 'waiting'
      ? r.gate === 'manual'
        ? 'waiting for an operator to approve the next batch'
        : `waiting until ${iso(r.nextAt) || 'the wait is over'} to start the next batch`
      : r.state === 'paused'
        ? `paused${r.reason ? `: ${r.reason}` : ''}`
        : r.state === 'running'
          ? 'delivering a batch and judging its health'
          : r.reason ?? r.state;
  return {
    r,
    batches,
    done: batches.filter((b) => b.state === 'succeeded' || b.state === 'failed').length,
    hostsDone: batches.reduce((n, b) => n + b.passed + b.failed, 0),
    live: r.state === 'running' || r.state === 'waiting' || r.state === 'paused',
    gate,
    actions: rolloutActions(r),
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}
