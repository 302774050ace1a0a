/**
 * `stead dashboard`: the console's dashboard on the command line — fleet compliance now, failing
 * and drifted hosts, running jobs and rollouts, and the most drifted resources over a window.
 */
import type { DashboardView } from '../../schemas/api/dashboard.js';
import { writeLine, type CliIo } from '../io.js';
import { count, noPositionals, parse } from '../operator/args.js';
import { commonOptions } from '../operator/actions.js';
import { connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { inert, printJson, printLines, table } from '../operator/output.js';
import { withSession } from '../operator/session.js';
import { sinceFlag } from './drift.js';

export const usage = `Usage: stead dashboard [--since 7d] [--limit N] [--json]

Fleet compliance now (hosts per state and the share in sync), the failing and drifted hosts,
running jobs and rollouts, and the resources that drifted most over --since (drift events and
distinct hosts). The same figures as the console's overview.

Options:
  --since W         window of the most-drifted list: 30m, 48h, 7d (default), 2w, or an RFC 3339 time
  --limit N         rows per list (1-100, default 10)
  --json            the dashboard as JSON (GET /api/v1/dashboard)
  -h, --help        show this help

${connectionUsage}

Exit codes:
  0   done
  2   the server refused the request (bad --since)
  3   the token was refused
  4   the server could not be reached, timed out or failed
  64  usage error`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, since: { type: 'string' }, limit: { type: 'string' } });
  if (values.help) {
    writeLine(io.stdout, usage);
    return operatorExitCodes.ok;
  }
  noPositionals(positionals);
  const q = new URLSearchParams();
  if (values.since !== undefined) q.set('since', sinceFlag(values.since));
  const limit = count('--limit', values.limit, 1, 100);
  if (limit !== undefined) q.set('limit', String(limit));
  return withSession(io, 'dashboard', values, async (s) => {
    const d = await s.client.request<DashboardView>('GET', `/dashboard${q.size > 0 ? `?${q}` : ''}`);
    if (s.json) printJson(io, d);
    else printLines(io, dashboardText(d));
    return operatorExitCodes.ok;
  });
}

export function dashboardText(d: DashboardView): string[] {
  const c = d.fleet.counts;
  const out = [
    `Fleet: ${d.fleet.percent} % in sync of ${d.fleet.total} host(s) · revision ${d.revision !== undefined ? inert(d.revision.slice(0, 12)) : 'none published'} · ${d.at}`,
    `  in-sync ${c['in-sync']} · drifted ${c.drifted} · failing ${c.failing} · not-reporting ${c['not-reporting']} · unknown ${c.unknown}`,
    '',
    `Failing hosts (${d.failing.total}):`,
  ];
  if (d.failing.hosts.length === 0) out.push('  none');
  else out.push(...table(['HOST', 'LAST RUN', 'FAILED', 'GROUPS'], d.failing.hosts.map((h) => [h.host, h.lastRunAt ?? 'never', h.failed ?? '', h.groups.join(',')])).map((l) => `  ${l}`));
  out.push('', `Drifted hosts (${d.drifted.total}):`);
  if (d.drifted.hosts.length === 0) out.push('  none');
  else out.push(...table(['HOST', 'LAST RUN', 'DRIFTED', 'GROUPS'], d.drifted.hosts.map((h) => [h.host, h.lastRunAt ?? 'never', h.corrective ?? '', h.groups.join(',')])).map((l) => `  ${l}`));
  out.push('', `Running jobs (${d.jobs.total}):`);
  if (d.jobs.items.length === 0) out.push('  none');
  else out.push(...table(['JOB', 'NAME', 'STATE', 'HOSTS', 'BY'], d.jobs.items.map((j) => [j.id, j.name, j.state, j.hostCount, j.createdBy])).map((l) => `  ${l}`));
  out.push('', `Rollouts in progress (${d.rollouts.total}):`);
  if (d.rollouts.items.length === 0) out.push('  none');
  else out.push(...table(['ROLLOUT', 'KIND', 'STATE', 'BATCH', 'HOSTS', 'FAILURES'], d.rollouts.items.map((r) => [r.id, r.kind, r.state, `${r.batch}/${r.batches}`, r.hosts, r.failures])).map((l) => `  ${l}`));
  out.push('', `Most drifted resources since ${d.topDrifted.since}:`);
  if (d.topDrifted.items.length === 0) out.push('  none');
  else out.push(...table(['RESOURCE', 'EVENTS', 'HOSTS', 'DETECTED', 'REPAIRED', 'FAILED', 'LAST'], d.topDrifted.items.map((x) => [x.resource, x.events, x.hosts, x.byKind.detected, x.byKind.repaired, x.byKind.failed, x.lastAt]), 60).map((l) => `  ${l}`));
  return out;
}
