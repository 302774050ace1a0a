/**
 * What the CLI reads of a job (the JobView of docs/adr/0014-jobs.md), checked before use, and
 * what it prints of one: the `--wait --json` object, progress lines, the human view.
 *
 * The server's JSON Schema for JobView is not in schemas/ yet (issue 9 is building it); until
 * then asJobView checks the fields the CLI relies on and keeps the rest as given.
 */
import { OperatorError, operatorExitCodes } from './errors.js';
import { cell, inert, table } from './output.js';

export interface HostView {
  readonly host: string;
  readonly state: string;
  readonly exitCode?: number | null;
  readonly stdout?: string;
  readonly stderr?: string;
  readonly stdoutTruncated?: boolean;
  readonly stderrTruncated?: boolean;
}

export interface StepView {
  readonly index: number;
  readonly name?: string;
  readonly kind?: string;
  readonly state: string;
  readonly counts?: Readonly<Record<string, number>>;
}

export interface JobView {
  readonly id: string;
  readonly name?: string;
  readonly state: string;
  readonly createdBy?: string;
  readonly createdAt?: string;
  readonly finishedAt?: string;
  readonly dryRun?: boolean;
  readonly redoOf?: string;
  readonly scheduleId?: string;
  readonly targets?: string;
  readonly steps?: readonly StepView[];
  readonly hosts?: readonly HostView[];
  /** Selected hosts that cannot run (not enrolled, revoked, …). */
  readonly unavailable?: readonly { readonly host: string; readonly reason: string }[];
}

/** The one object `stead job run|redo --wait --json` prints. */
export interface WaitResult {
  readonly id: string;
  readonly state: string;
  readonly hosts: { host: string; state: string; exitCode: number | null; stdout: string; stderr: string }[];
}

/** Job states after which nothing changes. */
export const finishedJobStates: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the fields the CLI uses; a malformed answer is an OperatorError (exit 4). */
export function asJobView(v: unknown, what = 'the job'): JobView {
  const bad = (why: string): OperatorError => new OperatorError('BAD_RESPONSE', `the server's answer for ${what} is not a job view: ${why}`, operatorExitCodes.unavailable);
  if (!isObj(v)) throw bad('not an object');
  if (typeof v['id'] !== 'string' || v['id'] === '') throw bad('no id');
  if (typeof v['state'] !== 'string') throw bad('no state');
  if (v['hosts'] !== undefined) {
    if (!Array.isArray(v['hosts'])) throw bad('hosts is not a list');
    for (const h of v['hosts']) {
      if (!isObj(h) || typeof h['host'] !== 'string' || typeof h['state'] !== 'string') throw bad('a host without host or state');
      if (h['exitCode'] !== undefined && h['exitCode'] !== null && typeof h['exitCode'] !== 'number') throw bad('an exitCode that is not a number');
      for (const k of ['stdout', 'stderr']) if (h[k] !== undefined && typeof h[k] !== 'string') throw bad(`a ${k} that is not text`);
    }
  }
  if (v['steps'] !== undefined) {
    if (!Array.isArray(v['steps'])) throw bad('steps is not a list');
    for (const s of v['steps']) if (!isObj(s) || typeof s['state'] !== 'string' || typeof s['index'] !== 'number') throw bad('a step without index or state');
  }
  return v as unknown as JobView;
}

export function waitResult(job: JobView): WaitResult {
  return {
    id: job.id,
    state: job.state,
    hosts: (job.hosts ?? []).map((h) => ({ host: h.host, state: h.state, exitCode: typeof h.exitCode === 'number' ? h.exitCode : null, stdout: h.stdout ?? '', stderr: h.stderr ?? '' })),
  };
}

/** Every host succeeded (`would-run` counts for a dry run), and there was at least one. */
export function jobSucceeded(job: JobView): boolean {
  const hosts = job.hosts ?? [];
  const ok = (s: string): boolean => s === 'succeeded' || (job.dryRun === true && s === 'would-run');
  return job.state === 'succeeded' && hosts.length > 0 && hosts.every((h) => ok(h.state));
}

/** "3 succeeded, 1 running" in a stable order (most common first, then by name). */
export function countText(counts: ReadonlyMap<string, number> | Readonly<Record<string, number>>): string {
  const entries = (counts instanceof Map ? [...counts.entries()] : Object.entries(counts)).filter(([, n]) => n > 0);
  entries.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return entries.map(([s, n]) => `${n} ${cell(s, 24)}`).join(', ');
}

