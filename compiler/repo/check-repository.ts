/**
 * Cross-file checks of a loaded repository: references between inventory, groups and roles,
 * group cycles, reserved names, and the rules for fact-based groups (security.md A4: facts an
 * agent reports about itself may only classify where the operator wrote a `facts:` rule, and
 * such groups can neither be IDC/set layers nor carry secrets).
 */
import type { RepoProblem } from '../../schemas/repo/problem.js';
import type { MatchRule } from '../../schemas/repo/group.js';
import { didYouMean } from '../manifest/did-you-mean.js';
import { BoundedRegex } from '../regex/bounded-regex.js';
import { isVarMap, type VarMap } from '../vars/merge.js';
import { containsSecret } from '../vars/secrets.js';
import { problemAt } from './repo-problem.js';
import type { GroupEntry, HostEntry, RoleEntry } from './repository.js';
import type { YamlFile } from './yaml-file.js';

/** Top-level variable names the compiler provides; no layer may set them. */
export const RESERVED_VARS: ReadonlySet<string> = new Set(['inventory_hostname', 'inventory', 'facts', 'groups', 'group_names', 'hostvars']);
/** Group names with a built-in meaning. */
export const RESERVED_GROUPS: ReadonlySet<string> = new Set(['all']);

export interface CheckInput {
  readonly hosts: Map<string, HostEntry>;
  readonly groups: Map<string, GroupEntry>;
  readonly roles: Map<string, RoleEntry>;
  readonly globalVars: { readonly file: string; readonly vars: VarMap } | undefined;
  readonly yamlFiles: ReadonlyMap<string, YamlFile>;
}

