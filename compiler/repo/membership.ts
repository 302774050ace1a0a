/**
 * Group membership: static `hosts`, dynamic `match` rules (any rule; all conditions in a rule),
 * and `children` (members of a child are members). Inventory attributes are trusted; `facts:`
 * conditions read what the agent reported and only count when written under `facts:`.
 */
import type { MatchRule } from '../../schemas/repo/group.js';
import { BoundedRegex, RegexBudget } from '../regex/bounded-regex.js';
import { FORBIDDEN_KEYS, isVarMap } from '../vars/merge.js';
import type { HostEntry, Repository } from './repository.js';

/** Longest attribute or fact string a regex condition is tested against (bounds backtracking). */
const MAX_REGEX_SUBJECT = 1024;

/** Names of every group `host` belongs to, sorted. `facts` undefined: fact conditions never hold. */
export function groupsOfHost(repo: Repository, host: HostEntry, facts: unknown): string[] {
  const memo = new Map<string, boolean>();
  const member = (name: string, seen: Set<string>): boolean => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const g = repo.groups.get(name);
    if (!g || seen.has(name)) return false;
    seen.add(name);
    const v =
      (g.def.hosts ?? []).includes(host.name) ||
      (g.def.match ?? []).some((rule) => ruleMatches(rule, host, facts)) ||
      (g.def.children ?? []).some((c) => member(c, seen));
    seen.delete(name);
    memo.set(name, v);
    return v;
  };
  return [...repo.groups.keys()].filter((n) => member(n, new Set()));
}

/** group → member host names, from the inventory alone (no facts), plus "all"; memoized per revision. */
export function inventoryGroupMembers(repo: Repository): ReadonlyMap<string, readonly string[]> {
  const key = 'inventoryGroupMembers';
  const cached = repo.memo.get(key) as Map<string, string[]> | undefined;
  if (cached) return cached;
  const out = new Map<string, string[]>([...repo.groups.keys()].map((g) => [g, []]));
  for (const h of repo.hosts.values()) for (const g of groupsOfHost(repo, h, undefined)) out.get(g)!.push(h.name);
  out.set('all', [...repo.hosts.keys()]);
  repo.memo.set(key, out);
  return out;
}

export function ruleMatches(rule: MatchRule, host: HostEntry, facts: unknown): boolean {
  for (const [k, cond] of Object.entries(rule)) {
    if (k === 'facts') {
      if (!isVarMap(cond)) return false;
      for (const [path, c] of Object.entries(cond)) if (!conditionHolds(c, factAt(facts, path))) return false;
    } else if (!conditionHolds(cond, attribute(host, k))) return false;
  }
  return true;
}

/** An inventory attribute of a host by rule key. */
export function attribute(host: HostEntry, key: string): unknown {
  const r = host.record;
  switch (key) {
    case 'name':
      return host.name;
    case 'idc':
      return r.idc;
    case 'set':
      return r.set;
    case 'env':
      return r.env;
    case 'ip':
      return r.ip;
    case 'ips':
      return r.ips ?? (r.ip !== undefined ? [r.ip] : []);
    case 'rack':
      return r.rack;
    case 'business':
      return r.business;
    case 'product':
      return r.business?.split('/')[0];
    case 'module':
      return r.business?.includes('/') ? r.business.slice(r.business.indexOf('/') + 1) : undefined;
    case 'kind':
      return r.kind;
    case 'parent':
      return r.parent;
    case 'lifecycle':
      return r.lifecycle ?? 'online';
    case 'tags':
      return r.tags ?? [];
    default: {
      if (!key.startsWith('attributes.')) return undefined;
      const name = key.slice('attributes.'.length);
      return r.attributes && Object.hasOwn(r.attributes, name) ? r.attributes[name] : undefined;
    }
  }
}

/** A fact by dotted path (own properties only). */
export function factAt(facts: unknown, path: string): unknown {
  let cur = facts;
  for (const seg of path.split('.')) {
    if (FORBIDDEN_KEYS.has(seg)) return undefined;
    if (Array.isArray(cur) && /^\d+$/.test(seg)) cur = cur[Number(seg)];
    else if (typeof cur === 'object' && cur !== null && Object.hasOwn(cur, seg)) cur = (cur as Record<string, unknown>)[seg];
    else return undefined;
  }
  return cur;
}

