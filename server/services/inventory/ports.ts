/**
 * The seams between the inventory parts (ADR 0018). The composition root (server/compose.ts)
 * wires the implementations:
 *
 *   InventoryRecords   ← InventoryService (store records, generation)   → RevisionService, fleet views
 *   AgentInventory     ← SoftwareService  (agent reports: packages, services, virtuals) → InventoryService (host page)
 *   PlanLauncher       ← PlanService adapter (compose)                   → InventoryService (on-online plan)
 *   InventoryHosts     ← compose adapter over the live revision + InventoryService → SoftwareService, filters
 */
import type { InventoryRecord, LifecycleState, VirtualResource } from '../../../schemas/api/inventory.js';
import type { AgentInventoryReport } from '../../../schemas/inventory-protocol.js';
import type { InventoryOverlay } from '../../../compiler/repo/inventory-overlay.js';

/** Operator-owned records of the store and their generation (bumped by every change, by CAS). */
export interface InventoryRecords {
  /** The current generation (a cheap read; may be cached for up to a second). 0: no record was ever written. */
  generation(signal?: AbortSignal): Promise<number>;
  /** The records at the current generation, with their digest; memoized per generation. */
  overlay(signal?: AbortSignal): Promise<InventoryOverlay & { readonly generation: number }>;
}

/** The latest agent inventory report of each host (SoftwareService keeps them). */
export interface AgentInventory {
  /** The last accepted report of `host` and when it arrived. */
  latest(host: string): Promise<{ readonly report: AgentInventoryReport; readonly receivedAt: string } | undefined>;
  /** Virtual resources reported on `host` (inventory hosts with a matching name filled in `host`). */
  virtualsOf(host: string): Promise<{ readonly virtuals: readonly VirtualResource[]; readonly updatedAt: string } | undefined>;
}

/** Launches a saved job plan on one host (the on-online plan); idempotent per `key`. */
export interface PlanLauncher {
  /** Returns the job id. `key` makes a retry after a crash launch nothing new. */
  launchOn(plan: string, host: string, by: string, key: string): Promise<string>;
}

/** One host as every selector, filter and table sees it: the effective (merged) record. */
export interface EffectiveHost {
  readonly hostname: string;
  readonly record: InventoryRecord;
  readonly lifecycle: LifecycleState;
  readonly source: 'store' | 'repository' | 'both' | 'agent';
  /** Repository groups (live revision) the host is in. */
  readonly groups: readonly string[];
}

/** Every host of the live inventory with its effective record (memoized per live revision × generation). */
export interface InventoryHosts {
  all(signal?: AbortSignal): Promise<readonly EffectiveHost[]>;
}
