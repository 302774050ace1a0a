/**
 * The order a run walks in: the catalog graph (schemas/graph.ts) plus automatic edges from a
 * filesystem resource to the resource managing its nearest ancestor path (Puppet's
 * autorequire), so a file is never written before the directory that holds it, even when
 * independent resources run concurrently. Pure.
 */
import type { Resource } from '../../schemas/index.js';
import { packEdges, topologicalOrder, type Edges, type ResourceGraph } from '../../schemas/graph.js';

export interface RunOrder {
  /** Topological order, manifest order where edges leave a choice. */
  readonly order: readonly number[];
  /** Resources that must finish before i. */
  readonly deps: Edges;
  /**
   * Paths the catalog keeps present (file, directory, link, archive not `ensure: absent`),
   * without trailing "/", and the resource managing each.
   */
  readonly managed: ReadonlyMap<string, number>;
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

/**
 * The run order; automatic edges that would close a cycle are left out (all of them). The
 * edges are packed directly (one automatic edge at most per resource), without a list per
 * resource.
 */
export function runOrder(resources: readonly Resource[], graph: ResourceGraph): RunOrder {
  const n = resources.length;
  const managed = new Map<string, number>();
  resources.forEach((r, i) => {
    const p = fsPath(r);
    if (p !== undefined && (r as { ensure?: string }).ensure !== 'absent') managed.set(p.replace(/\/+$/, '') || '/', i);
  });
  // auto[i]: the resource managing the nearest ancestor of i's path, when not already a dependency.
  const auto = new Int32Array(n).fill(-1);
  let added = 0;
  for (let i = 0; i < n; i++) {
    const p = fsPath(resources[i]!);
    if (p === undefined) continue;
    let cur = p.replace(/\/+$/, '');
    while (cur.length > 1) {
      cur = cur.slice(0, cur.lastIndexOf('/')) || '/';
      const j = managed.get(cur);
      if (j !== undefined && j !== i) {
        if (!graph.deps[i]!.includes(j)) {
          auto[i] = j;
          added++;
        }
        break;
      }
      if (cur === '/') break;
    }
  }
  if (added > 0) {
    const start = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) start[i + 1] = start[i]! + graph.deps[i]!.length + (auto[i]! >= 0 ? 1 : 0);
    const list = new Int32Array(start[n]!);
    for (let i = 0; i < n; i++) {
      const d = graph.deps[i]!;
      const a = auto[i]!;
      let k = start[i]!;
      let placed = a < 0;
      for (const j of d) {
        if (!placed && a < j) {
          list[k++] = a;
          placed = true;
        }
        list[k++] = j;
      }
      if (!placed) list[k] = a;
    }
    const deps: Edges = { start, list };
    const order = topologicalOrder(deps);
    if (order) return { order, deps, managed };
  }
  return { order: graph.order, deps: packEdges(graph.deps), managed };
}
