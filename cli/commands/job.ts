/**
 * `stead job run|redo|show|list|cancel`: one-shot jobs on the server's hosts (docs/cli.md,
 * docs/adr/0014-jobs.md). Connection options in cli/operator/connection.ts.
 */
import { UsageError, writeLine, type CliIo } from '../io.js';
import { keyValues, lang, langOfFile, noPositionals, oneId, parse, readScript, seconds, count } from '../operator/args.js';
import { connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { afterLaunch, getJob } from '../operator/launch.js';
import { afterRolloutLaunch, refuseRolloutOption } from '../operator/rollout-launch.js';
import { RolloutOptionError, rolloutFlagOptions, rolloutPolicyFromFlags, type PolicyBody } from '../operator/rollout-view.js';
import { asJobView, formatJob, progressLine } from '../operator/job-view.js';
import { printJson, printLines, table, cell } from '../operator/output.js';
import { withSession } from '../operator/session.js';
import { commonOptions, runAction } from '../operator/actions.js';

export const usage = `Usage: stead job <run|redo|show|list|cancel> [options]

Runs a script on hosts chosen from the inventory, follows it, shows and redoes jobs.

  stead job run --targets SEL (--command CMD | --script FILE) [--lang shell|python]
                [--as ACCOUNT] [--param K=V]... [--timeout S] [--dry-run] [--include-inactive]
                [--wait] [--json]
                [--batches EXPR [--gate manual|auto] [--wait-between S] [--max-failures N|P%]]
  stead job redo ID (--failed | --all) [--wait] [--json]
  stead job show ID [--json]
  stead job list [--limit N] [--before CURSOR] [--json]
  stead job cancel ID [--json]

Options:
  --targets SEL      hosts: host:web-1,group:web,idc:sz,tag:canary,ip:10.0.0.5,attr:k=v,...
  --command CMD      a one-line shell script
  --script FILE      a script file (its language from --lang, else .py is python, else shell)
  --lang L           shell or python
  --as ACCOUNT       the execution account the script runs as
  --param K=V        a script parameter (repeatable)
  --timeout S        the script's time limit on each host, in seconds
  --dry-run          show what would run on which host; nothing runs
  --include-inactive also run on hosts whose lifecycle is not online (by default they are
                     left out and listed as unavailable)
  --wait             follow the job (a progress line per change on stderr) until it ends;
                     with --batches: follow the rollout until it completes, is aborted or
                     rolled back, or pauses (a line per batch state change on stderr)
  --batches EXPR     run in batches, one job per batch (a rollout): cumulative counts,
                     percentages and "+" steps: 1,10%,+20%,100% = one host, 10 %, then 20 %
                     more each time, the rest
  --gate G           manual: every batch after the first waits for stead rollout continue;
                     auto (default): the next batch follows when the last one succeeded
  --wait-between S   seconds to wait after a healthy batch (default 0)
  --max-failures N|P%  pause when failures exceed N hosts or P % of the hosts (per batch and
                     overall); default: any failure pauses
  --failed, --all    redo: the hosts that did not succeed, or every host
  --limit N          list: at most N jobs (default 20); --before CURSOR: the next page
  --json             JSON on stdout (run/redo --wait: {id, state, hosts: [{host, state,
                     exitCode, stdout, stderr}]}; run --batches: the rollout, as stead
                     rollout show ID --json prints it, with --wait the final one)
  -h, --help         show this help

${connectionUsage}

Exit codes:
  0   done; with --wait: every host succeeded (--batches: the rollout completed, no failure)
  1   --wait: the job failed, was cancelled or did not succeed on every host (--batches: the
      rollout paused, was aborted or had a failed host)
  2   the server refused the request (invalid, not found, refused by the safety audit), or an
      invalid --batches, --gate, --wait-between or --max-failures
  3   the token was refused or lacks the role
  4   the server could not be reached, timed out or failed
  64  usage error
  130 interrupted while waiting (the job or rollout keeps running)`;

const common = commonOptions;

export async function run(args: string[], io: CliIo): Promise<number> {
  return runAction(args, io, usage, { run: runJob, redo, show, list, cancel });
}

function help(io: CliIo): number {
  writeLine(io.stdout, usage);
  return operatorExitCodes.ok;
}

/** The launch body of `stead job run` (docs/adr/0014-jobs.md, the one-script shorthand). */
export async function launchBody(args: string[], io: CliIo): Promise<{ body: Record<string, unknown>; wait: boolean; values: Record<string, unknown> } | 'help'> {
  const { values, positionals } = parse(args, {
    ...common,
    targets: { type: 'string' },
    command: { type: 'string' },
    script: { type: 'string' },
    lang: { type: 'string' },
    as: { type: 'string' },
    param: { type: 'string', multiple: true },
    timeout: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'include-inactive': { type: 'boolean' },
    wait: { type: 'boolean' },
    ...rolloutFlagOptions,
  });
  if (values.help) return 'help';
  noPositionals(positionals);
  if (values.targets === undefined || values.targets.trim() === '') throw new UsageError('--targets SEL is required (for example --targets group:web)');
  if ((values.command === undefined) === (values.script === undefined)) throw new UsageError('give one of --command CMD or --script FILE');
  let source: string;
  let scriptLang = lang(values.lang);
  if (values.command !== undefined) {
    if (values.command.trim() === '') throw new UsageError('--command is empty');
    source = values.command;
    scriptLang ??= 'shell';
  } else {
    source = await readScript(io.cwd, values.script!);
    scriptLang ??= langOfFile(values.script!);
  }
  const params = keyValues('--param', values.param);
  if (values.as !== undefined && (values.as === '' || values.as.length > 64)) throw new UsageError('--as takes an account name (GET /api/v1/accounts lists them)');
  const timeout = seconds('--timeout', values.timeout, 1, 7 * 86400);
  const script = {
    lang: scriptLang,
    source,
    ...(Object.keys(params).length > 0 ? { params } : {}),
    ...(values.as !== undefined ? { account: values.as } : {}),
  };
  const body = {
    targets: values.targets,
    script,
    ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
    ...(values['dry-run'] ? { dryRun: true } : {}),
    ...(values['include-inactive'] ? { includeInactive: true } : {}),
  };
  if (values['dry-run'] && values.batches !== undefined) throw new UsageError('--dry-run and --batches do not go together: a dry run changes nothing, there is nothing to deliver in batches');
  return { body, wait: values.wait === true, values };
}

async function runJob(args: string[], io: CliIo): Promise<number> {
  const launch = await launchBody(args, io);
  if (launch === 'help') return help(io);
  const { body, wait, values } = launch;
  let policy: PolicyBody | undefined;
  try {
    policy = rolloutPolicyFromFlags(values);
  } catch (err) {
    // A bad --batches, --gate, … exits 2 before anything is sent, like the server's 400.
    if (!(err instanceof RolloutOptionError)) throw err;
    return refuseRolloutOption(io, 'job run', err, values['json'] === true);
  }
  // --batches: one job per batch, through the rollout engine (ADR 0017 §3).
  if (policy) return withSession(io, 'job run', values, async (s) => afterRolloutLaunch(s, await s.client.request('POST', '/rollouts', { job: body, policy }), wait));
  return withSession(io, 'job run', values, async (s) => afterLaunch(s, await s.client.request('POST', '/jobs', body), wait));
}

async function redo(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...common, failed: { type: 'boolean' }, all: { type: 'boolean' }, wait: { type: 'boolean' } });
  if (values.help) return help(io);
  const id = oneId('job ID', positionals);
  if (values.failed === values.all) throw new UsageError('give one of --failed (the hosts that did not succeed) or --all');
  return withSession(io, 'job redo', values, async (s) => afterLaunch(s, await s.client.request('POST', `/jobs/${encodeURIComponent(id)}/redo`, { hosts: values.failed ? 'failed' : 'all' }), values.wait === true));
}

