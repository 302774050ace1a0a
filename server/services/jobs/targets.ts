/**
 * Resolves target selectors against the live revision's inventory (groups and operator-set
 * attributes, with the store's inventory merged in: ADR 0018), the hosts' facts (only when a
 * fact: term is used), the store's dynamic inventory groups (only when a group: term is used),
 * lifecycle and enrollment: only online hosts (unless the launch includes inactive ones) enrolled
 * with an approved key can run; the others are listed with the reason.
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

/** The store's dynamic inventory groups (InventoryService): group → member host names. */
export interface InventoryGroupSource {
  groupMembers(): Promise<ReadonlyMap<string, ReadonlySet<string>>>;
}

export interface ResolveOptions {
  /** Also hosts whose lifecycle is not online (ADR 0018 §2). */
  readonly includeInactive?: boolean | undefined;
}

/** Why a host that is not online is left out. */
function inactiveReason(lifecycle: string): string {
  return `lifecycle ${lifecycle} (only online hosts run unless the launch includes inactive hosts)`;
}

export class TargetResolver {
  #groups: InventoryGroupSource | undefined;

  constructor(
    private readonly revisions: RevisionService,
    private readonly enrollment: EnrollmentService,
    private readonly hostStates: HostStateService,
  ) {}

  /** ADR 0018: `group:NAME` also names the store's dynamic inventory groups. */
  setInventoryGroups(source: InventoryGroupSource): void {
    this.#groups = source;
  }

  /** The live revision's inventory (empty when nothing is published). */
  async inventory(signal: AbortSignal): Promise<readonly InventoryHost[]> {
    const live = await this.revisions.live(signal);
    return live?.loaded.hosts ?? [];
  }

  /** Parses and resolves a selector; throws ApiError BAD_REQUEST for a bad one. */
  async resolve(selector: string, signal: AbortSignal, opts: ResolveOptions = {}): Promise<ResolvedTargets> {
    return this.resolveTerms(parseSelector(selector), signal, opts);
  }

  async resolveTerms(terms: readonly SelectorTerm[], signal: AbortSignal, opts: ResolveOptions = {}): Promise<ResolvedTargets> {
    const inv = await this.inventory(signal);
    let candidates: TargetHost[] = [...inv];
    if (usesFacts(terms)) candidates = await Promise.all(inv.map(async (h) => ({ ...h, facts: await this.hostStates.facts(h.name) })));
    if (this.#groups && terms.some((t) => t.kind === 'group')) {
      const members = await this.#groups.groupMembers();
      const named = terms.filter((t) => t.kind === 'group' && members.has(t.key)).map((t) => t.key);
      if (named.length > 0) candidates = candidates.map((h) => {
        const extra = named.filter((g) => members.get(g)!.has(h.name));
        return extra.length === 0 ? h : { ...h, groups: [...h.groups, ...extra] };
      });
    }
    const matched = selectHosts(terms, candidates);
    const unavailable: { host: string; reason: string }[] = [];
    const selected = opts.includeInactive ? matched : matched.filter((h) => {
      const lc = h.lifecycle ?? 'online';
      if (lc !== 'online') unavailable.push({ host: h.name, reason: inactiveReason(lc) });
      return lc === 'online';
    });
    const byName = new Map(inv.map((h) => [h.name, h] as const));
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
  async runnable(names: readonly string[], opts: ResolveOptions & { signal?: AbortSignal } = {}): Promise<{ hosts: string[]; unavailable: { host: string; reason: string }[] }> {
    const unavailable: { host: string; reason: string }[] = [];
    if (!opts.includeInactive) {
      const lifecycle = new Map((await this.inventory(opts.signal ?? AbortSignal.timeout(60_000))).map((h) => [h.name, h.lifecycle ?? 'online'] as const));
      names = names.filter((n) => {
        const lc = lifecycle.get(n) ?? 'online';
        if (lc !== 'online') unavailable.push({ host: n, reason: inactiveReason(lc) });
        return lc === 'online';
      });
    }
    const status = await this.enrollment.statusOf(names);
    const hosts: string[] = [];
    for (const n of names) {
      const s = status.get(n);
      if (s === 'approved') hosts.push(n);
      else unavailable.push({ host: n, reason: s === undefined ? 'not enrolled' : s === 'pending' ? 'enrollment pending approval' : 'enrollment revoked' });
    }
    return { hosts, unavailable };
  }
}
