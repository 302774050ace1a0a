/**
 * The variable layers and roles of one host: role parameter defaults < vars/global.yaml <
 * its IDC groups < set groups < custom groups (by priority) < its inventory vars < launch vars.
 */
import type { KeySegment } from '../vars/key-path.js';
import { setOwn, type VarMap } from '../vars/merge.js';
import { sortLayers, type VarLayer } from '../vars/var-layer.js';
import type { HostEntry, Repository } from './repository.js';

/** Roles of a host: those of its groups in layer order (each group's list in order), then its own; first occurrence kept. */
export function rolesOfHost(repo: Repository, host: HostEntry, groupNames: readonly string[]): string[] {
  const out: string[] = [];
  const add = (r: string): void => {
    if (!out.includes(r)) out.push(r);
  };
  for (const l of sortLayers(groupNames.map((n) => groupLayer(repo, n)))) {
    for (const r of repo.groups.get(l.id.slice('group:'.length))?.def.roles ?? []) add(r);
  }
  for (const r of host.record.roles ?? []) add(r);
  return out;
}

export function hostLayers(repo: Repository, host: HostEntry, groupNames: readonly string[], roles: readonly string[], launchVars?: VarMap): VarLayer[] {
  const layers: VarLayer[] = [];
  for (const name of roles) {
    const role = repo.roles.get(name);
    if (!role) continue;
    const params = role.def.parameters ?? {};
    const defaults: VarMap = {};
    for (const p of Object.keys(params)) if (params[p] && Object.hasOwn(params[p], 'default')) setOwn(defaults, p, params[p].default);
    const vars: VarMap = {};
    setOwn(vars, name, defaults);
    const yf = repo.yamlFiles.get(role.file);
    layers.push({
      id: `role:${name}`,
      kind: 'role',
      priority: 0,
      file: role.file,
      pointer: '/parameters',
      vars,
      locate: (path: readonly KeySegment[]) => yf?.locate(['parameters', ...(path.length > 1 ? [path[1]!, 'default', ...path.slice(2)] : [])]),
    });
  }
  if (repo.globalVars) {
    const yf = repo.yamlFiles.get(repo.globalVars.file);
    layers.push({ id: 'global', kind: 'global', priority: 0, file: repo.globalVars.file, pointer: '', vars: repo.globalVars.vars, locate: (p) => yf?.locate(p) });
  }
  for (const g of groupNames) layers.push(groupLayer(repo, g));
  const hyf = repo.yamlFiles.get(host.file);
  layers.push({
    id: `host:${host.name}`,
    kind: 'host',
    priority: 0,
    file: host.file,
    pointer: `/hosts/${host.name}/vars`,
    vars: (host.record.vars ?? {}) as VarMap,
    locate: (p) => hyf?.locate(['hosts', host.name, 'vars', ...p]),
  });
  if (launchVars) layers.push({ id: 'launch', kind: 'launch', priority: 0, vars: launchVars });
  return sortLayers(layers);
}

function groupLayer(repo: Repository, name: string): VarLayer {
  const g = repo.groups.get(name)!;
  const yf = repo.yamlFiles.get(g.file);
  return {
    id: `group:${name}`,
    kind: g.def.kind,
    priority: g.def.priority ?? 0,
    file: g.file,
    pointer: '/vars',
    vars: (g.def.vars ?? {}) as VarMap,
    locate: (p) => yf?.locate(['vars', ...p]),
  };
}
