/**
 * The order a run walks in: the catalog graph (schemas/graph.ts) plus automatic edges from a
 * filesystem resource to the resource managing its nearest ancestor path (Puppet's
 * autorequire), so a file is never written before the directory that holds it, even when
 * independent resources run concurrently. Pure.
 */
import type { Resource } from '../../schemas/index.js';
import { topologicalOrder, type ResourceGraph } from '../../schemas/graph.js';

export interface RunOrder {
  /** Topological order, manifest order where edges leave a choice. */
  readonly order: readonly number[];
  /** deps[i]: indices that must finish before i. */
  readonly deps: readonly (readonly number[])[];
}

function fsPath(r: Resource): string | undefined {
  switch (r.type) {
    case 'file':
    case 'directory':
    case 'link':
    case 'archive':
      return r.path;
    default:
      return undefined;
  }
}

/** The run order; automatic edges that would close a cycle are left out (all of them). */
export function runOrder(resources: readonly Resource[], graph: ResourceGraph): RunOrder {
  const byPath = new Map<string, number>();
  resources.forEach((r, i) => {
    const p = fsPath(r);
    if (p !== undefined && (r as { ensure?: string }).ensure !== 'absent') byPath.set(p.replace(/\/+$/, '') || '/', i);
  });
  let added = false;
  const deps = graph.deps.map((d, i) => {
    const p = fsPath(resources[i]!);
    if (p === undefined) return d;
    let cur = p.replace(/\/+$/, '');
    while (cur.length > 1) {
      cur = cur.slice(0, cur.lastIndexOf('/')) || '/';
      const j = byPath.get(cur);
      if (j !== undefined && j !== i) {
        if (d.includes(j)) return d;
        added = true;
        return [...d, j];
      }
      if (cur === '/') break;
    }
    return d;
  });
  if (added) {
    const order = topologicalOrder(deps);
    if (order) return { order, deps };
  }
  return { order: graph.order, deps: graph.deps };
}
