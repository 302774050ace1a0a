/**
 * The process table as the process provider sees it, read from the machine's /proc.
 *
 * This is the one place a provider reads outside the Host: /proc is the kernel's view of the
 * machine's processes, which --root cannot confine (a service started under a root is still a
 * process of the machine), and reading it directly needs no procps in minimal containers.
 * Signals go through the Host (see process-service.ts). `procDir` is injectable for tests.
 */
import { readdir, readFile } from 'node:fs/promises';

export interface ProcessEntry {
  readonly pid: number;
  /** Process group id. */
  readonly pgid: number;
  /** The state letter of /proc/<pid>/stat: R, S, D, T, … (zombies are never returned). */
  readonly state: string;
  /** The command line, arguments joined by single spaces; "" for kernel threads. */
  readonly args: string;
}

/** Parses /proc/<pid>/stat: the state and process group (the command name may hold spaces and parentheses). */
export function parseProcStat(text: string): { state: string; pgid: number } | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  // after "(comm) ": state ppid pgrp …
  const state = f[0];
  const pgid = Number(f[2]);
  if (!state || !Number.isInteger(pgid)) return undefined;
  return { state, pgid };
}

/** /proc/<pid>/cmdline (NUL-separated) as one line. */
export function cmdlineToArgs(raw: Buffer): string {
  return raw.toString('utf8').replace(/\0+$/, '').split('\0').join(' ');
}

async function readEntry(procDir: string, pid: number): Promise<ProcessEntry | undefined> {
  try {
    const [stat, cmdline] = await Promise.all([readFile(`${procDir}/${pid}/stat`, 'utf8'), readFile(`${procDir}/${pid}/cmdline`)]);
    const s = parseProcStat(stat);
    if (s === undefined || s.state === 'Z' || s.state === 'X' || s.state === 'x') return undefined;
    return { pid, pgid: s.pgid, state: s.state, args: cmdlineToArgs(cmdline) };
  } catch {
    return undefined; // gone between listing and reading, or not readable
  }
}

/** Live (non-zombie) processes with these pids. */
export async function processesByPid(pids: readonly number[], procDir = '/proc'): Promise<ProcessEntry[]> {
  const out = await Promise.all(pids.map((pid) => readEntry(procDir, pid)));
  return out.filter((e): e is ProcessEntry => e !== undefined);
}

/** The process group of this agent (from /proc/self/stat); undefined when unreadable. */
export async function ownProcessGroup(procDir = '/proc'): Promise<number | undefined> {
  try {
    return parseProcStat(await readFile(`${procDir}/self/stat`, 'utf8'))?.pgid;
  } catch {
    return undefined;
  }
}

/**
 * Whether a process may ever be taken for a service: never PID 1 (and so never "kill -- -1", which
 * means every process), never this agent or a member of its process group.
 */
export function isForeign(e: ProcessEntry, selfPid: number, selfPgid: number | undefined): boolean {
  return e.pid > 1 && e.pgid > 1 && e.pid !== selfPid && e.pgid !== selfPgid;
}

/** Every live user-space process that isForeign to this agent. */
export async function allProcesses(procDir = '/proc'): Promise<ProcessEntry[]> {
  const pids = (await readdir(procDir)).filter((n) => /^[0-9]+$/.test(n)).map(Number);
  const selfPgid = await ownProcessGroup(procDir);
  return (await processesByPid(pids, procDir)).filter((e) => e.args !== '' && isForeign(e, process.pid, selfPgid));
}

/**
 * How a process is recognised: the manifest's `pattern` as a regular expression, else the start
 * command as a literal substring — also with quotes and backslashes removed, because /bin/sh
 * executes a simple command with its unquoted argv.
 */
export function processMatcher(pattern: string | undefined, start: string | undefined): ((args: string) => boolean) | undefined {
  if (pattern !== undefined) {
    const re = new RegExp(pattern);
    return (args) => re.test(args);
  }
  if (start === undefined) return undefined;
  const literal = start.trim();
  const unquoted = literal.replace(/["'\\]/g, '');
  return (args) => args.includes(literal) || args.replace(/["'\\]/g, '').includes(unquoted);
}
