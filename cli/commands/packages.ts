/**
 * `stead packages`: tracked packages per host and the fleet view of versions (ADR 0018 §6,
 * docs/software.md); `track`/`untrack` a package with its approved version; `upgrade` a package
 * to its approved version as a job rollout of a resources step.
 */
import { UsageError, writeLine, type CliIo } from '../io.js';
import { commonOptions } from '../operator/actions.js';
import { count, keyValues, noPositionals, oneId, parse } from '../operator/args.js';
import { connectionUsage } from '../operator/connection.js';
import { OperatorError, operatorExitCodes } from '../operator/errors.js';
import { cell, printJson, printLines } from '../operator/output.js';
import { afterRolloutLaunch, refuseRolloutOption } from '../operator/rollout-launch.js';
import { RolloutOptionError, rolloutFlagOptions, rolloutPolicyFromFlags } from '../operator/rollout-view.js';
import { withSession } from '../operator/session.js';
import { packageLines, versionLines } from '../operator/software-view.js';

export const usage = `Usage: stead packages [--host H | --name P] [options]
       stead packages track NAME --manager M [--approved V] [--path P] [--version LABEL=SHA256]...
       stead packages untrack NAME --manager M
       stead packages upgrade NAME [--manager dpkg] [--targets SEL] [--to V]
                      [--batches EXPR [--gate manual|auto] [--wait-between S] [--max-failures N|P%]]
                      [--wait]

Lists the tracked packages each host runs against their approved version (status: up-to-date,
outdated, ahead, missing, unknown; versions ordered as the package manager orders them), and
with --name how many hosts run each version. Agents report them (docs/software.md).

  track     track a package (admin): dpkg, rpm, npm, pip or artifact; --approved is the version
            hosts should run; an artifact needs --path and may name versions by checksum
  untrack   stop tracking it
  upgrade   "upgrade to approved": a job rollout whose step applies the package at the approved
            version (or --to V) on --targets, by default every host reporting it older or missing;
            default batches 1,50%,100% (dpkg packages only)

Options:
  --host H           list: only this host
  --name P           list: only this package (with the fleet view of versions)
  --manager M        dpkg, rpm, npm, pip or artifact (list: a filter; track/untrack: required)
  --status S         list: only rows with this status
  --limit N          list: at most N rows (default 500); --after CURSOR for the next page
  --wait             upgrade: follow the rollout until it completes, is aborted or pauses
  --json             JSON on stdout: the API's answer
  -h, --help         show this help

${connectionUsage}

Exit codes:
  0   done (upgrade --wait: the rollout completed with no failed host)
  1   upgrade --wait: the rollout paused, was aborted or had failures
  2   the server refused the request (not tracked, nothing to upgrade, invalid)
  3   the token was refused or lacks the role (track, untrack and upgrade need admin)
  4   the server could not be reached, timed out or failed
  64  usage error`;

const managers = ['dpkg', 'rpm', 'npm', 'pip', 'artifact'];

function manager(v: string | undefined, required: boolean): string | undefined {
  if (v === undefined) {
    if (required) throw new UsageError('--manager is required: dpkg, rpm, npm, pip or artifact');
    return undefined;
  }
  if (!managers.includes(v)) throw new UsageError(`--manager must be one of ${managers.join(', ')}, got ${JSON.stringify(v.slice(0, 40))}`);
  return v;
}

const enc = encodeURIComponent;

export async function run(args: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = args;
  if (first === 'track') return track(rest, io);
  if (first === 'untrack') return untrack(rest, io);
  if (first === 'upgrade') return upgrade(rest, io);
  return list(args, io);
}

