/**
 * Topology-aware batches (ADR 0017 §3). Hosts are ordered round robin over IDCs, and inside an
 * IDC round robin over its sets, so the first hosts are one per IDC, then spread over sets. The
 * batches are then filled in that order, except that no batch but the last takes every remaining
 * host of a set when that is two hosts or more (a set is never taken whole at once): such a host
 * waits for a later batch, unless nothing else is left to fill the batch with.
 */
import type { RolloutHost } from './ports.js';
import { batchSizes, type BatchTerm } from './batches.js';

/** Round robin over IDCs (in order of first appearance), inside each over sets. */
export function topologyOrder<H extends Pick<RolloutHost, 'name' | 'idc' | 'set'>>(hosts: readonly H[]): H[] {
  const idcs = new Map<string, Map<string, H[]>>();
  for (const h of hosts) {
    const idc = h.idc ?? '';
    let sets = idcs.get(idc);
    if (!sets) idcs.set(idc, (sets = new Map()));
    const set = h.set ?? '';
    let list = sets.get(set);
    if (!list) sets.set(set, (list = []));
    list.push(h);
  }
  // Each IDC yields its hosts round robin over its sets.
  const perIdc: H[][] = [...idcs.values()].map((sets) => {
    const lists = [...sets.values()].map((l) => [...l]);
    const out: H[] = [];
    for (let progressed = true; progressed; ) {
      progressed = false;
      for (const l of lists) {
        const h = l.shift();
        if (h) {
          out.push(h);
          progressed = true;
        }
      }
    }
    return out;
  });
  const out: H[] = [];
  for (let r = 0; out.length < hosts.length; r++) for (const l of perIdc) if (r < l.length) out.push(l[r]!);
  return out;
}

/** Hosts ordered by topology and cut into batches of the expression's sizes. */
export function planBatches<H extends Pick<RolloutHost, 'name' | 'idc' | 'set'>>(hosts: readonly H[], expr: string | readonly BatchTerm[]): H[][] {
  const sizes = batchSizes(expr, hosts.length);
  const queue = topologyOrder(hosts);
  const remaining = new Map<string, number>();
  for (const h of hosts) if (h.set !== undefined) remaining.set(h.set, (remaining.get(h.set) ?? 0) + 1);
  const batches: H[][] = [];
  sizes.forEach((size, b) => {
    const last = b === sizes.length - 1;
    const batch: H[] = [];
    const inBatch = new Map<string, number>();
    const skipped: H[] = [];
    while (batch.length < size && queue.length > 0) {
      const h = queue.shift()!;
      const taken = h.set !== undefined ? (inBatch.get(h.set) ?? 0) + 1 : 0;
      // Taking h would take a whole set (of two or more) at once.
      if (!last && h.set !== undefined && taken >= 2 && taken === remaining.get(h.set)) {
        skipped.push(h);
        continue;
      }
      batch.push(h);
      if (h.set !== undefined) inBatch.set(h.set, taken);
    }
    // Nothing else could fill the batch: the rule yields.
    while (batch.length < size && skipped.length > 0) batch.push(skipped.shift()!);
    queue.unshift(...skipped);
    for (const h of batch) if (h.set !== undefined) remaining.set(h.set, remaining.get(h.set)! - 1);
    batches.push(batch);
  });
  return batches;
}
