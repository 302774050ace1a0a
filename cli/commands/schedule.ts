/**
 * `stead schedule create|list|delete`: jobs the server launches on a schedule (docs/cli.md).
 * When: `--cron EXPR` or `--at TEXT` ("every day at 03:30"), in `--tz ZONE` (default UTC); the
 * server parses both and refuses what it cannot read.
 */
import { UsageError, writeLine, type CliIo } from '../io.js';
import { lang, langOfFile, noPositionals, oneId, parse, readScript } from '../operator/args.js';
import { connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { cell, printJson, printLines, table } from '../operator/output.js';
import { withSession } from '../operator/session.js';
import { commonOptions, runAction } from '../operator/actions.js';

export const usage = `Usage: stead schedule <create|list|delete> [options]

Creates, lists and deletes schedules: a job (a command, a script or a saved plan) the server
launches at the times given.

  stead schedule create --name N (--cron EXPR | --at TEXT) [--tz ZONE] --targets SEL
                        (--command CMD | --script FILE [--lang L] | --plan P) [--json]
  stead schedule list [--json]
  stead schedule delete N

Options:
  --name N          the schedule's name (unique)
  --cron EXPR       cron: "m h dom mon dow" (or with seconds first), @daily, @hourly, ...
  --at TEXT         the same in words: "every day at 03:30", "weekdays at 09:00",
                    "every mon,fri at 18:00", "once at 2026-12-24 09:00"
  --tz ZONE         IANA time zone of the times, e.g. Europe/Berlin; default UTC
  --targets SEL     the hosts (as for stead job run)
  --command CMD     a one-line shell script
  --script FILE     a script file (language from --lang, else .py is python, else shell)
  --plan P          a saved plan
  --json            JSON on stdout
  -h, --help        show this help

${connectionUsage}

Exit codes:
  0   done
  2   the server refused the request (invalid schedule, name taken, not found)
  3   the token was refused or lacks the role
  4   the server could not be reached, timed out or failed
  64  usage error`;

const common = commonOptions;

export async function run(args: string[], io: CliIo): Promise<number> {
  return runAction(args, io, usage, { create, list, delete: remove });
}

function help(io: CliIo): number {
  writeLine(io.stdout, usage);
  return operatorExitCodes.ok;
}

/** The POST /api/v1/schedules body of `stead schedule create`. */
export async function scheduleBody(args: string[], io: CliIo): Promise<{ body: Record<string, unknown>; values: Record<string, unknown> } | 'help'> {
  const { values, positionals } = parse(args, {
    ...common,
    name: { type: 'string' },
    cron: { type: 'string' },
    at: { type: 'string' },
    tz: { type: 'string' },
    targets: { type: 'string' },
    command: { type: 'string' },
    script: { type: 'string' },
    lang: { type: 'string' },
    plan: { type: 'string' },
  });
  if (values.help) return 'help';
  noPositionals(positionals);
  if (values.name === undefined || values.name.trim() === '') throw new UsageError('--name N is required');
  if ((values.cron === undefined) === (values.at === undefined)) throw new UsageError('give one of --cron EXPR or --at TEXT (like "every day at 03:30")');
  if (values.targets === undefined || values.targets.trim() === '') throw new UsageError('--targets SEL is required');
  const what = [values.command, values.script, values.plan].filter((v) => v !== undefined).length;
  if (what !== 1) throw new UsageError('give one of --command CMD, --script FILE or --plan P');
  if (values.lang !== undefined && values.plan !== undefined) throw new UsageError('--lang applies to --command and --script, not --plan');
  const spec = { ...(values.cron !== undefined ? { cron: values.cron } : { text: values.at! }), ...(values.tz !== undefined ? { tz: values.tz } : {}) };
  if (values.plan !== undefined) {
    const plan = { id: oneId('plan', [values.plan]), body: { targets: values.targets } };
    return { body: { name: values.name, spec, plan }, values };
  }
  const source = values.command ?? (await readScript(io.cwd, values.script!));
  if (source.trim() === '') throw new UsageError('the script is empty');
  const scriptLang = lang(values.lang) ?? (values.script !== undefined ? langOfFile(values.script) : 'shell');
  return { body: { name: values.name, spec, job: { targets: values.targets, script: { lang: scriptLang, source } } }, values };
}

async function create(args: string[], io: CliIo): Promise<number> {
  const built = await scheduleBody(args, io);
  if (built === 'help') return help(io);
  return withSession(io, 'schedule create', built.values, async (s) => {
    const created = await s.client.request<Record<string, unknown>>('POST', '/schedules', built.body);
    if (s.json) printJson(io, created);
    else {
      writeLine(io.stdout, `Created schedule ${cell(created?.['name'] ?? built.body['name'], 100)}${typeof created?.['description'] === 'string' ? `: ${cell(created['description'], 200)}` : ''}`);
      const next = created?.['nextRuns'];
      if (Array.isArray(next) && next.length > 0) writeLine(io.stdout, `Next runs: ${next.slice(0, 5).map((n) => cell(n, 40)).join(', ')}`);
    }
    return operatorExitCodes.ok;
  });
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, common);
  if (values.help) return help(io);
  noPositionals(positionals);
  return withSession(io, 'schedule list', values, async (s) => {
    const answer = await s.client.request<{ schedules?: unknown }>('GET', '/schedules');
    if (s.json) {
      printJson(io, answer);
      return operatorExitCodes.ok;
    }
    const rows = Array.isArray(answer?.schedules) ? (answer.schedules as Record<string, unknown>[]) : [];
    if (rows.length === 0) writeLine(io.stdout, 'No schedules.');
    else printLines(io, table(['NAME', 'WHEN', 'NEXT RUN', 'LAST RUN', 'ENABLED'], rows.map((r) => [r['name'], r['description'], first(r['nextRuns']), lastRun(r['lastRun']), r['enabled'] === false ? 'no' : 'yes']), 60));
    return operatorExitCodes.ok;
  });
}

async function remove(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, common);
  if (values.help) return help(io);
  const name = oneId('schedule name', positionals);
  return withSession(io, 'schedule delete', values, async (s) => {
    const answer = await s.client.request('DELETE', `/schedules/${encodeURIComponent(name)}`);
    if (s.json) printJson(io, answer ?? { deleted: name });
    else writeLine(io.stdout, `Deleted schedule ${cell(name, 100)}`);
    return operatorExitCodes.ok;
  });
}

function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

/** "j0mw… succeeded" or "error: …" of a schedule's newest fire. */
export function lastRun(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o['error'] === 'string') return `error: ${o['error']}`;
  return typeof o['jobId'] === 'string' ? `${o['jobId']}${typeof o['jobState'] === 'string' ? ` ${o['jobState']}` : ''}` : undefined;
}
