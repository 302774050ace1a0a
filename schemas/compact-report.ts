/**
 * Compact run reports (ADR 0021), defined once for both sides: the agent compacts the report
 * it sends, the server checks a compact report against the catalog it served under the same
 * id, compacts full reports of older agents itself, and expands a stored compact report back
 * into the full one whenever it is read.
 *
 * A compact report lists in full every resource that is not plainly in sync (changed, would
 * change, failed, skipped, or in sync with output, a refresh, a diff or an error, or slower than
 * `slowMs`), and summarises the rest in `inSyncSummary`: how many, a digest of their sorted ids
 * bound to the catalog id, the run order of the whole catalog (run-length coded) and their total
 * time. Expanded, a summarised resource is `{ id, type, state: 'in-sync', changes: [] }`: its own
 * duration was not kept, so it is absent rather than a made-up 0.
 *
 * Pure: no I/O, no clock.
 */
import { createHash } from 'node:crypto';
import type { InSyncSummary, ResourceStatus, RunReport } from './report.js';
import { maxOrderItems } from './report.js';

/** An in-sync resource at least this slow stays in full (an operator looking for slow checks sees it). */
export const slowMs = 100;
/** At most this many slow in-sync resources stay in full (the slowest). */
export const maxSlowKept = 100;

/** The in-sync digest: sha256 hex of catalogId, "\n", and the JSON array of `sortedIds`. */
export function inSyncDigest(catalogId: string, sortedIds: readonly string[]): string {
  return createHash('sha256').update(catalogId).update('\n').update(JSON.stringify(sortedIds)).digest('hex');
}

/** Code-unit order, the order the digest is defined over (never locale-dependent). */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What compaction and its check need of a catalog, computed once per catalog id. */
export interface CatalogIndex {
  readonly catalogId: string;
  /** Resource ids in catalog order. */
  readonly ids: readonly string[];
  /** Catalog index of each id. */
  readonly position: ReadonlyMap<string, number>;
  /** The ids sorted by code unit. */
  readonly sorted: readonly string[];
  /** inSyncDigest of every id: a run with nothing listed (a no-op poll) is checked in O(1). */
  readonly allDigest: string;
}

/** Indexes a catalog's resource ids (in catalog order); undefined when an id repeats. */
export function indexCatalog(catalogId: string, ids: readonly string[]): CatalogIndex | undefined {
  const position = new Map<string, number>();
  ids.forEach((id, i) => position.set(id, i));
  if (position.size !== ids.length) return undefined;
  const sorted = [...ids].sort(byCodeUnit);
  return { catalogId, ids, position, sorted, allDigest: inSyncDigest(catalogId, sorted) };
}

/** Run-length codes a run order (catalog indexes) as [first, length] pairs. */
export function encodeOrder(order: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let p = 0; p < order.length; ) {
    const first = order[p]!;
    let len = 1;
    while (p + len < order.length && order[p + len] === first + len) len++;
    out.push(first, len);
    p += len;
  }
  return out;
}

/** Decodes an order of `n` resources; a reason when it is not a permutation of 0..n-1. */
export function decodeOrder(order: readonly number[], n: number): Int32Array | string {
  if (order.length % 2 !== 0) return 'the run order has an odd number of items';
  const out = new Int32Array(n);
  const seen = new Uint8Array(n);
  let p = 0;
  for (let k = 0; k < order.length; k += 2) {
    const first = order[k]!;
    const len = order[k + 1]!;
    if (!Number.isInteger(first) || !Number.isInteger(len) || len < 1 || first < 0 || first + len > n || p + len > n) return 'the run order names resources the catalog does not have';
    for (let i = first; i < first + len; i++) {
      if (seen[i] === 1) return 'the run order names a resource twice';
      seen[i] = 1;
      out[p++] = i;
    }
  }
  if (p !== n) return `the run order names ${p} of the catalog's ${n} resources`;
  return out;
}

/** Whether a status must stay in full: anything but a plain, quick in-sync. */
function notPlain(r: ResourceStatus): boolean {
  return r.state !== 'in-sync' || r.changes.length > 0 || r.diff !== undefined || r.output !== undefined || r.refreshed === true || r.error !== undefined || r.durationMs === undefined;
}

/**
 * The compact form of a full report run against the catalog `index` describes, or undefined
 * when it cannot or need not be compacted: already compact, a run that did not account for
 * every catalog resource exactly once (a run error, another catalog), or nothing to leave out.
 */