type Scalar = string | number | boolean;

/** Whether a rule condition holds for a value (see schemas/repo/group.ts for the forms). */
export function conditionHolds(cond: unknown, value: unknown): boolean {
  const values: unknown[] = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  const scalars = values.filter((v): v is Scalar => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean').map(String);
  if (typeof cond === 'string' || typeof cond === 'number' || typeof cond === 'boolean') return scalars.includes(String(cond));
  if (Array.isArray(cond)) return cond.some((c) => scalars.includes(String(c)));
  if (!isVarMap(cond)) return false;
  if (Array.isArray(cond['in'])) return cond['in'].some((c) => scalars.includes(String(c)));
  if (Array.isArray(cond['notIn'])) return !cond['notIn'].some((c) => scalars.includes(String(c)));
  if (typeof cond['exists'] === 'boolean') return (value !== undefined && value !== null) === cond['exists'];
  if (typeof cond['regex'] === 'string') {
    let re: BoundedRegex;
    try {
      re = BoundedRegex.compile(cond['regex']);
    } catch {
      return false; // reported by checkRepository (BAD_REGEX)
    }
    // RE2 matches in linear time; subjects are short and each test has its own budget.
    return scalars.some((s) => s.length <= MAX_REGEX_SUBJECT && re.test(s, new RegexBudget()));
  }
  return false;
}

/** Why a host is in one group (ADR 0018: the host page lists every group with why). */
export interface GroupExplanation {
  readonly group: string;
  /** "listed in hosts", "rule 2 matched (idc=sz, tags contains canary)", "member of child group web-sz". */
  readonly why: string;
}

function describeCondition(key: string, cond: unknown): string {
  const list = (v: unknown): string => (Array.isArray(v) ? v.map(String).join('|') : String(v));
  if (typeof cond === 'string' || typeof cond === 'number' || typeof cond === 'boolean') return key === 'tags' ? `tags contains ${String(cond)}` : `${key}=${String(cond)}`;
  if (Array.isArray(cond)) return `${key} in ${list(cond)}`;
  if (isVarMap(cond)) {
    if (cond['in'] !== undefined) return `${key} in ${list(cond['in'])}`;
    if (cond['notIn'] !== undefined) return `${key} not in ${list(cond['notIn'])}`;
    if (cond['regex'] !== undefined) return `${key} ~ /${String(cond['regex'])}/`;
    if (cond['exists'] !== undefined) return cond['exists'] === true ? `${key} exists` : `no ${key}`;
  }
  return key;
}

/** A match rule as one line: "idc=sz, tags contains canary, facts.os.family=debian". */
export function describeRule(rule: MatchRule): string {
  const parts: string[] = [];
  for (const [k, cond] of Object.entries(rule)) {
    if (k === 'facts' && isVarMap(cond)) for (const [p, c] of Object.entries(cond)) parts.push(describeCondition(`facts.${p}`, c));
    else parts.push(describeCondition(k, cond));
  }
  return parts.join(', ');
}

/**
 * Every group `host` is in, with the first reason that puts it there (listed, a rule — 1-based —,
 * or a child group), sorted by group name. Pure: the same answer as groupsOfHost.
 */
export function explainGroups(groups: Repository['groups'], host: HostEntry, facts: unknown): GroupExplanation[] {
  const memo = new Map<string, string | null>();
  const why = (name: string, seen: Set<string>): string | null => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const g = groups.get(name);
    if (!g || seen.has(name)) return null;
    seen.add(name);
    let out: string | null = null;
    if ((g.def.hosts ?? []).includes(host.name)) out = 'listed in hosts';
    if (out === null) {
      const rules = g.def.match ?? [];
      const i = rules.findIndex((rule) => ruleMatches(rule, host, facts));
      if (i >= 0) out = `rule ${i + 1} matched (${describeRule(rules[i]!)})`;
    }
    if (out === null) {
      const child = (g.def.children ?? []).find((c) => why(c, seen) !== null);
      if (child !== undefined) out = `member of child group ${child}`;
    }
    seen.delete(name);
    memo.set(name, out);
    return out;
  };
  const out: GroupExplanation[] = [];
  for (const name of [...groups.keys()].sort()) {
    const w = why(name, new Set());
    if (w !== null) out.push({ group: name, why: w });
  }
  return out;
}
