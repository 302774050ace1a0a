/**
 * Rollouts for the operator commands (`stead publish --batches …`, `stead rollout …`; ADR 0017):
 * the policy built from the flags, and a rollout printed for a person — its state and gate, the
 * policy, and one line per batch with a bar of its hosts (done, failed, waiting), its state and
 * its failures. Everything from the server goes through cell() (inert, bounded).
 */
import { rolloutPolicy } from '../../schemas/api/rollout-policy.js';
import { cell, table } from './output.js';

/** A rollout option the server would refuse (bad --batches, --max-failures, …): exit 2, like the server's 400. */
export class RolloutOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RolloutOptionError';
  }
}

export interface RolloutFlags {
  readonly batches?: string | undefined;
  readonly gate?: string | undefined;
  readonly 'wait-between'?: string | undefined;
  readonly 'max-failures'?: string | undefined;
}

export interface PolicyBody {
  batches: string;
  gate?: 'manual' | 'auto';
  waitBetweenSeconds?: number;
  maxFailures?: { count: number } | { percent: number };
}

const BATCHES = new RegExp(rolloutPolicy.properties.batches.pattern);
const MAX_WAIT = rolloutPolicy.properties.waitBetweenSeconds.maximum;
const MAX_COUNT = rolloutPolicy.properties.maxFailures.properties.count.maximum;

/** `--max-failures 3` → {count: 3}; `10%` → {percent: 10}; anything else is refused. */
export function maxFailures(v: string): { count: number } | { percent: number } {
  const s = v.trim();
  const pct = /^(\d{1,3}(?:\.\d{1,4})?)\s*%$/.exec(s);
  if (pct) {
    const percent = Number(pct[1]);
    if (percent > 100) throw new RolloutOptionError(`--max-failures ${JSON.stringify(v.slice(0, 50))}: a percentage is at most 100%`);
    return { percent };
  }
  if (/^\d{1,7}$/.test(s) && Number(s) <= MAX_COUNT) return { count: Number(s) };
  throw new RolloutOptionError(`--max-failures takes a number of hosts (3) or a percentage (10%), got ${JSON.stringify(v.slice(0, 50))}`);
}

/** The batch flags every rollout-starting command takes (parse options; read by rolloutPolicyFromFlags). */
export const rolloutFlagOptions = {
  batches: { type: 'string' },
  gate: { type: 'string' },
  'wait-between': { type: 'string' },
  'max-failures': { type: 'string' },
} as const;

/** The rollout policy of `stead publish` and `stead job run`, or undefined without --batches (to every host at once). */
export function rolloutPolicyFromFlags(f: RolloutFlags): PolicyBody | undefined {
  if (f.batches === undefined) {
    const stray = (['gate', 'wait-between', 'max-failures'] as const).find((k) => f[k] !== undefined);
    if (stray) throw new RolloutOptionError(`--${stray} needs --batches EXPR (without it everything goes to every host at once)`);
    return undefined;
  }
  const batches = f.batches.trim();
  if (batches === '' || batches.length > rolloutPolicy.properties.batches.maxLength || !BATCHES.test(batches)) {
    throw new RolloutOptionError(`--batches must be comma-separated counts, percentages and "+" steps such as 1,10%,+20%,100%, got ${JSON.stringify(f.batches.slice(0, 100))}`);
  }
  const policy: PolicyBody = { batches };
  if (f.gate !== undefined) {
    if (f.gate !== 'manual' && f.gate !== 'auto') throw new RolloutOptionError(`--gate must be manual or auto, got ${JSON.stringify(f.gate.slice(0, 50))}`);
    policy.gate = f.gate;
  }
  const wait = f['wait-between'];
  if (wait !== undefined) {
    const n = Number(wait);
    if (!/^\d+$/.test(wait.trim()) || !Number.isSafeInteger(n) || n > MAX_WAIT) throw new RolloutOptionError(`--wait-between must be a whole number of seconds from 0 to ${MAX_WAIT}, got ${JSON.stringify(wait.slice(0, 50))}`);
    policy.waitBetweenSeconds = n;
  }
  if (f['max-failures'] !== undefined) policy.maxFailures = maxFailures(f['max-failures']);
  return policy;
}

interface BatchLike {
  readonly index?: unknown;
  readonly hosts?: unknown;
  readonly state?: unknown;
  readonly failures?: unknown;
  readonly succeeded?: unknown;
  readonly jobId?: unknown;
}

/** The fields of a rollout view (schemas/api/rollouts.ts) this module reads; anything may be missing from an odd server. */
export interface RolloutLike {
  readonly id?: unknown;
  readonly kind?: unknown;
  readonly state?: unknown;
  readonly gate?: unknown;
  readonly nextAt?: unknown;
  readonly reason?: unknown;
  readonly revision?: unknown;
  readonly previous?: unknown;
  readonly commit?: unknown;
  readonly createdAt?: unknown;
  readonly createdBy?: unknown;
  readonly policy?: unknown;
  readonly current?: unknown;
  readonly batches?: unknown;
  readonly hosts?: unknown;
  readonly failures?: unknown;
  readonly threshold?: unknown;
}

const BAR = 20;

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function batchesOf(r: RolloutLike): BatchLike[] {
  return Array.isArray(r.batches) ? (r.batches as unknown[]).filter((b): b is BatchLike => b !== null && typeof b === 'object') : [];
}

function failuresOf(b: BatchLike): { host?: unknown; reason?: unknown }[] {
  return Array.isArray(b.failures) ? (b.failures as unknown[]).filter((f): f is { host?: unknown; reason?: unknown } => f !== null && typeof f === 'object') : [];
}

