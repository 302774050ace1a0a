/**
 * A script step: the source is written to a private file (mode 0400, owned by the account that
 * runs it, in the 0700 `tmpDir`), handed to the interpreter as fd 4 (`/bin/sh /dev/fd/4 args…`,
 * `python3 /dev/fd/4 args…`), run as the step's `user` (uid, primary gid, no supplementary
 * groups; looked up through the Host) in its own process group with a minimal environment plus
 * the step's `env` and the STEAD_* variables. Exit 0 is `succeeded`, anything else `failed`; the
 * step's timeout kills the group (`timeout`), a cancel too (`cancelled`), the agent's shutdown
 * too (`interrupted`). In a dry run nothing is written or run: `would-run`.
 */
import { randomBytes } from 'node:crypto';
import { constants as C, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { JobResult, JobScript, JobWork } from '../../schemas/index.js';
import { parseAccountFile } from '../host/account-file.js';
import { isoTime, type JobContext, type StopReason } from './job-context.js';
import { runJobProcess } from './job-process.js';
import { parseResults } from './job-results.js';

const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface Account {
  readonly uid?: number;
  readonly gid?: number;
  readonly home: string;
  readonly name: string;
}

/** A failure before the script could run (unknown user, no interpreter): the result says why. */
class ScriptSetupError extends Error {}

async function account(script: JobScript, ctx: JobContext): Promise<Account> {
  const name = script.user ?? 'root';
  const uid = await ctx.host.lookupUser(name);
  if (uid === undefined) throw new ScriptSetupError(`no user ${name} on this host`);
  let entry;
  try {
    entry = parseAccountFile((await ctx.host.readFile('/etc/passwd')).toString('utf8')).get(name);
  } catch {
    entry = undefined;
  }
  const gid = entry?.gid ?? (name === 'root' ? 0 : undefined);
  if (gid === undefined) throw new ScriptSetupError(`cannot find the primary group of ${name}`);
  const home = entry?.home ?? (name === 'root' ? '/root' : '/');
  // Running as ourselves needs no switch (and an unprivileged agent could not make one).
  const same = uid === process.geteuid?.() && gid === process.getegid?.();
  return same ? { home, name } : { uid, gid, home, name };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await fsp.stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** The environment of a script: minimal, then the step's, then the agent's own (not overridable). */
export function scriptEnv(work: JobWork, acct: Account, ctx: JobContext): Record<string, string> {
  const env: Record<string, string> = { PATH: BASE_PATH, HOME: acct.home, LANG: 'C.UTF-8', USER: acct.name, LOGNAME: acct.name, ...(work.script?.env ?? {}) };
  const py = work.script?.env?.PYTHONPATH;
  return {
    ...env,
    STEAD_HOST: ctx.hostName,
    STEAD_JOB_ID: work.jobId,
    STEAD_DISPATCH_ID: work.id,
    STEAD_LIB: ctx.libDir,
    STEAD_RESULTS_FD: '3',
    // Confined under --root (tests, demos): scripts are not, but they are told where the root is (as exec is).
    ...(ctx.host.root !== '/' ? { STEAD_ROOT: ctx.host.root } : {}),
    PYTHONPATH: py ? `${ctx.libDir}:${py}` : ctx.libDir,
  };
}

function notRun(state: JobResult['state'], at: number, message: string): JobResult {
  const t = isoTime(at);
  return { state, exitCode: null, stdout: '', stderr: '', message, startedAt: t, finishedAt: t };
}

export async function runScript(work: JobWork, ctx: JobContext, stop: AbortSignal, onSpawn?: (pid: number) => void): Promise<JobResult> {
  const startedAt = ctx.now();
  const script = work.script;
  if (!script) return notRun('failed', startedAt, 'a script step without a script');
  if (work.noop) return notRun('would-run', startedAt, `dry run: the ${script.lang} script (${Buffer.byteLength(script.source)} bytes) was not run`);
  let acct: Account;
  try {
    acct = await account(script, ctx);
  } catch (err) {
    if (err instanceof ScriptSetupError) return notRun('failed', startedAt, err.message);
    throw err;
  }
  const cwd = script.cwd !== undefined ? ctx.host.realPath(script.cwd) : (await isDirectory(acct.home)) ? acct.home : '/';
  if (script.cwd !== undefined && !(await isDirectory(cwd))) return notRun('failed', startedAt, `the working directory ${script.cwd} does not exist`);

  const file = join(ctx.tmpDir, `script-${randomBytes(8).toString('hex')}`);
  const fh = await fsp.open(file, C.O_RDWR | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
  try {
    await fh.writeFile(script.source);
    if (acct.uid !== undefined) await fh.chown(acct.uid, acct.gid ?? -1);
    await fh.chmod(0o400);
    // fd 4 is shared with the interpreter: it must read from the start.
    const interpreter = script.lang === 'python' ? 'python3' : '/bin/sh';
    let r;
    try {
      r = await runJobProcess({
        file: interpreter,
        args: ['/dev/fd/4', ...(script.args ?? [])],
        cwd,
        env: scriptEnv(work, acct, ctx),
        uid: acct.uid,
        gid: acct.gid,
        scriptFd: fh.fd,
        timeoutMs: work.timeoutSeconds * 1000,
        cancel: stop,
        onSpawn,
        ...(ctx.killGraceMs !== undefined ? { graceMs: ctx.killGraceMs } : {}),
        ...(ctx.headBytes !== undefined ? { headBytes: ctx.headBytes } : {}),
        ...(ctx.tailBytes !== undefined ? { tailBytes: ctx.tailBytes } : {}),
      });
    } catch (err) {
      return notRun('failed', startedAt, `cannot run ${interpreter}: ${(err as Error).message}`);
    }
    const parsed = parseResults(r.results, r.resultsTruncated);
    const reason = stop.reason as StopReason | undefined;
    const state: JobResult['state'] = r.timedOut ? 'timeout' : r.stopped ? (reason === 'shutdown' ? 'interrupted' : 'cancelled') : r.code === 0 ? 'succeeded' : 'failed';
    const why = r.timedOut
      ? `killed after the step's timeout of ${work.timeoutSeconds} s`
      : r.stopped
        ? reason === 'shutdown' ? 'killed: the agent stopped while the script ran' : 'killed: the job was cancelled'
        : parsed.failMessage;
    const message = [why, ...parsed.problems].filter((m): m is string => m !== undefined && m !== '').join('; ');
    return {
      state,
      exitCode: r.code,
      ...(r.signal ? { signal: r.signal } : {}),
      stdout: r.stdout.text,
      stderr: r.stderr.text,
      ...(r.stdout.truncated ? { stdoutTruncated: true } : {}),
      ...(r.stderr.truncated ? { stderrTruncated: true } : {}),
      ...(Object.keys(parsed.results).length > 0 ? { results: parsed.results } : {}),
      ...(message ? { message: message.slice(0, 4096) } : {}),
      startedAt: isoTime(startedAt),
      finishedAt: isoTime(ctx.now()),
    };
  } finally {
    await fh.close();
    await fsp.rm(file, { force: true });
  }
}
