/**
 * Running a program for the Host: argv arrays only, its own process group (so a timeout or an
 * abort kills the command and everything it started), a minimal environment and capped output.
 */
import { spawn } from 'node:child_process';
import type { ExecOptions, ExecResult } from './host.js';
import { HostError } from './host-error.js';

export interface RunOptions extends ExecOptions {
  /** Real working directory (already mapped under the root). */
  readonly cwd: string;
  /** Variables set before opts.env (e.g. STEAD_ROOT). */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

const BASE_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
};
const DEFAULT_MAX_OUTPUT = 1024 * 1024;
/** After the main process exits, how long to wait for pipes that a leftover child still holds. */
const PIPE_GRACE_MS = 250;

class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private dropped = 0;
  constructor(private readonly max: number) {}
  push(b: Buffer): void {
    const room = this.max - this.kept;
    if (room <= 0) {
      this.dropped += b.length;
      return;
    }
    const part = b.length > room ? b.subarray(0, room) : b;
    this.chunks.push(part);
    this.kept += part.length;
    this.dropped += b.length - part.length;
  }
  text(): string {
    const s = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped > 0 ? `${s}\n[stead: ${this.dropped} more bytes dropped]` : s;
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

/** Runs `file` with `args`; resolves with the exit status, never rejects for a non-zero exit. Rejects when aborted before the start or when the program cannot be started. */
export function runProcess(file: string, args: readonly string[], o: RunOptions): Promise<ExecResult> {
  if (o.signal?.aborted) return Promise.reject(o.signal.reason);
  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawn(file, [...args], {
      cwd: o.cwd,
      env: { ...BASE_ENV, ...o.extraEnv, ...o.env },
      detached: true,
      stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(o.uid !== undefined ? { uid: o.uid } : {}),
      ...(o.gid !== undefined ? { gid: o.gid } : {}),
    });
    const max = o.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    const out = new CappedBuffer(max);
    const err = new CappedBuffer(max);
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    if (o.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(o.input);
    }
    let timedOut = false;
    let done = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let grace: NodeJS.Timeout | undefined;
    const timer = o.timeoutMs !== undefined ? setTimeout(() => { timedOut = true; killGroup(child.pid); }, o.timeoutMs) : undefined;
    const onAbort = () => killGroup(child.pid);
    o.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = () => {
      if (done || !exit) return;
      done = true;
      if (timer) clearTimeout(timer);
      if (grace) clearTimeout(grace);
      o.signal?.removeEventListener('abort', onAbort);
      if (timedOut || o.signal?.aborted) killGroup(child.pid);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({ code: exit.code, signal: exit.signal, stdout: out.text(), stderr: err.text(), timedOut });
    };
    child.on('error', (e) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      reject(new HostError('SPAWN_FAILED', `cannot run ${file}: ${e.message}`, { cause: e }));
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      grace = setTimeout(finish, PIPE_GRACE_MS);
    });
    child.on('close', (code, signal) => {
      exit ??= { code, signal };
      finish();
    });
  });
}
