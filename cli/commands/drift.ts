/**
 * `stead drift`: drift history — the drift events (detected by noop runs, repaired by corrective
 * changes, failed) of a host, of a resource across hosts, or of the fleet, since a time; and
 * with --top the most drifted resources. Events stay after the host is back in sync.
 */
import type { DriftEventList, TopDriftedList } from '../../schemas/api/dashboard.js';
import { UsageError, writeLine, type CliIo } from '../io.js';
import { count, noPositionals, parse } from '../operator/args.js';
import { commonOptions } from '../operator/actions.js';
import { connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { printJson, printLines, table } from '../operator/output.js';
import { withSession } from '../operator/session.js';

export const usage = `Usage: stead drift [--host H] [--resource R] [--kind K] [--since 7d] [--limit N] [--json]
       stead drift --top [--since 7d] [--limit N] [--json]

Drift history, newest first: every resource a run found drifted (detected: a noop run would
change it), put right (repaired: an apply run made a corrective change) or could not converge
(failed). A repaired drift stays listed after the host is back in sync, for the server's drift
retention (--drift-retention-days, default 90).

--top lists the resources with the most drift events over --since, with the number of hosts.

Options:
  --host H          one host's drift
  --resource R      one resource's drift across hosts, e.g. "file:/etc/motd"
  --kind K          detected, repaired or failed
  --since W         30m, 48h, 7d (default for --top), 2w, or an RFC 3339 time; default: all kept
  --limit N         at most N events (1-1000, default 100; every page is followed up to N) or
                    resources with --top (1-100, default 10)
  --top             the most drifted resources instead of events
  --json            JSON on stdout (GET /api/v1/drift or /api/v1/drift/top)
  -h, --help        show this help

${connectionUsage}

Exit codes:
  0   done
  2   the server refused the request (bad host, --since or --kind)
  3   the token was refused
  4   the server could not be reached, timed out or failed
  64  usage error`;

/** --since as the API takes it (a window or an RFC 3339 time); a usage error otherwise. */
export function sinceFlag(v: string): string {
  if (/^[1-9][0-9]{0,4}[mhdw]$/.test(v) || /^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(v)) return v;
  throw new UsageError(`--since: a window such as 30m, 48h, 7d, 2w, or an RFC 3339 time; got ${JSON.stringify(v.slice(0, 40))}`);
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, host: { type: 'string' }, resource: { type: 'string' }, kind: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' }, top: { type: 'boolean' } });
  if (values.help) {
    writeLine(io.stdout, usage);
    return operatorExitCodes.ok;
  }
  noPositionals(positionals);
  const q = new URLSearchParams();
  if (values.since !== undefined) q.set('since', sinceFlag(values.since));
  if (values.top === true) {
    if (values.host !== undefined || values.resource !== undefined || values.kind !== undefined) throw new UsageError('--top takes only --since and --limit');
    const limit = count('--limit', values.limit, 1, 100);
    if (limit !== undefined) q.set('limit', String(limit));
    return withSession(io, 'drift', values, async (s) => {
      const r = await s.client.request<TopDriftedList>('GET', `/drift/top?${q}`);
      if (s.json) printJson(io, r);
      else if (r.resources.length === 0) writeLine(io.stdout, `No drift since ${r.since}.`);
      else printLines(io, table(['RESOURCE', 'EVENTS', 'HOSTS', 'DETECTED', 'REPAIRED', 'FAILED', 'LAST'], r.resources.map((x) => [x.resource, x.events, x.hosts, x.byKind.detected, x.byKind.repaired, x.byKind.failed, x.lastAt]), 60));
      return operatorExitCodes.ok;
    });
  }
  if (values.kind !== undefined && !['detected', 'repaired', 'failed'].includes(values.kind)) throw new UsageError('--kind is detected, repaired or failed');
  if (values.host !== undefined) q.set('host', values.host);
  if (values.resource !== undefined) q.set('resource', values.resource);
  if (values.kind !== undefined) q.set('kind', values.kind);
  const limit = count('--limit', values.limit, 1, 1000) ?? 100;
  return withSession(io, 'drift', values, async (s) => {
    const events: DriftEventList['events'] = [];
    let cursor: string | undefined;
    do {
      const page = new URLSearchParams(q);
      page.set('limit', String(Math.min(limit - events.length, 1000)));
      if (cursor !== undefined) page.set('cursor', cursor);
      const r = await s.client.request<DriftEventList>('GET', `/drift?${page}`);
      events.push(...r.events);
      cursor = r.next;
    } while (cursor !== undefined && events.length < limit);
    if (s.json) printJson(io, { events, ...(cursor !== undefined ? { next: cursor } : {}) });
    else if (events.length === 0) writeLine(io.stdout, 'No drift recorded.');
    else printLines(io, table(['WHEN', 'HOST', 'RESOURCE', 'KIND', 'PROPERTIES', 'RUN'], events.map((e) => [e.at, e.host, e.resource, e.kind + (e.error !== undefined ? ` (${e.error})` : ''), e.changed.join(','), e.runId]), 60));
    return operatorExitCodes.ok;
  });
}
