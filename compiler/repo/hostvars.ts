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
  for (const k of ['idc', 'set', 'env', 'ip', 'rack', 'business', 'kind', 'parent'] as const) if (r[k] !== undefined) setOwn(out, k, r[k]);
  if (r.ips !== undefined) setOwn(out, 'ips', [...r.ips]);
  setOwn(out, 'lifecycle', r.lifecycle ?? 'online');
  setOwn(out, 'tags', [...(r.tags ?? [])]);
  setOwn(out, 'attributes', { ...(r.attributes ?? {}) });
  return out;
}

/**
 * `groups` for one host's templates: group → sorted member names from the inventory, plus this
 * host in the fact-based groups it joined, and "all". A read-only runtime view (like hostvars):
 * the lists are shared, frozen, and never deep-copied per render.
 */
export function groupsVar(repo: Repository, hostName: string, hostGroups: readonly string[]): VarMap {
  const base = frozenGroupLists(repo);
  const members = groupMemberSets(repo);
  const extra = new Map<string, readonly string[]>();
  for (const g of hostGroups) {
    const list = base.get(g);
    if (list && !members.get(g)?.has(hostName)) extra.set(g, Object.freeze([...list, hostName].sort()));
  }
  return readOnlyView(memoized(repo, 'groupNames', () => Object.freeze([...base.keys()])), (name) => base.has(name), (name) => extra.get(name) ?? base.get(name));
}

/**
 * A value computed once per revision (repo.memo). Per-compile work that grows with the fleet
 * (a list or set of every host) made a compile O(hosts) and a whole-revision check O(hosts²):
 * at 30,000 hosts most of a publish went into copying host names (measured by bench:fleet).
 */
function memoized<T>(repo: Repository, key: string, make: () => T): T {
  let v = repo.memo.get(key) as T | undefined;
  if (v === undefined) {
    v = make();
    repo.memo.set(key, v);
  }
  return v;
}

function groupMemberSets(repo: Repository): ReadonlyMap<string, ReadonlySet<string>> {
  return memoized(repo, 'groupMemberSets', () => new Map([...frozenGroupLists(repo)].map(([g, list]) => [g, new Set(list)])));
}

function frozenGroupLists(repo: Repository): ReadonlyMap<string, readonly string[]> {
  const key = 'frozenGroupLists';
  const cached = repo.memo.get(key) as Map<string, readonly string[]> | undefined;
  if (cached) return cached;
  const out = new Map<string, readonly string[]>();
  for (const [g, members] of inventoryGroupMembers(repo)) out.set(g, Object.freeze([...members].sort()));
  repo.memo.set(key, out);
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

/** The prototype of template views: not a plain object, so renderers never deep-copy them. */
class TemplateView {}

/**
 * A read-only object over `keys` (shared, frozen; `has` answers membership without a copy),
 * computing each value on access. Marked as a template runtime object: templates read its own
 * properties (`x[k]`, `x.k`) but it is never deep-copied, which matters for views over the
 * whole fleet (and hostvars refers to itself through this host).
 */
function readOnlyView(keys: readonly string[], has: (k: string) => boolean, lookupKey: (k: string) => unknown): VarMap {
  const known = { has };
  const lookup = (prop: string | symbol): unknown => {
    if (prop === RUNTIME_OBJECT) return true;
    return typeof prop === 'string' && known.has(prop) ? lookupKey(prop) : undefined;
  };
  return new Proxy(new TemplateView() as VarMap, {
    get: (_t, prop) => lookup(prop),
    has: (_t, prop) => prop === RUNTIME_OBJECT || (typeof prop === 'string' && known.has(prop)),
    ownKeys: () => [...keys],
    getOwnPropertyDescriptor: (_t, prop) => (typeof prop === 'string' && known.has(prop) ? { value: lookup(prop), enumerable: true, configurable: true, writable: false } : undefined),
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
}

/** `hostvars`: host → its variables, computed on first access (this host: its own variables). */
export function hostvarsVar(repo: Repository, selfName: string, selfVars: VarMap): VarMap {
  return readOnlyView(memoized(repo, 'hostNames', () => Object.freeze([...repo.hosts.keys()])), (name) => repo.hosts.has(name), (name) => (name === selfName ? selfVars : otherHostVars(repo, name)));
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}
