/** Bounds on the audit's work: a script past any of them is refused (block), never passed unread. */

export interface AuditLimits {
  /** Largest source, in UTF-8 bytes. */
  readonly maxSourceBytes: number;
  /** Syntax nodes visited, over the script and every nested script. */
  readonly maxNodes: number;
  /** Nesting depth of the syntax tree. */
  readonly maxDepth: number;
  /** Scripts inside scripts (sh -c '…', eval, heredocs fed to a shell, Python literals). */
  readonly maxNestedScripts: number;
  /** Wall-clock budget for one audit, in milliseconds (checked between nodes). */
  readonly timeBudgetMs: number;
}

export const defaultAuditLimits: AuditLimits = Object.freeze({
  maxSourceBytes: 1024 * 1024,
  maxNodes: 200_000,
  maxDepth: 250,
  maxNestedScripts: 4,
  timeBudgetMs: 5_000,
});

/** Thrown when a bound is passed; the audit turns it into a parse-error block. */
export class AuditLimitError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
    this.name = 'AuditLimitError';
  }
}
