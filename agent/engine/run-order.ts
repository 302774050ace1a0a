/**
 * The order a run walks in: the catalog graph (schemas/graph.ts) plus automatic edges from a
 * filesystem resource to the resource managing its nearest ancestor path (Puppet's
 * autorequire), so a file is never written before the directory that holds it, even when
 * independent resources run concurrently. Pure.
 */
import type { Resource } from '../../schemas/index.js';
import type { ResourceGraph } from '../../schemas/graph.js';

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

function topo(deps: readonly (readonly number[])[]): number[] | undefined {
  const n = deps.length;
  const indeg = deps.map((d) => d.length);
  const dependents: number[][] = deps.map(() => []);
  deps.forEach((d, i) => { for (const j of d) dependents[j]!.push(i); });
  // lowest index first: a binary heap keeps this O(n log n) for large catalogs
  const heap: number[] = [];
  const push = (v: number) => {
    heap.push(v);
    let k = heap.length - 1;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (heap[p]! <= v) break;
      heap[k] = heap[p]!;
      k = p;
    }
    heap[k] = v;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let k = 0;
      for (;;) {
        const l = 2 * k + 1;
        if (l >= heap.length) break;
        const r = l + 1;
        const c = r < heap.length && heap[r]! < heap[l]! ? r : l;
        if (heap[c]! >= last) break;
        heap[k] = heap[c]!;
        k = c;
      }
      heap[k] = last;
    }
    return top;
  };
  for (let i = 0; i < n; i++) if (indeg[i] === 0) push(i);
  const order: number[] = [];
  while (heap.length > 0) {
    const i = pop();
    order.push(i);
    for (const j of dependents[i]!) if (--indeg[j]! === 0) push(j);
  }
  return order.length === n ? order : undefined;
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
    const order = topo(deps);
    if (order) return { order, deps };
  }
  return { order: graph.order, deps: graph.deps };
}
