/**
 * The first look at a resource in a run: its type's synchronous read (`readNow`, read-now.ts),
 * made through one context object shared by the whole run. A resource found in sync is settled
 * here (status, record of applied values) without a ResourceRun, a promise or a status object
 * of its own (the plan's shared in-sync status: resource-run.ts `inSyncStatus`); that is most
 * resources of most polls. Anything else runs in full as a ResourceRun.
 *
 * Safe to share because readNow is synchronous: the probe points at one resource from the call
 * to its return, and a resource type must not keep the context past readNow (the contract of
 * docs/resource-contract.md: readNow never writes and never waits).
 */
import type { Resource, ResourceType } from '../../schemas/index.js';
import type { ResourceContext, ResourceImpl } from '../resources/resource.js';
import { degree } from '../../schemas/graph.js';
import { NOT_NOW } from './read-now.js';
import { redactorFor } from './redact.js';
import { inSyncStatus, RunContext } from './resource-run.js';

/** What the probe found: settled in sync, or not (a difference, no synchronous read, an error): run in full. */
export type ProbeResult = 'in-sync' | 'run';

const NO_APPLIED: readonly { property: string }[] = Object.freeze([]);

export class InSyncProbe extends RunContext implements ResourceContext {
  private current: Resource | undefined;
  /** The last actual state read (an exemplar of its shape: see reconcile.ts keepExemplars). */
  private lastActual: object | undefined;
  private index = -1;

  get signal(): AbortSignal {
    return this.s.signal;
  }
  log(message: string, fields?: Record<string, unknown>): void {
    if (!this.current) return;
    this.s.log({ level: 'info', message, resource: this.s.ids[this.index]!, ...(fields ? { fields } : {}) }, redactorFor(this.current));
  }

  /** Reads resource i synchronously when its type can; settles it when it is in sync. */
  probe(i: number, r: Resource, impl: ResourceImpl<ResourceType, unknown>): ProbeResult {
    const s = this.s;
    if (impl.readNow === undefined || degree(s.refreshers, i) !== 0) return 'run';
    const t0 = s.now();
    let actual: unknown;
    this.current = r;
    this.index = i;
    try {
      actual = impl.readNow(r as never, this);
      if (typeof actual === 'object' && actual !== null) this.lastActual = actual; // keeps its shape alive (reconcile.ts keepExemplars)
      if (actual === NOT_NOW) return 'run';
      if (impl.diff(r as never, actual).length > 0) return 'run';
    } catch {
      return 'run'; // the full run reads again (read, not readNow) and reports any error with its phase
    } finally {
      this.current = undefined;
    }
    if (!s.noop) s.applied.convergedAt(i, s.digests[i]!, NO_APPLIED);
    s.finish(i, inSyncStatus(s, i, r.type, Math.max(0, s.now() - t0)));
    return 'in-sync';
  }
}
