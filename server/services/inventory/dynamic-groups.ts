/**
 * Evaluation of dynamic inventory groups (stored filters) over effective hosts. A filter may
 * name another inventory group (group:X); a cycle makes the inner test false. Pure: the service
 * memoizes the result per snapshot; the benchmark measures this very function.
 */
import type { CompiledFilter, FilterContext, FilterHost } from './filter-expr.js';

/** The filter context: facts by host, and inventory-group membership through the groups' own filters. */
export function groupContext(filters: ReadonlyMap<string, CompiledFilter>, facts: ReadonlyMap<string, Record<string, unknown>> | undefined): FilterContext {
  const visiting = new Set<string>();
  const ctx: FilterContext = {
    facts: (h) => facts?.get(h),
    inGroup: (h, g) => {
      const f = filters.get(g);
      if (!f || visiting.has(g)) return false;
      visiting.add(g);
      try {
        return f.matches(h, ctx);
      } finally {
        visiting.delete(g);
      }
    },
  };
  return ctx;
}

/** group → member host names. */
export function evaluateGroups(hosts: readonly FilterHost[], filters: ReadonlyMap<string, CompiledFilter>, facts: ReadonlyMap<string, Record<string, unknown>> | undefined): Map<string, Set<string>> {
  const value = new Map<string, Set<string>>();
  const entries = [...filters];
  const sets = entries.map(([name]) => {
    const s = new Set<string>();
    value.set(name, s);
    return s;
  });
  const ctx = groupContext(filters, facts);
  for (const h of hosts) for (let i = 0; i < entries.length; i++) if (entries[i]![1].matches(h, ctx)) sets[i]!.add(h.hostname);
  return value;
}
