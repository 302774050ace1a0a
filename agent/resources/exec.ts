/**
 * The exec type: a command (run by /bin/sh -c, in its own process group) that runs when its
 * guards say so: `creates` (skip when the path exists), `onlyif` (run only when it exits 0),
 * `unless` (run only when it exits non-zero); with `refreshonly`, only when a notifying resource
 * changed. Success is an exit code in `returns` (default [0]); a signal, a timeout or any other
 * code fails the resource with EXEC_FAILED and the captured output.
 *
 * Guards are commands too; read() runs them (Puppet does the same in noop): they must not change
 * the host. `user`/`group` set the uid/gid (supplementary groups are dropped); without `group`
 * the user's primary group is used. `cwd` and `creates` are manifest paths, mapped under the
 * Host's root; the command itself is not confined (it gets STEAD_ROOT when the root is not "/").
 *
 * Verification: after a successful run the command counts as converged for this run; with
 * `creates`, the path must exist afterwards or the resource fails NOT_CONVERGED.
 *
 * Routine runs (docs/resource-contract.md, rule 12): an exec with no guard runs every run by
 * design; an exec with `onlyif`/`unless` whose guards, asked again right after it ran, still say
 * "run" does too (its guards let it run each time). Such a run is reported `routine`, never as
 * drift. An exec whose guards are satisfied once it ran (a `creates` path now exists, an
 * `unless` now exits 0, an `onlyif` now fails) has converged: when it must run again in a later
 * run, the host moved away from it, and the run is drift (the engine's record decides).
 */
import type { ExecResource } from '../../schemas/index.js';
import type { ExecResult } from '../host/host.js';
import { parseAccountFile } from '../host/account-file.js';
import type { ApplyResult, Change, Plan, Problem, ResourceContext, ResourceImpl } from './resource.js';
import { ResourceError } from '../engine/engine-error.js';

export interface ExecActual {
  /** Whether the command should run now. */
  readonly run: boolean;
  /** Why (or why not), for logs. */
  readonly reason: string;
}

/** Output kept per stream. */
const OUTPUT_BYTES = 64 * 1024;
/** Commands that ran successfully, by desired resource, in the run (signal) they ran in. */
const ran = new WeakMap<object, AbortSignal>();
/** Commands that ran and whose guards still said "run" afterwards, by desired resource and run (signal). */
const routineRun = new WeakMap<object, AbortSignal>();

/** Whether the exec runs on every run with no guard (not refreshonly). */
function unguarded(d: ExecResource): boolean {
  return d.creates === undefined && d.onlyif === undefined && d.unless === undefined && d.refreshonly !== true;
}

async function runAs(d: ExecResource, ctx: ResourceContext): Promise<{ uid?: number; gid?: number; home?: string }> {
  if (d.user === undefined && d.group === undefined) return {};
  const out: { uid?: number; gid?: number; home?: string } = {};
  if (d.user !== undefined) {
    const uid = await ctx.host.lookupUser(d.user);
    if (uid === undefined) throw new ResourceError('UNKNOWN_USER', `no user ${d.user} on this host`);
    out.uid = uid;
    let entry;
    try {
      entry = parseAccountFile((await ctx.host.readFile('/etc/passwd')).toString('utf8')).get(d.user);
    } catch {
      entry = undefined;
    }
    if (entry?.gid !== undefined) out.gid = entry.gid;
    else if (d.user === 'root') out.gid = 0;
    if (entry?.home !== undefined) out.home = entry.home;
  }
  if (d.group !== undefined) {
    const gid = await ctx.host.lookupGroup(d.group);
    if (gid === undefined) throw new ResourceError('UNKNOWN_GROUP', `no group ${d.group} on this host`);
    out.gid = gid;
  }
  if (out.uid !== undefined && out.gid === undefined) throw new ResourceError('UNKNOWN_GROUP', `cannot find the primary group of ${d.user}; set group`);
  return out;
}

