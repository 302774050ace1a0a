/**
 * The dependency graph of a list of resources, from the metaparameters require, before,
 * notify and subscribe. Shared by the compiler (to reject a bad manifest before anything
 * runs) and the engine (to order a run). Pure: no I/O.
 */
import { parseResourceRef, resourceId, type Resource } from './resource.js';

export type EdgeProperty = 'require' | 'before' | 'notify' | 'subscribe';

/** One problem with the graph; `index` is the resource whose property holds the bad reference. */
export interface GraphProblem {
  readonly index: number;
  readonly property: EdgeProperty | 'title';
  readonly ref: string;
  readonly code: 'UNKNOWN_REF' | 'CYCLE' | 'DUPLICATE_TITLE' | 'BAD_REF';
  readonly message: string;
}

export interface ResourceGraph {
  /** "type:title" per resource index. */
  readonly ids: readonly string[];
  /** A topological order of indices; manifest order wherever the edges leave a choice. */
  readonly order: readonly number[];
  /** deps[i]: indices that must finish before i (require, subscribe, and reversed before/notify). */
  readonly deps: readonly (readonly number[])[];
  /** refreshers[i]: indices whose change triggers a refresh of i (notify on them, subscribe on i). */
  readonly refreshers: readonly (readonly number[])[];
}

const edgeProperties: readonly EdgeProperty[] = ['require', 'before', 'notify', 'subscribe'];

/**
 * A graph's edges in compressed form (compressed sparse rows): the neighbours of node i are
 * `list[start[i]]` … `list[start[i + 1] - 1]`, ascending. Two typed arrays for a whole graph
 * instead of a collection per node (an agent plans catalogs of 10,000+ resources: this keeps
 * both the plan and the garbage of making it small).
 */
export interface Edges {
  /** n + 1 offsets into `list`. */
  readonly start: Int32Array;
  readonly list: Int32Array;
}

/** The shared empty neighbour list (frozen: no caller can grow it). */
const NONE: readonly number[] = Object.freeze([]);

/** Packs one neighbour collection per node (undefined: none) into Edges, ascending, duplicates dropped. */
export function packEdges(neighbours: readonly (Iterable<number> | undefined)[]): Edges {
  const n = neighbours.length;
  const lists: (readonly number[])[] = new Array<readonly number[]>(n);
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const ns = neighbours[i];
    const l = ns === undefined ? NONE : Array.isArray(ns) && ns.length < 2 ? (ns as readonly number[]) : [...new Set(ns)].sort((a, b) => a - b);
    lists[i] = l;
    start[i + 1] = start[i]! + l.length;
  }
  const list = new Int32Array(start[n]!);
  for (let i = 0; i < n; i++) if (lists[i]!.length > 0) list.set(lists[i]!, start[i]!);
  return { start, list };
}

/** The reversed edges: j lists i whenever i lists j (ascending). */
export function reverseEdges(e: Edges): Edges {
  const n = e.start.length - 1;
  const start = new Int32Array(n + 1);
  for (let k = 0; k < e.list.length; k++) start[e.list[k]! + 1]!++;
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  const next = start.slice(0, n);
  const list = new Int32Array(e.list.length);
  for (let i = 0; i < n; i++) for (let k = e.start[i]!; k < e.start[i + 1]!; k++) list[next[e.list[k]!]!++] = i;
  return { start, list };
}

/** Number of neighbours of node i. */
export function degree(e: Edges, i: number): number {
  return e.start[i + 1]! - e.start[i]!;
}

/** The neighbours of node i as a new array (for messages and tests; hot paths walk `list`). */
export function neighbours(e: Edges, i: number): number[] {
  return Array.from(e.list.subarray(e.start[i]!, e.start[i + 1]!));
}

/** Builds the graph; `graph` is undefined when there is any problem (all problems are listed). */
export function buildGraph(resources: readonly Resource[]): { graph: ResourceGraph | undefined; problems: GraphProblem[] } {
  const problems: GraphProblem[] = [];
  const ids = resources.map((r) => resourceId(r));
  const byId = new Map<string, number>();
  ids.forEach((id, i) => {
    const first = byId.get(id);
    if (first === undefined) byId.set(id, i);
    else problems.push({ index: i, property: 'title', ref: id, code: 'DUPLICATE_TITLE', message: `duplicate resource ${id} (first declared as resource #${first + 1})` });
  });

  // Made only for resources with edges: most resources of a large catalog have none.
  const deps: (Set<number> | undefined)[] = new Array<Set<number> | undefined>(resources.length);
  const refreshers: (Set<number> | undefined)[] = new Array<Set<number> | undefined>(resources.length);
  resources.forEach((r, i) => {
    for (const prop of edgeProperties) {
      const refs = (r as { [k in EdgeProperty]?: readonly string[] })[prop];
      if (!refs) continue;
      for (const ref of refs) {
        const parsed = parseResourceRef(ref);
        if (!parsed) {
          problems.push({ index: i, property: prop, ref, code: 'BAD_REF', message: `${prop}: "${ref}" is not a reference of the form type:title` });
          continue;
        }
        const j = byId.get(ref);
        if (j === undefined) {
          problems.push({ index: i, property: prop, ref, code: 'UNKNOWN_REF', message: `${prop}: no resource ${ref} in this catalog` });
          continue;
        }
        if (j === i) {
          problems.push({ index: i, property: prop, ref, code: 'CYCLE', message: `${prop}: ${ref} refers to the resource itself` });
          continue;
        }
        switch (prop) {
          case 'require': (deps[i] ??= new Set()).add(j); break;
          case 'subscribe': (deps[i] ??= new Set()).add(j); (refreshers[i] ??= new Set()).add(j); break;
          case 'before': (deps[j] ??= new Set()).add(i); break;
          case 'notify': (deps[j] ??= new Set()).add(i); (refreshers[j] ??= new Set()).add(i); break;
          default: prop satisfies never;
        }
      }
    }
  });
  if (problems.length > 0) return { graph: undefined, problems };

  const packed = packEdges(deps);
  const order = orderAsFarAsPossible(packed);
  if (order.length < resources.length) {
    const ordered = new Set(order);
    const stuck = new Set(resources.map((_, i) => i).filter((i) => !ordered.has(i)));
    for (const cycle of findCycles(packed, stuck)) {
      const path = [...cycle, cycle[0]!].map((i) => ids[i]).join(' -> ');
      problems.push({ index: cycle[0]!, property: 'require', ref: ids[cycle[1] ?? cycle[0]!]!, code: 'CYCLE', message: `dependency cycle: ${path}` });
    }
    return { graph: undefined, problems };
  }
  return {
    graph: { ids, order, deps: Array.from(deps, sortedOrNone), refreshers: Array.from(refreshers, sortedOrNone) },
    problems,
  };
}