function hostCounts(job: JobView): Map<string, number> {
  const m = new Map<string, number>();
  for (const h of job.hosts ?? []) m.set(h.state, (m.get(h.state) ?? 0) + 1);
  return m;
}

/** "job j1 running: 2 succeeded, 1 running (of 3 hosts); step 2/2 restart: running". */
export function progressLine(job: JobView): string {
  const hosts = job.hosts ?? [];
  const counts = countText(hostCounts(job));
  let text = `job ${cell(job.id, 64)} ${cell(job.state, 24)}${hosts.length > 0 ? `: ${counts} (of ${hosts.length} host${hosts.length === 1 ? '' : 's'})` : ''}`;
  const steps = job.steps ?? [];
  if (steps.length > 1) {
    const current = steps.find((s) => !['succeeded', 'failed', 'cancelled', 'skipped'].includes(s.state)) ?? steps[steps.length - 1]!;
    text += `; step ${current.index + 1}/${steps.length}${current.name ? ` ${cell(current.name, 40)}` : ''}: ${cell(current.state, 24)}`;
  }
  return text;
}

export interface FormatOptions {
  /** Show each host's stdout and stderr (the last `maxLines` lines of each). */
  readonly output?: boolean;
  readonly maxLines?: number;
}

/** The human view of a job. */
export function formatJob(job: JobView, opts: FormatOptions = {}): string[] {
  const lines: string[] = [];
  lines.push(`Job ${cell(job.id, 64)}: ${cell(job.state, 24)}${job.dryRun ? ' (dry run)' : ''}`);
  const field = (label: string, v: string | undefined): void => {
    if (v !== undefined && v !== '') lines.push(`  ${label.padEnd(9)} ${cell(v, 200)}`);
  };
  field('name:', job.name);
  field('targets:', job.targets);
  field('created:', job.createdAt !== undefined ? `${job.createdAt}${job.createdBy ? ` by ${job.createdBy}` : ''}` : undefined);
  field('finished:', job.finishedAt);
  field('redo of:', job.redoOf);
  field('schedule:', job.scheduleId);
  const steps = job.steps ?? [];
  if (steps.length > 1) {
    lines.push('', 'Steps:');
    lines.push(...table(['#', 'NAME', 'KIND', 'STATE', 'HOSTS'], steps.map((s) => [s.index + 1, s.name, s.kind, s.state, s.counts ? countText(s.counts) : ''])).map((l) => `  ${l}`));
  }
  const unavailable = Array.isArray(job.unavailable) ? job.unavailable : [];
  if (unavailable.length > 0) {
    lines.push('', 'Unavailable (not run):');
    lines.push(...table(['HOST', 'REASON'], unavailable.map((u) => [u.host, u.reason]), 120).map((l) => `  ${l}`));
  }
  const hosts = job.hosts ?? [];
  if (hosts.length === 0) {
    lines.push('', 'No hosts.');
    return lines;
  }
  lines.push('', 'Hosts:');
  lines.push(...table(['HOST', 'STATE', 'EXIT'], hosts.map((h) => [h.host, h.state, typeof h.exitCode === 'number' ? h.exitCode : '-'])).map((l) => `  ${l}`));
  if (opts.output) {
    const max = opts.maxLines ?? 20;
    for (const h of hosts) {
      for (const [stream, text, cut] of [['stdout', h.stdout, h.stdoutTruncated], ['stderr', h.stderr, h.stderrTruncated]] as const) {
        if (text === undefined || text === '') continue;
        const all = text.replace(/\n$/, '').split('\n');
        lines.push('', `${cell(h.host, 80)} ${stream}${cut ? ' (cut by the server)' : ''}:`);
        if (all.length > max) lines.push(`  ... ${all.length - max} earlier lines (stead job show ${cell(job.id, 64)} --json has them all)`);
        for (const l of all.slice(-max)) lines.push(`  | ${inert(l).replace(/\t/g, '    ')}`);
      }
    }
  }
  lines.push('', `${hosts.length} host${hosts.length === 1 ? '' : 's'}: ${countText(hostCounts(job))}`);
  return lines;
}
