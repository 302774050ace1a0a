/**
 * `stead plan DIR`: the fleet plan of a manifest checkout (ADR 0017 §2) — the directory is read
 * as `stead demo` reads one and sent to POST /api/v1/revisions/plan (validated, never stored);
 * `stead plan run NAME`: launch a job from a saved job plan (docs/cli.md). `run` as the first
 * argument keeps its meaning; anything else names a directory.
 */
import { resolve } from 'node:path';
import type { FleetPlan } from '../../schemas/api/fleet-plan.js';
import { UsageError, writeLine, type CliIo } from '../io.js';
import { keyValues, oneId, parse } from '../operator/args.js';
import { connectionOptions, connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { afterLaunch } from '../operator/launch.js';
import { inert, printJson, printLines } from '../operator/output.js';
import { withSession } from '../operator/session.js';
import { readRepository } from './demo.js';

export const usage = `Usage: stead plan DIR [--json]
       stead plan run NAME [--targets SEL] [--var K=V]... [--wait] [--json]

Shows what a change will do to the fleet, or runs a saved job plan.

stead plan DIR shows what the manifest checkout DIR would change on the fleet if it were
published: every host compiled under it and under the live revision, the resources that
differ and diffs of rendered files (files whose content depends on a secret show none), and
the hosts whose catalog would not compile. Nothing is stored or published. Needs an admin
token (the checkout's templates are rendered with the server's secrets).

stead plan run NAME launches a job from a saved job plan: its steps on its default targets (or
--targets), with job variables.

Options:
  --targets SEL     run on these hosts instead of the plan's default targets
  --var K=V         a job variable (repeatable): the top layer of variable precedence
  --wait            follow the job (a progress line per change on stderr) until it ends
  --json            JSON on stdout: the fleet plan object (stead plan DIR); the job (plan run;
                    with --wait: {id, state, hosts: [{host, state, exitCode, stdout, stderr}]})
  -h, --help        show this help

${connectionUsage}

Exit codes:
  0   the plan was computed and every host compiles; the job started (with --wait: every
      host succeeded)
  1   a host's catalog would not compile; --wait: the job failed, was cancelled or did not
      succeed on every host
  2   the server refused the request (the repository has errors, no such plan, invalid
      variables, refused by the audit)
  3   the token was refused or lacks the role
  4   the server could not be reached, timed out or failed
  64  usage error
  130 interrupted while waiting (the job keeps running)`;

const forms: Record<string, (args: string[], io: CliIo) => Promise<number>> = { run: runPlan };

export async function run(args: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === '-h' || first === '--help') {
    writeLine(first === undefined ? io.stderr : io.stdout, usage);
    return first === undefined ? operatorExitCodes.usage : operatorExitCodes.ok;
  }
  const form = Object.hasOwn(forms, first) ? forms[first] : undefined;
  if (form === undefined) return fleetPlan(args, io);
  return form(rest, io);
}

/** Longest request `stead plan DIR` waits for by default: a plan compiles every host twice. */
const defaultPlanTimeoutSeconds = '600';

async function fleetPlan(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...connectionOptions, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    writeLine(io.stdout, usage);
    return operatorExitCodes.ok;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'stead plan: give the manifest directory (stead plan DIR) or run NAME' : `stead plan takes one directory, got ${positionals.length} arguments`);
  const dir = resolve(io.cwd, positionals[0]!);
  let files: Record<string, string>;
  try {
    files = await readRepository(dir);
  } catch (err) {
    throw new UsageError(`cannot read the manifest directory ${positionals[0]!.slice(0, 200)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (Object.keys(files).length === 0) throw new UsageError(`${positionals[0]!.slice(0, 200)} holds no files`);
  const conn = { ...values, 'request-timeout': values['request-timeout'] ?? defaultPlanTimeoutSeconds };
  return withSession(io, 'plan', conn, async (s) => {
    const plan = await s.client.request<FleetPlan>('POST', '/revisions/plan', { files, encoding: 'base64' });
    if (s.json) printJson(io, plan);
    else printLines(io, planText(plan));
    return plan.summary.failed > 0 ? operatorExitCodes.failed : operatorExitCodes.ok;
  });
}

const marks: Record<string, string> = { create: '+', modify: '~', remove: '-' };

/** The human form of a fleet plan: a summary line, then each host that changes or fails with its resources and diffs. */
export function planText(plan: FleetPlan): string[] {
  const s = plan.summary;
  const short = (id: string | null | undefined): string => (id ? id.slice(0, 12) : 'nothing live');
  const out = [`plan of ${short(plan.target)} against ${short(plan.base)}: ${s.changed} of ${s.hosts} host(s) change (${s.resources} resource change(s)), ${s.unchanged} unchanged, ${s.failed} would fail to compile`];
  for (const h of plan.hosts) {
    if (h.status === 'unchanged') continue;
    out.push('', `${inert(h.host)}: ${h.status === 'changes' ? `${h.changes.length} change(s)` : h.status}`);
    for (const p of h.problems ?? []) out.push(`  ${inert(`${p.file}${p.line !== undefined ? `:${p.line}` : ''}${p.file ? ': ' : ''}${p.message}`).replace(/\n/g, ' ')}`);
    for (const c of h.changes) {
      const attrs = c.attributes && c.attributes.length > 0 ? ` (${c.attributes.join(', ')})` : '';
      out.push(`  ${marks[c.action] ?? '?'} ${inert(c.resource)}${inert(attrs)}${c.sensitive ? ' [sensitive: no diff]' : ''}`);
      // An added host's files are wholly new: their content is in --json, not repeated here.
      if (c.diff !== undefined && h.status !== 'added') for (const line of c.diff.replace(/\n$/, '').split('\n')) out.push(`      ${inert(line)}`);
    }
  }
  return out;
}

/** The POST /api/v1/plans/:id/run request of `stead plan run`. */
export function planRunRequest(args: string[]): { id: string; body: Record<string, unknown>; wait: boolean; values: Record<string, unknown> } | 'help' {
  const { values, positionals } = parse(args, { ...connectionOptions, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, targets: { type: 'string' }, var: { type: 'string', multiple: true }, wait: { type: 'boolean' } });
  if (values.help) return 'help';
  const id = oneId('plan NAME', positionals);
  if (values.targets !== undefined && values.targets.trim() === '') throw new UsageError('--targets is empty');
  const vars = keyValues('--var', values.var);
  const body = { ...(values.targets !== undefined ? { targets: values.targets } : {}), ...(Object.keys(vars).length > 0 ? { vars } : {}) };
  return { id, body, wait: values.wait === true, values };
}

async function runPlan(args: string[], io: CliIo): Promise<number> {
  const req = planRunRequest(args);
  if (req === 'help') {
    writeLine(io.stdout, usage);
    return operatorExitCodes.ok;
  }
  return withSession(io, 'plan run', req.values, async (s) => afterLaunch(s, await s.client.request('POST', `/plans/${encodeURIComponent(req.id)}/run`, req.body), req.wait));
}
