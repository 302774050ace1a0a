/**
 * Resolves target selectors against the live revision's inventory (groups and operator-set
 * attributes), the hosts' facts (only when a fact: term is used) and enrollment: only hosts
 * enrolled with an approved key can run; the others are listed with the reason.
 */
import type { EnrollmentService } from '../enrollment-service.js';
import type { HostStateService } from '../host-state-service.js';
import type { InventoryHost } from '../compiler-port.js';
import type { RevisionService } from '../revision-service.js';
import { parseSelector, selectHosts, usesFacts, type SelectorTerm, type TargetHost } from './selector.js';

export interface ResolvedTargets {
  /** Hosts that can run, in inventory order. */
  readonly hosts: string[];
  /** Selected hosts that cannot run, and hosts named by host: that are not in the inventory. */
  readonly unavailable: { host: string; reason: string }[];
  /** Every selected inventory host (for probes: their addresses). */
  readonly inventory: ReadonlyMap<string, InventoryHost>;
}

export class TargetResolver {
  constructor(
    private readonly revisions: RevisionService,
    private readonly enrollment: EnrollmentService,
    private readonly hostStates: HostStateService,
  ) {}

  /** The live revision's inventory (empty when nothing is published). */
  async inventory(signal: AbortSignal): Promise<readonly InventoryHost[]> {
    const live = await this.revisions.live(signal);
    return live?.loaded.hosts ?? [];
  }

  /** Parses and resolves a selector; throws ApiError BAD_REQUEST for a bad one. */
  async resolve(selector: string, signal: AbortSignal): Promise<ResolvedTargets> {
    return this.resolveTerms(parseSelector(selector), signal);
  }

  async resolveTerms(terms: readonly SelectorTerm[], signal: AbortSignal): Promise<ResolvedTargets> {
    const inv = await this.inventory(signal);
    let candidates: TargetHost[] = [...inv];
    if (usesFacts(terms)) candidates = await Promise.all(inv.map(async (h) => ({ ...h, facts: await this.hostStates.facts(h.name) })));
    const selected = selectHosts(terms, candidates);
    const byName = new Map(inv.map((h) => [h.name, h] as const));
    const unavailable: { host: string; reason: string }[] = [];
    for (const t of terms) if (t.kind === 'host' && !byName.has(t.key) && !unavailable.some((u) => u.host === t.key)) unavailable.push({ host: t.key, reason: 'not in the inventory of the live revision' });
    const status = await this.enrollment.statusOf(selected.map((h) => h.name));
    const hosts: string[] = [];
    for (const h of selected) {
      const s = status.get(h.name);
      if (s === 'approved') hosts.push(h.name);
      else unavailable.push({ host: h.name, reason: s === undefined ? 'not enrolled' : s === 'pending' ? 'enrollment pending approval' : 'enrollment revoked' });
    }
    return { hosts, unavailable, inventory: new Map(selected.map((h) => [h.name, byName.get(h.name)!] as const)) };
  }

  /** Which of `names` can run now (enrolled and approved), and why the others cannot. */
  async runnable(names: readonly string[]): Promise<{ hosts: string[]; unavailable: { host: string; reason: string }[] }> {
    const status = await this.enrollment.statusOf(names);
    const hosts: string[] = [];
    const unavailable: { host: string; reason: string }[] = [];
    for (const n of names) {
      const s = status.get(n);
      if (s === 'approved') hosts.push(n);
      else unavailable.push({ host: n, reason: s === undefined ? 'not enrolled' : s === 'pending' ? 'enrollment pending approval' : 'enrollment revoked' });
    }
    return { hosts, unavailable };
  }
}
