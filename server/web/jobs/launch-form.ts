/**
 * The launch form: its fields (kept as typed so a re-rendered form shows what was entered),
 * the pick-lists that add to the target selector, the launch body built from it, and the
 * rollout policy of its optional "Deliver in batches" part (ADR 0017 §3). Every field is bounded
 * here; the job and rollout services validate the body again with their schemas.
 */
import { rolloutPolicy } from '../../../schemas/api/rollout-policy.js';
import { ApiError } from '../../domain/errors.js';
import type { LaunchBody, ScriptSpec } from './jobs-port.js';

/** Largest launch form accepted (a script up to 256 KiB plus the other fields). */
export const launchFormLimit = 320 * 1024;

/** Longest step timeout (ADR 0014: one day). */
export const maxTimeoutSeconds = 86_400;

const maxSource = 256 * 1024;
const maxTargets = 4096;
const maxPairs = 64;
const pairKey = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const pickPattern = /^(host|group|idc|tag|set):[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export interface LaunchFields {
  name: string;
  targets: string;
  picks: string[];
  mode: 'inline' | 'library';
  lang: 'shell' | 'python';
  source: string;
  scriptId: string;
  version: string;
  params: string;
  vars: string;
  account: string;
  timeout: string;
  dryRun: boolean;
  approve: boolean;
  reason: string;
  /** Deliver in batches: the batch expression (empty: every host at once), gate, wait, threshold. */
  batches: string;
  gate: 'auto' | 'manual';
  waitBetween: string;
  maxFailures: string;
}

export const emptyLaunch: LaunchFields = {
  name: '',
  targets: '',
  picks: [],
  mode: 'inline',
  lang: 'shell',
  source: '',
  scriptId: '',
  version: '',
  params: '',
  vars: '',
  account: '',
  timeout: '600',
  dryRun: false,
  approve: false,
  reason: '',
  batches: '',
  gate: 'auto',
  waitBetween: '',
  maxFailures: '',
};

function field(form: URLSearchParams, name: string, max: number, label: string): string {
  const v = form.get(name) ?? '';
  if (v.length > max) throw new ApiError('BAD_REQUEST', `${label} is longer than ${max} characters`);
  return v;
}

/** The form's fields; the pick-lists are merged into the selector (deduplicated, in order). */
export function readLaunchFields(form: URLSearchParams): LaunchFields {
  const picks = form.getAll('pick').slice(0, 500);
  for (const p of picks) if (!pickPattern.test(p)) throw new ApiError('BAD_REQUEST', `not a target pick: ${p.slice(0, 80)}`);
  const typed = field(form, 'targets', maxTargets, 'the target selector');
  const parts = typed
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const p of picks) if (!parts.includes(p)) parts.push(p);
  const targets = parts.join(',');
  if (targets.length > maxTargets) throw new ApiError('BAD_REQUEST', `the target selector is longer than ${maxTargets} characters`);
  const lang = form.get('lang') === 'python' ? 'python' : 'shell';
  return {
    name: field(form, 'name', 200, 'the job name').trim(),
    targets,
    picks: [],
    mode: form.get('mode') === 'library' ? 'library' : 'inline',
    lang,
    source: field(form, 'source', maxSource, 'the script').replace(/\r\n/g, '\n'),
    scriptId: field(form, 'scriptId', 200, 'the script id').trim(),
    version: field(form, 'version', 10, 'the version').trim(),
    params: field(form, 'params', 64 * 1024, 'the parameters'),
    vars: field(form, 'vars', 64 * 1024, 'the job variables'),
    account: field(form, 'account', 64, 'the execution account').trim(),
    timeout: field(form, 'timeout', 10, 'the timeout').trim(),
    dryRun: form.get('dryRun') === 'on',
    approve: form.get('approve') === 'on',
    reason: field(form, 'reason', 1000, 'the approval reason').trim(),
    batches: field(form, 'batches', rolloutPolicy.properties.batches.maxLength, 'the batches').trim(),
    gate: form.get('gate') === 'manual' ? 'manual' : 'auto',
    waitBetween: field(form, 'waitBetween', 10, 'the wait between batches').trim(),
    maxFailures: field(form, 'maxFailures', 12, 'the failures tolerated').trim(),
  };
}

/** `KEY=value` lines (blank lines and `#` comments skipped) → a map; bounded. */
export function parsePairs(text: string, label: string): Record<string, string> | undefined {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let n = 0;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line.trim() : line.slice(0, eq).trim();
    if (eq < 0 || !pairKey.test(key)) throw new ApiError('BAD_REQUEST', `${label}, line ${i + 1}: write KEY=value (a key is letters, digits and _, not starting with a digit)`);
    if (++n > maxPairs) throw new ApiError('BAD_REQUEST', `${label}: at most ${maxPairs} entries`);
    out[key] = line.slice(eq + 1);
  }
  return n === 0 ? undefined : { ...out };
}

