/**
 * Exit codes of the operator commands and the error every operator failure becomes: a stable
 * code, a one-line message, the exit code. `reportFailure` prints it (stderr, and a JSON error
 * object on stdout with --json, so a script reading stdout always gets JSON).
 */
import { writeLine, type CliIo } from '../io.js';
import { jsonText } from './output.js';

export const operatorExitCodes = {
  ok: 0,
  /** The job ran and did not succeed on every host (or was cancelled). */
  failed: 1,
  /** The server refused the request: invalid, not found, conflict, refused by the safety audit. */
  refused: 2,
  /** The token was refused (401) or lacks the role (403). */
  auth: 3,
  /** The server could not be reached, timed out, failed (5xx) or answered nonsense. */
  unavailable: 4,
  usage: 64,
  /** Ctrl-C (SIGINT) or SIGTERM while waiting: the job keeps running on the server. */
  interrupted: 130,
} as const;

export class OperatorError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number,
    readonly status?: number,
    readonly details?: unknown,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'OperatorError';
  }
}

/** Prints an OperatorError; returns its exit code. */
export function reportFailure(io: CliIo, command: string, err: OperatorError, json: boolean): number {
  writeLine(io.stderr, `stead ${command}: ${err.message}`);
  if (json) {
    writeLine(io.stdout, jsonText({ error: { code: err.code, message: err.message, ...(err.status !== undefined ? { status: err.status } : {}), ...(err.requestId ? { requestId: err.requestId } : {}) } }));
  }
  return err.exitCode;
}