/** `[#####xx.......]`: # passed, x failed, . not judged yet, over BAR characters. */
export function batchBar(size: number, passed: number, failed: number): string {
  if (size <= 0) return `[${' '.repeat(BAR)}]`;
  const ok = Math.min(BAR, Math.round((passed / size) * BAR));
  const bad = Math.min(BAR - ok, failed > 0 ? Math.max(1, Math.round((failed / size) * BAR)) : 0);
  return `[${'#'.repeat(ok)}${'x'.repeat(bad)}${'.'.repeat(BAR - ok - bad)}]`;
}

/** The one-line policy: "batches 1,25%,100% · gate manual · wait 0 s · max failures 10%". */
export function policyLine(p: unknown): string {
  if (p === null || typeof p !== 'object') return '-';
  const o = p as Record<string, unknown>;
  const mf = o['maxFailures'] as { count?: unknown; percent?: unknown } | undefined;
  const parts = [`batches ${cell(o['batches'], 200)}`, `gate ${cell(o['gate'] ?? 'auto')}`, `wait ${cell(o['waitBetweenSeconds'] ?? 0)} s`];
  const limits = [mf?.count !== undefined ? `${cell(mf.count)}` : undefined, mf?.percent !== undefined ? `${cell(mf.percent)}%` : undefined].filter(Boolean);
  parts.push(`max failures ${limits.length > 0 ? limits.join(' or ') : '0 (any failure pauses)'}`);
  return parts.join(' · ');
}

/** What the rollout waits for, in words, with the command that moves it on. */
export function stateLine(r: RolloutLike): string {
  const id = cell(r.id, 64);
  const state = cell(r.state);
  const reason = typeof r.reason === 'string' ? `: ${cell(r.reason, 300)}` : '';
  switch (r.state) {
    case 'waiting':
      return r.gate === 'manual' ? `waiting for approval of the next batch (stead rollout continue ${id})` : `waiting until ${cell(r.nextAt)} to start the next batch`;
    case 'paused':
      return `paused${reason} (stead rollout continue ${id} resumes with the next batch)`;
    case 'aborted':
    case 'rolled-back':
      return `${state}${reason}`;
    default:
      return state;
  }
}

/** `stead rollout show` for a person. */
export function formatRollout(r: RolloutLike): string[] {
  const lines: string[] = [];
  const kind = r.kind === 'job' ? 'job' : 'revision';
  const what = kind === 'revision' ? `revision ${cell(r.revision, 64)}${typeof r.commit === 'string' ? ` (commit ${cell(r.commit.slice(0, 12))})` : ''}` : 'job';
  lines.push(`Rollout ${cell(r.id, 64)} of ${what}: ${stateLine(r)}`);
  lines.push(`Started ${cell(r.createdAt)} by ${cell(r.createdBy)}${typeof r.previous === 'string' ? ` · hosts outside started batches keep ${cell(r.previous, 64)}` : ''}`);
  lines.push(`Policy: ${policyLine(r.policy)}`);
  const th = (r.threshold ?? {}) as { overall?: unknown; batch?: unknown };
  lines.push(`Failures: ${cell(num(r.failures) ?? 0)} of ${cell(num(r.hosts) ?? 0)} hosts (tolerated: ${cell(th.overall ?? 0)} overall${th.batch !== undefined ? `, ${cell(th.batch)} in this batch` : ''})`);
  lines.push('');
  const batches = batchesOf(r);
  const current = num(r.current);
  const rows = batches.map((b, i) => {
    const size = Array.isArray(b.hosts) ? b.hosts.length : 0;
    const failed = failuresOf(b).length;
    const passed = num(b.succeeded) ?? (b.state === 'succeeded' ? size - failed : 0);
    const mark = current === (num(b.index) ?? i) && r.state !== 'completed' ? '>' : ' ';
    return [`${mark}${num(b.index) ?? i}`, size, b.state, `${batchBar(size, passed, failed)} ${passed}/${size}`, failed, kind === 'job' ? b.jobId : undefined];
  });
  const headers = kind === 'job' ? ['BATCH', 'HOSTS', 'STATE', 'PASSED', 'FAILED', 'JOB'] : ['BATCH', 'HOSTS', 'STATE', 'PASSED', 'FAILED'];
  lines.push(...table(headers, rows.map((row) => row.slice(0, headers.length)), 64));
  const failures = batches.flatMap((b, i) => failuresOf(b).map((f) => `  batch ${num(b.index) ?? i} ${cell(f.host, 64)}: ${cell(f.reason, 300)}`));
  if (failures.length > 0) {
    lines.push('', 'Failed hosts:');
    lines.push(...failures.slice(0, 200));
    if (failures.length > 200) lines.push(`  … and ${failures.length - 200} more (stead rollout show ${cell(r.id, 64)} --json)`);
  }
  return lines;
}

/** One row of `stead rollout list`. */
export function rolloutRow(r: RolloutLike): unknown[] {
  const batches = batchesOf(r);
  const done = batches.filter((b) => b.state === 'succeeded' || b.state === 'failed').length;
  const what = r.kind === 'job' ? 'job' : typeof r.revision === 'string' ? `revision ${r.revision.slice(0, 12)}` : 'revision';
  return [r.id, r.state, `${done}/${batches.length}`, `${num(r.failures) ?? 0}/${num(r.hosts) ?? 0}`, r.createdAt, r.createdBy, what];
}

export const rolloutListHeaders = ['ID', 'STATE', 'BATCHES', 'FAILED', 'CREATED', 'BY', 'WHAT'];
