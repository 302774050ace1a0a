/**
 * The catalog compiler for one host of a manifest repository:
 *
 *   compileHost(repo, host, facts, launchVars) → { catalog, blobs, problems }
 *
 * A pure function of (revision, the host's inventory record + facts, launch variables): roles
 * chosen by group membership, variables merged by precedence (conflicts reported), role
 * parameters checked, secrets decrypted only here, templates rendered by the catalog builder.
 * Template globals: the merged variables, `inventory_hostname`, `inventory`, `facts`, `groups`,
 * `group_names`, `hostvars`. File and exec resources whose result depends on a secret are
 * marked `sensitive: true`, so the engine redacts them. Nothing partial: with any error,
 * `catalog` is undefined. Callers must treat results as immutable (the cache shares them).
 */
import type { Catalog, Resource } from '../schemas/index.js';
import type { RepoProblem } from '../schemas/repo/problem.js';
import type { RoleParameter } from '../schemas/repo/role.js';
import { buildCatalog, catalogId, type BuildCatalogResult, type CatalogRenderer } from './catalog/build-catalog.js';
import { readConfined } from './catalog/confined-read.js';
import type { CatalogProblem } from './catalog/catalog-problem.js';
import { canonicalJson } from './catalog/canonical-json.js';
import { createRenderer } from './jinja/renderer.js';
import type { SourceLocation } from './manifest/manifest-problem.js';
import { finishManifests, type ParseResult, type SourcedResource } from './manifest/parse-manifest.js';
import { hostLayers, rolesOfHost } from './repo/host-layers.js';
import { groupsVar, hostvarsVar, inventoryVar } from './repo/hostvars.js';
import { fromManifestProblem } from './repo/load-repository.js';
import { groupsOfHost } from './repo/membership.js';
import { hasRepoErrors, normalizeProblems, problemAt } from './repo/repo-problem.js';
import type { HostEntry, Repository } from './repo/repository.js';
import { fenceFacts, sanitizeFacts } from './repo/sanitize-facts.js';
import { findConflicts } from './vars/conflicts.js';
import { explainKey } from './vars/explain.js';
import { formatKeyPath } from './vars/key-path.js';
import { mergeLayers } from './vars/merge-layers.js';
import { findForbiddenKeys, getPath, isVarMap, setOwn, type VarMap } from './vars/merge.js';
import { SecretError } from './vars/secret-box.js';
import { isSecretValue } from './vars/secret-value.js';
import { probeSecrets, revealSecrets, type RevealedSecret } from './vars/secrets.js';
import type { VarLayer } from './vars/var-layer.js';

export interface CompileResult {
  /** undefined when any problem is an error. */
  readonly catalog: Catalog | undefined;
  /** Blob contents referenced by the catalog, by "sha256:<hex>". */
  readonly blobs: ReadonlyMap<string, Buffer>;
  /** Errors and warnings, located, sorted; never holding a secret's plaintext. */
  readonly problems: readonly RepoProblem[];
  /** The host's groups and roles, for explanations. */
  readonly groups: readonly string[];
  readonly roles: readonly string[];
}

/** The variable layers and merged variables of a host (secrets still encrypted): for vars show/explain. */
export interface HostVars {
  readonly host: HostEntry;
  readonly groups: string[];
  readonly roles: string[];
  readonly layers: VarLayer[];
  readonly merged: VarMap;
}

/** Resolves a host's groups, roles and variable layers. undefined when the host is not in the inventory. */
export function hostVars(repo: Repository, hostName: string, facts?: unknown, launchVars?: VarMap): HostVars | undefined {
  const host = repo.hosts.get(hostName);
  if (!host) return undefined;
  const groups = groupsOfHost(repo, host, facts === undefined ? undefined : sanitizeFacts(facts));
  const roles = rolesOfHost(repo, host, groups);
  const layers = hostLayers(repo, host, groups, roles, launchVars);
  return { host, groups, roles, layers, merged: mergeLayers(layers) };
}

export function compileHost(repo: Repository, hostName: string, facts: unknown = {}, launchVars?: VarMap): CompileResult {
  return compileWith(repo, hostName, facts, launchVars, (roles) => {
    const roleSet = roleManifests(repo, roles);
    return { parse: roleSet.parse, locate: (cp) => roleSet.sourced[cp.index]?.locate(cp.path) };
  });
}

