/**
 * Runs one job script as a process: its own process group (a timeout, a cancel or the agent's
 * shutdown kills the script and everything it started: SIGTERM to the group, SIGKILL after a
 * grace period), stdin from /dev/null, stdout and stderr captured within bounds (first and last
 * 32 KiB, output-capture.ts), and a private results channel on fd 3 (a pipe the helper
 * libraries write to, read within `maxResultsBytes`). The script text is passed as an open
 * descriptor (fd 4, read by the interpreter as /dev/fd/4), so a script running as another user
 * needs no path into the agent's private data dir.
 *
 * Like agent/host/node-exec.ts this is one of the agent's few places that spawn processes: jobs
 * need what the Host's exec does not give (a grace period before SIGKILL, head and tail of the
 * output, an extra channel), and they are never confined under --root.
 */
import { spawn } from 'node:child_process';
import { DEFAULT_HEAD_BYTES, DEFAULT_TAIL_BYTES, OutputCapture, type CapturedText } from './output-capture.js';

export interface JobProcessOptions {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
  /** An open descriptor handed to the script as fd 4 (the script text). */
  readonly scriptFd: number;
  readonly timeoutMs: number;
  /** Aborting kills the group; the reason is reported as `stopped`. */
  readonly cancel: AbortSignal;
  /** Between SIGTERM and SIGKILL. Default 5 s. */
  readonly graceMs?: number;
  readonly headBytes?: number;
  readonly tailBytes?: number;
  /** Called with the process (group) id once the script was spawned. */
  readonly onSpawn?: ((pid: number) => void) | undefined;
  /** Bytes of the results channel kept; the rest is read and dropped. Default 1 MiB. */
  readonly maxResultsBytes?: number;
}

export interface JobProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** The cancel signal fired before the script ended. */
  readonly stopped: boolean;
  readonly stdout: CapturedText;
  readonly stderr: CapturedText;
  readonly results: Buffer;
  readonly resultsTruncated: boolean;
}

/** After the script's main process exits, how long to wait for pipes a leftover child holds. */
const PIPE_GRACE_MS = 250;

function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // the group is gone
  }
}

/** Spawns the script and resolves when it ended (never rejects for its exit; rejects when it cannot start). */
export function runJobProcess(o: JobProcessOptions): Promise<JobProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.file, [...o.args], {
      cwd: o.cwd,
      env: { ...o.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', o.scriptFd],
      ...(o.uid !== undefined ? { uid: o.uid } : {}),
      ...(o.gid !== undefined ? { gid: o.gid } : {}),
    });
    if (child.pid !== undefined) o.onSpawn?.(child.pid);
    const out = new OutputCapture(o.headBytes ?? DEFAULT_HEAD_BYTES, o.tailBytes ?? DEFAULT_TAIL_BYTES);
    const err = new OutputCapture(o.headBytes ?? DEFAULT_HEAD_BYTES, o.tailBytes ?? DEFAULT_TAIL_BYTES);
    const maxResults = o.maxResultsBytes ?? 1024 * 1024;
    const results: Buffer[] = [];
    let resultsLen = 0;
    let resultsTruncated = false;
    const channel = child.stdio[3] as NodeJS.ReadableStream | null;
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    channel?.on('data', (b: Buffer) => {
      const room = maxResults - resultsLen;
      if (b.length > room) resultsTruncated = true;
      if (room > 0) {
        const part = Buffer.from(b.subarray(0, room));
        results.push(part);
        resultsLen += part.length;
      }
    });
    channel?.on('error', () => undefined);

    let timedOut = false;
    let stopped = false;
    let killTimer: NodeJS.Timeout | undefined;
    let done = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let pipeGrace: NodeJS.Timeout | undefined;
    const terminate = (): void => {
      if (killTimer || done) return;
      signalGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), o.graceMs ?? 5000);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, o.timeoutMs);
    const onCancel = (): void => {
      stopped = true;
      terminate();
    };
    if (o.cancel.aborted) onCancel();
    else o.cancel.addEventListener('abort', onCancel, { once: true });

    const cleanup = (): void => {
      clearTimeout(timer);
      if (pipeGrace) clearTimeout(pipeGrace);
      o.cancel.removeEventListener('abort', onCancel);
    };
    const finish = (): void => {
      if (done || !exit) return;
      done = true;
      cleanup();
      // Killed on purpose: whatever of the group is left goes too, at once.
      if (killTimer) {
        clearTimeout(killTimer);
        signalGroup(child.pid, 'SIGKILL');
      }
      child.stdout?.destroy();
      child.stderr?.destroy();
      (channel as unknown as { destroy?: () => void } | null)?.destroy?.();
      resolve({ code: exit.code, signal: exit.signal, timedOut, stopped, stdout: out.result(), stderr: err.result(), results: Buffer.concat(results), resultsTruncated });
    };
    child.on('error', (e) => {
      if (done) return;
      done = true;
      cleanup();
      if (killTimer) clearTimeout(killTimer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      pipeGrace = setTimeout(finish, PIPE_GRACE_MS);
    });
    child.on('close', (code, signal) => {
      exit ??= { code, signal };
      finish();
    });
  });
}
