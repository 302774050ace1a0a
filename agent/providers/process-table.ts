/**
 * The process table as the process provider sees it: `ps` output run through the Host, so it is
 * the real /proc of the machine (processes are not confined by --root). Pure parsing lives here too.
 */
import type { ResourceContext } from '../resources/resource.js';
import { runCommand } from './run-command.js';

export interface ProcessEntry {
  readonly pid: number;
  readonly pgid: number;
  /** ps STAT, e.g. "S", "Ss", "Z". */
  readonly stat: string;
  /** The command line, arguments joined by spaces. */
  readonly args: string;
}

const PS_FORMAT = 'pid=,pgid=,stat=,args=';

/** Parses `ps -o pid=,pgid=,stat=,args=` output; zombies are dropped (they are not running). */
export function parsePs(stdout: string): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (!m) continue;
    const stat = m[3] ?? '';
    if (stat.startsWith('Z') || stat.startsWith('X')) continue;
    out.push({ pid: Number(m[1]), pgid: Number(m[2]), stat, args: m[4] ?? '' });
  }
  return out;
}

/** Live processes with these pids (those that exist). */
export async function processesByPid(pids: readonly number[], ctx: ResourceContext): Promise<ProcessEntry[]> {
  if (pids.length === 0) return [];
  const r = await runCommand(ctx, 'ps', ['-ww', '-o', PS_FORMAT, '-p', pids.join(',')], { okCodes: [0, 1] });
  return parsePs(r.stdout);
}

/** Every live process except the ps that lists them and this agent. */
export async function allProcesses(ctx: ResourceContext): Promise<ProcessEntry[]> {
  const r = await runCommand(ctx, 'ps', ['-e', '-ww', '-o', PS_FORMAT]);
  return parsePs(r.stdout).filter((p) => p.pid !== process.pid && p.args !== `ps -e -ww -o ${PS_FORMAT}`);
}

/**
 * How a process is recognised: the manifest's `pattern` as a regular expression, else the start
 * command as a literal substring — also with quotes and backslashes removed, because /bin/sh
 * executes a simple command in place and ps then shows its unquoted argv.
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
