/**
 * `stead compile --host H [--repo DIR]`: compile one host's catalog from a manifest repository
 * and print it (resources with ids and content references; --json: the catalog itself).
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { resourceId } from '../../schemas/index.js';
import { compileHost } from '../../compiler/compile.js';
import { openRepository, readDataFile } from '../../compiler/repo/open-repository.js';
import { formatRepoProblem } from '../../compiler/repo/repo-problem.js';
import { exitCodes, UsageError, writeLine, type CliIo } from '../io.js';

export const compileUsage = `Usage: stead compile --host NAME [options]

Compile the catalog of one host from a manifest repository: roles from its groups, variables
merged, templates rendered, file contents as sha256 blob references.

Options:
  --repo DIR        The manifest repository (default: the current directory)
  --host NAME       The host, as named in inventory/
  --facts FILE      Facts of the host (JSON or YAML map), as its agent would report them
  --vars FILE       Launch variables (JSON or YAML map), above every other layer
  --key-file FILE   Secret key (default: $STEAD_SECRET_KEY_FILE)
  --revision REV    Revision label for the catalog (default: content hash of the repository)
  --json            Print the catalog as JSON (schema: urn:stead:catalog)
  -h, --help        Show this help

Exit codes: 0 compiled; 1 the repository or the host has errors (each printed as
file:line:col path: message); 64 usage error.`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      repo: { type: 'string' },
      host: { type: 'string' },
      facts: { type: 'string' },
      vars: { type: 'string' },
      'key-file': { type: 'string' },
      revision: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    writeLine(io.stdout, compileUsage);
    return exitCodes.ok;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.host) throw new UsageError('--host is required');
  const dir = resolve(io.cwd, values.repo ?? '.');
  const repo = await openRepository(dir, { keyFile: values['key-file'] && resolve(io.cwd, values['key-file']), env: io.env, revision: values.revision });
  const facts = values.facts ? await readDataFile(resolve(io.cwd, values.facts), 'facts') : {};
  const launch = values.vars ? await readDataFile(resolve(io.cwd, values.vars), 'launch variables') : undefined;
  const r = compileHost(repo, values.host, facts, launch);
  for (const p of r.problems) writeLine(io.stderr, formatRepoProblem(p));
  if (!r.catalog) {
    const n = r.problems.filter((p) => p.severity === 'error').length;
    writeLine(io.stderr, `stead compile: ${values.host}: ${n} error${n === 1 ? '' : 's'}; no catalog`);
    return exitCodes.failed;
  }
  if (values.json) {
    writeLine(io.stdout, JSON.stringify(r.catalog, null, 2));
    return exitCodes.ok;
  }
  const c = r.catalog;
  writeLine(io.stdout, `catalog ${c.id}`);
  writeLine(io.stdout, `host ${c.host}, revision ${c.revision}, ${c.resources.length} resource${c.resources.length === 1 ? '' : 's'}`);
  writeLine(io.stdout, `groups: ${r.groups.join(', ') || '(none)'}`);
  writeLine(io.stdout, `roles: ${r.roles.join(', ') || '(none)'}`);
  writeLine(io.stdout, '');
  const ids = c.resources.map((res) => resourceId(res));
  const width = Math.min(60, Math.max(...ids.map((i) => i.length), 0));
  c.resources.forEach((res, i) => {
    const src = res.type === 'file' && res.source !== undefined ? res.source : '';
    const flags = (res as { sensitive?: unknown }).sensitive === true ? ' (sensitive)' : '';
    writeLine(io.stdout, `  ${ids[i]!.padEnd(width)}  ${src}${flags}`.trimEnd());
  });
  return exitCodes.ok;
}