/**
 * For validation only (validate-repository.ts): compiles a host even when the repository has
 * load errors, with the roles that exist, so that one pass reports a template error beside an
 * unknown role. Its problems are the host's own (not the repository's); never serve its catalog.
 */
export function compileHostDespiteRepoErrors(repo: Repository, hostName: string, facts: unknown = {}): CompileResult {
  return compileWith(
    repo,
    hostName,
    facts,
    undefined,
    (roles) => {
      const roleSet = roleManifests(repo, roles);
      return { parse: roleSet.parse, locate: (cp) => roleSet.sourced[cp.index]?.locate(cp.path) };
    },
    true,
  );
}

/**
 * For one-shot catalogs (job steps): `resources` (already schema-checked, e.g. by
 * parseManifest) compiled for a host exactly as compileHost compiles its roles — the host's
 * merged variables with `launchVars` on top, secrets, template globals, sensitivity marking —
 * instead of the host's roles. `origin` names the resources in problems (e.g. "job 42 step 1").
 */
export function compileResourcesForHost(repo: Repository, hostName: string, resources: readonly Resource[], opts: { facts?: unknown; launchVars?: VarMap; origin?: string } = {}): CompileResult {
  const origin = opts.origin ?? '<resources>';
  const at = (index: number, relative: string): SourceLocation => ({ file: origin, line: 0, column: 0, path: `/resources/${index}${relative}` });
  return compileWith(repo, hostName, opts.facts ?? {}, opts.launchVars, () => ({
    parse: { problems: [], manifest: { files: [origin], vars: {}, resources: [...resources], origins: resources.map((_, i) => at(i, '')), locate: at } },
    locate: (cp) => at(cp.index, cp.path),
  }));
}

interface ResourceSource {
  readonly parse: ParseResult;
  /** Where the resource a catalog problem is about was written. */
  readonly locate: (cp: CatalogProblem) => { file: string; line: number; column: number; path: string } | undefined;
}

function compileWith(repo: Repository, hostName: string, facts: unknown, launchVars: VarMap | undefined, source: (roles: readonly string[]) => ResourceSource, despiteRepoErrors = false): CompileResult {
  const empty = { catalog: undefined, blobs: new Map<string, Buffer>(), groups: [], roles: [] };
  const repoErrors = repo.problems.filter((p) => p.severity === 'error');
  if (repoErrors.length > 0 && !despiteRepoErrors) return { ...empty, problems: repo.problems };
  const host = repo.hosts.get(hostName);
  if (!host) {
    return { ...empty, problems: [{ code: 'UNKNOWN_HOST', severity: 'error', file: 'inventory', path: '', host: hostName, message: `host ${hostName} is not in the inventory (inventory/*.yaml)` }] };
  }
  const problems: RepoProblem[] = despiteRepoErrors ? [] : [...repo.problems];
  const at = { host: hostName };
  if (launchVars) {
    for (const p of findForbiddenKeys(launchVars)) problems.push(problemAt('<launch vars>', undefined, p, 'VAR_FORBIDDEN_KEY', `launch variable key "${String(p[p.length - 1])}" is not allowed`, at));
    if (hasRepoErrors(problems)) return { ...empty, problems };
  }
  const fenced = fenceFacts(facts);
  const cleanFacts = fenced.facts;
  for (const w of fenced.withheld) {
    problems.push({ code: 'FACT_WITHHELD', severity: 'warning', file: 'facts', path: `/${w.path.split('.').join('/')}`, host: hostName, message: `fact ${w.path} reported by ${hostName} is withheld from group rules and templates: ${w.reason}` });
  }
  if (fenced.withheldCount > fenced.withheld.length) {
    problems.push({ code: 'FACT_WITHHELD', severity: 'warning', file: 'facts', path: '', host: hostName, message: `${fenced.withheldCount - fenced.withheld.length} more facts reported by ${hostName} are withheld (see docs/templates.md, Facts)` });
  }
  const hv = hostVars(repo, hostName, cleanFacts, launchVars)!;
  const { groups, layers, merged } = hv;
  // Unknown roles are load errors (UNKNOWN_ROLE); a compile despite them uses the others.
  const roles = despiteRepoErrors ? hv.roles.filter((r) => repo.roles.has(r)) : hv.roles;
  const result = (extra: Partial<CompileResult>): CompileResult => ({ ...empty, groups, roles, ...extra, problems: normalizeProblems(extra.problems ?? problems) });

  for (const c of findConflicts(layers)) {
    const a = c.first.locate?.(c.firstPath);
    const where = `${c.first.file ?? c.first.id}${a ? `:${a.line}` : ''}`;
    problems.push(
      problemAt(c.second.file ?? c.second.id, c.second.locate, c.secondPath, 'VAR_CONFLICT', `variable ${c.key} is set differently by ${c.second.id} and ${c.first.id} (${where}), both ${c.first.kind} groups with priority ${c.first.priority}; give one a higher priority or set it in one place`, at),
    );
  }
  problems.push(...checkParameters(repo, roles, layers, merged, hostName));
  const src = source(roles);
  for (const mp of src.parse.problems) problems.push(fromManifestProblem(mp, hostName));
  if (hasRepoErrors(problems) || !src.parse.manifest) return result({ problems });

  const used: RevealedSecret[] = [];
  let revealed: VarMap;
  try {
    revealed = revealSecrets(merged, repo.secretKey, used) as VarMap;
  } catch (e) {
    if (!(e instanceof SecretError)) throw e;
    const o = /at ([^\s:()]+):(\d+)/.exec(e.message);
    problems.push({ code: e.code, severity: 'error', file: o?.[1] ?? 'vars', ...(o ? { line: Number(o[2]), column: 1 } : {}), path: '', host: hostName, message: e.message });
    return result({ problems });
  }

  const resources = src.parse.manifest.resources;
  const build = (vars: VarMap): BuildCatalogResult =>
    buildCatalog({ resources, vars: withGlobals(repo, hostName, vars, cleanFacts, groups), host: hostName, revision: repo.revision, templateRoot: repo.templateRoot, filesRoot: repo.filesRoot, renderer: rendererFor(repo) });
  const built = build(revealed);
  const redact = (s: string): string => used.reduce((acc, u) => (u.plaintext.length >= 4 ? acc.split(u.plaintext).join(u.secret.redacted()) : acc), s);
  for (const cp of built.problems) problems.push(locateCatalogProblem(cp, src.locate(cp), hostName, redact));
  if (hasRepoErrors(problems) || !built.catalog) return result({ problems });

  let catalog = built.catalog;
  if (used.length > 0) catalog = markSensitive(catalog, resources, build(probeSecrets(merged) as VarMap), hostName);
  return result({ catalog, blobs: built.blobs, problems });
}

