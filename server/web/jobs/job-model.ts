/**
 * View models of the job pages (pure): times and durations as text, the done/total progress
 * of a job with one segment per dispatch state, the per-host rows of one page of hosts, and
 * the "who cannot run" notes of a target preview.
 */
import type { JobHostView, JobStepView, JobSummary, JobView, Time } from './jobs-port.js';

/** Dispatch states that will not change any more (ADR 0014). */
export const finishedStates: ReadonlySet<string> = new Set(['succeeded', 'failed', 'timeout', 'cancelled', 'interrupted', 'would-run', 'skipped', 'unreachable']);
/** Dispatch states that count as a failure of the host (what "redo failed" reruns; the job core's list). */
export const failedStates: ReadonlySet<string> = new Set(['failed', 'timeout', 'cancelled', 'interrupted', 'unreachable']);
/** The order of segments in a progress bar and of counts on a step. */
export const stateOrder = ['succeeded', 'would-run', 'failed', 'timeout', 'unreachable', 'interrupted', 'cancelled', 'skipped', 'running', 'cancelling', 'dispatched', 'queued'];
/** Job states during which the page refreshes itself. */
export const liveJobStates: ReadonlySet<string> = new Set(['running', 'paused', 'queued', 'cancelling']);

export const hostsPerPage = 50;

