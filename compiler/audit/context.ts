/**
 * The state of one audit: the original source (for line and column), the raw findings, and
 * the work budget. Nested scripts are audited in frames that map their positions back to the
 * original source.
 */
import { AuditLimitError, type AuditLimits } from './limits.js';

export interface RawFinding {
  readonly rule: string;
  /** UTF-16 index into the original source. */
  readonly index: number;
  readonly message: string;
}

/**
 * Where a piece of text sits in the original source. `base` is set when the text is a verbatim
 * slice of the source (positions map exactly); otherwise every position maps to `anchor` (the
 * start of the string literal or command the text was decoded from).
 */
export interface Frame {
  readonly text: string;
  readonly base?: number;
  readonly anchor: number;
  /** How many scripts this one is nested in (0 for the source itself). */
  readonly nesting: number;
}

export class AuditContext {
  readonly findings: RawFinding[] = [];
  /** Audits a script found inside another one (set by the entry point, which knows both languages). */
  nested: (lang: 'shell' | 'python', frame: Frame) => void = () => undefined;
  private nodes = 0;
  private readonly deadline: number;
  private readonly lineStarts: number[];

  constructor(
    readonly source: string,
    readonly limits: AuditLimits,
    now: () => number = Date.now,
  ) {
    this.now = now;
    this.deadline = now() + limits.timeBudgetMs;
    this.lineStarts = [0];
    for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  private readonly now: () => number;

  /** Counts one visited node; throws past the node budget or the time budget. */
  tick(index: number): void {
    this.nodes++;
    if (this.nodes > this.limits.maxNodes) throw new AuditLimitError(`the script has more than ${this.limits.maxNodes} syntax nodes to audit`, index);
    if ((this.nodes & 1023) === 0 && this.now() > this.deadline) throw new AuditLimitError(`the audit took longer than its budget of ${this.limits.timeBudgetMs} ms`, index);
  }

  checkDepth(depth: number, index: number): void {
    if (depth > this.limits.maxDepth) throw new AuditLimitError(`the script nests deeper than ${this.limits.maxDepth} levels`, index);
  }

  report(rule: string, index: number, message: string): void {
    if (this.findings.some((f) => f.rule === rule && f.index === index)) return;
    this.findings.push({ rule, index, message });
  }

  /** 1-based line and column of a UTF-16 index in the original source. */
  position(index: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: index - this.lineStarts[lo]! + 1 };
  }

  excerpt(index: number): string {
    const { line } = this.position(index);
    const start = this.lineStarts[line - 1]!;
    const nl = this.source.indexOf('\n', start);
    const text = this.source.slice(start, nl === -1 ? undefined : nl).trim();
    return text.length > 200 ? `${text.slice(0, 197)}...` : text;
  }
}

/** Maps a UTF-16 index inside a frame's text to the original source. */
export function originalIndex(frame: Frame, index: number): number {
  return frame.base !== undefined ? frame.base + index : frame.anchor;
}

/** A frame for a piece of `parent`'s text, exact when `verbatim`. */
export function childFrame(parent: Frame, text: string, start: number, verbatim: boolean): Frame {
  const anchor = originalIndex(parent, start);
  return verbatim && parent.base !== undefined ? { text, base: parent.base + start, anchor, nesting: parent.nesting + 1 } : { text, anchor, nesting: parent.nesting + 1 };
}
