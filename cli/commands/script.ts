/**
 * `stead script add|list|show`: the server's script library (docs/cli.md). A job runs a library
 * script by id; every change is a new immutable version.
 */
import { basename, extname } from 'node:path';
import { UsageError, writeLine, type CliIo } from '../io.js';
import { count, keyValues, lang, langOfFile, noPositionals, oneId, parse, readScript } from '../operator/args.js';
import { connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { cell, inert, printJson, printLines, table } from '../operator/output.js';
import { withSession } from '../operator/session.js';
import { commonOptions, runAction } from '../operator/actions.js';

export const usage = `Usage: stead script <add|list|show> [options]

Adds scripts to the server's library, searches it, and shows a script's source and versions.

  stead script add FILE [--name N] [--lang L] [--tag T]... [--param NAME[=DEFAULT]]... [--json]
  stead script list [--search Q] [--tag T] [--json]
  stead script show ID [--version N] [--json]

Options:
  --name N          the script's name (default: FILE without its extension); its id is the
                    name's slug
  --lang L          shell or python (default: .py is python, else shell)
  --tag T           a tag (repeatable)
  --param NAME[=DEFAULT]
                    a parameter the script declares, with its default (repeatable)
  --search Q        words that must all occur in the id, name, description or tags
  --version N       show: that version (default the newest)
  --json            JSON on stdout
  -h, --help        show this help

${connectionUsage}

Exit codes:
  0   done
  2   the server refused the request (invalid script, name taken, not found)
  3   the token was refused or lacks the role
  4   the server could not be reached, timed out or failed
  64  usage error`;

const common = commonOptions;

export async function run(args: string[], io: CliIo): Promise<number> {
  return runAction(args, io, usage, { add, list, show });
}

function help(io: CliIo): number {
  writeLine(io.stdout, usage);
  return operatorExitCodes.ok;
}

/** The POST /api/v1/scripts body of `stead script add`. */
export async function scriptBody(args: string[], io: CliIo): Promise<{ body: Record<string, unknown>; values: Record<string, unknown> } | 'help'> {
  const { values, positionals } = parse(args, { ...common, name: { type: 'string' }, lang: { type: 'string' }, tag: { type: 'string', multiple: true }, param: { type: 'string', multiple: true } });
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError('one script FILE is required');
  const file = positionals[0]!;
  const source = await readScript(io.cwd, file);
  if (source.trim() === '') throw new UsageError(`the script ${file} is empty`);
  const name = values.name ?? basename(file, extname(file));
  const tags = values.tag ?? [];
  if (new Set(tags).size !== tags.length) throw new UsageError('a --tag is given twice');
  const params = Object.entries(keyValues('--param', values.param, { valueOptional: true })).map(([n, d], i) => ({ name: n, ...(values.param![i]!.includes('=') ? { default: d } : {}) }));
  return {
    body: { name, lang: lang(values.lang) ?? langOfFile(file), source, ...(tags.length > 0 ? { tags } : {}), ...(params.length > 0 ? { params } : {}) },
    values,
  };
}

async function add(args: string[], io: CliIo): Promise<number> {
  const built = await scriptBody(args, io);
  if (built === 'help') return help(io);
  return withSession(io, 'script add', built.values, async (s) => {
    const view = await s.client.request<Record<string, unknown>>('POST', '/scripts', built.body);
    if (s.json) printJson(io, view);
    else writeLine(io.stdout, `Added script ${cell(view?.['id'], 64)} (${cell(view?.['name'], 100)}), version ${cell((view?.['version'] as { version?: unknown } | undefined)?.version ?? view?.['latest'] ?? 1, 10)}`);
    return operatorExitCodes.ok;
  });
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...common, search: { type: 'string' }, tag: { type: 'string' }, limit: { type: 'string' } });
  if (values.help) return help(io);
  noPositionals(positionals);
  const limit = count('--limit', values.limit, 1, 500);
  const query = new URLSearchParams({ ...(values.search !== undefined ? { q: values.search } : {}), ...(values.tag !== undefined ? { tag: values.tag } : {}), ...(limit !== undefined ? { limit: String(limit) } : {}) }).toString();
  return withSession(io, 'script list', values, async (s) => {
    const answer = await s.client.request<{ scripts?: unknown; total?: unknown }>('GET', `/scripts${query ? `?${query}` : ''}`);
    if (s.json) {
      printJson(io, answer);
      return operatorExitCodes.ok;
    }
    const rows = Array.isArray(answer?.scripts) ? (answer.scripts as Record<string, unknown>[]) : [];
    if (rows.length === 0) writeLine(io.stdout, 'No scripts.');
    else printLines(io, table(['ID', 'LANG', 'KIND', 'VERSION', 'TAGS', 'NAME'], rows.map((r) => [r['id'], r['lang'], r['kind'], r['latest'], Array.isArray(r['tags']) ? r['tags'].join(',') : '', r['name']])));
    if (typeof answer?.total === 'number' && answer.total > rows.length) writeLine(io.stdout, `${rows.length} of ${answer.total} scripts (--search or --tag narrows the list)`);
    return operatorExitCodes.ok;
  });
}

async function show(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...common, version: { type: 'string' } });
  if (values.help) return help(io);
  const id = oneId('script ID', positionals);
  const version = count('--version', values.version, 1, 1_000_000);
  return withSession(io, 'script show', values, async (s) => {
    const view = await s.client.request<Record<string, unknown>>('GET', `/scripts/${encodeURIComponent(id)}${version !== undefined ? `?version=${version}` : ''}`);
    if (s.json) {
      printJson(io, view);
      return operatorExitCodes.ok;
    }
    const v = (view?.['version'] ?? {}) as Record<string, unknown>;
    writeLine(io.stdout, `Script ${cell(view?.['id'], 64)}: ${cell(view?.['name'], 100)} (${cell(view?.['lang'], 10)}, ${cell(view?.['kind'], 10)})`);
    writeLine(io.stdout, `  version:  ${cell(v['version'], 10)} of ${cell(view?.['latest'], 10)}, by ${cell(v['author'], 64)} at ${cell(v['createdAt'], 40)}${typeof v['message'] === 'string' && v['message'] !== '' ? `: ${cell(v['message'], 200)}` : ''}`);
    if (typeof view?.['description'] === 'string' && view['description'] !== '') writeLine(io.stdout, `  about:    ${cell(view['description'], 200)}`);
    if (Array.isArray(view?.['tags']) && view['tags'].length > 0) writeLine(io.stdout, `  tags:     ${cell(view['tags'].join(', '), 200)}`);
    const params = Array.isArray(view?.['params']) ? (view['params'] as Record<string, unknown>[]) : [];
    for (const p of params) writeLine(io.stdout, `  param:    ${cell(p['name'], 64)}${typeof p['default'] === 'string' ? `=${cell(p['default'], 100)}` : ''}${p['required'] === true ? ' (required)' : ''}`);
    writeLine(io.stdout, '');
    if (typeof view?.['source'] === 'string') printLines(io, inert(view['source']).replace(/\n$/, '').split('\n'));
    return operatorExitCodes.ok;
  });
}
