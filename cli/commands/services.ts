/**
 * `stead services`: tracked services per host — state, pid, uptime, user, drift and the last
 * operator action (ADR 0018 §7, docs/software.md); `track`/`untrack` a service.
 * Start, stop and restart are `stead service ACTION NAME --targets SEL`.
 */
import { UsageError, writeLine, type CliIo } from '../io.js';
import { commonOptions } from '../operator/actions.js';
import { count, noPositionals, oneId, parse } from '../operator/args.js';
import { connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { cell, printJson, printLines } from '../operator/output.js';
import { withSession } from '../operator/session.js';
import { serviceLines } from '../operator/software-view.js';

export const usage = `Usage: stead services [--host H] [--name S] [--drift] [options]
       stead services track NAME --kind systemd [--unit UNIT]
       stead services track NAME --kind process --pattern P [--user U] [--start CMD] [--stop CMD]
       stead services untrack NAME

Lists the tracked services each host runs: state (running, stopped, failed, restarting),
main pid, uptime, user, DRIFT when it stopped or failed without an operator asking, and the
last start/stop/restart asked for. Start, stop or restart them with "stead service".

  track     track a service (admin): a systemd unit (default NAME.service), or processes whose
            command line contains --pattern (or matches /regex/), with the commands that start
            and stop them
  untrack   stop tracking it

Options:
  --host H      list: only this host
  --name S      list: only this service
  --drift       list: only services in drift
  --limit N     list: at most N rows (default 500); --after CURSOR for the next page
  --json        JSON on stdout: the API's answer
  -h, --help    show this help

${connectionUsage}

Exit codes:
  0   done
  2   the server refused the request
  3   the token was refused or lacks the role (track and untrack need admin)
  4   the server could not be reached, timed out or failed
  64  usage error`;

const enc = encodeURIComponent;

export async function run(args: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = args;
  if (first === 'track') return track(rest, io);
  if (first === 'untrack') return untrack(rest, io);
  return list(args, io);
}

function help(io: CliIo): number {
  writeLine(io.stdout, usage);
  return operatorExitCodes.ok;
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, host: { type: 'string' }, name: { type: 'string' }, drift: { type: 'boolean' }, limit: { type: 'string' }, after: { type: 'string' } });
  if (values.help) return help(io);
  noPositionals(positionals);
  const limit = count('--limit', values.limit, 1, 5000);
  const q = new URLSearchParams();
  if (values.host !== undefined) q.set('host', values.host);
  if (values.name !== undefined) q.set('name', values.name);
  if (values.drift) q.set('drift', 'true');
  if (limit !== undefined) q.set('limit', String(limit));
  if (values.after !== undefined) q.set('after', values.after);
  return withSession(io, 'services', values, async (s) => {
    const answer = await s.client.request('GET', `/software/services${q.size > 0 ? `?${q.toString()}` : ''}`);
    if (s.json) printJson(io, answer);
    else printLines(io, serviceLines(answer));
    return operatorExitCodes.ok;
  });
}

async function track(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, kind: { type: 'string' }, unit: { type: 'string' }, pattern: { type: 'string' }, user: { type: 'string' }, start: { type: 'string' }, stop: { type: 'string' }, description: { type: 'string' } });
  if (values.help) return help(io);
  const name = oneId('service NAME', positionals);
  if (values.kind !== 'systemd' && values.kind !== 'process') throw new UsageError('--kind must be systemd or process');
  if (values.kind === 'process' && values.pattern === undefined) throw new UsageError('a process service needs --pattern');
  const body = {
    name,
    kind: values.kind,
    ...(values.unit !== undefined ? { unit: values.unit } : {}),
    ...(values.pattern !== undefined ? { pattern: values.pattern } : {}),
    ...(values.user !== undefined ? { user: values.user } : {}),
    ...(values.start !== undefined ? { start: values.start } : {}),
    ...(values.stop !== undefined ? { stop: values.stop } : {}),
    ...(values.description !== undefined ? { description: values.description } : {}),
  };
  return withSession(io, 'services track', values, async (s) => {
    const answer = await s.client.request('PUT', `/software/services/${enc(name)}`, body);
    if (s.json) printJson(io, answer);
    else writeLine(io.stdout, `Tracking ${values.kind} service ${cell(name, 128)}`);
    return operatorExitCodes.ok;
  });
}

async function untrack(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, commonOptions);
  if (values.help) return help(io);
  const name = oneId('service NAME', positionals);
  return withSession(io, 'services untrack', values, async (s) => {
    await s.client.request('DELETE', `/software/services/${enc(name)}`);
    if (s.json) printJson(io, { untracked: name });
    else writeLine(io.stdout, `No longer tracking ${cell(name, 128)}`);
    return operatorExitCodes.ok;
  });
}
