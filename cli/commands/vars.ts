/**
 * `stead vars show|explain|encrypt|keygen`: the variables of a host as YAML or as the flattened
 * key table, which layer gave a key its value and what it overrode, and secrets management.
 * Secrets are always shown as "[secret sha256:…]" markers here; nothing is decrypted.
 */
import { resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { hostVars } from '../../compiler/compile.js';
import { openRepository, readDataFile } from '../../compiler/repo/open-repository.js';
import { formatRepoProblem, hasRepoErrors } from '../../compiler/repo/repo-problem.js';
import { explainKey, type ExplainEntry } from '../../compiler/vars/explain.js';
import { flattenVars } from '../../compiler/vars/flatten.js';
import { parseKeyPath } from '../../compiler/vars/key-path.js';
import { encryptSecret, readKeyFile, writeNewKeyFile } from '../../compiler/vars/secret-box.js';
import { redactSecrets } from '../../compiler/vars/secrets.js';
import { exitCodes, UsageError, writeLine, type CliIo } from '../io.js';

export const varsUsage = `Usage: stead vars <show|explain|encrypt|keygen> [options]

Show and explain the merged variables of a host; encrypt secrets for manifests.

  stead vars show --host NAME [--flat] [--json]     The merged variables of a host
  stead vars explain --host NAME KEY [--json]       Which layer set KEY, and what it overrode
  stead vars encrypt --key-file FILE (--value-file FILE | --value TEXT)
                                                    Encrypt a secret; prints "!secret v1:…"
  stead vars keygen --key-file FILE                 Create a new secret key file (mode 0600)

Layers, lowest first: role parameter defaults < vars/global.yaml < IDC groups < set groups
< custom groups (by priority) < the host's inventory vars < launch variables.
KEY is a flattened key: region.mongodb.hosts, servers["db1.example.com"].port, list[0].

Options:
  --repo DIR          The manifest repository (default: the current directory)
  --host NAME         The host, as named in inventory/
  --facts FILE        Facts (JSON or YAML) for groups chosen by facts
  --vars FILE         Launch variables (JSON or YAML), the top layer
  --flat              show: the flattened key table instead of YAML
  --json              Machine-readable output
  --key-file FILE     encrypt/keygen: the secret key file
  --value-file FILE   encrypt: read the plaintext from FILE (/dev/stdin to pipe it)
  --value TEXT        encrypt: the plaintext (visible in shell history: prefer --value-file)
  -h, --help          Show this help

Exit codes: 0 done; 1 the repository has errors, the host is not in the inventory, KEY is
not set (explain), or the key file cannot be used; 64 usage error.`;

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
      flat: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'key-file': { type: 'string' },
      'value-file': { type: 'string' },
      value: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [sub, ...rest] = positionals;
  if (values.help || sub === undefined) {
    writeLine(sub === undefined && !values.help ? io.stderr : io.stdout, varsUsage);
    return values.help ? exitCodes.ok : exitCodes.usage;
  }
  const keyFile = values['key-file'] ? resolve(io.cwd, values['key-file']) : undefined;

  if (sub === 'keygen') {
    if (!keyFile) throw new UsageError('keygen needs --key-file FILE');
    try {
      await writeNewKeyFile(keyFile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        writeLine(io.stderr, `stead vars keygen: ${keyFile} exists; refusing to overwrite a key (secrets encrypted with it would be lost)`);
        return exitCodes.failed;
      }
      throw e;
    }
    writeLine(io.stdout, `wrote a new secret key to ${keyFile} (mode 0600); give it to the server, keep it out of the repository`);
    return exitCodes.ok;
  }
  if (sub === 'encrypt') {
    if (!keyFile) throw new UsageError('encrypt needs --key-file FILE');
    if ((values.value === undefined) === (values['value-file'] === undefined)) throw new UsageError('encrypt needs exactly one of --value-file FILE or --value TEXT');
    let plaintext = values.value ?? (await readFile(resolve(io.cwd, values['value-file']!), 'utf8'));
    if (values['value-file'] !== undefined) plaintext = plaintext.replace(/\r?\n$/, '');
    writeLine(io.stdout, `!secret ${encryptSecret(plaintext, await readKeyFile(keyFile))}`);
    return exitCodes.ok;
  }
  if (sub !== 'show' && sub !== 'explain') throw new UsageError(`unknown vars subcommand "${sub}" (show, explain, encrypt, keygen)`);
  if (!values.host) throw new UsageError('--host is required');
  const repo = await openRepository(resolve(io.cwd, values.repo ?? '.'), { env: io.env });
  if (hasRepoErrors(repo.problems)) {
    for (const p of repo.problems) writeLine(io.stderr, formatRepoProblem(p));
    writeLine(io.stderr, 'stead vars: the repository has errors (run stead validate)');
    return exitCodes.failed;
  }
  const facts = values.facts ? await readDataFile(resolve(io.cwd, values.facts), 'facts') : undefined;
  const launch = values.vars ? await readDataFile(resolve(io.cwd, values.vars), 'launch variables') : undefined;
  const hv = hostVars(repo, values.host, facts, launch);
  if (!hv) {
    writeLine(io.stderr, `stead vars: host ${values.host} is not in the inventory`);
    return exitCodes.failed;
  }

  if (sub === 'show') {
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const shown = redactSecrets(hv.merged);
    if (values.flat) {
      const rows = flattenVars(shown).filter((e) => e.path.length > 0);
      if (values.json) writeLine(io.stdout, JSON.stringify(Object.fromEntries(rows.map((r) => [r.key, r.value])), null, 2));
      else for (const r of rows) writeLine(io.stdout, `${r.key} = ${JSON.stringify(r.value)}`);
    } else if (values.json) {
      writeLine(io.stdout, JSON.stringify({ host: hv.host.name, groups: hv.groups, roles: hv.roles, layers: hv.layers.map((l) => l.id), vars: shown }, null, 2));
    } else {
      writeLine(io.stdout, `# ${hv.host.name}: groups ${hv.groups.join(', ') || '(none)'}; roles ${hv.roles.join(', ') || '(none)'}`);
      writeLine(io.stdout, `# layers, lowest first: ${hv.layers.map((l) => l.id).join(' < ')}`);
      io.stdout.write(toYaml(shown, { lineWidth: 0 }));
    }
    return exitCodes.ok;
  }

  // explain
  if (rest.length !== 1) throw new UsageError('explain needs exactly one KEY (e.g. region.mongodb.port)');
  const path = parseKeyPath(rest[0]!);
  if (!path) throw new UsageError(`"${rest[0]}" is not a key path (write a.b.c, a["x.y"], a[0])`);
  const ex = explainKey(hv.layers, path);
  const show = (v: unknown): string => JSON.stringify(redactSecrets(v));
  const entry = (e: ExplainEntry): object => ({ layer: e.layer, kind: e.kind, priority: e.priority, file: e.file, line: e.position?.line, column: e.position?.column, value: redactSecrets(e.value) });
  if (values.json) {
    writeLine(io.stdout, JSON.stringify({ host: hv.host.name, key: ex.key, found: ex.found, value: redactSecrets(ex.value), merged: ex.merged, winner: ex.winner && entry(ex.winner), overridden: ex.overridden.map(entry) }, null, 2));
    return ex.found ? exitCodes.ok : exitCodes.failed;
  }
  if (!ex.found) {
    writeLine(io.stderr, `${ex.key}: not set for ${hv.host.name} (layers: ${hv.layers.map((l) => l.id).join(' < ')})`);
    return exitCodes.failed;
  }
  const where = (e: ExplainEntry): string => `${e.layer} (${e.kind}${e.kind === 'idc' || e.kind === 'set' || e.kind === 'custom' ? `, priority ${e.priority}` : ''})${e.file ? ` ${e.file}${e.position ? `:${e.position.line}:${e.position.column}` : ''}` : ''}`;
  writeLine(io.stdout, `${ex.key} = ${show(ex.value)}`);
  if (ex.winner) writeLine(io.stdout, `  ${ex.merged ? 'merged, top layer' : 'set by'}   ${where(ex.winner)}`);
  for (const o of ex.overridden) writeLine(io.stdout, `  ${ex.merged ? 'merged with' : 'overrides'}  ${where(o)} = ${show(o.value)}`);
  return exitCodes.ok;
}
