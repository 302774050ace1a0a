/**
 * What a `stead` command may touch of its process: output streams, the working directory and
 * the environment. Commands take a CliIo instead of reading `process`, so tests can run them
 * in-process and the composition stays in cli/main.ts.
 */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Standard input (passwords piped to `stead login`); absent: none. */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
}

/** The CliIo of the running process. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env, stdin: process.stdin };
}

/** Writes one line (a newline is added). */
export function writeLine(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(`${line}\n`);
}

/** A usage mistake: main prints the message and the command's usage, exit code 64 (EX_USAGE). */
export class UsageError extends Error {
  readonly code = 'USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit codes shared by every command. */
export const exitCodes = {
  ok: 0,
  /** Invalid input (a manifest with mistakes), a failed run without --detailed-exitcodes. */
  failed: 1,
  usage: 64,
  /** Interrupted by SIGINT/SIGTERM. */
  interrupted: 130,
} as const;
