/**
 * `stead collectors [list] | set NAME --file F | rm NAME`: operator collector scripts the agents
 * run each interval to find virtual resources (ADR 0018 §5). Admin only: they run as root on
 * every agent.
 */
import { promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError, writeLine, type CliIo } from '../io.js';
import { commonOptions } from '../operator/actions.js';
import { langOfFile, noPositionals, oneId, parse, seconds } from '../operator/args.js';
import { connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { cell, printJson, printLines, table } from '../operator/output.js';
import { withSession } from '../operator/session.js';

export const usage = `Usage: stead collectors [list] [--json]
       stead collectors set NAME --file SCRIPT [--lang shell|python] [--timeout S] [--description D]
       stead collectors rm NAME

Collector scripts run on every agent each collection interval, as root, with a deadline; each
prints {"resources":[{"kind":"vm","name":"…","state":"…"}]} and what it finds appears as
virtual resources of the host. Only admins may list, set or remove them.

Options:
  --file SCRIPT    set: the script (at most 64 KiB); --lang defaults from its extension (.py)
  --timeout S      set: kill it after S seconds (1-300, default 30)
  --json           JSON on stdout
  -h, --help       show this help

${connectionUsage}

Exit codes:
  0   done
  2   the server refused the request
  3   the token was refused or is not an admin's
  4   the server could not be reached, timed out or failed
  64  usage error`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = args;
  if (first === 'set') return set(rest, io);
  if (first === 'rm') return rm(rest, io);
  return list(first === 'list' ? rest : args, io);
}

function help(io: CliIo): number {
  writeLine(io.stdout, usage);
  return operatorExitCodes.ok;
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, commonOptions);
  if (values.help) return help(io);
  noPositionals(positionals);
  return withSession(io, 'collectors', values, async (s) => {
    const answer = await s.client.request<{ collectors?: unknown }>('GET', '/software/collectors');
    if (s.json) printJson(io, answer);
    else {
      const list = Array.isArray(answer?.collectors) ? (answer.collectors as Record<string, unknown>[]) : [];
      if (list.length === 0) writeLine(io.stdout, 'No collectors.');
      else printLines(io, table(['NAME', 'LANG', 'TIMEOUT', 'UPDATED', 'BY', 'DESCRIPTION'], list.map((c) => [c['name'], c['lang'], c['timeoutSeconds'] ?? 30, c['updatedAt'], c['updatedBy'], c['description']]), 64));
    }
    return operatorExitCodes.ok;
  });
}

async function set(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, file: { type: 'string' }, lang: { type: 'string' }, timeout: { type: 'string' }, description: { type: 'string' } });
  if (values.help) return help(io);
  const name = oneId('collector NAME', positionals);
  if (values.file === undefined) throw new UsageError('--file SCRIPT is required');
  if (values.lang !== undefined && values.lang !== 'shell' && values.lang !== 'python') throw new UsageError('--lang must be shell or python');
  const lang = values.lang ?? langOfFile(values.file);
  const path = resolve(io.cwd, values.file);
  const st = await fsp.stat(path).catch(() => undefined);
  if (!st?.isFile()) throw new UsageError(`--file ${values.file}: no such file`);
  if (st.size > 65536) throw new UsageError(`--file ${values.file}: larger than 64 KiB`);
  const source = await fsp.readFile(path, 'utf8');
  const timeoutSeconds = seconds('--timeout', values.timeout, 1, 300);
  const body = { name, lang, source, ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}), ...(values.description !== undefined ? { description: values.description } : {}) };
  return withSession(io, 'collectors set', values, async (s) => {
    const answer = await s.client.request('PUT', `/software/collectors/${encodeURIComponent(name)}`, body);
    if (s.json) printJson(io, answer);
    else writeLine(io.stdout, `Collector ${cell(name, 64)} set (${lang}); agents run it from their next tracking fetch`);
    return operatorExitCodes.ok;
  });
}

async function rm(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, commonOptions);
  if (values.help) return help(io);
  const name = oneId('collector NAME', positionals);
  return withSession(io, 'collectors rm', values, async (s) => {
    await s.client.request('DELETE', `/software/collectors/${encodeURIComponent(name)}`);
    if (s.json) printJson(io, { removed: name });
    else writeLine(io.stdout, `Collector ${cell(name, 64)} removed`);
    return operatorExitCodes.ok;
  });
}