/** Runs every cross-file check; updates each group's `factBased`. */
export function checkRepository(input: CheckInput): RepoProblem[] {
  const { hosts, groups, roles, yamlFiles } = input;
  const problems: RepoProblem[] = [];
  const loc = (file: string) => yamlFiles.get(file)?.locate;
  const roleNames = [...roles.keys()];
  const groupNames = [...groups.keys()];

  const reserved = (file: string, vars: unknown, prefix: (string | number)[]): void => {
    if (!isVarMap(vars)) return;
    for (const k of Object.keys(vars)) {
      if (RESERVED_VARS.has(k)) problems.push(problemAt(file, loc(file), [...prefix, k], 'RESERVED_NAME', `variable "${k}" is provided by the compiler and cannot be set`));
    }
  };
  if (input.globalVars) reserved(input.globalVars.file, input.globalVars.vars, []);

  for (const h of hosts.values()) {
    reserved(h.file, h.record.vars, ['hosts', h.name, 'vars']);
    (h.record.roles ?? []).forEach((r, i) => {
      if (!roles.has(r)) problems.push(unknownRole(h.file, loc(h.file), ['hosts', h.name, 'roles', i], r, roleNames));
    });
    for (const k of Object.keys(h.record.vars ?? {})) {
      if (roles.has(k) && !isVarMap((h.record.vars as VarMap)[k])) problems.push(problemAt(h.file, loc(h.file), ['hosts', h.name, 'vars', k], 'PARAM_TYPE', `variable "${k}" is the parameter map of role ${k}; it must be a map`));
    }
  }

  for (const g of groups.values()) {
    const l = loc(g.file);
    if (RESERVED_GROUPS.has(g.name)) problems.push(problemAt(g.file, l, [], 'RESERVED_NAME', `group name "${g.name}" is reserved (groups.all lists every host)`));
    reserved(g.file, g.def.vars, ['vars']);
    (g.def.hosts ?? []).forEach((h, i) => {
      if (!hosts.has(h)) {
        const hint = didYouMean(h, [...hosts.keys()]);
        problems.push(problemAt(g.file, l, ['hosts', i], 'UNKNOWN_HOST', `host ${h} is not in the inventory${hint ? ` (did you mean "${hint}"?)` : ''}; declare it in inventory/`));
      }
    });
    (g.def.children ?? []).forEach((c, i) => {
      if (!groups.has(c)) {
        const hint = didYouMean(c, groupNames);
        problems.push(problemAt(g.file, l, ['children', i], 'UNKNOWN_GROUP', `no group ${c}${hint ? ` (did you mean "${hint}"?)` : ''}; a group is a file groups/<name>.yaml`));
      }
    });
    (g.def.roles ?? []).forEach((r, i) => {
      if (!roles.has(r)) problems.push(unknownRole(g.file, l, ['roles', i], r, roleNames));
    });
    (g.def.match ?? []).forEach((rule, i) => checkRegexes(rule, (path, msg) => problems.push(problemAt(g.file, l, ['match', i, ...path], 'BAD_REGEX', msg))));
  }

  // Cycles through children: each reported once, at the edge that closes it.
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'visiting');
    stack.push(name);
    const g = groups.get(name);
    (g?.def.children ?? []).forEach((c, i) => {
      if (!groups.has(c)) return;
      const s = state.get(c);
      if (s === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(c)), c].join(' → ');
        problems.push(problemAt(g!.file, loc(g!.file), ['children', i], 'GROUP_CYCLE', `groups include each other in a cycle: ${cycle}`));
      } else if (s === undefined) visit(c);
    });
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of groupNames) if (!state.has(name)) visit(name);

  // Fact-based groups (directly, or through a child), with their restrictions.
  const direct = new Set(groupNames.filter((n) => (groups.get(n)!.def.match ?? []).some((r) => r.facts !== undefined)));
  const memo = new Map<string, boolean>();
  const factBased = (n: string, seen: Set<string>): boolean => {
    const known = memo.get(n);
    if (known !== undefined) return known;
    if (seen.has(n)) return false;
    seen.add(n);
    const v = direct.has(n) || (groups.get(n)?.def.children ?? []).some((c) => groups.has(c) && factBased(c, seen));
    memo.set(n, v);
    return v;
  };
  for (const name of groupNames) {
    const g = groups.get(name)!;
    const fb = factBased(name, new Set());
    groups.set(name, { ...g, factBased: fb });
    if (!fb) continue;
    const l = loc(g.file);
    if (g.def.kind !== 'custom') {
      problems.push(problemAt(g.file, l, ['kind'], 'FACT_GROUP_KIND', `group ${name} chooses members by agent-reported facts, so it must be kind: custom (IDC and set membership come from the inventory only)`));
    }
    if (containsSecret(g.def.vars)) {
      problems.push(problemAt(g.file, l, ['vars'], 'FACT_GROUP_SECRET', `group ${name} chooses members by agent-reported facts, which a host can forge; it cannot hold secrets (put them in a group chosen by inventory attributes)`));
    }
  }
  return problems;
}

function unknownRole(file: string, locate: YamlFile['locate'] | undefined, path: (string | number)[], role: string, known: string[]): RepoProblem {
  const hint = didYouMean(role, known);
  return problemAt(file, locate, path, 'UNKNOWN_ROLE', `no role ${role}${hint ? ` (did you mean "${hint}"?)` : ''}; a role is a folder roles/<name>/ with a role.yaml${known.length > 0 ? ` (roles: ${known.join(', ')})` : ''}`);
}

function checkRegexes(rule: MatchRule, report: (path: (string | number)[], message: string) => void): void {
  const one = (cond: unknown, path: (string | number)[]): void => {
    if (isVarMap(cond) && typeof cond['regex'] === 'string') {
      try {
        BoundedRegex.compile(cond['regex']);
      } catch (e) {
        report([...path, 'regex'], (e as Error).message);
      }
    }
  };
  for (const [k, v] of Object.entries(rule)) {
    if (k === 'facts' && isVarMap(v)) {
      for (const [fk, fv] of Object.entries(v)) {
        if (isVarMap(fv) && fv['regex'] !== undefined) report(['facts', fk, 'regex'], 'regex conditions are not allowed on facts: a host could report a value crafted to make the expression backtrack for minutes on the server; use a value, a list or {in: [...]}');
      }
    } else one(v, [k]);
  }
}
