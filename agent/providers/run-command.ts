/** Running a provider command through the Host, with failures turned into ProviderError. */
import type { ExecOptions, ExecResult } from '../host/host.js';
import type { ResourceContext } from '../resources/resource.js';
import { ProviderError } from './types.js';

/** The locale every provider command runs with, so that parsed output is never translated. */
export const cLocale: Readonly<Record<string, string>> = { LC_ALL: 'C', LANG: 'C' };

export interface RunOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly cwd?: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Exit codes that are not failures (default [0]). */
  readonly okCodes?: readonly number[];
  /** How to name the command in an error, instead of its argv (use it when argv holds a secret). */
  readonly describe?: string;
  /** Run an operator's command (service start/stop): the Host's environment, no forced C locale. */
  readonly operatorCommand?: boolean;
}

/** The last `max` characters of command output, trimmed, for an error message. */
export function tail(text: string, max = 600): string {
  const s = text.trim();
  return s.length <= max ? s : `…${s.slice(s.length - max)}`;
}

/**
 * Runs `file args` through ctx.host.exec in the C locale (unless operatorCommand) with ctx.signal. Resolves the result when
 * the exit code is in okCodes; otherwise throws ProviderError COMMAND_FAILED naming the command
 * (or opts.describe) with the tail of stderr (or stdout when stderr is empty).
 */
export async function runCommand(ctx: ResourceContext, file: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  const execOpts: ExecOptions = {
    env: opts.operatorCommand === true ? { ...opts.env } : { ...cLocale, ...opts.env },
    signal: ctx.signal,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
  };
  const r = await ctx.host.exec(file, args, execOpts);
  const ok = opts.okCodes ?? [0];
  if (r.code !== null && ok.includes(r.code)) return r;
  const what = opts.describe ?? [file, ...args].join(' ');
  const how = r.timedOut ? 'timed out' : r.code === null ? `was killed by ${r.signal ?? 'a signal'}` : `exited with code ${r.code}`;
  // The reason is often printed before the last line (apt's "E: Sub-process /usr/bin/dpkg returned
  // an error code" follows dpkg's own "dpkg: error processing …" on stdout): keep the lines that
  // say error from the output too.
  const errLines = r.stderr.trim() ? r.stdout.split('\n').filter((l) => /error|fail/i.test(l)).slice(-4).join('\n') : '';
  const out = [tail(errLines, 600), tail(r.stderr) || tail(r.stdout)].filter((x) => x !== '').join('\n');
  throw new ProviderError('COMMAND_FAILED', `${what} ${how}${out ? `: ${out}` : ''}`);
}
