/** Codes a Host throws for paths and kinds it refuses (fs errno codes pass through unchanged). */
export type HostErrorCode =
  | 'PATH_INVALID'
  | 'PATH_ESCAPE'
  | 'NOT_A_DIRECTORY'
  | 'NOT_A_FILE'
  | 'IS_A_DIRECTORY'
  | 'SYMLINK_REFUSED'
  | 'SYMLINK_LOOP'
  | 'ENTRY_CHANGED'
  | 'CROSS_DEVICE'
  | 'TOO_DEEP'
  | 'SPAWN_FAILED';

/** An error raised by a Host; `code` is stable, the message is for people. */
export class HostError extends Error {
  constructor(
    readonly code: HostErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HostError';
  }
}