/**
 * One renderer per revision, searching templates/ only. Template text is read once per
 * revision (confined to templates/, as the catalog builder checks): a revision's checkout is
 * immutable, and re-reading 20 templates per host was a third of a cold compile.
 */
function rendererFor(repo: Repository): CatalogRenderer {
  let r = repo.memo.get('renderer') as CatalogRenderer | undefined;
  if (!r) {
    const inner = createRenderer({ searchPaths: [repo.templateRoot] });
    const texts = new Map<string, string>();
    r = {
      renderString: (source, vars, name) => inner.renderString(source, vars, name),
      renderFile: (relPath, vars) => {
        let text = texts.get(relPath);
        if (text === undefined) {
          try {
            text = readConfined(repo.templateRoot, relPath).toString('utf8');
          } catch {
            return inner.renderFile(relPath, vars); // let the renderer report it its way
          }
          texts.set(relPath, text);
        }
        return inner.renderString(text, vars, relPath);
      },
    };
    repo.memo.set('renderer', r);
  }
  return r;
}

/** The role files of a role set checked together (duplicate titles, references, cycles across roles); memoized. */
function roleManifests(repo: Repository, roles: readonly string[]): { parse: ParseResult; sourced: SourcedResource[] } {
  const key = `roles:${roles.join(',')}`;
  const cached = repo.memo.get(key) as { parse: ParseResult; sourced: SourcedResource[] } | undefined;
  if (cached) return cached;
  const files = roles.map((r) => repo.roles.get(r)!.manifest);
  const v = { parse: finishManifests(files), sourced: files.flatMap((f) => f.resources) };
  repo.memo.set(key, v);
  return v;
}

function withGlobals(repo: Repository, hostName: string, vars: VarMap, facts: VarMap, groups: readonly string[]): VarMap {
  const out: VarMap = {};
  for (const k of Object.keys(vars)) setOwn(out, k, vars[k]);
  setOwn(out, 'inventory_hostname', hostName);
  const host = repo.hosts.get(hostName);
  if (host) setOwn(out, 'inventory', inventoryVar(host));
  setOwn(out, 'facts', facts);
  setOwn(out, 'group_names', [...groups]);
  setOwn(out, 'groups', groupsVar(repo, hostName, groups));
  setOwn(out, 'hostvars', hostvarsVar(repo, hostName, out));
  return out;
}

