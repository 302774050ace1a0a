/**
 * Service collectors (ADR 0018 §5). Every tracked service is reported, whatever happens: a source
 * that cannot answer reports its services `unknown` with a message, plus an `errors` entry.
 *
 * - systemd: `systemctl show -p Id,LoadState,ActiveState,SubState,Result,MainPID,
 *   ExecMainStartTimestampMonotonic,User,TasksCurrent -- UNIT…` (blocks separated by blank lines,
 *   in the order asked). The start time is the monotonic one plus the boot time (no time-zone
 *   parsing); the user is the real uid of the main process (else User=, else root).
 * - process: a /proc scan. A process matches when its command line (arguments joined by spaces)
 *   contains the pattern, or matches it when written /regex/; the main pid is the oldest match;
 *   its start time is /proc/PID/stat field 22 (clock ticks after boot) / CLK_TCK + btime of
 *   /proc/stat; its user is the real uid of /proc/PID/status, named through /etc/passwd.
 *   The agent's own process group is never matched (its collector scripts would match themselves).
 */
import { readdir, readFile } from 'node:fs/promises';
import type { TrackingConfig } from '../../schemas/index.js';
import { parseAccountFile } from '../host/account-file.js';
import { cmdlineToArgs, ownProcessGroup } from '../providers/process-table.js';
import { errorEntry, messageOf, runTool, type CollectEnv, type CollectorOutput, type InventoryCollector, type ServiceEntry } from './collector.js';

type Tracked = TrackingConfig['services'][number];

// ---------------------------------------------------------------- boot time, clock ticks, users

/** btime of /proc/stat: the boot time in unix seconds. */
export function parseBootTime(procStat: string): number | undefined {
  const m = /^btime (\d+)$/m.exec(procStat);
  return m ? Number(m[1]) : undefined;
}

let clkTck: number | undefined;
/** CLK_TCK (getconf), once per process; 100 (the Linux value on every common architecture) if getconf is missing. */
async function clockTicks(env: CollectEnv): Promise<number> {
  if (clkTck !== undefined) return clkTck;
  try {
    const n = Number((await runTool(env, 'getconf', ['CLK_TCK'], { maxOutputBytes: 1024 })).stdout.trim());
    clkTck = Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    clkTck = 100;
  }
  return clkTck;
}

async function usersByUid(env: CollectEnv): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  try {
    for (const [name, e] of parseAccountFile(await readFile(env.passwdPath, 'utf8'))) if (!out.has(e.id)) out.set(e.id, name);
  } catch {
    // no account file: users are reported by number
  }
  return out;
}

function userName(users: Map<number, string>, uid: number | undefined): string | null {
  if (uid === undefined) return null;
  return (users.get(uid) ?? String(uid)).slice(0, 64);
}

/** The real uid of /proc/PID/status ("Uid:\treal\teffective\tsaved\tfs"). */
export function parseRealUid(status: string): number | undefined {
  const m = /^Uid:\s+(\d+)/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

/** Fields of /proc/PID/stat after the command name: state, pgid and start time (field 22, clock ticks after boot). */
export function parseStatFields(text: string): { state: string; pgid: number; startTicks: number } | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // after "(comm) ": field 3 (state) is f[0], so field N is f[N - 3].
  const f = text.slice(close + 2).split(' ');
  const state = f[0];
  const pgid = Number(f[2]);
  const startTicks = Number(f[19]);
  if (!state || !Number.isInteger(pgid) || !Number.isFinite(startTicks)) return undefined;
  return { state, pgid, startTicks };
}

// ---------------------------------------------------------------- systemd

/** Parses `systemctl show` output of several units: one map per block, in order. */
export function parseSystemctlShow(text: string): Map<string, string>[] {
  const blocks: Map<string, string>[] = [];
  let cur = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (cur.size > 0) blocks.push(cur);
      cur = new Map();
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) cur.set(line.slice(0, eq), line.slice(eq + 1));
  }
  if (cur.size > 0) blocks.push(cur);
  return blocks;
}

/** A tracked systemd service's unit name. */
export function unitOf(s: Tracked): string {
  return s.unit ?? `${s.name}.service`;
}

const UNIT_NAME = /^[A-Za-z0-9:_.@\\-]{1,256}$/;

export interface SystemdMapping {
  /** Boot time (unix ms), to turn the monotonic start time into a date. */
  readonly bootMs: number | undefined;
  /** Real uid of a main pid (from /proc), when readable. */
  readonly uidOf: (pid: number) => number | undefined;
  readonly users: Map<number, string>;
}

