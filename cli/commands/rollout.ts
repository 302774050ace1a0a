/**
 * `stead rollout list|show|continue|pause|abort|rollback`: canary rollouts of revisions and jobs
 * (docs/cli.md, ADR 0017; GET /api/v1/rollouts[/:id], POST /api/v1/rollouts/:id/<action>).
 */
import { UsageError, writeLine, type CliIo } from '../io.js';
import { commonOptions, runAction } from '../operator/actions.js';
import { count, noPositionals, oneId, parse } from '../operator/args.js';
import { connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { cell, printJson, printLines, table } from '../operator/output.js';
import { formatRollout, rolloutListHeaders, rolloutRow, stateLine, type RolloutLike } from '../operator/rollout-view.js';
import { withSession } from '../operator/session.js';

export const usage = `Usage: stead rollout <list|show|continue|pause|abort|rollback> [options]

Follows and steers canary rollouts (stead publish DIR --batches EXPR starts one of a revision,
stead job run ... --batches EXPR one of a job).

  stead rollout list [--limit N] [--json]
  stead rollout show ID [--json]
  stead rollout continue ID [--reason R] [--json]   approve the next batch (manual gate) or resume
  stead rollout pause ID [--reason R] [--json]      stop starting batches
  stead rollout abort ID [--reason R] [--json]      stop; every host back on the previous revision
                                                    (a job: its running batch job is cancelled)
  stead rollout rollback ID [--reason R] [--json]   make the previous revision live again

Options:
  --limit N     list: at most N rollouts (default 20)
  --reason R    why, for the audit log and the rollout
  --json        JSON on stdout: the API's rollout object (list: {rollouts, next})
  -h, --help    show this help

${connectionUsage}

Exit codes:
  0   done
  2   the server refused the request (no such rollout, not allowed in its state)
  3   the token was refused or lacks the role (actions need admin)
  4   the server could not be reached, timed out or failed
  64  usage error`;

export async function run(args: string[], io: CliIo): Promise<number> {
  return runAction(args, io, usage, {
    list,
    show,
    continue: action('continue'),
    pause: action('pause'),
    abort: action('abort'),
    rollback: action('rollback'),
  });
}

function help(io: CliIo): number {
  writeLine(io.stdout, usage);
  return operatorExitCodes.ok;
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, limit: { type: 'string' } });
  if (values.help) return help(io);
  noPositionals(positionals);
  const limit = count('--limit', values.limit, 1, 500) ?? 20;
  return withSession(io, 'rollout list', values, async (s) => {
    const answer = await s.client.request<{ rollouts?: unknown; next?: unknown }>('GET', `/rollouts?limit=${limit}`);
    if (s.json) {
      printJson(io, answer);
      return operatorExitCodes.ok;
    }
    const rollouts = Array.isArray(answer?.rollouts) ? (answer.rollouts as RolloutLike[]) : [];
    if (rollouts.length === 0) writeLine(io.stdout, 'No rollouts.');
    else printLines(io, table(rolloutListHeaders, rollouts.map(rolloutRow), 64));
    return operatorExitCodes.ok;
  });
}

async function show(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, commonOptions);
  if (values.help) return help(io);
  const id = oneId('rollout ID', positionals);
  return withSession(io, 'rollout show', values, async (s) => {
    const r = await s.client.request<RolloutLike>('GET', `/rollouts/${encodeURIComponent(id)}`);
    if (s.json) printJson(io, r);
    else printLines(io, formatRollout(r ?? {}));
    return operatorExitCodes.ok;
  });
}

const done = { continue: 'Continued', pause: 'Paused', abort: 'Aborted', rollback: 'Rolled back' } as const;

function action(name: 'continue' | 'pause' | 'abort' | 'rollback') {
  return async (args: string[], io: CliIo): Promise<number> => {
    const { values, positionals } = parse(args, { ...commonOptions, reason: { type: 'string' } });
    if (values.help) return help(io);
    const id = oneId('rollout ID', positionals);
    if (values.reason !== undefined && values.reason.length > 1000) throw new UsageError('--reason is longer than 1000 characters');
    return withSession(io, `rollout ${name}`, values, async (s) => {
      const r = await s.client.request<RolloutLike>('POST', `/rollouts/${encodeURIComponent(id)}/${name}`, values.reason !== undefined ? { reason: values.reason } : {});
      if (s.json) printJson(io, r);
      else writeLine(io.stdout, `${done[name]} rollout ${cell(id, 64)}: now ${stateLine(r ?? {})}`);
      return operatorExitCodes.ok;
    });
  };
}
