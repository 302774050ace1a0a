/**
 * `stead revisions list|diff A B|activate ID`: the manifest history the server keeps (every
 * push, upload and activation is a commit, ADR 0017), what changed between two revisions, and
 * a rollback (docs/cli.md, docs/git.md).
 */
import { UsageError, writeLine, type CliIo } from '../io.js';
import { count, noPositionals, oneId, parse } from '../operator/args.js';
import { connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { cell, inert, printJson, printLines, table } from '../operator/output.js';
import { withSession } from '../operator/session.js';
import { commonOptions, runAction } from '../operator/actions.js';

export const usage = `Usage: stead revisions <list|diff|activate> [options]

Shows the manifest history of the server (pushes to /git/manifests.git, uploads and
activations, newest first), what changed between two revisions, and makes an earlier
revision live again (a rollback: a new commit whose tree equals that revision).

  stead revisions list [--limit N] [--json]
  stead revisions diff A B [--json]
  stead revisions activate ID [--json]

A revision is named by its id, a unique prefix of at least 12 hex characters (as the list
shows it), or "live".

Options:
  --limit N         list at most N entries (1-500, default 50)
  --json            JSON on stdout
  -h, --help        show this help

${connectionUsage}

Exit codes:
  0   done
  2   the server refused the request (unknown or ambiguous revision)
  3   the token was refused or lacks the role
  4   the server could not be reached, timed out or failed
  64  usage error`;

const common = commonOptions;

export async function run(args: string[], io: CliIo): Promise<number> {
  return runAction(args, io, usage, { list, diff, activate });
}

function help(io: CliIo): number {
  writeLine(io.stdout, usage);
  return operatorExitCodes.ok;
}

function revisionRef(what: string, v: string): string {
  if (v !== 'live' && !/^[0-9a-f]{12,64}$/.test(v)) throw new UsageError(`${what}: a revision id (at least 12 hex characters) or "live"; got ${JSON.stringify(v.slice(0, 80))}`);
  return v;
}

function short(v: unknown, n = 12): unknown {
  return typeof v === 'string' ? v.slice(0, n) : v;
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...common, limit: { type: 'string' } });
  if (values.help) return help(io);
  noPositionals(positionals);
  const limit = count('--limit', values.limit, 1, 500);
  return withSession(io, 'revisions list', values, async (s) => {
    const answer = await s.client.request<{ revisions?: unknown }>('GET', `/revisions${limit !== undefined ? `?limit=${limit}` : ''}`);
    if (s.json) {
      printJson(io, answer);
      return operatorExitCodes.ok;
    }
    const rows = Array.isArray(answer?.revisions) ? (answer.revisions as Record<string, unknown>[]) : [];
    if (rows.length === 0) writeLine(io.stdout, 'No revisions.');
    else printLines(io, table(['COMMIT', 'REVISION', 'LIVE', 'WHEN', 'BY', 'MESSAGE'], rows.map((r) => [short(r['commit'], 10), short(r['id']), r['live'] === true ? 'live' : '', r['createdAt'], r['author'] ?? r['createdBy'], r['message']]), 60));
    return operatorExitCodes.ok;
  });
}

async function diff(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, common);
  if (values.help) return help(io);
  if (positionals.length !== 2) throw new UsageError('give two revisions: stead revisions diff A B');
  const a = revisionRef('A', positionals[0]!);
  const b = revisionRef('B', positionals[1]!);
  return withSession(io, 'revisions diff', values, async (s) => {
    const answer = await s.client.request<{ a?: string; b?: string; files?: { path?: string; status?: string; diff?: string }[]; truncated?: boolean }>('GET', `/revisions/${encodeURIComponent(a)}/diff/${encodeURIComponent(b)}`);
    if (s.json) {
      printJson(io, answer);
      return operatorExitCodes.ok;
    }
    const files = Array.isArray(answer?.files) ? answer.files : [];
    if (files.length === 0) writeLine(io.stdout, `No differences between ${cell(short(answer?.a), 20)} and ${cell(short(answer?.b), 20)}.`);
    for (const f of files) {
      writeLine(io.stdout, `${cell(f.status, 10)} ${cell(f.path, 1024)}`);
      if (typeof f.diff === 'string' && f.diff !== '') writeLine(io.stdout, inert(f.diff).replace(/\n$/, ''));
    }
    if (answer?.truncated) writeLine(io.stdout, '(the diff was cut to bound its size)');
    return operatorExitCodes.ok;
  });
}

async function activate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, common);
  if (values.help) return help(io);
  const id = revisionRef('ID', oneId('revision', positionals));
  return withSession(io, 'revisions activate', values, async (s) => {
    const answer = await s.client.request<Record<string, unknown>>('POST', `/revisions/${encodeURIComponent(id)}/activate`);
    if (s.json) printJson(io, answer);
    else writeLine(io.stdout, `Revision ${cell(short(answer?.['id']), 20)} is live${typeof answer?.['commit'] === 'string' ? ` (commit ${cell(short(answer['commit'], 10), 20)})` : ''}.`);
    return operatorExitCodes.ok;
  });
}
