/** Stable codes of a failed or skipped resource in a run report. */
export type ResourceErrorCode =
  | 'INVALID'
  | 'READ_FAILED'
  | 'APPLY_FAILED'
  | 'REFRESH_FAILED'
  | 'NOT_CONVERGED'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'DEPENDENCY_FAILED'
  | 'INTERNAL';

/**
 * An error a resource throws on purpose, with a stable code (e.g. "EXEC_FAILED",
 * "ARCHIVE_UNSAFE") and, for commands, the captured output. The engine puts the code, message
 * and output into the resource's status, redacted.
 */
export class ResourceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown; output?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ResourceError';
    if (options?.output !== undefined) this.output = options.output;
  }
  readonly output?: string;
}

/** The stable code of any thrown value: its string `code` when it has one, else the fallback. */
export function errorCode(err: unknown, fallback: string): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    const c = (err as { code: string }).code;
    if (/^[A-Z][A-Z0-9_]*$/.test(c)) return c;
  }
  return fallback;
}

/** The message of any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