/** One block of `systemctl show` as a service entry. */
export function systemdEntry(name: string, p: Map<string, string>, m: SystemdMapping): ServiceEntry {
  const load = p.get('LoadState') ?? '';
  if (load === 'not-found' || load === 'masked' && p.get('ActiveState') === 'inactive') {
    return { name, state: 'unknown', pid: null, startedAt: null, user: null, message: load === 'masked' ? 'the unit is masked' : 'no such unit on this host' };
  }
  const active = p.get('ActiveState') ?? '';
  const sub = p.get('SubState') ?? '';
  const result = p.get('Result') ?? '';
  const state: ServiceEntry['state'] =
    active === 'active' || active === 'reloading' ? 'running'
      : active === 'failed' ? 'failed'
        : active === 'activating' ? 'restarting'
          : active === 'inactive' || active === 'deactivating' ? (result !== '' && result !== 'success' ? 'failed' : 'stopped')
            : 'unknown';
  const mainPid = Number(p.get('MainPID') ?? '0');
  const pid = state === 'running' && Number.isInteger(mainPid) && mainPid > 0 ? mainPid : null;
  const mono = Number(p.get('ExecMainStartTimestampMonotonic') ?? '0');
  const startedAt = state === 'running' && m.bootMs !== undefined && Number.isFinite(mono) && mono > 0 ? new Date(m.bootMs + Math.floor(mono / 1000)).toISOString() : null;
  const configured = p.get('User') ?? '';
  const user = state !== 'running' ? null : pid !== null && m.uidOf(pid) !== undefined ? userName(m.users, m.uidOf(pid)) : (configured || 'root').slice(0, 64);
  const tasks = Number(p.get('TasksCurrent') ?? 'x');
  const processes = Number.isInteger(tasks) && tasks >= 0 && tasks < 2 ** 32 ? tasks : undefined;
  const message = state === 'failed' ? `${active}${sub ? ` (${sub})` : ''}: result ${result || 'unknown'}` : state === 'restarting' ? `${active}${sub ? ` (${sub})` : ''}` : undefined;
  return { name, state, pid, startedAt, user, ...(processes !== undefined ? { processes } : {}), ...(message ? { message: message.slice(0, 1024) } : {}) };
}

export const SYSTEMD_PROPERTIES = 'Id,LoadState,ActiveState,SubState,Result,MainPID,ExecMainStartTimestampMonotonic,User,TasksCurrent';