function help(io: CliIo): number {
  writeLine(io.stdout, usage);
  return operatorExitCodes.ok;
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, host: { type: 'string' }, name: { type: 'string' }, manager: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' }, after: { type: 'string' } });
  if (values.help) return help(io);
  noPositionals(positionals);
  if (values.host !== undefined && values.name !== undefined) throw new UsageError('give --host or --name, not both');
  const m = manager(values.manager, false);
  const limit = count('--limit', values.limit, 1, 5000);
  const q = new URLSearchParams();
  if (values.host !== undefined) q.set('host', values.host);
  if (values.name !== undefined) q.set('name', values.name);
  if (m !== undefined) q.set('manager', m);
  if (values.status !== undefined) q.set('status', values.status);
  if (limit !== undefined) q.set('limit', String(limit));
  if (values.after !== undefined) q.set('after', values.after);
  return withSession(io, 'packages', values, async (s) => {
    const answer = await s.client.request('GET', `/software/packages${q.size > 0 ? `?${q.toString()}` : ''}`);
    if (s.json) printJson(io, answer);
    else {
      printLines(io, packageLines(answer));
      if (values.name !== undefined) {
        writeLine(io.stdout, '');
        printLines(io, versionLines(answer));
      }
    }
    return operatorExitCodes.ok;
  });
}

async function track(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, manager: { type: 'string' }, approved: { type: 'string' }, path: { type: 'string' }, version: { type: 'string', multiple: true }, description: { type: 'string' } });
  if (values.help) return help(io);
  const name = oneId('package NAME', positionals);
  const m = manager(values.manager, true)!;
  const versions = values.version !== undefined ? keyValues('--version', values.version) : undefined;
  const body = {
    name,
    manager: m,
    ...(values.approved !== undefined ? { approved: values.approved } : {}),
    ...(values.path !== undefined ? { path: values.path } : {}),
    ...(versions !== undefined ? { versions } : {}),
    ...(values.description !== undefined ? { description: values.description } : {}),
  };
  return withSession(io, 'packages track', values, async (s) => {
    const answer = await s.client.request('PUT', `/software/packages/${enc(m)}/${enc(name)}`, body);
    if (s.json) printJson(io, answer);
    else writeLine(io.stdout, `Tracking ${cell(m)}/${cell(name, 128)}${values.approved !== undefined ? `, approved ${cell(values.approved, 128)}` : ''}`);
    return operatorExitCodes.ok;
  });
}

async function untrack(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, manager: { type: 'string' } });
  if (values.help) return help(io);
  const name = oneId('package NAME', positionals);
  const m = manager(values.manager, true)!;
  return withSession(io, 'packages untrack', values, async (s) => {
    await s.client.request('DELETE', `/software/packages/${enc(m)}/${enc(name)}`);
    if (s.json) printJson(io, { untracked: { name, manager: m } });
    else writeLine(io.stdout, `No longer tracking ${cell(m)}/${cell(name, 128)}`);
    return operatorExitCodes.ok;
  });
}

async function upgrade(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    ...commonOptions,
    manager: { type: 'string' },
    targets: { type: 'string' },
    to: { type: 'string' },
    wait: { type: 'boolean' },
    ...rolloutFlagOptions,
  });
  if (values.help) return help(io);
  const name = oneId('package NAME', positionals);
  const m = manager(values.manager, false) ?? 'dpkg';
  let policy;
  try {
    policy = rolloutPolicyFromFlags(values);
  } catch (err) {
    if (!(err instanceof RolloutOptionError)) throw err;
    return refuseRolloutOption(io, 'packages upgrade', err, values.json === true);
  }
  const body = { ...(values.targets !== undefined ? { targets: values.targets } : {}), ...(values.to !== undefined ? { version: values.to } : {}), ...(policy ? { policy } : {}) };
  return withSession(io, 'packages upgrade', values, async (s) => {
    const started = await s.client.request<{ rollout?: string; hosts?: unknown }>('POST', `/software/packages/${enc(m)}/${enc(name)}/upgrade`, body);
    if (typeof started?.rollout !== 'string') throw new OperatorError('BAD_RESPONSE', 'the server answered no rollout', operatorExitCodes.unavailable);
    if (!values.wait && !s.json) writeLine(io.stdout, `Upgrading ${cell(name, 128)} on ${Array.isArray(started.hosts) ? started.hosts.length : 0} host(s): rollout ${cell(started.rollout, 64)}`);
    const view = await s.client.request('GET', `/rollouts/${enc(started.rollout)}`);
    if (!values.wait && !s.json) {
      writeLine(io.stdout, `Follow it with: stead rollout show ${cell(started.rollout, 64)}`);
      return operatorExitCodes.ok;
    }
    return afterRolloutLaunch(s, view, values.wait === true);
  });
}
