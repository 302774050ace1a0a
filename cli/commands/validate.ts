/**
 * `stead validate [DIR]` (or the older `--repo DIR`): check a whole manifest repository (every file, every host
 * compiled) and print every mistake as file:line:col path: message. Exit 1 on any error.
 */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openRepository, readDataFile } from '../../compiler/repo/open-repository.js';
import { formatRepoProblem } from '../../compiler/repo/repo-problem.js';
import { validateRepository } from '../../compiler/repo/validate-repository.js';
import type { VarMap } from '../../compiler/vars/merge.js';
import { exitCodes, UsageError, writeLine, type CliIo } from '../io.js';

export const validateUsage = `Usage: stead validate [DIR] [options]

Check a manifest repository as a whole: YAML, the shape of every file, references between
inventory, groups and roles, group cycles, variable conflicts, role parameters, and a compile
of every host (templates rendered). Every error is listed with file:line:col and a JSON pointer.

DIR is the manifest repository (default: the current directory), as for stead apply.

Options:
  --repo DIR        The same as DIR (kept for scripts written before DIR was positional)
  --facts-dir DIR   Facts per host: DIR/<host>.json or DIR/<host>.yaml (default: no facts)
  --key-file FILE   Secret key (default: $STEAD_SECRET_KEY_FILE)
  --json            Print {ok, revision, problems, hosts} as JSON
  -h, --help        Show this help

Exit codes: 0 valid (warnings allowed); 1 errors; 64 usage error.`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      repo: { type: 'string' },
      'facts-dir': { type: 'string' },
      'key-file': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    writeLine(io.stdout, validateUsage);
    return exitCodes.ok;
  }
  if (positionals.length > 1) throw new UsageError(`one repository directory, got ${positionals.length}`);
  if (positionals.length === 1 && values.repo !== undefined && resolve(io.cwd, values.repo) !== resolve(io.cwd, positionals[0]!)) {
    throw new UsageError(`give the repository once: DIR (${positionals[0]}) or --repo (${values.repo})`);
  }
  const dir = resolve(io.cwd, positionals[0] ?? values.repo ?? '.');
  const repo = await openRepository(dir, { keyFile: values['key-file'] && resolve(io.cwd, values['key-file']), env: io.env });
  const facts = new Map<string, VarMap>();
  if (values['facts-dir']) {
    const fdir = resolve(io.cwd, values['facts-dir']);
    for (const name of (await readdir(fdir)).sort()) {
      const m = /^(.+)\.(json|ya?ml)$/.exec(name);
      if (m && repo.hosts.has(m[1]!)) facts.set(m[1]!, await readDataFile(join(fdir, name), `facts of ${m[1]!}`));
    }
  }
  const v = validateRepository(repo, { factsFor: (h) => facts.get(h) });
  if (values.json) {
    writeLine(io.stdout, JSON.stringify(v, null, 2));
    return v.ok ? exitCodes.ok : exitCodes.failed;
  }
  for (const p of v.problems) writeLine(v.ok ? io.stdout : io.stderr, formatRepoProblem(p));
  const errors = v.problems.filter((p) => p.severity === 'error').length;
  const warnings = v.problems.length - errors;
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  const compiled = v.hosts.filter((h) => h.catalogId !== undefined).length;
  const summary = `${dir}: ${v.ok ? 'valid' : 'INVALID'}, revision ${v.revision}: ${compiled}/${v.hosts.length} hosts compiled; ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
  writeLine(v.ok ? io.stdout : io.stderr, summary);
  return v.ok ? exitCodes.ok : exitCodes.failed;
}