const typeCheck: Record<NonNullable<RoleParameter['type']>, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string' || isSecretValue(v),
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  number: (v) => typeof v === 'number',
  boolean: (v) => typeof v === 'boolean',
  list: (v) => Array.isArray(v),
  map: (v) => isVarMap(v),
  any: () => true,
};

function checkParameters(repo: Repository, roles: readonly string[], layers: VarLayer[], merged: VarMap, hostName: string): RepoProblem[] {
  const out: RepoProblem[] = [];
  for (const name of roles) {
    const role = repo.roles.get(name)!;
    const locate = repo.yamlFiles.get(role.file)?.locate;
    const params = role.def.parameters ?? {};
    const ns = getPath(merged, [name]);
    if (ns.found && !isVarMap(ns.value)) {
      const w = explainKey(layers, [name]).winner;
      out.push({ code: 'PARAM_TYPE', severity: 'error', file: w?.file ?? role.file, ...(w?.position ? { line: w.position.line, column: w.position.column } : {}), path: '', host: hostName, message: `variable ${name} holds the parameters of role ${name}, so it must be a map` });
      continue;
    }
    for (const p of Object.keys(params)) {
      const spec = params[p]!;
      const got = getPath(merged, [name, p]);
      if (!got.found || got.value === null) {
        if (spec.required === true) out.push(problemAt(role.file, locate, ['parameters', p], 'PARAM_MISSING', `role ${name} needs parameter ${p}: set variable ${formatKeyPath([name, p])} for host ${hostName} (in vars/, a group or the inventory)`, { host: hostName }));
        continue;
      }
      const type = spec.type ?? 'any';
      if (!typeCheck[type](got.value)) {
        const w = explainKey(layers, [name, p]).winner;
        const shown = isSecretValue(got.value) ? got.value.redacted() : JSON.stringify(got.value);
        out.push({
          code: 'PARAM_TYPE',
          severity: 'error',
          file: w?.file ?? role.file,
          ...(w?.position ? { line: w.position.line, column: w.position.column } : {}),
          path: '',
          host: hostName,
          message: `parameter ${p} of role ${name} must be ${type === 'integer' ? 'an integer' : `a ${type}`}; ${w ? `${w.layer}` : 'a layer'} sets ${formatKeyPath([name, p])} to ${shown && shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`,
        });
      }
    }
  }
  return out;
}

function locateCatalogProblem(cp: CatalogProblem, loc: { file: string; line: number; column: number; path: string } | undefined, hostName: string, redact: (s: string) => string): RepoProblem {
  const message = redact(`${cp.id}: ${cp.message}`);
  if (cp.code === 'TEMPLATE_ERROR' && cp.path === '/template' && cp.template !== undefined) {
    return { code: cp.code, severity: 'error', file: `templates/${cp.template}`, ...(cp.line !== undefined ? { line: cp.line, column: cp.column ?? 1 } : {}), path: '', host: hostName, message };
  }
  return { code: cp.code, severity: 'error', file: loc?.file ?? 'roles', ...(loc && loc.line > 0 ? { line: loc.line, column: loc.column } : {}), path: loc?.path ?? cp.path, host: hostName, message };
}

/** Resources whose compiled form changes when secrets change get `sensitive: true`; the id is recomputed. */
function markSensitive(catalog: Catalog, inputs: readonly Resource[], probe: BuildCatalogResult, hostName: string): Catalog {
  const probeResources = probe.catalog?.resources;
  const resources = catalog.resources.map((r, i) => {
    const dependsOnSecret = probeResources ? canonicalJson(probeResources[i]) !== canonicalJson(r) : mayUseVars(inputs[i]);
    return dependsOnSecret && (r as { sensitive?: unknown }).sensitive !== true ? ({ ...r, sensitive: true } as Resource) : r;
  });
  return { ...catalog, resources, id: catalogId(hostName, resources) };
}

/** Conservative fallback when the probe compile failed: anything rendered may hold a secret. */
function mayUseVars(r: Resource | undefined): boolean {
  return r !== undefined && (r.type === 'file' ? r.template !== undefined || r.content !== undefined : r.type === 'exec');
}


