/**
 * Process helpers for service tests: unique markers so parallel tests never match each other's
 * processes, a ps-based lookup independent of the code under test, and a teardown that kills
 * whatever a test left behind.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

/** A token unlikely to appear in any other command line. */
export function uniqueMarker(): string {
  return `stead-svc-${randomBytes(6).toString('hex')}`;
}

/** A number for `sleep N` that no other test uses (a very long sleep, so it never ends by itself). */
export function uniqueSleepSeconds(): number {
  return 900_000 + randomBytes(3).readUIntBE(0, 3) % 99_999;
}

/** Pids of live, non-zombie processes whose command line contains `needle` (read from /proc here, independently of the code under test). */
export function pidsMatching(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0+$/, '').split('\0').join(' ');
      if (state !== 'Z' && state !== 'X' && args.includes(needle)) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
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
