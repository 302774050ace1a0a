/**
 * Batch expressions (ADR 0017 §3, schemas/api/rollout-policy.ts): comma-separated cumulative
 * targets. "N" = N hosts in total, "P%" = P % of the hosts in total (rounded up), "+N"/"+P%" =
 * that many more each batch, repeated until the next plain target (or the end). A step followed
 * directly by another step is applied once. Targets at or below what earlier batches reached
 * make empty batches, which are dropped; a final batch takes whatever is left.
 */
import { ApiError } from '../../domain/errors.js';

export interface BatchTerm {
  /** A "+" step (more each batch) or a cumulative target. */
  readonly step: boolean;
  readonly value: number;
  readonly percent: boolean;
  /** 1-based character position of the term in the expression. */
  readonly position: number;
}

/** Terms an expression may have. */
export const maxBatchTerms = 100;
/** Largest host count a term may name. */
export const maxBatchCount = 1_000_000;

function bad(expr: string, position: number, why: string): ApiError {
  return new ApiError('BAD_REQUEST', `bad batch expression at character ${position}: ${why} (expression "${expr.slice(0, 200)}"; it looks like "1,10%,+20%,100%": counts, percentages, and "+" steps)`, { position });
}

/** Parses an expression; throws ApiError BAD_REQUEST naming the character position of the first bad term. */
export function parseBatches(expr: string): BatchTerm[] {
  if (typeof expr !== 'string' || expr.length > 200) throw bad(String(expr).slice(0, 200), 1, 'at most 200 characters');
  const terms: BatchTerm[] = [];
  let pos = 0;
  if (expr.trim() === '') throw bad(expr, 1, 'empty');
  for (const raw of expr.split(',')) {
    const start = pos + 1;
    pos += raw.length + 1;
    const lead = raw.length - raw.trimStart().length;
    const text = raw.trim();
    const at = start + lead;
    if (text === '') throw bad(expr, at, 'an empty term');
    const m = /^(\+?)(\d+(?:\.\d+)?)(%?)$/.exec(text);
    if (!m) throw bad(expr, at, `"${text.slice(0, 20)}" is not N, P%, +N or +P%`);
    const step = m[1] === '+';
    const percent = m[3] === '%';
    const value = Number(m[2]);
    if (!percent && !Number.isInteger(value)) throw bad(expr, at, 'a host count must be a whole number');
    if (percent && value > 100) throw bad(expr, at, 'a percentage is at most 100');
    if (!percent && value > maxBatchCount) throw bad(expr, at, `a host count is at most ${maxBatchCount}`);
    if (value === 0) throw bad(expr, at, step ? 'a step must add at least one host' : 'a target must be at least one host');
    terms.push({ step, value, percent, position: at });
    if (terms.length > maxBatchTerms) throw bad(expr, at, `at most ${maxBatchTerms} terms`);
  }
  return terms;
}

/** Hosts a term stands for among n: counts as given, percentages rounded up. */
export function termHosts(t: Pick<BatchTerm, 'value' | 'percent'>, n: number): number {
  if (!t.percent) return t.value;
  // A tiny slack keeps 7 % of 100 at 7 despite binary floating point.
  return Math.ceil((t.value * n) / 100 - 1e-9);
}

/** The sizes of the batches an expression cuts n hosts into (every size ≥ 1, summing to n). */
export function batchSizes(expr: string | readonly BatchTerm[], n: number): number[] {
  const terms = typeof expr === 'string' ? parseBatches(expr) : expr;
  const sizes: number[] = [];
  let cum = 0;
  for (let i = 0; i < terms.length && cum < n; i++) {
    const t = terms[i]!;
    if (!t.step) {
      const target = Math.min(termHosts(t, n), n);
      if (target > cum) {
        sizes.push(target - cum);
        cum = target;
      }
      continue;
    }
    const s = Math.max(1, termHosts(t, n));
    const next = terms[i + 1];
    if (next?.step) {
      // Followed by another step: applied once.
      const add = Math.min(s, n - cum);
      sizes.push(add);
      cum += add;
      continue;
    }
    const bound = next ? Math.min(termHosts(next, n), n) : n;
    while (cum + s < bound) {
      sizes.push(s);
      cum += s;
    }
    if (!next && cum < n) {
      sizes.push(n - cum);
      cum = n;
    }
  }
  if (cum < n) sizes.push(n - cum);
  return sizes;
}

/** Cuts an ordered list into consecutive batches of the expression's sizes. */
export function cutBatches<T>(items: readonly T[], expr: string | readonly BatchTerm[]): T[][] {
  const out: T[][] = [];
  let i = 0;
  for (const size of batchSizes(expr, items.length)) {
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}
