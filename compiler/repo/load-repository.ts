/**
 * Loading a manifest repository from a directory (layout: docs/manifest-repository.md):
 * stead.yaml, inventory/*.yaml, groups/<name>.yaml, roles/<name>/role.yaml, vars/global.yaml,
 * templates/, files/. Every file is parsed and checked, every mistake recorded with its file,
 * line, column and JSON pointer; loading itself only throws for an aborted signal. A repository
 * whose `problems` hold an error compiles nothing (compileHost refuses it as a whole).
 */
import { createHash } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RepoProblem } from '../../schemas/repo/problem.js';
import type { Group } from '../../schemas/repo/group.js';
import type { InventoryHost } from '../../schemas/repo/inventory.js';
import type { Role } from '../../schemas/repo/role.js';
import type { SteadConfig } from '../../schemas/repo/stead-config.js';
import type { Guard } from '../../schemas/validate.js';
import { parseManifestSource } from '../manifest/parse-manifest.js';
import type { ManifestProblem } from '../manifest/manifest-problem.js';
import { FORBIDDEN_KEYS, findForbiddenKeys, isVarMap, setOwn, type VarMap } from '../vars/merge.js';
import { isSecretValue } from '../vars/secret-value.js';
import { checkRepository } from './check-repository.js';
import { mergeInventoryRecord, OVERLAY_FILE, type InventoryOverlay } from './inventory-overlay.js';
import { groupGuard, inventoryFileGuard, roleGuard, steadConfigGuard } from './repo-guards.js';
import { normalizeProblems, problemAt } from './repo-problem.js';
import type { GroupEntry, HostEntry, Repository, RoleEntry } from './repository.js';
import { hashTree, maxRepoFileBytes, walkTree } from './walk-tree.js';
import { fromPointer, parseYamlFile, type YamlFile } from './yaml-file.js';

export interface LoadRepositoryOptions {
  readonly signal?: AbortSignal;
  /** The secret key (32 bytes); without it, compiles that need a secret fail with SECRET_KEY_MISSING. */
  readonly secretKey?: Buffer;
  /** Revision label for catalogs (e.g. a git commit); default: first 16 hex digits of the content hash. */
  readonly revision?: string;
  /** The store's inventory records merged over inventory/*.yaml (compiler/repo/inventory-overlay.ts). */
  readonly inventoryOverlay?: InventoryOverlay;
}

const YAML = /\.ya?ml$/;
const UNIT = /^[a-z][a-z0-9_-]{0,63}$/;
const ROLE = /^[a-z][a-z0-9_]{0,63}$/;