function positiveInt(text: string, label: string, max: number): number | undefined {
  if (text === '') return undefined;
  if (!/^[0-9]{1,7}$/.test(text) || Number(text) < 1 || Number(text) > max) throw new ApiError('BAD_REQUEST', `${label} must be a whole number from 1 to ${max}`);
  return Number(text);
}

/** The launch body of the form (one script step); throws BAD_REQUEST naming the field. */
export function launchBody(f: LaunchFields): LaunchBody {
  if (f.targets === '') throw new ApiError('BAD_REQUEST', 'choose the targets: type a selector or pick groups, IDCs, tags or hosts');
  // A library script brings its own language; an inline one is run with the chosen one.
  const script: ScriptSpec = f.mode === 'library' ? {} : { lang: f.lang };
  if (f.mode === 'library') {
    if (f.scriptId === '') throw new ApiError('BAD_REQUEST', 'choose a library script');
    script.scriptId = f.scriptId;
    const version = positiveInt(f.version, 'the script version', 1_000_000);
    if (version !== undefined) script.version = version;
    const params = parsePairs(f.params, 'parameters');
    if (params) script.params = params;
  } else {
    if (f.source.trim() === '') throw new ApiError('BAD_REQUEST', 'write the command or script to run');
    script.source = f.source;
  }
  if (f.account !== '') script.account = f.account;
  if (f.approve && f.reason === '') throw new ApiError('BAD_REQUEST', 'an approval needs a reason');
  const timeoutSeconds = positiveInt(f.timeout, 'the timeout', maxTimeoutSeconds);
  const vars = parsePairs(f.vars, 'job variables');
  return {
    ...(f.name ? { name: f.name } : {}),
    targets: f.targets,
    ...(vars ? { vars } : {}),
    ...(f.dryRun ? { dryRun: true } : {}),
    ...(f.approve ? { approve: { reason: f.reason } } : {}),
    steps: [{ kind: 'script', script, ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}) }],
  };
}

/** The rollout policy a filled "Deliver in batches" part asks for (schemas/api/rollout-policy.ts). */
export interface LaunchPolicy {
  batches: string;
  gate?: 'manual' | 'auto';
  waitBetweenSeconds?: number;
  maxFailures?: { count: number } | { percent: number };
}

const batchesPattern = new RegExp(rolloutPolicy.properties.batches.pattern);
const maxWait = rolloutPolicy.properties.waitBetweenSeconds.maximum;
const maxCount = rolloutPolicy.properties.maxFailures.properties.count.maximum;

/**
 * The rollout policy of the form, or undefined when no batches are given (the job runs on every
 * host at once). Throws BAD_REQUEST naming the field, as the CLI's --batches, --wait-between and
 * --max-failures do: "1,10%,+20%,100%", whole seconds, "3" hosts or "10%".
 */
export function launchPolicy(f: LaunchFields): LaunchPolicy | undefined {
  if (f.batches === '') {
    if (f.gate === 'manual' || f.waitBetween !== '' || f.maxFailures !== '') throw new ApiError('BAD_REQUEST', 'write the batches (such as 1,10%,100%) to deliver in batches, or clear the gate, wait and failures');
    return undefined;
  }
  if (!batchesPattern.test(f.batches)) throw new ApiError('BAD_REQUEST', 'the batches are comma-separated counts, percentages and "+" steps, such as 1,10%,+20%,100%');
  if (f.dryRun) throw new ApiError('BAD_REQUEST', 'a dry run is not delivered in batches: clear one of them');
  const policy: LaunchPolicy = { batches: f.batches, gate: f.gate };
  if (f.waitBetween !== '') {
    if (!/^[0-9]{1,7}$/.test(f.waitBetween) || Number(f.waitBetween) > maxWait) throw new ApiError('BAD_REQUEST', `the wait between batches must be a whole number of seconds from 0 to ${maxWait}`);
    policy.waitBetweenSeconds = Number(f.waitBetween);
  }
  if (f.maxFailures !== '') {
    const pct = /^([0-9]{1,3}(?:\.[0-9]{1,4})?)\s*%$/.exec(f.maxFailures);
    if (pct && Number(pct[1]) <= 100) policy.maxFailures = { percent: Number(pct[1]) };
    else if (/^[0-9]{1,7}$/.test(f.maxFailures) && Number(f.maxFailures) <= maxCount) policy.maxFailures = { count: Number(f.maxFailures) };
    else throw new ApiError('BAD_REQUEST', 'the failures tolerated are a number of hosts (3) or a percentage up to 100% (10%)');
  }
  return policy;
}
