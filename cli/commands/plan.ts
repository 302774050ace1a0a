/**
 * `stead plan run NAME`: launch a job from a saved job plan (docs/cli.md). `stead plan` has room
 * for more forms (a later issue adds `stead plan DIR`, the fleet plan of a manifest checkout):
 * `forms` maps each first word to its handler, and anything else is a usage error saying so.
 */
import { UsageError, writeLine, type CliIo } from '../io.js';
import { keyValues, oneId, parse } from '../operator/args.js';
import { connectionOptions, connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { afterLaunch } from '../operator/launch.js';
import { withSession } from '../operator/session.js';

export const usage = `Usage: stead plan run NAME [--targets SEL] [--var K=V]... [--wait] [--json]

Launches a job from a saved job plan: its steps on its default targets (or --targets), with
job variables. (The fleet plan of a manifest checkout, stead plan DIR, is not available yet.)

Options:
  --targets SEL     run on these hosts instead of the plan's default targets
  --var K=V         a job variable (repeatable): the top layer of variable precedence
  --wait            follow the job (a progress line per change on stderr) until it ends
  --json            JSON on stdout (with --wait: {id, state, hosts: [{host, state, exitCode,
                    stdout, stderr}]})
  -h, --help        show this help

${connectionUsage}

Exit codes:
  0   the job started; with --wait: every host succeeded
  1   --wait: the job failed, was cancelled or did not succeed on every host
  2   the server refused the request (no such plan, invalid variables, refused by the audit)
  3   the token was refused or lacks the role
  4   the server could not be reached, timed out or failed
  64  usage error (also: a stead plan form that does not exist yet)
  130 interrupted while waiting (the job keeps running)`;

const forms: Record<string, (args: string[], io: CliIo) => Promise<number>> = { run: runPlan };

export async function run(args: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === '-h' || first === '--help') {
    writeLine(first === undefined ? io.stderr : io.stdout, usage);
    return first === undefined ? operatorExitCodes.usage : operatorExitCodes.ok;
  }
  const form = Object.hasOwn(forms, first) ? forms[first] : undefined;
  if (form === undefined) {
    throw new UsageError(`"stead plan ${first.slice(0, 100)}" is not available yet: stead plan run NAME launches a saved job plan (the fleet plan of a manifest directory comes in a later version)`);
  }
  return form(rest, io);
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
