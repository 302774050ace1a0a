/**
 * A throwaway unprivileged user (useradd, removed by the test's teardown) and a world-traversable
 * temp directory (mkdtemp under os.tmpdir(), 0755) for tests where another user races the agent.
 * Tests run as root; without root or the shadow tools there is no other user: the caller skips,
 * saying why.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';

export interface RaceUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** World-traversable (0755, root-owned) temp directory, removed by the teardown. */
  readonly dir: string;
}

/** Why another user cannot be made here, or undefined when it can. */
export function noRaceUser(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create a throwaway user';
  try {
    execFileSync('useradd', ['--help'], { stdio: 'ignore' });
  } catch {
    return 'useradd (shadow tools) is not installed';
  }
  return undefined;
}

/** Creates the user and the directory; both are removed when `t` ends. */
export function createRaceUser(t: Test): RaceUser {
  const name = `stdrace${process.pid}${Math.floor(Math.random() * 1e4)}`;
  execFileSync('useradd', ['-M', '-U', '-s', '/usr/sbin/nologin', name], { stdio: 'pipe' });
  const dir = mkdtempSync(join(tmpdir(), 'stead-race-'));
  chmodSync(dir, 0o755);
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
    try {
      execFileSync('userdel', [name], { stdio: 'pipe' });
    } catch {
      // already gone
    }
    try {
      execFileSync('groupdel', [name], { stdio: 'pipe' });
    } catch {
      // userdel removed the user's group
    }
  });
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return { name, uid, gid, dir };
}

/**
 * A process running `script` (CommonJS source; argv: the stop file, then `args`) as the user. The
 * script prints a first line when it runs, loops until the stop file exists, then prints its result.
 */
export interface Racer {
  readonly child: ChildProcess;
  /** Resolves once the script printed its first line (it is running). */
  readonly ready: Promise<void>;
  /** Creates the stop file and resolves with what the script printed. */
  stop(): Promise<string>;
}

export function startRacer(user: RaceUser, script: string, args: readonly string[]): Racer {
  const file = join(user.dir, `racer-${Math.random().toString(36).slice(2)}.cjs`);
  const stopFile = join(user.dir, `stop-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, script, { mode: 0o644 });
  // env -i: tap's process-info hook adds NODE_OPTIONS to every spawn, and its exit hook would
  // then try to write under the checkout as this user
  const child = spawn('/usr/bin/env', ['-i', 'PATH=/usr/bin:/bin', process.execPath, file, stopFile, ...args], { uid: user.uid, gid: user.gid, stdio: ['ignore', 'pipe', 'pipe'], cwd: user.dir });
  let out = '';
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.includes('\n')) onReady();
  });
  child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
  const exited = new Promise<void>((resolve) => child.on('exit', () => { onReady(); resolve(); }));
  return {
    child,
    ready,
    async stop() {
      writeFileSync(stopFile, '');
      await exited;
      return out.trim();
    },
  };
}
