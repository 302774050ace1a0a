/**
 * The stored shape of the inventory (ADR 0018 §1): operator records (`inventory_hosts`, the
 * record kept as JSON text so free-form attribute names stay inert data on both stores),
 * lifecycle events (`inventory_events`), dynamic groups (`inventory_groups`), staged imports
 * (`inventory_imports` + their chunks `inventory_import_chunks`), the settings, and the
 * generation pointer (`pointers`, id "inventory-generation"), bumped by compare-and-swap.
 */
import type { Collection, DocumentStore } from '../../store/types.js';

export type HostDoc = {
  _id: string;
  /** The InventoryRecord as JSON text. */
  recordJson: string;
  version: number;
  updatedAt: number;
  updatedBy: string;
  /** A lifecycle transition written with the record and not yet finished (event, on-online plan). */
  pendingJson?: string;
};

export type EventDoc = {
  _id: string;
  host: string;
  from: string | null;
  to: string;
  by: string;
  at: number;
  reason?: string;
  planJob?: string;
  planError?: string;
};

export type GroupDoc = {
  _id: string;
  filter: string;
  description?: string;
  createdAt: number;
  updatedAt: number;
  updatedBy: string;
};

export type ImportDoc = {
  _id: string;
  state: 'applying' | 'done';
  by: string;
  mode: 'merge' | 'replace';
  chunks: number;
  createdAt: number;
  /** The generation when it was staged (orders its events after earlier changes). */
  baseGeneration?: number;
  finishedAt?: number;
  counts: { added: number; changed: number; removed: number };
};

/** One chunk of a staged import: ops as JSON text (`ImportOp[]`). */
export type ImportChunkDoc = {
  _id: string;
  importId: string;
  seq: number;
  opsJson: string;
};

/** One write of an import: the new record (JSON text) or null (remove), and a lifecycle change. */
export interface ImportOp {
  readonly h: string;
  readonly r: string | null;
  readonly lc?: { readonly from: string | null; readonly to: string };
}

export type GenerationDoc = { _id: string; generation: number };
export type SettingsDoc = { _id: string; onOnlinePlan?: string };

export interface InventoryCollections {
  readonly hosts: Collection<HostDoc>;
  readonly events: Collection<EventDoc>;
  readonly groups: Collection<GroupDoc>;
  readonly imports: Collection<ImportDoc>;
  readonly chunks: Collection<ImportChunkDoc>;
  readonly pointers: Collection<GenerationDoc>;
  readonly settings: Collection<SettingsDoc>;
}

export const GENERATION_ID = 'inventory-generation';

export async function openInventoryCollections(store: DocumentStore): Promise<InventoryCollections> {
  return {
    hosts: await store.collection<HostDoc>('inventory_hosts', [{ name: 'by_pending', fields: { pendingJson: 1 }, partialExists: true }]),
    events: await store.collection<EventDoc>('inventory_events', [{ name: 'by_host_at', fields: { host: 1, at: -1 } }]),
    groups: await store.collection<GroupDoc>('inventory_groups'),
    imports: await store.collection<ImportDoc>('inventory_imports', [{ name: 'by_state', fields: { state: 1 } }]),
    chunks: await store.collection<ImportChunkDoc>('inventory_import_chunks', [{ name: 'by_import', fields: { importId: 1, seq: 1 } }]),
    pointers: await store.collection<GenerationDoc>('pointers'),
    settings: await store.collection<SettingsDoc>('inventory_settings'),
  };
}