async function readUid(procDir: string, pid: number): Promise<number | undefined> {
  try {
    return parseRealUid(await readFile(`${procDir}/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

async function bootMs(env: CollectEnv): Promise<number | undefined> {
  try {
    const b = parseBootTime(await readFile(`${env.procDir}/stat`, 'utf8'));
    return b === undefined ? undefined : b * 1000;
  } catch {
    return undefined;
  }
}

export const systemdCollector: InventoryCollector = {
  source: 'systemd',
  wanted: (config) => config.services.some((s) => s.kind === 'systemd'),
  async collect(config, env): Promise<CollectorOutput> {
    const tracked = config.services.filter((s) => s.kind === 'systemd');
    const unknown = (message: string): ServiceEntry[] => tracked.map((s) => ({ name: s.name, state: 'unknown', pid: null, startedAt: null, user: null, message: message.slice(0, 1024) }));
    const bad = tracked.filter((s) => !UNIT_NAME.test(unitOf(s)));
    const good = tracked.filter((s) => UNIT_NAME.test(unitOf(s)));
    const services: ServiceEntry[] = bad.map((s) => ({ name: s.name, state: 'unknown', pid: null, startedAt: null, user: null, message: 'not a valid unit name' }));
    if (good.length === 0) return { services };
    let blocks: Map<string, string>[];
    try {
      const r = await runTool(env, 'systemctl', ['show', '--no-pager', '-p', SYSTEMD_PROPERTIES, '--', ...good.map(unitOf)]);
      blocks = parseSystemctlShow(r.stdout);
      if (blocks.length !== good.length) throw new Error(`systemctl show answered ${blocks.length} units for ${good.length} asked`);
    } catch (err) {
      return { services: [...services, ...unknown(messageOf(err)).filter((s) => good.some((g) => g.name === s.name))], errors: [errorEntry('systemd', messageOf(err))] };
    }
    const pids = blocks.map((b) => Number(b.get('MainPID') ?? '0')).filter((n) => Number.isInteger(n) && n > 0);
    const uids = new Map<number, number | undefined>(await Promise.all(pids.map(async (pid) => [pid, await readUid(env.procDir, pid)] as const)));
    const m: SystemdMapping = { bootMs: await bootMs(env), uidOf: (pid) => uids.get(pid), users: await usersByUid(env) };
    good.forEach((s, i) => services.push(systemdEntry(s.name, blocks[i]!, m)));
    return { services };
  },
};

// ---------------------------------------------------------------- process patterns

/** At most this much of a command line is matched (bounds a regular expression's work). */
const MAX_ARGS = 4096;

/**
 * A pattern's matcher: /regex/ (the RE2-like subset: no backreferences, no lookaround, no nested
 * quantifiers, which keeps matching linear enough) or a literal substring. Throws for a refused pattern.
 */
export function patternMatcher(pattern: string): (args: string) => boolean {
  if (pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
    const body = pattern.slice(1, -1);
    if (/\\[1-9]|\\k<|\(\?<?[=!]/.test(body)) throw new Error(`pattern ${pattern}: backreferences and lookaround are not supported`);
    if (/\([^()]*[+*}][^()]*\)[+*{]/.test(body)) throw new Error(`pattern ${pattern}: nested quantifiers are not supported`);
    const re = new RegExp(body);
    return (args) => re.test(args);
  }
  return (args) => args.includes(pattern);
}

interface ProcInfo {
  readonly pid: number;
  readonly pgid: number;
  readonly startTicks: number;
  readonly args: string;
  readonly uid: number | undefined;
}

async function readProc(procDir: string, pid: number): Promise<ProcInfo | undefined> {
  try {
    const [stat, cmdline, status] = await Promise.all([readFile(`${procDir}/${pid}/stat`, 'utf8'), readFile(`${procDir}/${pid}/cmdline`), readFile(`${procDir}/${pid}/status`, 'utf8')]);
    const s = parseStatFields(stat);
    if (!s || s.state === 'Z' || s.state === 'X' || s.state === 'x') return undefined;
    const args = cmdlineToArgs(cmdline);
    if (args === '') return undefined; // a kernel thread
    return { pid, pgid: s.pgid, startTicks: s.startTicks, args: args.slice(0, MAX_ARGS), uid: parseRealUid(status) };
  } catch {
    return undefined; // gone between listing and reading
  }
}

/** Every user-space process but this agent's own process group. */
export async function scanProcesses(procDir: string): Promise<ProcInfo[]> {
  const pids = (await readdir(procDir)).filter((n) => /^[0-9]+$/.test(n)).map(Number);
  const selfPgid = await ownProcessGroup(procDir);
  const out: ProcInfo[] = [];
  // In slices: thousands of processes must not open thousands of files at once.
  for (let i = 0; i < pids.length; i += 64) {
    for (const p of await Promise.all(pids.slice(i, i + 64).map((pid) => readProc(procDir, pid)))) {
      if (p && p.pid !== process.pid && p.pgid !== selfPgid && p.pid > 1) out.push(p);
    }
  }
  return out;
}

export const processCollector: InventoryCollector = {
  source: 'process',
  wanted: (config) => config.services.some((s) => s.kind === 'process'),
  async collect(config, env): Promise<CollectorOutput> {
    const tracked = config.services.filter((s) => s.kind === 'process');
    const errors = [];
    let procs: ProcInfo[];
    try {
      procs = await scanProcesses(env.procDir);
    } catch (err) {
      return { services: tracked.map((s) => ({ name: s.name, state: 'unknown', pid: null, startedAt: null, user: null, message: messageOf(err).slice(0, 1024) })), errors: [errorEntry('process', messageOf(err))] };
    }
    const boot = await bootMs(env);
    const hz = await clockTicks(env);
    const users = await usersByUid(env);
    const uidByName = new Map([...users].map(([uid, name]) => [name, uid]));
    const services: ServiceEntry[] = [];
    for (const s of tracked) {
      let match: (args: string) => boolean;
      try {
        if (s.pattern === undefined) throw new Error('no pattern is tracked for this process service');
        match = patternMatcher(s.pattern);
      } catch (err) {
        services.push({ name: s.name, state: 'unknown', pid: null, startedAt: null, user: null, message: messageOf(err).slice(0, 1024) });
        errors.push(errorEntry('process', `${s.name}: ${messageOf(err)}`));
        continue;
      }
      const wantUid = s.user === undefined ? undefined : /^\d+$/.test(s.user) ? Number(s.user) : (uidByName.get(s.user) ?? -1);
      const found = procs.filter((p) => match(p.args) && (wantUid === undefined || p.uid === wantUid));
      if (found.length === 0) {
        services.push({ name: s.name, state: 'stopped', pid: null, startedAt: null, user: null, processes: 0 });
        continue;
      }
      const main = found.reduce((a, b) => (b.startTicks < a.startTicks || (b.startTicks === a.startTicks && b.pid < a.pid) ? b : a));
      const startedAt = boot === undefined ? null : new Date(boot + Math.round((main.startTicks * 1000) / hz)).toISOString();
      services.push({ name: s.name, state: 'running', pid: main.pid, startedAt, user: userName(users, main.uid), processes: found.length });
    }
    return { services, errors };
  },
};
