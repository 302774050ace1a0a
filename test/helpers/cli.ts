/**
 * Running the built `stead` command (dist/cli/main.js) as a real process, and snapshots of a
 * directory tree to prove a command changed nothing. Build first: `npx tsc -p tsconfig.json`
 * (`npm test` does).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/helpers/cli.ts). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const steadMain = join(repoRoot, 'dist', 'cli', 'main.js');

export interface SteadResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/cli/main.js ...args`; resolves when it exits (killed after timeoutMs, default 120 s). */
/** `onStderr` sees the stderr so far after each chunk (a test can act once the command printed a line). */
export function runStead(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string; onStderr?: (soFar: string) => void } = {}): Promise<SteadResult> {
  if (!existsSync(steadMain)) throw new Error(`${steadMain} is missing: build first (npx tsc -p tsconfig.json)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [steadMain, ...args], {
      cwd: opts.cwd ?? repoRoot,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      opts.onStderr?.(stderr);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** path → "file <mode> <sha256>" | "dir <mode>" | "link -> target", for every entry under dir. */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    const full = rel === '' ? dir : join(dir, rel);
    for (const name of readdirSync(full).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const p = join(dir, r);
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[r] = `link -> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(r);
      } else if (st.isFile()) out[r] = `file ${mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      else out[r] = 'other';
    }
  };
  walk('');
  return out;
}
