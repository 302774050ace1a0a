/**
 * Running the `git` client: argv arrays only (never a shell), a clean environment (no system
 * or global config, HOME pointing at an empty directory), bounded output and a deadline.
 */
import { spawn } from 'node:child_process';

export interface GitRun {
  /** The repository (GIT_DIR). */
  readonly gitDir: string;
  /** Extra environment (quarantine directories, index file, author…). */
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: Buffer | string;
  /** Largest stdout kept (default 64 MiB); more fails the call. */
  readonly maxOutput?: number;
  /** Deadline (default 120 s). */
  readonly timeoutMs?: number;
  /** Exit codes that are answers, not failures (e.g. 1 of merge-base --is-ancestor). */
  readonly okCodes?: readonly number[];
}

export class GitError extends Error {
  constructor(
    message: string,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

/** The environment every git process of the server starts from: nothing of the machine's config. */
export function cleanGitEnv(home: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
  };
}

/** Runs `git args…`; resolves stdout and the exit code (one of 0 or okCodes). */
export function git(args: readonly string[], run: GitRun, home: string): Promise<{ stdout: Buffer; code: number }> {
  const maxOutput = run.maxOutput ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...args], {
      env: { ...cleanGitEnv(home), GIT_DIR: run.gitDir, ...run.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let failed: Error | undefined;
    const timer = setTimeout(() => {
      failed = new GitError(`git ${args[0]} did not finish within ${Math.round((run.timeoutMs ?? 120_000) / 1000)} s`, null, err);
      child.kill('SIGKILL');
    }, run.timeoutMs ?? 120_000);
    child.stdout.on('data', (c: Buffer) => {
      outBytes += c.length;
      if (outBytes > maxOutput) {
        failed ??= new GitError(`git ${args[0]}: output larger than ${maxOutput} bytes`, null, err);
        child.kill('SIGKILL');
        return;
      }
      out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (err.length < 16_384) err += c.toString('utf8');
    });
    child.on('error', (e) => {
      failed ??= e;
    });
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failed) return reject(failed);
      if (code === 0 || (code !== null && run.okCodes?.includes(code))) return resolve({ stdout: Buffer.concat(out), code: code! });
      reject(new GitError(`git ${args[0]} failed (exit ${code}): ${err.trim().slice(0, 2000)}`, code, err));
    });
    child.stdin.end(run.input ?? '');
  });
}

/** Whether a `git` client can be started (cached by the caller). */
export function gitVersion(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn('git', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => resolve(code === 0 ? out.trim() : undefined));
  });
}