async function sh(d: ExecResource, command: string, ctx: ResourceContext): Promise<ExecResult> {
  const ids = await runAs(d, ctx);
  const env: Record<string, string> = { ...(ids.home !== undefined ? { HOME: ids.home } : {}), ...(d.environment ?? {}) };
  return ctx.host.exec('/bin/sh', ['-c', command], {
    ...(d.cwd !== undefined ? { cwd: d.cwd } : {}),
    env,
    signal: ctx.signal,
    maxOutputBytes: OUTPUT_BYTES,
    ...(ids.uid !== undefined ? { uid: ids.uid } : {}),
    ...(ids.gid !== undefined ? { gid: ids.gid } : {}),
  });
}

function combined(r: ExecResult): string {
  if (r.stdout && r.stderr) return `${r.stdout}${r.stdout.endsWith('\n') ? '' : '\n'}${r.stderr}`;
  return r.stdout || r.stderr;
}

/** Evaluates creates, onlyif and unless. */
async function guards(d: ExecResource, ctx: ResourceContext): Promise<ExecActual> {
  if (d.creates !== undefined && (await ctx.host.lstat(d.creates))) return { run: false, reason: `${d.creates} exists` };
  if (d.onlyif !== undefined) {
    const r = await sh(d, d.onlyif, ctx);
    if (r.code !== 0) return { run: false, reason: `onlyif exited ${r.code ?? r.signal}` };
  }
  if (d.unless !== undefined) {
    const r = await sh(d, d.unless, ctx);
    if (r.code === 0) return { run: false, reason: 'unless exited 0' };
  }
  return { run: true, reason: 'guards passed' };
}

async function execute(d: ExecResource, ctx: ResourceContext): Promise<ApplyResult> {
  const r = await sh(d, d.command, ctx);
  const output = combined(r);
  const ok = d.returns ?? [0];
  if (r.code === null || !ok.includes(r.code)) {
    const why = r.timedOut ? 'timed out' : r.code === null ? `was killed by ${r.signal ?? 'a signal'}` : `exited ${r.code} (expected ${ok.join(' or ')})`;
    throw new ResourceError('EXEC_FAILED', `the command ${why}`, { output });
  }
  ran.set(d, ctx.signal);
  return { output };
}

export const exec = {
  type: 'exec',

  validate(d: ExecResource): Problem[] {
    const out: Problem[] = [];
    if (d.environment) {
      for (const k of Object.keys(d.environment)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) out.push({ path: `/environment/${k}`, message: 'must be a variable name (letters, digits, "_")' });
      }
    }
    if (d.command.includes('\0')) out.push({ path: '/command', message: 'must not contain NUL' });
    return out;
  },

  async read(d: ExecResource, ctx: ResourceContext): Promise<ExecActual> {
    if (ran.get(d) === ctx.signal) {
      if (d.creates !== undefined && !(await ctx.host.lstat(d.creates))) return { run: true, reason: `${d.creates} is still missing after the command ran` };
      // The engine's read after apply: ask the guards again, only to tell a routine run from a
      // converging one (the command counts as converged for this run either way).
      if (d.onlyif !== undefined || d.unless !== undefined) {
        const again = await guards(d, ctx);
        if (again.run) {
          routineRun.set(d, ctx.signal);
          return { run: false, reason: 'ran in this run; its guards let it run every run' };
        }
      }
      return { run: false, reason: 'ran in this run' };
    }
    if (d.refreshonly === true) return { run: false, reason: 'refreshonly' };
    return guards(d, ctx);
  },

  /**
   * Whether this run of the exec is routine (see the module comment): it has no guard, or it ran
   * in this run and its guards still said "run" afterwards. Routine changes are never drift.
   */
  routine(d: ExecResource, ctx: ResourceContext): boolean {
    return unguarded(d) || routineRun.get(d) === ctx.signal;
  },

  diff(d: ExecResource, a: ExecActual | undefined): Change[] {
    return a?.run === true ? [{ property: 'returns', before: 'notrun', after: d.returns ?? [0] }] : [];
  },

  async apply(plan: Plan<'exec', ExecActual>, ctx: ResourceContext): Promise<ApplyResult> {
    return execute(plan.desired, ctx);
  },

  async refresh(d: ExecResource, ctx: ResourceContext): Promise<ApplyResult | void> {
    if (ran.get(d) === ctx.signal) return;
    const g = await guards(d, ctx);
    if (!g.run) {
      ctx.log(`refresh skipped: ${g.reason}`);
      return;
    }
    return execute(d, ctx);
  },
} satisfies ResourceImpl<'exec', ExecActual>;
