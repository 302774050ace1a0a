/**
 * The process service provider, for hosts without systemd (containers, tests): the agent starts
 * the service itself and finds it again on every run.
 *
 * - start: `/bin/sh -c 'exec setsid -f /bin/sh -c "$1" </dev/null >/dev/null 2>&1' stead-service-start START`
 *   through ctx.host.exec (START is an argument, never spliced into the script), as `user` when
 *   set, in `cwd` (under the root); the service runs in its own session, so neither the agent's
 *   exit nor an exec timeout kills it. Output goes to /dev/null: redirect in START to keep logs.
 *   Under --root the command sees STEAD_ROOT (the Host sets it) to find its files.
 * - status: the pid in `pidfile` (a manifest path, read under the root) when it names a live,
 *   non-zombie process that also matches `pattern` if one is given; otherwise every process whose
 *   command line matches `pattern` (default: the start command). Processes are the machine's
 *   (read from /proc by process-table.ts), not confined.
 * - stop: the `stop` command, or `stopsignal` (default SIGTERM, sent with the shell's kill through
 *   the Host) to each process — to its whole
 *   process group when it leads one (as services started here do) — then SIGKILL after the grace
 *   period (10 s).
 * - restart: the `restart` command, or stop then start.
 * start and stop wait until status agrees (start: on two polls in a row), polling, bounded by their
 * timeouts and ctx.signal.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceResource } from '../../schemas/resources/service.js';
import type { ResourceContext } from '../resources/resource.js';
import { allProcesses, isForeign, ownProcessGroup, processesByPid, processMatcher, type ProcessEntry } from './process-table.js';
import { runCommand } from './run-command.js';
import { parsePasswd } from './shadow-files.js';
import { ProviderError, type ServiceProvider, type ServiceStatus } from './types.js';

export interface ProcessProviderOptions {
  /** How long stopsignal may take before SIGKILL (default 10 s, as the schema documents). */
  readonly graceMs?: number;
  /** How long start (and stop after SIGKILL) may take to show in the process table (default 30 s). */
  readonly settleMs?: number;
  /** Polling interval while waiting (default 100 ms). */
  readonly pollMs?: number;
}

/**
 * `setsid -f` forks the service into its own session. Not `… &`: a non-interactive shell starts
 * background commands with SIGINT and SIGQUIT ignored, and a shell cannot trap a signal ignored on
 * entry, so a stopsignal of SIGINT would never reach the service.
 */
const START_SCRIPT = 'exec setsid -f /bin/sh -c "$1" </dev/null >/dev/null 2>&1';

/** The pid in a pidfile's text; undefined when it holds no positive integer. */
export function parsePidfile(text: string): number | undefined {
  const m = /^\s*(\d+)\s*$/.exec(text);
  if (!m) return undefined;
  const pid = Number(m[1]);
  return pid > 1 && Number.isSafeInteger(pid) ? pid : undefined;
}

async function readPidfile(path: string, ctx: ResourceContext): Promise<number | undefined> {
  const st = await ctx.host.lstat(path);
  if (st?.kind !== 'file') return undefined;
  return parsePidfile((await ctx.host.readFile(path)).toString('utf8'));
}

/** The running processes of the service (see the module comment). */
export async function findServiceProcesses(d: ServiceResource, ctx: ResourceContext): Promise<ProcessEntry[]> {
  const match = processMatcher(d.pattern, d.start);
  if (d.pidfile !== undefined) {
    const pid = await readPidfile(d.pidfile, ctx);
    if (pid === undefined) return [];
    const selfPgid = await ownProcessGroup();
    const live = (await processesByPid([pid])).filter((p) => isForeign(p, process.pid, selfPgid));
    return d.pattern !== undefined && match ? live.filter((p) => match(p.args)) : live;
  }
  if (!match) throw new ProviderError('UNSUPPORTED', `service ${d.name}: the process provider needs start, pattern or pidfile to find the process`);
  const found = (await allProcesses()).filter((p) => match(p.args));
  // `/bin/sh -c START` and the program it forks both match: keep the group leader only.
  const pids = new Set(found.map((p) => p.pid));
  return found.filter((p) => p.pgid === p.pid || !pids.has(p.pgid));
}

/** uid, primary gid and login variables of `user` from the root's /etc/passwd (supplementary groups are dropped by the spawn). */
async function runAs(d: ServiceResource, ctx: ResourceContext): Promise<{ uid?: number; gid?: number; env?: Record<string, string> }> {
  if (d.user === undefined) return {};
  const passwd = (await ctx.host.lstat('/etc/passwd')) ? (await ctx.host.readFile('/etc/passwd')).toString('utf8') : '';
  const u = parsePasswd(passwd).find((e) => e.name === d.user);
  if (u === undefined) throw new ProviderError('NOT_FOUND', `service ${d.name}: user ${d.user} does not exist`);
  return { uid: u.uid, gid: u.gid, env: { HOME: u.home, USER: u.name, LOGNAME: u.name } };
}

