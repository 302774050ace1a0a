/**
 * Template globals that describe other hosts: `groups` (group → member names) and `hostvars`
 * (host → its variables). Both come from the revision alone (inventory attributes, no facts of
 * other hosts), so a compile stays a pure function of (revision, host, facts, launch vars).
 * Other hosts' secrets are never revealed through hostvars: they appear as redaction markers.
 */
import { RUNTIME_OBJECT } from '../jinja/safe-access.js';
import { mergeLayers } from '../vars/merge-layers.js';
import { setOwn, type VarMap } from '../vars/merge.js';
import { redactSecrets } from '../vars/secrets.js';
import { hostLayers, rolesOfHost } from './host-layers.js';
import { groupsOfHost, inventoryGroupMembers } from './membership.js';
import type { HostEntry, Repository } from './repository.js';

/** `inventory`: the host's operator-set attributes (idc, set, env, ip, tags, attributes), as plain data. */
export function inventoryVar(host: HostEntry): VarMap {
  const r = host.record;
  const out: VarMap = {};
  setOwn(out, 'name', host.name);
  for (const k of ['idc', 'set', 'env', 'ip'] as const) if (r[k] !== undefined) setOwn(out, k, r[k]);
  setOwn(out, 'tags', [...(r.tags ?? [])]);
  setOwn(out, 'attributes', { ...(r.attributes ?? {}) });
  return out;
}

/** `groups` for one host's templates: inventory membership, plus this host in the fact-based groups it joined. */
export function groupsVar(repo: Repository, hostName: string, hostGroups: readonly string[]): VarMap {
  const out: VarMap = {};
  for (const [g, members] of inventoryGroupMembers(repo)) {
    const list = [...members];
    if (hostGroups.includes(g) && !list.includes(hostName)) list.push(hostName);
    setOwn(out, g, list.sort());
  }
  return out;
}

/** The variables of another host as templates see them (secrets redacted, no facts); memoized per revision. */
export function otherHostVars(repo: Repository, name: string): VarMap | undefined {
  const key = `hostvars:${name}`;
  const cached = repo.memo.get(key) as VarMap | undefined;
  if (cached) return cached;
  const host = repo.hosts.get(name);
  if (!host) return undefined;
  const groups = groupsOfHost(repo, host, undefined);
  const vars = redactSecrets(mergeLayers(hostLayers(repo, host, groups, rolesOfHost(repo, host, groups)))) as VarMap;
  setOwn(vars, 'inventory_hostname', name);
  setOwn(vars, 'inventory', inventoryVar(host));
  setOwn(vars, 'group_names', groups);
  deepFreeze(vars); // shared by every compile of this revision: templates must not change it
  repo.memo.set(key, vars);
  return vars;
}

/** The prototype of the hostvars view: not a plain object, so renderers never deep-copy all hosts' variables. */
class HostvarsView {}

/**
 * `hostvars`: a read-only view computing each host's variables on first access. It is marked as
 * a template runtime object (own properties readable, never deep-copied), since it refers to
 * itself through the current host's entry and would otherwise expand every host per render.
 */
export function hostvarsVar(repo: Repository, selfName: string, selfVars: VarMap): VarMap {
  const names = [...repo.hosts.keys()];
  const lookup = (prop: string | symbol): unknown => {
    if (prop === RUNTIME_OBJECT) return true;
    if (typeof prop !== 'string' || !repo.hosts.has(prop)) return undefined;
    return prop === selfName ? selfVars : otherHostVars(repo, prop);
  };
  return new Proxy(new HostvarsView() as VarMap, {
    get: (_t, prop) => lookup(prop),
    has: (_t, prop) => prop === RUNTIME_OBJECT || (typeof prop === 'string' && repo.hosts.has(prop)),
    ownKeys: () => [...names],
    getOwnPropertyDescriptor: (_t, prop) => (typeof prop === 'string' && repo.hosts.has(prop) ? { value: lookup(prop), enumerable: true, configurable: true, writable: false } : undefined),
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}