export function toMs(t: Time | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = typeof t === 'number' ? t : Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

/** "2026-12-06 22:45:01 UTC" (seconds, no milliseconds). */
export function timeText(t: Time | undefined): string | undefined {
  const ms = toMs(t);
  return ms === undefined ? undefined : `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min"; undefined without a start. */
export function durationText(start: Time | undefined, end: Time | undefined, now: number): string | undefined {
  const a = toMs(start);
  if (a === undefined) return undefined;
  const ms = Math.max(0, (toMs(end) ?? now) - a);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export interface Segment {
  readonly state: string;
  readonly n: number;
  readonly width: number;
}

export interface Progress {
  readonly done: number;
  readonly total: number;
  readonly percent: number;
  readonly segments: readonly Segment[];
}

/** Sorted [state, n] pairs of a counts map, known states first, zeros left out. */
export function countList(counts: Readonly<Record<string, number>> | undefined): { state: string; n: number }[] {
  const entries = Object.entries(counts ?? {}).filter(([, n]) => typeof n === 'number' && n > 0);
  const rank = (s: string): number => (stateOrder.includes(s) ? stateOrder.indexOf(s) : stateOrder.length);
  return entries.sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0])).map(([state, n]) => ({ state, n }));
}

/** Done/total of a job's dispatches (all steps), with one bar segment per state. */
export function progress(counts: Readonly<Record<string, number>> | undefined): Progress {
  const list = countList(counts);
  const total = list.reduce((a, c) => a + c.n, 0);
  const done = list.filter((c) => finishedStates.has(c.state)).reduce((a, c) => a + c.n, 0);
  return {
    done,
    total,
    percent: total === 0 ? 0 : Math.floor((done / total) * 100),
    segments: total === 0 ? [] : list.map((c) => ({ ...c, width: Math.round((c.n / total) * 10_000) / 100 })),
  };
}

/** Counts of all steps added up. */
export function jobCounts(steps: readonly JobStepView[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of steps) for (const [k, n] of Object.entries(s.counts)) out[k] = (out[k] ?? 0) + n;
  return out;
}

export interface HostRow {
  readonly host: string;
  readonly state: string;
  readonly exitCode: string;
  readonly duration: string;
  readonly steps: readonly { step: number; state: string; exitCode: string; title: string }[];
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutTruncated: boolean;
  readonly stderrTruncated: boolean;
  readonly hasOutput: boolean;
  readonly message: string;
  readonly open: boolean;
}

function exitText(code: number | null | undefined): string {
  return code === undefined ? '' : code === null ? 'signal' : String(code);
}

function hostRow(h: JobHostView, now: number, stepNames: ReadonlyMap<number, string>): HostRow {
  const started = h.steps.map((s) => toMs(s.startedAt)).filter((x): x is number => x !== undefined);
  const ended = h.steps.map((s) => toMs(s.finishedAt)).filter((x): x is number => x !== undefined);
  const running = h.steps.some((s) => !finishedStates.has(s.state) && s.startedAt !== undefined);
  const first = started.length ? Math.min(...started) : undefined;
  const last = !running && ended.length ? Math.max(...ended) : undefined;
  const stdout = h.stdout ?? '';
  const stderr = h.stderr ?? '';
  const message = h.message ?? h.steps.map((s) => s.message).filter((m) => m)[0] ?? '';
  return {
    host: h.host,
    state: h.state,
    exitCode: exitText(h.exitCode),
    duration: durationText(first, last, now) ?? '',
    steps: h.steps.map((s) => ({
      step: s.step,
      state: s.state,
      exitCode: exitText(s.exitCode),
      title: `step ${s.step + 1}${stepNames.get(s.step) ? ` (${stepNames.get(s.step)})` : ''}: ${s.state}${s.exitCode !== undefined ? `, exit ${exitText(s.exitCode)}` : ''}${(s.startAcks ?? 0) > 1 ? `, ${s.startAcks} start acknowledgements` : ''}`,
    })),
    stdout,
    stderr,
    stdoutTruncated: h.stdoutTruncated === true,
    stderrTruncated: h.stderrTruncated === true,
    hasOutput: stdout !== '' || stderr !== '' || message !== '',
    message,
    open: failedStates.has(h.state),
  };
}

export interface JobPageModel {
  readonly job: JobView;
  readonly createdAt: string;
  readonly finishedAt: string;
  readonly duration: string;
  readonly live: boolean;
  readonly progress: Progress;
  readonly steps: readonly (JobStepView & { countList: { state: string; n: number }[]; waiting: boolean })[];
  readonly hostStates: readonly { state: string; n: number }[];
  readonly filter: string | undefined;
  readonly rows: readonly HostRow[];
  readonly page: number;
  readonly pages: number;
  readonly shownFrom: number;
  readonly shownTo: number;
  readonly matching: number;
  readonly failedHosts: number;
}

/** The job page: progress, steps (a paused or confirm step waits for a decision), one page of hosts. */
export function jobPageModel(job: JobView, opts: { page: number; state?: string; now: number }): JobPageModel {
  const hostStateCounts: Record<string, number> = {};
  for (const h of job.hosts) hostStateCounts[h.state] = (hostStateCounts[h.state] ?? 0) + 1;
  const filter = opts.state !== undefined && Object.hasOwn(hostStateCounts, opts.state) ? opts.state : undefined;
  const matching = filter === undefined ? job.hosts : job.hosts.filter((h) => h.state === filter);
  // Failed hosts first, then by name: the ones that need a look are on the first page.
  const sorted = [...matching].sort((a, b) => Number(failedStates.has(b.state)) - Number(failedStates.has(a.state)) || a.host.localeCompare(b.host));
  const pages = Math.max(1, Math.ceil(sorted.length / hostsPerPage));
  const page = Math.min(Math.max(1, opts.page), pages);
  const slice = sorted.slice((page - 1) * hostsPerPage, page * hostsPerPage);
  const stepNames = new Map(job.steps.map((s) => [s.index, s.name ?? '']));
  return {
    job,
    createdAt: timeText(job.createdAt) ?? '',
    finishedAt: timeText(job.finishedAt) ?? '',
    duration: durationText(job.createdAt, job.finishedAt, opts.now) ?? '',
    live: liveJobStates.has(job.state),
    progress: progress(jobCounts(job.steps)),
    // A confirm step, or a step paused by a failure, waits for continue or stop.
    steps: job.steps.map((s) => ({ ...s, countList: countList(s.counts), waiting: s.state === 'waiting' })),
    hostStates: countList(hostStateCounts),
    filter,
    rows: slice.map((h) => hostRow(h, opts.now, stepNames)),
    page,
    pages,
    shownFrom: slice.length ? (page - 1) * hostsPerPage + 1 : 0,
    shownTo: (page - 1) * hostsPerPage + slice.length,
    matching: matching.length,
    failedHosts: job.hosts.filter((h) => failedStates.has(h.state)).length,
  };
}

export interface SummaryRow {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly duration: string;
  readonly dryRun: boolean;
  readonly redoOf: string;
  readonly targets: string;
  readonly hostCount: string;
  readonly progress: Progress;
}

export function summaryRow(s: JobSummary, now: number): SummaryRow {
  return {
    id: s.id,
    name: s.name ?? '',
    state: s.state,
    createdBy: s.createdBy,
    createdAt: timeText(s.createdAt) ?? '',
    duration: durationText(s.createdAt, s.finishedAt, now) ?? '',
    dryRun: s.dryRun === true,
    redoOf: s.redoOf ?? '',
    targets: s.targets ?? '',
    hostCount: s.hostCount === undefined ? '' : String(s.hostCount),
    progress: progress(s.counts),
  };
}

export interface TargetNote {
  readonly host: string;
  readonly reason: string;
}

/**
 * Which previewed hosts cannot run a job now: no approved agent key (never enrolled, pending,
 * revoked) or an agent not heard from recently. `agents` maps host → enrollment status;
 * `notReporting` holds hosts whose last report is stale.
 */
export function cannotRun(hosts: readonly string[], agents: ReadonlyMap<string, string>, notReporting: ReadonlySet<string>): TargetNote[] {
  const out: TargetNote[] = [];
  for (const h of hosts) {
    const status = agents.get(h);
    if (status === undefined) out.push({ host: h, reason: 'no agent has enrolled for this host' });
    else if (status !== 'approved') out.push({ host: h, reason: `its agent is ${status}` });
    else if (notReporting.has(h)) out.push({ host: h, reason: 'its agent has not reported recently (it may be down)' });
  }
  return out;
}
