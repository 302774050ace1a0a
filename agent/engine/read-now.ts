/**
 * The synchronous read a resource type may offer beside `read` (docs/resource-contract.md):
 * `readNow(desired, ctx)` returns the actual state at once, or NOT_NOW when it needs something
 * asynchronous (then the engine calls `read`). Same rules as `read`: never writes. An in-sync
 * resource read this way finishes without a single promise, which is most of what a no-op run
 * of a large catalog costs above the syscalls. Hosts offer the synchronous reads it needs as
 * `SyncReads` (the NodeHost does; reads there are synchronous anyway).
 */
import type { Host, Stat } from '../host/host.js';
import type { ResourceContext } from '../resources/resource.js';

export { NOT_NOW, type NotNow } from '../resources/resource.js';

/** Synchronous reads a Host may offer (NodeHost: lstatNow, readFileNow, sha256Now). */
export interface SyncReads {
  lstatNow(path: string): Stat | undefined;
  readFileNow(path: string): Buffer;
  /** sha256 (hex) of what readFileNow would return, without holding the whole file. */
  sha256Now(path: string): string;
}

/** The host's synchronous reads, when it has them. */
export function syncReads(ctx: ResourceContext): SyncReads | undefined {
  return hostSyncReads(ctx.host);
}

/** A host's synchronous reads, when it has them. */
export function hostSyncReads(host: Host): SyncReads | undefined {
  const h = host as Partial<SyncReads>;
  return typeof h.lstatNow === 'function' && typeof h.readFileNow === 'function' && typeof h.sha256Now === 'function' ? (h as SyncReads) : undefined;
}
