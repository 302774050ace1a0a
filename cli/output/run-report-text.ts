/**
 * Human output of a run: one line per changed, would-change, failed or skipped resource, with
 * the property changes and a trimmed content diff indented under it, then a summary line.
 * In-sync resources print nothing (that is what --json is for).
 */
import type { PropertyChange, ResourceStatus, RunReport } from '../../schemas/index.js';

export interface TextOptions {
  /** Most diff lines shown per resource; the rest is counted. */
  readonly maxDiffLines?: number;
  /** ANSI colours (only when writing to a terminal). */
  readonly color?: boolean;
}

const labels: Record<ResourceStatus['state'], string> = {
  'in-sync': 'in sync',
  changed: 'changed',
  'would-change': 'would change',
  failed: 'failed',
  skipped: 'skipped',
};

const colors: Partial<Record<ResourceStatus['state'], string>> = { changed: '32', 'would-change': '33', failed: '31', skipped: '35' };

function paint(text: string, code: string | undefined, on: boolean | undefined): string {
  return on && code ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** A value shortened for one line: strings JSON-quoted, at most 60 characters. */
export function shortValue(v: unknown): string {
  if (v === undefined) return '(absent)';
  let s: string;
  try {
    s = typeof v === 'string' && /^[\x21-\x7e]+$/.test(v) && !v.includes('"') ? v : JSON.stringify(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function changeText(c: PropertyChange): string {
  const drift = c.corrective ? ' (drift)' : c.routine === true ? ' (routine: runs every run)' : '';
  if (c.property === 'content' && typeof c.before === 'string' && typeof c.after === 'string' && c.before.startsWith('sha256:')) {
    return `content ${c.before.slice(0, 15)} -> ${c.after.slice(0, 15)}${drift}`;
  }
  return `${c.property}: ${shortValue(c.before)} -> ${shortValue(c.after)}${drift}`;
}

/** The lines for one resource; [] for in-sync resources. */
export function formatStatus(s: ResourceStatus, opts: TextOptions = {}): string[] {
  if (s.state === 'in-sync') return [];
  const label = paint(labels[s.state].padEnd(12), colors[s.state], opts.color);
  const lines: string[] = [];
  let head = `${label} ${s.id}`;
  if (s.refreshed) head += s.state === 'would-change' ? ' (would refresh)' : ' (refreshed)';
  if (s.error) head += `: ${s.error.code}: ${s.error.message}`;
  lines.push(head);
  for (const c of s.changes) lines.push(`    ${changeText(c)}`);
  if (s.diff) {
    const max = opts.maxDiffLines ?? 40;
    const diffLines = s.diff.replace(/\n$/, '').split('\n').filter((l) => !/^=+$/.test(l) && !l.startsWith('Index: '));
    for (const l of diffLines.slice(0, max)) {
      const code = l.startsWith('+') && !l.startsWith('+++') ? '32' : l.startsWith('-') && !l.startsWith('---') ? '31' : undefined;
      lines.push(`      ${paint(l, code, opts.color)}`);
    }
    if (diffLines.length > max) lines.push(`      ... ${diffLines.length - max} more diff lines (the full diff is in the --json report)`);
  }
  if (s.output && s.state === 'failed') {
    const out = s.output.replace(/\n$/, '').split('\n');
    for (const l of out.slice(-10)) lines.push(`      | ${l}`);
  }
  return lines;
}

/** "Changed 3, would change 0, failed 1, skipped 2, in sync 40 (of 46; 1 corrective) in 0.42 s". */
export function formatSummary(r: RunReport): string {
  const c = r.counts;
  const parts = r.mode === 'noop'
    ? [`would change ${c.wouldChange}`]
    : [`changed ${c.changed}`];
  parts.push(`failed ${c.failed}`, `skipped ${c.skipped}`, `in sync ${c.inSync}`);
  const corrective = c.corrective > 0 ? `; ${c.corrective} corrective (drift)` : '';
  const secs = (r.durationMs / 1000).toFixed(2);
  const mode = r.mode === 'noop' ? 'noop run' : 'run';
  return `${outcomeWord(r.outcome)}: ${parts.join(', ')} (of ${c.total} resources${corrective}) in ${secs} s; ${mode} ${r.runId}, revision ${r.revision}, catalog ${r.catalogId.slice(0, 12)}`;
}

function outcomeWord(o: RunReport['outcome']): string {
  switch (o) {
    case 'in-sync':
      return 'In sync';
    case 'changed':
      return 'Changed';
    case 'would-change':
      return 'Would change';
    case 'failed':
      return 'Failed';
    default:
      return o satisfies never;
  }
}
