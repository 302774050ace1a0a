/**
 * What the rollout engine (ADR 0017) needs from what it delivers. The engine is kind-agnostic:
 * it orders hosts into batches, starts one batch at a time, judges it, and applies gates and
 * the failure threshold. A target knows how to deliver to some hosts and how they fared.
 *
 * - RevisionTarget (revision-target.ts): delivering = the hosts of started batches are served
 *   the new revision's catalog (CatalogService asks RolloutService.revisionFor(host)); a host
 *   has fared when it reported a run of the new revision after the batch started.
 * - JobTarget (job-target.ts): delivering = launching one job for the batch's hosts (the
 *   rollout's launch request with its targets replaced); fared = that job's host results.
 */

/** How one host of a started batch fared, as far as is known now. */
export type HostOutcome =
  | { readonly host: string; readonly state: 'pending' }
  | { readonly host: string; readonly state: 'succeeded' }
  | { readonly host: string; readonly state: 'failed'; readonly reason: string };

/** A host the engine may deliver to, with what topology-aware ordering needs. */
export interface RolloutHost {
  readonly name: string;
  /** Inventory attribute `idc`, when set. */
  readonly idc?: string;
  /** Inventory attribute `set`, when set. */
  readonly set?: string;
  /** Inventory address for probes (attribute `ip`, else the agent's first reported IP, else the name). */
  readonly address: string;
}

export interface DeliveryContext {
  readonly rolloutId: string;
  readonly batchIndex: number;
  /** When the batch was started (ms since epoch): reports older than this do not count. */
  readonly startedAt: number;
}

export interface RolloutTarget {
  /** Hosts the rollout covers, resolved once when it is created. */
  hosts(): Promise<RolloutHost[]>;
  /**
   * Delivers the batch. Idempotent: the engine calls it again after a restart when it cannot
   * tell whether an earlier call completed; it returns an opaque reference (the job id) stored
   * with the batch.
   */
  deliver(hosts: readonly string[], ctx: DeliveryContext): Promise<{ ref?: string }>;
  /** How each host of a delivered batch fared. */
  outcomes(hosts: readonly string[], ctx: DeliveryContext & { ref?: string }): Promise<HostOutcome[]>;
}
