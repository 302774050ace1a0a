/**
 * The effective-host snapshot (ADR 0018 §4): every host of the live revision's inventory and every
 * store-only host, each with its merged record (compiler/repo/inventory-overlay.ts precedence),
 * sorted by hostname. Pure: InventoryService memoizes it per (live revision load, generation).
 */
import type { InventoryRecord } from '../../../schemas/api/inventory.js';
import type { InventoryHost as RepoRecord } from '../../../schemas/repo/inventory.js';
import { mergeInventoryRecord } from '../../../compiler/repo/inventory-overlay.js';
import type { InventoryHost as LiveHost } from '../compiler-port.js';
import type { LiveRevision } from '../revision-service.js';
import type { FilterHost } from './filter-expr.js';
import { canonical } from './import-format.js';

export interface Snapshot {
  readonly key: string;
  readonly revision: string | undefined;
  /** Sorted by hostname. */
  readonly hosts: readonly FilterHost[];
  readonly byName: ReadonlyMap<string, FilterHost>;
  /** Live hosts by name (repository records, groups). */
  readonly live: ReadonlyMap<string, LiveHost>;
  readonly stored: ReadonlyMap<string, InventoryRecord>;
}

/** An inventory record (the API's shape) of a merged repository-format record. */
export function toRecord(name: string, r: RepoRecord): InventoryRecord {
  const ips = r.ips ?? (r.ip !== undefined ? [r.ip] : undefined);
  return canonical({
    hostname: name,
    ...(ips !== undefined ? { ips } : {}),
    ...(r.idc !== undefined ? { idc: r.idc } : {}),
    ...(r.rack !== undefined ? { rack: r.rack } : {}),
    ...(r.business !== undefined ? { business: r.business } : {}),
    ...(r.kind !== undefined ? { kind: r.kind } : {}),
    ...(r.parent !== undefined ? { parent: r.parent } : {}),
    ...(r.lifecycle !== undefined ? { lifecycle: r.lifecycle } : {}),
    ...(r.tags !== undefined ? { tags: r.tags } : {}),
    ...(r.attributes !== undefined ? { attributes: r.attributes } : {}),
  });
}

/** The repository's record of a live host (before the store's was merged over it). */
export function repositoryRecordOf(h: LiveHost): RepoRecord | undefined {
  if (h.source === 'store') return undefined;
  if (h.repositoryRecord) return h.repositoryRecord;
  if (h.source === 'both') return undefined;
  const { name: _n, groups: _g, source: _s, repositoryRecord: _r, ...rest } = h;
  return rest as RepoRecord;
}

/** The snapshot of the live revision's hosts with the store's records merged in. */
export function buildSnapshot(key: string, live: LiveRevision | undefined, records: ReadonlyMap<string, InventoryRecord>): Snapshot {
  const liveHosts = new Map<string, LiveHost>((live?.loaded.hosts ?? []).map((h) => [h.name, h] as const));
  const names = new Set<string>();
  for (const h of liveHosts.values()) if (h.source !== 'store') names.add(h.name);
  for (const n of records.keys()) names.add(n);
  const hosts: FilterHost[] = [];
  for (const name of [...names].sort()) {
    const lh = liveHosts.get(name);
    const repo = lh ? repositoryRecordOf(lh) : undefined;
    const stored = records.get(name);
    const merged = mergeInventoryRecord(repo, stored);
    const source = repo !== undefined && stored !== undefined ? 'both' : stored !== undefined ? 'store' : 'repository';
    hosts.push({ hostname: name, record: toRecord(name, merged), lifecycle: merged.lifecycle ?? 'online', source, groups: lh?.groups ?? [], set: merged.set, env: merged.env });
  }
  return { key, revision: live?.id, hosts, byName: new Map(hosts.map((h) => [h.hostname, h] as const)), live: liveHosts, stored: records };
}