function sortedOrNone(s: Set<number> | undefined): readonly number[] {
  return s === undefined ? NONE : [...s].sort((a, b) => a - b);
}

/**
 * A topological order of `deps` (deps[i]: the indices that must come before i), always taking
 * the lowest ready index, so manifest order is kept wherever the edges leave a choice (Kahn's
 * algorithm with a binary heap: O(n log n)). undefined when the edges contain a cycle.
 */
export function topologicalOrder(deps: Edges | readonly Iterable<number>[]): number[] | undefined {
  const packed = 'start' in deps ? deps : packEdges(deps);
  const order = orderAsFarAsPossible(packed);
  return order.length === packed.start.length - 1 ? order : undefined;
}

/** Kahn's algorithm; the nodes missing from the result are on, or behind, a cycle. */
function orderAsFarAsPossible(deps: Edges): number[] {
  const n = deps.start.length - 1;
  const indegree = new Int32Array(n);
  for (let i = 0; i < n; i++) indegree[i] = degree(deps, i);
  const dependents = reverseEdges(deps);
  const ready = new IndexHeap(n);
  for (let i = 0; i < n; i++) if (indegree[i] === 0) ready.push(i);
  const order: number[] = [];
  while (ready.size > 0) {
    const i = ready.pop();
    order.push(i);
    for (let k = dependents.start[i]!; k < dependents.start[i + 1]!; k++) {
      const j = dependents.list[k]!;
      if (--indegree[j]! === 0) ready.push(j);
    }
  }
  return order;
}

/** Cycles among the nodes Kahn's algorithm could not order (`stuck`), one per strongly connected part. */
function findCycles(deps: Edges, stuck: ReadonlySet<number>): number[][] {
  const cycles: number[][] = [];
  const done = new Set<number>();
  for (const start of stuck) {
    if (done.has(start)) continue;
    // Walk dependencies inside the stuck set until a node repeats: that is a cycle.
    const seenAt = new Map<number, number>();
    const walk: number[] = [];
    let cur: number | undefined = start;
    while (cur !== undefined && !seenAt.has(cur)) {
      seenAt.set(cur, walk.length);
      walk.push(cur);
      cur = neighbours(deps, cur).find((d) => stuck.has(d));
    }
    if (cur !== undefined) {
      const cycle = walk.slice(seenAt.get(cur)).reverse();
      if (!cycle.some((i) => done.has(i))) cycles.push(cycle);
    }
    for (const i of walk) done.add(i);
  }
  return cycles;
}

/**
 * A binary min-heap of non-negative integers (node indices, run positions) in a typed array of
 * fixed capacity: nothing allocated per push. Shared by Kahn's algorithm here and the engine's
 * scheduler (agent/engine/walk.ts).
 */
export class IndexHeap {
  private readonly a: Int32Array;
  private n = 0;
  constructor(capacity: number) {
    this.a = new Int32Array(capacity);
  }
  get size(): number {
    return this.n;
  }
  /** The smallest value (size must be > 0). */
  peek(): number {
    return this.a[0]!;
  }
  push(v: number): void {
    const a = this.a;
    let c = this.n++;
    while (c > 0) {
      const parent = (c - 1) >> 1;
      if (a[parent]! <= v) break;
      a[c] = a[parent]!;
      c = parent;
    }
    a[c] = v;
  }
  /** Removes and returns the smallest value (size must be > 0). */
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a[--this.n]!;
    let c = 0;
    for (;;) {
      let child = 2 * c + 1;
      if (child >= this.n) break;
      if (child + 1 < this.n && a[child + 1]! < a[child]!) child++;
      if (a[child]! >= last) break;
      a[c] = a[child]!;
      c = child;
    }
    if (this.n > 0) a[c] = last;
    return top;
  }
}