/** Creates a process provider; `processServiceProvider` is the one with the documented defaults. */
export function createProcessServiceProvider(o: ProcessProviderOptions = {}): ServiceProvider {
  const graceMs = o.graceMs ?? 10_000;
  const settleMs = o.settleMs ?? 30_000;
  const pollMs = o.pollMs ?? 100;

  /** Polls until `done` or `ms` pass; true when done. */
  async function waitFor(ms: number, ctx: ResourceContext, done: () => Promise<boolean>): Promise<boolean> {
    const until = Date.now() + ms;
    for (;;) {
      if (await done()) return true;
      if (Date.now() >= until) return false;
      await sleep(pollMs, undefined, { signal: ctx.signal });
    }
  }

  async function signal(procs: readonly ProcessEntry[], sig: string, ctx: ResourceContext): Promise<void> {
    // Belt and braces: never pid 1 or "-1" (every process), never this agent's group.
    const selfPgid = await ownProcessGroup();
    const safe = procs.filter((p) => isForeign(p, process.pid, selfPgid));
    if (safe.length === 0) return;
    // A group leader (started here with setsid) takes its whole group down with it.
    const targets = safe.map((p) => (p.pgid === p.pid ? `-${p.pid}` : String(p.pid)));
    // The shell's own kill: no procps needed; "$0" is the signal, "$@" the targets, after "--".
    await runCommand(ctx, '/bin/sh', ['-c', 'kill -s "$0" -- "$@"', sig.replace(/^SIG/, ''), ...targets], { okCodes: [0, 1], describe: `kill -s ${sig} ${targets.join(' ')}` });
  }

  async function start(d: ServiceResource, ctx: ResourceContext): Promise<void> {
    if (d.start === undefined) throw new ProviderError('UNSUPPORTED', `service ${d.name}: the process provider needs a start command`);
    const who = await runAs(d, ctx);
    await runCommand(ctx, '/bin/sh', ['-c', START_SCRIPT, 'stead-service-start', d.start], {
      ...who,
      ...(d.cwd !== undefined ? { cwd: d.cwd } : {}),
      timeoutMs: 30_000,
      operatorCommand: true,
      describe: `start of service ${d.name}`,
    });
    // Seen running on two polls in a row: the shell that launches it also matches for a moment,
    // and a start command that exits at once must not pass for a running service.
    let seen = 0;
    const up = await waitFor(settleMs, ctx, async () => {
      seen = (await findServiceProcesses(d, ctx)).length > 0 ? seen + 1 : 0;
      return seen >= 2;
    });
    if (!up) {
      throw new ProviderError('TIMEOUT', `service ${d.name} did not show up as running within ${settleMs / 1000} s after start (did the start command exit, or does pattern/pidfile not match it?)`);
    }
  }

  async function stop(d: ServiceResource, ctx: ResourceContext): Promise<void> {
    const procs = await findServiceProcesses(d, ctx);
    if (procs.length === 0) return;
    if (d.stop !== undefined) {
      await runCommand(ctx, '/bin/sh', ['-c', d.stop], { ...(d.cwd !== undefined ? { cwd: d.cwd } : {}), timeoutMs: graceMs + settleMs, operatorCommand: true, describe: `stop command of service ${d.name}` });
    } else {
      await signal(procs, d.stopsignal ?? 'SIGTERM', ctx);
    }
    const pids = procs.map((p) => p.pid);
    const gone = async () => (await processesByPid(pids)).length === 0;
    if (await waitFor(graceMs, ctx, gone)) return;
    ctx.log('service did not stop in the grace period; sending SIGKILL', { service: d.name, pids });
    await signal(await processesByPid(pids), 'SIGKILL', ctx);
    if (!(await waitFor(settleMs, ctx, gone))) throw new ProviderError('TIMEOUT', `service ${d.name} still runs after SIGKILL (pids ${pids.join(', ')})`);
  }

  return {
    name: 'process',
    supportsEnable: false,

    async status(d, ctx): Promise<ServiceStatus> {
      const procs = await findServiceProcesses(d, ctx);
      return { running: procs.length > 0, enabled: undefined, pids: procs.map((p) => p.pid) };
    },

    start,
    stop,

    async restart(d, ctx) {
      if (d.restart !== undefined) {
        await runCommand(ctx, '/bin/sh', ['-c', d.restart], { ...(d.cwd !== undefined ? { cwd: d.cwd } : {}), timeoutMs: graceMs + settleMs, operatorCommand: true, describe: `restart command of service ${d.name}` });
        return;
      }
      await stop(d, ctx);
      await start(d, ctx);
    },

    setEnabled(d) {
      return Promise.reject(new ProviderError('UNSUPPORTED', `service ${d.name}: the process provider has no boot-time start; enable needs systemd`));
    },
  };
}

export const processServiceProvider: ServiceProvider = createProcessServiceProvider();
