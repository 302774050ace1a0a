/**
 * A `script` step with `local: true` (ADR 0014): the script runs on the server itself, once.
 *
 * Security stance. A local step is code execution on the server, with the server's own user,
 * its files and its network position: only an admin may launch one (the job service checks the
 * role; this module trusts its caller). What this module adds:
 * - the script is written to a fresh 0700 temporary directory and run by path (`/bin/sh FILE`,
 *   `python3 FILE`), never through a `sh -c` string built from input; arguments reach it as argv;
 * - the environment is built from scratch (a fixed PATH, the server user's HOME, LANG, STEAD_LOCAL=1 and the step's own
 *   env): no store URL, token or secret key of the server leaks into it; stdin is /dev/null;
 * - it runs in its own process group; a timeout or an abort kills the whole group (SIGKILL),
 *   and so does the script's own end, so nothing it started in the background outlives it;
 * - stdout and stderr are each kept up to `localOutputLimit` bytes; the rest is counted, and the
 *   kept text ends with a visible marker (`stdoutTruncated` / `stderrTruncated` set).
 * It does not drop privileges, confine the filesystem, or limit memory: run the server as an
 * unprivileged user (docs/server.md).
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobResult } from '../../../schemas/job-protocol.js';
import { isoAt, systemClock, type Clock } from '../../domain/clock.js';

export interface LocalScript {
  lang: 'shell' | 'python';
  source: string;
  args?: string[];
  env?: Record<string, string>;
}

/** Bytes of stdout (and of stderr) kept; the JobResult schema allows 1 MiB of text. */
export const localOutputLimit = 1024 * 1024 - 256;
/** Largest timeout, seconds (one week, as JobWork's timeoutSeconds). */
export const maxLocalTimeoutSeconds = 604_800;
const maxSourceBytes = 1024 * 1024;

/** The text that ends a cut output. */
export function truncationMarker(dropped: number): string {
  return `\n[stead: output truncated, ${dropped} more bytes not kept]\n`;
}

class Capture {
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #dropped = 0;
  constructor(private readonly limit: number) {}
  add(chunk: Buffer): void {
    const room = this.limit - this.#kept;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.#chunks.push(part);
      this.#kept += part.length;
    }
    this.#dropped += Math.max(0, chunk.length - Math.max(0, room));
  }
  get truncated(): boolean {
    return this.#dropped > 0;
  }
  text(): string {
    const s = Buffer.concat(this.#chunks).toString('utf8');
    return this.#dropped > 0 ? s + truncationMarker(this.#dropped) : s;
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* ESRCH: the group is gone already */
  }
}

const envName = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * Runs `script` on the server. Resolves a JobResult (never rejects for the script's sake):
 * succeeded on exit 0, failed otherwise (or when it cannot start), timeout after
 * `timeoutSeconds`, cancelled when `signal` aborts. `clock` stamps startedAt/finishedAt.
 */
export async function runLocal(script: LocalScript, timeoutSeconds: number, signal: AbortSignal, clock: Clock = systemClock): Promise<JobResult> {
  const startedAt = isoAt(clock.now());
  const refuse = (message: string): JobResult => ({ state: 'failed', exitCode: null, stdout: '', stderr: '', message, startedAt, finishedAt: isoAt(clock.now()) });
  if (script.lang !== 'shell' && script.lang !== 'python') return refuse(`unknown script language ${JSON.stringify(String(script.lang))}`);
  if (typeof script.source !== 'string' || Buffer.byteLength(script.source) > maxSourceBytes) return refuse('the script must be a string of at most 1 MiB');
  if (!(Number.isInteger(timeoutSeconds) && timeoutSeconds >= 1 && timeoutSeconds <= maxLocalTimeoutSeconds)) return refuse(`timeoutSeconds must be an integer 1-${maxLocalTimeoutSeconds}`);
  const args = script.args ?? [];
  if (args.length > 256 || args.some((a) => typeof a !== 'string' || a.length > 65536 || a.includes('\0'))) return refuse('at most 256 arguments of at most 64 KiB each, without NUL');
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: homedir(),
    LANG: 'C.UTF-8',
    STEAD_LOCAL: '1',
  };
  for (const [k, v] of Object.entries(script.env ?? {})) {
    if (!envName.test(k) || typeof v !== 'string' || v.includes('\0')) return refuse(`environment variable ${JSON.stringify(k.slice(0, 64))} is not valid`);
    env[k] = v;
  }
  if (signal.aborted) return { ...refuse('cancelled before it started'), state: 'cancelled' };

  const dir = await fsp.mkdtemp(join(tmpdir(), 'stead-local-'));
  try {
    const file = join(dir, script.lang === 'python' ? 'script.py' : 'script.sh');
    await fsp.writeFile(file, script.source, { mode: 0o600, flag: 'wx' });
    const [cmd, argv] = script.lang === 'python' ? ['python3', [file, ...args]] : ['/bin/sh', [file, ...args]];
    return await new Promise<JobResult>((resolve) => {
      const out = new Capture(localOutputLimit);
      const err = new Capture(localOutputLimit);
      let why: 'timeout' | 'cancelled' | undefined;
      let spawnError: Error | undefined;
      const child = spawn(cmd, argv, { cwd: '/', env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const stop = (reason: 'timeout' | 'cancelled'): void => {
        why ??= reason;
        killGroup(child.pid);
      };
      const timer = setTimeout(() => stop('timeout'), timeoutSeconds * 1000);
      const onAbort = (): void => stop('cancelled');
      signal.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (c: Buffer) => out.add(c));
      child.stderr.on('data', (c: Buffer) => err.add(c));
      child.on('error', (e) => {
        spawnError = e;
      });
      // The script ended: what it left running in its group goes too (and lets the pipes close).
      child.on('exit', () => killGroup(child.pid));
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const base = {
          stdout: out.text(),
          stderr: err.text(),
          ...(out.truncated ? { stdoutTruncated: true } : {}),
          ...(err.truncated ? { stderrTruncated: true } : {}),
          startedAt,
          finishedAt: isoAt(clock.now()),
        };
        if (spawnError) return resolve({ ...base, state: 'failed', exitCode: null, message: `${cmd} could not be started: ${spawnError.message}` });
        if (why === 'timeout') return resolve({ ...base, state: 'timeout', exitCode: null, signal: 'SIGKILL', message: `timed out after ${timeoutSeconds} s; its process group was killed` });
        if (why === 'cancelled') return resolve({ ...base, state: 'cancelled', exitCode: null, signal: 'SIGKILL', message: 'cancelled; its process group was killed' });
        if (sig) return resolve({ ...base, state: 'failed', exitCode: null, signal: sig, message: `killed by ${sig}` });
        const exitCode = code ?? 255;
        resolve({ ...base, state: exitCode === 0 ? 'succeeded' : 'failed', exitCode, ...(exitCode !== 0 ? { message: `exited with code ${exitCode}` } : {}) });
      });
    });
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
