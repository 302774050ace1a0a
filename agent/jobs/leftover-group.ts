/**
 * A script's process group survives the agent's own crash (it runs in a group of its own). The
 * ledger records the group's id (its leader's pid) and the leader's start time; after a restart,
 * a group still there is killed before the dispatch is answered `interrupted`. The start time
 * (field 22 of /proc/<pid>/stat) tells our leader from a later process that got the same pid.
 */
import { readFileSync } from 'node:fs';

/** The start time of a process (clock ticks after boot), or undefined when it does not exist. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses; fields follow the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Kills the group a crashed agent left behind, when it is still ours: its leader alive with the
 * recorded start time, or the leader gone and the group still there (a pid stays unused while a
 * group of that id exists). Returns whether a group was killed.
 */
export function killLeftoverGroup(pgid: number, leaderStart: number | undefined): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  const now = processStartTime(pgid);
  const ours = now !== undefined ? leaderStart !== undefined && now === leaderStart : groupExists(pgid);
  if (!ours) return false;
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}
