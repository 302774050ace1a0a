/**
 * The store's inventory (CMDB records, ADR 0018) merged over a revision's inventory files.
 * Precedence, per field: a field the store record sets wins (ips — and ip, its first address —,
 * idc, rack, business, kind, parent, lifecycle); tags are the union (repository tags first);
 * attributes merge per key, the store's value winning; set, env, roles and vars come from the
 * repository only (they are manifest decisions, not CMDB facts). A store record for a host the
 * repository does not declare adds the host (no roles of its own; its groups give it roles).
 */
import type { InventoryRecord } from '../../schemas/api/inventory.js';
import type { InventoryHost } from '../../schemas/repo/inventory.js';

/** What a load merges in: the records and a digest of them (part of the content hash). */
export interface InventoryOverlay {
  readonly records: ReadonlyMap<string, InventoryRecord>;
  /** sha256 hex over the records (any stable digest: equal digests mean equal records). */
  readonly digest: string;
}

/** The pseudo-file a store-only host is attributed to in problems and host entries. */
export const OVERLAY_FILE = '(inventory store)';

/** The effective record of one host. */
export function mergeInventoryRecord(repo: InventoryHost | undefined, store: InventoryRecord | undefined): InventoryHost {
  const out: InventoryHost = { ...(repo ?? {}) };
  if (!store) return out;
  if (store.ips !== undefined && store.ips.length > 0) {
    out.ips = [...store.ips];
    out.ip = store.ips[0]!;
  }
  if (store.idc !== undefined) out.idc = store.idc;
  if (store.rack !== undefined) out.rack = store.rack;
  if (store.business !== undefined) out.business = store.business;
  if (store.kind !== undefined) out.kind = store.kind;
  if (store.parent !== undefined) out.parent = store.parent;
  if (store.lifecycle !== undefined) out.lifecycle = store.lifecycle;
  if (store.tags !== undefined) out.tags = [...new Set([...(repo?.tags ?? []), ...store.tags])];
  if (store.attributes !== undefined) {
    const attrs: Record<string, string | number | boolean> = Object.create(null) as Record<string, string | number | boolean>;
    for (const [k, v] of Object.entries(repo?.attributes ?? {})) attrs[k] = v;
    for (const [k, v] of Object.entries(store.attributes)) attrs[k] = v;
    out.attributes = { ...attrs };
  }
  return out;
}