async function show(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, common);
  if (values.help) return help(io);
  const id = oneId('job ID', positionals);
  return withSession(io, 'job show', values, async (s) => {
    const job = await getJob(s, id, true);
    if (s.json) printJson(io, job);
    else printLines(io, formatJob(job, { output: true }));
    return operatorExitCodes.ok;
  });
}

interface JobSummary {
  readonly id?: unknown;
  readonly name?: unknown;
  readonly state?: unknown;
  readonly createdBy?: unknown;
  readonly createdAt?: unknown;
  readonly targets?: unknown;
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...common, limit: { type: 'string' }, before: { type: 'string' } });
  if (values.help) return help(io);
  noPositionals(positionals);
  const limit = count('--limit', values.limit, 1, 500) ?? 20;
  const query = new URLSearchParams({ limit: String(limit), ...(values.before !== undefined ? { before: values.before } : {}) });
  return withSession(io, 'job list', values, async (s) => {
    const answer = await s.client.request<{ jobs?: unknown; next?: unknown }>('GET', `/jobs?${query.toString()}`);
    const jobs = Array.isArray(answer?.jobs) ? (answer.jobs as JobSummary[]) : [];
    if (s.json) {
      printJson(io, answer);
      return operatorExitCodes.ok;
    }
    if (jobs.length === 0) writeLine(io.stdout, 'No jobs.');
    else printLines(io, table(['ID', 'STATE', 'CREATED', 'BY', 'TARGETS', 'NAME'], jobs.map((j) => [j.id, j.state, j.createdAt, j.createdBy, j.targets, j.name])));
    if (typeof answer?.next === 'string') writeLine(io.stdout, `More: stead job list --before ${cell(answer.next, 200)}`);
    return operatorExitCodes.ok;
  });
}

async function cancel(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, common);
  if (values.help) return help(io);
  const id = oneId('job ID', positionals);
  return withSession(io, 'job cancel', values, async (s) => {
    const job = asJobView(await s.client.request('POST', `/jobs/${encodeURIComponent(id)}/cancel`), `job ${id}`);
    if (s.json) printJson(io, job);
    else writeLine(io.stdout, `Cancelling: ${progressLine(job)}`);
    return operatorExitCodes.ok;
  });
}