export function compactReport(report: RunReport, index: CatalogIndex): RunReport | undefined {
  if (report.inSyncSummary !== undefined || report.catalogId !== index.catalogId) return undefined;
  const n = index.ids.length;
  if (report.resources.length !== n || report.counts.total !== n) return undefined;
  const order = new Int32Array(n);
  const seen = new Uint8Array(n);
  const slow: number[] = [];
  let plain = 0;
  for (let p = 0; p < n; p++) {
    const r = report.resources[p]!;
    const i = index.position.get(r.id);
    if (i === undefined || seen[i] === 1) return undefined;
    seen[i] = 1;
    order[p] = i;
    if (!notPlain(r)) {
      plain++;
      if ((r.durationMs ?? 0) >= slowMs) slow.push(p);
    }
  }
  if (plain === 0) return undefined;
  // The slowest plain in-sync resources stay listed, in full.
  slow.sort((a, b) => (report.resources[b]!.durationMs ?? 0) - (report.resources[a]!.durationMs ?? 0) || a - b);
  const slowKept = new Set(slow.slice(0, maxSlowKept));
  const kept: ResourceStatus[] = [];
  const left: string[] = [];
  let durationMs = 0;
  report.resources.forEach((r, p) => {
    if (notPlain(r) || slowKept.has(p)) kept.push(r);
    else {
      left.push(r.id);
      durationMs += r.durationMs ?? 0;
    }
  });
  if (left.length === 0) return undefined;
  const encoded = encodeOrder(order);
  if (encoded.length > maxOrderItems) return undefined;
  const digest = kept.length === 0 ? index.allDigest : inSyncDigest(index.catalogId, left.sort(byCodeUnit));
  const summary: InSyncSummary = { count: left.length, digest, order: encoded, durationMs: Math.round(durationMs * 1000) / 1000 };
  return { ...report, resources: kept, inSyncSummary: summary };
}

/**
 * Why the compact `report` does not hold against the catalog `index` (the one the server
 * served under report.catalogId), or undefined when it does: the listed resources are distinct
 * catalog resources, the summary counts and digests exactly the rest, the counts add up, and
 * the order is a permutation of the catalog.
 */
export function checkCompact(report: RunReport, index: CatalogIndex): string | undefined {
  const s = report.inSyncSummary;
  if (s === undefined) return 'not a compact report';
  if (report.catalogId !== index.catalogId) return `the report is for catalog ${report.catalogId.slice(0, 16)}, the index for ${index.catalogId.slice(0, 16)}`;
  const n = index.ids.length;
  if (report.counts.total !== n) return `the report counts ${report.counts.total} resources, catalog ${report.catalogId.slice(0, 16)} has ${n}`;
  const listed = new Set<string>();
  let listedInSync = 0;
  for (const r of report.resources) {
    if (!index.position.has(r.id)) return `resource ${r.id.slice(0, 200)} is not in catalog ${report.catalogId.slice(0, 16)}`;
    if (listed.has(r.id)) return `resource ${r.id.slice(0, 200)} is listed twice`;
    listed.add(r.id);
    if (r.state === 'in-sync') listedInSync++;
  }
  if (s.count !== n - listed.size) return `the summary counts ${s.count} in-sync resources, the catalog leaves ${n - listed.size}`;
  if (report.counts.inSync !== s.count + listedInSync) return `counts.inSync is ${report.counts.inSync}, the report shows ${s.count + listedInSync}`;
  const order = decodeOrder(s.order, n);
  if (typeof order === 'string') return order;
  const expected = listed.size === 0 ? index.allDigest : inSyncDigest(index.catalogId, index.sorted.filter((id) => !listed.has(id)));
  if (expected !== s.digest) return `the in-sync digest does not match catalog ${report.catalogId.slice(0, 16)}`;
  return undefined;
}

/** The type part of a "type:title" id. */
function typeOf(id: string): string {
  const i = id.indexOf(':');
  return i > 0 ? id.slice(0, i) : id;
}

/**
 * The full report a compact one stands for (checked with checkCompact first): every catalog
 * resource in run order, the summarised ones as in-sync with no changes and no duration. A full
 * report is returned as it is.
 */
export function expandReport(report: RunReport, index: CatalogIndex): RunReport {
  const s = report.inSyncSummary;
  if (s === undefined) return report;
  const order = decodeOrder(s.order, index.ids.length);
  if (typeof order === 'string') throw new Error(`cannot expand report ${report.runId}: ${order}`);
  const listed = new Map<string, ResourceStatus>();
  for (const r of report.resources) listed.set(r.id, r);
  const resources: ResourceStatus[] = new Array<ResourceStatus>(order.length);
  for (let p = 0; p < order.length; p++) {
    const id = index.ids[order[p]!]!;
    resources[p] = listed.get(id) ?? { id, type: typeOf(id), state: 'in-sync', changes: [] };
  }
  const { inSyncSummary: _summary, ...rest } = report;
  return { ...rest, resources };
}