export async function loadRepository(dir: string, opts: LoadRepositoryOptions = {}): Promise<Repository> {
  const root = resolve(dir);
  const problems: RepoProblem[] = [];
  const yamlFiles = new Map<string, YamlFile>();
  const hosts = new Map<string, HostEntry>();
  const groups = new Map<string, GroupEntry>();
  const roles = new Map<string, RoleEntry>();
  let config: SteadConfig | undefined;
  let globalVars: Repository['globalVars'];
  const base = {
    root,
    templateRoot: join(root, 'templates'),
    filesRoot: join(root, 'files'),
    secretKey: opts.secretKey,
    memo: new Map<string, unknown>(),
  };

  const marker = await lstat(join(root, 'stead.yaml')).catch(() => undefined);
  if (!marker?.isFile()) {
    problems.push({ code: 'NOT_A_REPOSITORY', severity: 'error', file: 'stead.yaml', path: '', message: `${root} is not a manifest repository: it has no stead.yaml (write "stead: 1" in it)` });
    return { ...base, revision: opts.revision ?? 'invalid', contentHash: '', config, hosts, groups, roles, globalVars, yamlFiles, problems };
  }

  const tree = await walkTree(root, opts.signal);
  for (const rel of tree.refused) {
    problems.push({ code: 'SYMLINK_REFUSED', severity: 'error', file: rel, path: '', message: 'symbolic links and special files are not allowed in a manifest repository; copy the file in instead' });
  }
  for (const f of tree.files) {
    if (f.size > maxRepoFileBytes) problems.push({ code: 'READ_FAILED', severity: 'error', file: f.path, path: '', message: `the file is ${f.size} bytes; the limit is ${maxRepoFileBytes}` });
  }
  const treeHash = await hashTree(root, tree.files, opts.signal);
  const contentHash = opts.inventoryOverlay ? createHash('sha256').update(treeHash).update('\0inventory\0').update(opts.inventoryOverlay.digest).digest('hex') : treeHash;

  const read = async (rel: string): Promise<YamlFile | undefined> => {
    let text: string;
    try {
      const buf = await readFile(join(root, rel), opts.signal ? { signal: opts.signal } : {});
      text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      problems.push({ code: 'READ_FAILED', severity: 'error', file: rel, path: '', message: `cannot read: ${err instanceof TypeError ? 'not valid UTF-8 text' : (err as Error).message}` });
      return undefined;
    }
    const yf = parseYamlFile(rel, text.startsWith('\uFEFF') ? text.slice(1) : text);
    yamlFiles.set(rel, yf);
    problems.push(...yf.problems);
    if (yf.problems.length > 0) return undefined;
    for (const p of findForbiddenKeys(yf.value)) {
      problems.push(problemAt(rel, yf.locate, p, 'VAR_FORBIDDEN_KEY', `key "${String(p[p.length - 1])}" is not allowed anywhere in a repository (it could pollute object prototypes)`));
    }
    return yf;
  };
  const checkShape = <T>(yf: YamlFile, guard: Guard<T>, skip?: (pointer: string) => boolean): T | undefined => {
    const found = guard.check(yf.value).filter((p) => !skip?.(p.path));
    for (const p of found) problems.push(problemAt(yf.path, yf.locate, fromPointer(p.path), 'INVALID_VALUE', p.message));
    return found.length === 0 ? (yf.value as T) : undefined;
  };

  // stead.yaml
  const cfgFile = await read('stead.yaml');
  if (cfgFile) config = checkShape(cfgFile, steadConfigGuard);

  const paths = tree.files.map((f) => f.path);

  // vars/global.yaml: the file is the variables map.
  for (const rel of paths.filter((p) => p.startsWith('vars/') && YAML.test(p))) {
    if (rel !== 'vars/global.yaml' && rel !== 'vars/global.yml') {
      problems.push({ code: 'INVALID_VALUE', severity: 'warning', file: rel, path: '', message: 'ignored: the vars/ folder holds only global.yaml (group and host variables live in groups/ and inventory/)' });
      continue;
    }
    const yf = await read(rel);
    if (!yf) continue;
    if (yf.value === null) globalVars = { file: rel, vars: {} };
    else if (!isVarMap(yf.value)) problems.push(problemAt(rel, yf.locate, [], 'INVALID_VALUE', 'vars/global.yaml must be a map of variable names to values'));
    else globalVars = { file: rel, vars: yf.value };
  }

  // inventory/*.yaml
  for (const rel of paths.filter((p) => p.startsWith('inventory/') && YAML.test(p))) {
    const yf = await read(rel);
    if (!yf) continue;
    // "db-1:" with nothing after it is a host without attributes.
    const hostsMap = isVarMap(yf.value) ? yf.value['hosts'] : undefined;
    if (isVarMap(hostsMap)) for (const k of Object.keys(hostsMap)) if (hostsMap[k] === null) setOwn(hostsMap, k, {});
    const inv = checkShape(yf, inventoryFileGuard);
    if (!inv) continue;
    for (const name of Object.keys(inv.hosts)) {
      const prev = hosts.get(name);
      if (prev) {
        problems.push(problemAt(rel, yf.locate, ['hosts', name], 'DUPLICATE_HOST', `host ${name} is also declared in ${prev.file}; declare each host once`));
        continue;
      }
      const record = inv.hosts[name] as InventoryHost;
      hosts.set(name, { name, file: rel, record });
    }
  }

  // groups/<name>.yaml
  for (const rel of paths.filter((p) => p.startsWith('groups/') && YAML.test(p))) {
    const name = rel.slice('groups/'.length).replace(YAML, '');
    const yf = await read(rel);
    if (!yf) continue;
    if (!UNIT.test(name)) {
      problems.push({ code: 'BAD_NAME', severity: 'error', file: rel, path: '', message: `group file name "${name}" must be a lowercase name (letter first, then a-z, 0-9, "_", "-"): the group is named after its file` });
      continue;
    }
    const def = checkShape<Group>(yf, groupGuard);
    if (!def) continue;
    groups.set(name, { name, file: rel, def, factBased: false });
  }

  // roles/<name>/role.yaml
  const roleDirs = new Set(paths.filter((p) => p.startsWith('roles/')).map((p) => p.split('/')[1] ?? ''));
  for (const name of [...roleDirs].sort()) {
    const rel = `roles/${name}/role.yaml`;
    if (!paths.includes(rel)) {
      problems.push({ code: 'INVALID_VALUE', severity: 'error', file: `roles/${name}`, path: '', message: `role folder roles/${name} has no role.yaml` });
      continue;
    }
    if (!ROLE.test(name) || FORBIDDEN_KEYS.has(name)) {
      const why = FORBIDDEN_KEYS.has(name) ? ` other than ${[...FORBIDDEN_KEYS].filter((k) => ROLE.test(k)).join(' or ')}` : '';
      problems.push({ code: 'BAD_NAME', severity: 'error', file: rel, path: '', message: `role name "${name}" must be a lowercase identifier (letter first, then a-z, 0-9, "_")${why}: it also names the variable holding the role's parameters` });
      continue;
    }
    const yf = await read(rel);
    if (!yf) continue;
    const def = checkShape<Role>(yf, roleGuard, (ptr) => ptr.startsWith('/resources/'));
    secretsIn(yf.value, [], (p) => problems.push(problemAt(rel, yf.locate, p, 'SECRET_IN_ROLE', 'secrets belong in variables (vars/, groups/, inventory/), not in a role: reference the variable from a template')));
    const text = await readFile(join(root, rel), 'utf8');
    const parsed = parseManifestSource(text, rel);
    const roleOnly = new Set(['/parameters', '/description']);
    const kept = parsed.problems.filter((mp) => {
      if (mp.code === 'UNKNOWN_PROPERTY' && roleOnly.has(mp.path)) return false; // role keys, checked by roleSchema
      if (mp.path === '/vars' || mp.path.startsWith('/vars/')) return false; // roleSchema reports "vars" as unknown in a role
      return true;
    });
    for (const mp of kept) {
      if (mp.code === 'YAML_SYNTAX' || mp.code === 'DUPLICATE_KEY' || mp.code === 'FORBIDDEN_KEY') continue; // reported by our own parse
      problems.push(fromManifestProblem(mp));
    }
    const manifest = { ...parsed, problems: kept };
    if (!def) continue;
    roles.set(name, { name, file: rel, def, manifest });
  }

  if (opts.inventoryOverlay) {
    for (const [name, store] of opts.inventoryOverlay.records) {
      const prev = hosts.get(name);
      hosts.set(name, { name, file: prev?.file ?? OVERLAY_FILE, record: mergeInventoryRecord(prev?.record, store), ...(prev ? { repositoryRecord: prev.record } : {}), inStore: true });
    }
  }
  problems.push(...checkRepository({ hosts, groups, roles, globalVars, yamlFiles }));
  const revision = opts.revision ?? treeHash.slice(0, 16);
  return { ...base, revision, contentHash, config, hosts: sortMap(hosts), groups: sortMap(groups), roles: sortMap(roles), globalVars, yamlFiles, problems: normalizeProblems(problems) };
}

/** A manifest-checker problem in repository form. */
export function fromManifestProblem(mp: ManifestProblem, host?: string): RepoProblem {
  return {
    code: mp.code,
    severity: mp.severity,
    file: mp.file,
    ...(mp.line > 0 ? { line: mp.line, column: mp.column } : {}),
    path: mp.path,
    ...(host !== undefined ? { host } : {}),
    message: mp.message,
  };
}

function secretsIn(value: unknown, at: (string | number)[], found: (p: (string | number)[]) => void): void {
  if (isSecretValue(value)) found(at);
  else if (Array.isArray(value)) value.forEach((v, i) => secretsIn(v, [...at, i], found));
  else if (isVarMap(value)) for (const k of Object.keys(value)) secretsIn((value as VarMap)[k], [...at, k], found);
}

function sortMap<V>(m: Map<string, V>): Map<string, V> {
  return new Map([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
