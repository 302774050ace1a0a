/**
 * What the inventory pages (ADR 0018) need from the server, in the API's shapes
 * (schemas/api/inventory.ts). The console router is given an implementation (ConsolePorts); the
 * composition root adapts InventoryService to it, one line per method, so the pages never speak
 * HTTP to their own server. When a server has none, the pages answer 503 and say so.
 */
import type { Role, Scope } from '../../domain/roles.js';
import type { ImportResult, InventoryHostDetail, InventoryHostList, InventoryPatch } from '../../../schemas/api/inventory.js';

/** Who acts (the session's operator); the service records it with the change. */
export interface InventoryActor {
  readonly name: string;
  readonly role: Role;
  readonly scope?: Scope | undefined;
  /** The client address (for the audit log). */
  readonly address?: string;
}

export interface ImportOptions {
  readonly format: 'csv' | 'json';
  readonly dryRun: boolean;
  readonly mode: 'merge' | 'replace';
}

export interface InventoryPort {
  /** One page of hosts matching `filter` (a filter expression; absent: all), sorted by hostname, after the cursor `after`. A bad filter throws ApiError BAD_REQUEST. */
  list(q: { filter?: string; after?: string; limit: number }, signal: AbortSignal): Promise<InventoryHostList>;
  /** Everything about one host; undefined when the server knows no such host. */
  detail(host: string, signal: AbortSignal): Promise<InventoryHostDetail | undefined>;
  /** Sets fields of the host's store record (creates it when missing); a lifecycle change is recorded with `by` and `patch.reason`. */
  patch(host: string, patch: InventoryPatch, by: InventoryActor): Promise<unknown>;
  /** Imports a CSV or JSON file: a dry run says what would change; any bad row means nothing is imported. */
  importFile(body: Buffer, opts: ImportOptions, by: InventoryActor): Promise<ImportResult>;
  /** The store's records in an import format (GET /api/v1/inventory/export). */
  exportFile(format: 'csv' | 'json'): Promise<string>;
}
