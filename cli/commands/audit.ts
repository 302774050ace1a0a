/**
 * `stead audit`: the audit log of the server — who changed what, when, from which address
 * (GET /api/v1/audit/events), newest first; a human table by default, --json for scripts.
 */
import { writeLine, type CliIo } from '../io.js';
import { count, noPositionals, parse } from '../operator/args.js';
import { connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { printJson, printLines, table } from '../operator/output.js';
import { withSession } from '../operator/session.js';
import { commonOptions } from '../operator/actions.js';

export const usage = `Usage: stead audit [options]

Lists the audit log of the server, newest first: every change operators made (publishing,
pushes, rollouts, jobs, approvals, inventory edits, scripts, schedules, settings, tokens,
logins), with who made it, when, and from which address.

  stead audit [--actor NAME] [--action ACTION] [--target TARGET] [--since T] [--until T]
              [--q TEXT] [--limit N] [--json]

Options:
  --actor NAME      only changes by this actor (an operator, "system", "schedule:<name>")
  --action ACTION   this action (job.launch), or a prefix ending in "." (job.)
  --target TARGET   this target (job:<id>, host:<name>, revision:<id>), or a prefix ending in "*"
  --since T         not before T: an age (90m, 24h, 7d, 2w) or an ISO 8601 time
  --until T         before T (same forms)
  --q TEXT          text anywhere in the event (the server examines at most 5000 events per page)
  --limit N         at most N events (1-5000, default 50)
  --json            JSON on stdout: { events, next? } (next: the cursor of older events)
  -h, --help        show this help

${connectionUsage}

Exit codes:
  0   done
  2   the server refused the request (a bad filter)
  3   the token was refused
  4   the server could not be reached, timed out or failed
  64  usage error`;

interface AuditEventOut {
  readonly at?: string;
  readonly actor?: string;
  readonly action?: string;
  readonly target?: string;
  readonly address?: string;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, actor: { type: 'string' }, action: { type: 'string' }, target: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, q: { type: 'string' }, limit: { type: 'string' } });
  if (values.help) {
    writeLine(io.stdout, usage);
    return operatorExitCodes.ok;
  }
  noPositionals(positionals);
  const limit = count('--limit', values.limit, 1, 5000) ?? 50;
  const query = new URLSearchParams();
  for (const k of ['actor', 'action', 'target', 'since', 'until', 'q'] as const) {
    const v = values[k];
    if (v !== undefined && v !== '') query.set(k, v);
  }
  return withSession(io, 'audit', values, async (s) => {
    const events: AuditEventOut[] = [];
    let next: string | undefined;
    // Pages of at most 500; a q search may answer short pages while there is more.
    for (let pages = 0; events.length < limit && pages < 200; pages++) {
      const q = new URLSearchParams(query);
      q.set('limit', String(Math.min(500, limit - events.length)));
      if (next !== undefined) q.set('cursor', next);
      const answer = await s.client.request<{ events?: AuditEventOut[]; next?: string }>('GET', `/audit/events?${q.toString()}`);
      events.push(...(Array.isArray(answer?.events) ? answer.events : []));
      next = typeof answer?.next === 'string' ? answer.next : undefined;
      if (next === undefined) break;
    }
    if (s.json) {
      printJson(io, { events, ...(next !== undefined ? { next } : {}) });
      return operatorExitCodes.ok;
    }
    if (events.length === 0) writeLine(io.stdout, 'No audit events.');
    else printLines(io, table(['TIME', 'ACTOR', 'ACTION', 'TARGET', 'ADDRESS'], events.map((e) => [e.at, e.actor, e.action, e.target, e.address ?? '']), 60));
    if (next !== undefined) writeLine(io.stderr, `(more: older events exist; raise --limit or narrow with --until ${events[events.length - 1]?.at ?? ''})`);
    return operatorExitCodes.ok;
  });
}
