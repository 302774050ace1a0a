/**
 * Process helpers for service tests: unique markers so parallel tests never match each other's
 * processes, a ps-based lookup independent of the code under test, and a teardown that kills
 * whatever a test left behind.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** A token unlikely to appear in any other command line. */
export function uniqueMarker(): string {
  return `stead-svc-${randomBytes(6).toString('hex')}`;
}

/** A number for `sleep N` that no other test uses (a very long sleep, so it never ends by itself). */
export function uniqueSleepSeconds(): number {
  return 900_000 + randomBytes(3).readUIntBE(0, 3) % 99_999;
}

/** Pids of live, non-zombie processes whose command line contains `needle` (via ps, not the provider). */
export function pidsMatching(needle: string): number[] {
  const out = execFileSync('ps', ['-e', '-ww', '-o', 'pid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\S+)\s(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && !(m[2] ?? '').startsWith('Z') && (m[3] ?? '').includes(needle) && !(m[3] ?? '').startsWith('ps -e'))
    .map((m) => Number(m[1]));
}

/** SIGKILLs every process (and its group) whose command line contains `needle`. */
export function killMatching(needle: string): void {
  for (const pid of pidsMatching(needle)) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone, or not a group leader
      }
    }
  }
}
