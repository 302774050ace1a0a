/**
 * The inventory (CMDB, ADR 0018 §1–§4): operator records in the store merged over the live
 * revision's inventory files, lifecycle with recorded transitions and the on-online plan, dynamic
 * inventory groups, import/export, and search over an in-memory snapshot of every effective host.
 *
 * - Every change bumps the generation pointer once (compare-and-swap); the overlay handed to
 *   RevisionService is memoized per generation, the effective-host snapshot per (live revision
 *   load, generation) and facts for fact. filters per facts epoch (at most 30 s old).
 * - A lifecycle transition is written in the same document as the record (`pendingJson`); its
 *   event and the on-online plan (launched keyed by the event id, so never twice) follow, and an
 *   unfinished one is finished when the service opens.
 * - An import is staged whole (`inventory_imports` + chunks) before the first record is written,
 *   applied idempotently, and finished at open after a crash; the generation moves once, at the
 *   end, so this process never serves a half import (its overlay is memoized on the generation).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ImportResult, InventoryGroup, InventoryPatch, InventoryRecord, InventorySettings, LifecycleEvent, LifecycleState, VirtualResource } from '../../../schemas/api/inventory.js';
import { mergeInventoryRecord, type InventoryOverlay } from '../../../compiler/repo/inventory-overlay.js';
import { loadRepository } from '../../../compiler/repo/load-repository.js';
import { explainGroups } from '../../../compiler/repo/membership.js';
import { isoAt, type Clock } from '../../domain/clock.js';
import { ApiError } from '../../domain/errors.js';
import { isScoped, type Scope } from '../../domain/roles.js';
import { scopeTest } from '../../domain/scope.js';
import { outsideScopeError } from '../users/scope-guard.js';
import type { Logger } from '../../log.js';
import { isDuplicateKey, type DocumentStore } from '../../store/types.js';
import { auditUnchanged, type AuditLog } from '../audit-log.js';
import type { HostStateService } from '../host-state-service.js';
import type { RevisionService } from '../revision-service.js';
import { parseFilter, type CompiledFilter, type FilterHost } from './filter-expr.js';
import { canonical, exportCsv, exportJson, parseCsvImport, parseJsonImport } from './import-format.js';
import { ImportIntents, planImport } from './import-intents.js';
import { evaluateGroups, groupContext } from './dynamic-groups.js';
import { buildSnapshot, repositoryRecordOf, type Snapshot } from './effective-hosts.js';
import { GENERATION_ID, openInventoryCollections, type EventDoc, type HostDoc, type InventoryCollections } from './inventory-model.js';
import { mismatchesOf, type Mismatch } from './mismatches.js';
import type { AgentInventory, InventoryHosts, InventoryRecords, PlanLauncher } from './ports.js';

export interface Actor {
  readonly name: string;
  readonly address?: string | undefined;
  /** An operator's scope: edits must leave and keep the record inside it (ADR 0020). */
  readonly scope?: Scope | undefined;
}

export interface StoredRecord {
  readonly record: InventoryRecord;
  readonly version: number;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

export interface InventoryServiceOptions {
  /** Test seam: called before each write of an import's apply (a throw simulates a crash). */
  readonly beforeImportWrite?: (index: number) => void;
  /** How long loaded facts serve fact. filters. Default 30 s. */
  readonly factsTtlMs?: number;
}

export interface InventoryServiceDeps {
  readonly revisions: RevisionService;
  readonly hostStates: HostStateService;
  readonly auditLog: AuditLog;
  readonly clock: Clock;
  readonly log: Logger;
  /** Launches the on-online plan (also for transitions finished at open); setPlanLauncher may set it later. */
  readonly launcher?: PlanLauncher;
}


const MAX_GROUPS = 1000;
let eventSeq = 0;

/** Event ids sort by time, then by creation in this process (several events in one millisecond). */
function eventId(at: number): string {
  eventSeq = (eventSeq + 1) % 1_000_000;
  return `ev_${at.toString(36).padStart(9, '0')}_${eventSeq.toString(36).padStart(4, '0')}_${randomUUID().slice(0, 8)}`;
}

function digestOf(records: ReadonlyMap<string, InventoryRecord>): string {
  const hash = createHash('sha256');
  for (const name of [...records.keys()].sort()) hash.update(JSON.stringify(records.get(name))).update('\n');
  return hash.digest('hex');
}

function eventView(d: EventDoc): LifecycleEvent {
  return {
    host: d.host,
    from: d.from as LifecycleState | null,
    to: d.to as LifecycleState,
    by: d.by,
    at: isoAt(d.at),
    ...(d.reason !== undefined ? { reason: d.reason } : {}),
    ...(d.planJob !== undefined ? { planJob: d.planJob } : {}),
  };
}

export class InventoryService implements InventoryRecords, InventoryHosts {
  #generation: { at: number; value: number } | undefined;
  #overlay: (InventoryOverlay & { readonly generation: number }) | undefined;
  #overlayLoading: Promise<InventoryOverlay & { readonly generation: number }> | undefined;
  #snapshot: Snapshot | undefined;
  #snapshotLoading: { key: string; p: Promise<Snapshot> } | undefined;
  #members: { key: string; groupsVersion: number; at: number; value: Map<string, Set<string>> } | undefined;
  #groupsVersion = 0;
  #facts: { at: number; value: Map<string, Record<string, unknown>> } | undefined;
  #repoGroups: { revision: string; p: Promise<Awaited<ReturnType<typeof loadRepository>>['groups']> } | undefined;
  #agent: AgentInventory | undefined;
  #launcher: PlanLauncher | undefined;
  #importChain: Promise<unknown> = Promise.resolve();
  readonly #intents: ImportIntents;

  private constructor(
    private readonly c: InventoryCollections,
    private readonly d: InventoryServiceDeps,
    private readonly opts: InventoryServiceOptions,
  ) {
    this.#intents = new ImportIntents(c, { clock: d.clock, log: d.log, generation: () => this.generation(), bump: () => this.#bump(), recordEvent: (t) => this.#recordEvent(t), beforeWrite: opts.beforeImportWrite });
  }

  /** Opens the collections and finishes what a crash left: staged imports, pending transitions. */
  static async open(store: DocumentStore, deps: InventoryServiceDeps, opts: InventoryServiceOptions = {}): Promise<InventoryService> {
    const s = new InventoryService(await openInventoryCollections(store), deps, opts);
    if (deps.launcher) s.setPlanLauncher(deps.launcher);
    await s.resume();
    return s;
  }

  /** Virtual resources and agent reports (SoftwareService); unset: the host page shows no virtuals. */
  setAgentInventory(port: AgentInventory): void {
    this.#agent = port;
  }

  /** Launches the on-online plan (compose: over PlanService + JobService). */
  setPlanLauncher(port: PlanLauncher): void {
    this.#launcher = port;
  }

  /** Finishes staged imports and pending lifecycle transitions (called at open; idempotent). */
  async resume(): Promise<void> {
    for (const imp of await this.#intents.unfinished()) {
      this.d.log.warn('finishing an inventory import a stopped server left staged', { import: imp.id, by: imp.by });
      await this.#intents.apply(imp.id, imp.by);
    }
    for (const doc of await this.c.hosts.find({ pendingJson: { $exists: true } })) await this.#finishTransition(doc);
  }

  // ---- generation and overlay (InventoryRecords) ----

  async generation(signal?: AbortSignal): Promise<number> {
    const now = this.d.clock.now();
    if (this.#generation && now - this.#generation.at < 1000) return this.#generation.value;
    signal?.throwIfAborted();
    const doc = await this.c.pointers.findOne({ _id: GENERATION_ID });
    const value = doc?.generation ?? 0;
    this.#generation = { at: now, value };
    return value;
  }

  async #bump(): Promise<number> {
    for (let i = 0; i < 100; i++) {
      const cur = await this.c.pointers.findOne({ _id: GENERATION_ID });
      if (!cur) {
        try {
          await this.c.pointers.insertOne({ _id: GENERATION_ID, generation: 1 });
          this.#generation = { at: this.d.clock.now(), value: 1 };
          return 1;
        } catch (err) {
          if (isDuplicateKey(err)) continue;
          throw err;
        }
      }
      const moved = await this.c.pointers.findOneAndUpdate({ _id: GENERATION_ID, generation: cur.generation }, { $inc: { generation: 1 } }, { returnDocument: 'after' });
      if (moved) {
        this.#generation = { at: this.d.clock.now(), value: moved.generation };
        return moved.generation;
      }
    }
    throw new ApiError('CONFLICT', 'the inventory generation could not be moved (too many concurrent changes); retry');
  }

  async overlay(signal?: AbortSignal): Promise<InventoryOverlay & { readonly generation: number }> {
    const gen = await this.generation(signal);
    if (this.#overlay && this.#overlay.generation === gen) return this.#overlay;
    this.#overlayLoading ??= (async () => {
      try {
        const records = new Map<string, InventoryRecord>();
        for (const d of await this.c.hosts.find({}, { projection: { recordJson: 1 }, sort: { _id: 1 } })) records.set(d._id, JSON.parse(d.recordJson) as InventoryRecord);
        const o = { generation: gen, records, digest: digestOf(records) };
        this.#overlay = o;
        return o;
      } finally {
        this.#overlayLoading = undefined;
      }
    })();
    return this.#overlayLoading;
  }

  // ---- records ----

  async get(host: string): Promise<StoredRecord | undefined> {
    const d = await this.c.hosts.findOne({ _id: host });
    return d ? { record: JSON.parse(d.recordJson) as InventoryRecord, version: d.version, updatedAt: d.updatedAt, updatedBy: d.updatedBy } : undefined;
  }

  /** Sets fields of a host's record (null removes one), creating it when missing; a lifecycle change is recorded. */
  async patch(host: string, patch: InventoryPatch, actor: Actor): Promise<{ record: InventoryRecord; event?: LifecycleEvent }> {
    if (isScoped(actor.scope)) {
      const cur = await this.c.hosts.findOne({ _id: host });
      await this.#checkScope(actor, [{ host, after: { ...(cur ? (JSON.parse(cur.recordJson) as InventoryRecord) : { hostname: host }), ...(patch as Record<string, unknown>) } as InventoryRecord }], `editing ${host}`);
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      const cur = await this.c.hosts.findOne({ _id: host });
      if (cur?.pendingJson) {
        // An unfinished transition (a concurrent patch, or a crash) is finished before the next is written.
        await this.#finishTransition(cur);
        continue;
      }
      const before = cur ? (JSON.parse(cur.recordJson) as InventoryRecord) : undefined;
      const next: Record<string, unknown> = { ...(before ?? { hostname: host }) };
      for (const [k, v] of Object.entries(patch)) {
        if (k === 'reason' || k === 'attributes') continue;
        if (v === null) delete next[k];
        else next[k] = v;
      }
      if (patch.attributes !== undefined) {
        const attrs: Record<string, string | number | boolean> = { ...(before?.attributes ?? {}) };
        for (const [k, v] of Object.entries(patch.attributes)) {
          if (v === null) delete attrs[k];
          else attrs[k] = v;
        }
        next['attributes'] = attrs;
      }
      const record = canonical(next as InventoryRecord);
      if (record.attributes && Object.keys(record.attributes).length > 64) throw new ApiError('BAD_REQUEST', 'a record has at most 64 attributes');
      // The lifecycle a host had: its store record's, else the live repository record's, else online.
      const repoLc = before?.lifecycle === undefined ? await this.#repositoryLifecycle(host) : undefined;
      // null: the host was in no inventory before this record.
      const fromLc: string | null = before?.lifecycle ?? repoLc?.lifecycle ?? (before !== undefined || repoLc !== undefined ? 'online' : null);
      const toLc = record.lifecycle ?? repoLc?.lifecycle ?? 'online';
      const lcChanged = patch.lifecycle !== undefined && fromLc !== toLc;
      const now = this.d.clock.now();
      const pending = lcChanged ? { id: eventId(now), host, from: fromLc, to: toLc, by: actor.name, at: now, ...(patch.reason !== undefined ? { reason: patch.reason } : {}) } : undefined;
      const recordJson = JSON.stringify(record);
      if (cur && recordJson === cur.recordJson && !pending) {
        auditUnchanged();
        return { record };
      }
      const set = { recordJson, updatedAt: now, updatedBy: actor.name, ...(pending ? { pendingJson: JSON.stringify(pending) } : {}) };
      let written: HostDoc | null = null;
      if (!cur) {
        try {
          const doc: HostDoc = { _id: host, version: 1, ...set };
          await this.c.hosts.insertOne(doc);
          written = doc;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          continue;
        }
      } else {
        written = await this.c.hosts.findOneAndUpdate({ _id: host, version: cur.version }, { $set: set, $inc: { version: 1 } }, { returnDocument: 'after' });
        if (!written) continue;
      }
      await this.#bump();
      await this.d.auditLog.record({ actor: actor.name, action: 'inventory.patch', target: `host:${host}`, address: actor.address, before: before ?? null, after: record, ...(patch.reason !== undefined ? { details: { reason: patch.reason } } : {}) });
      const event = pending ? await this.#finishTransition(written) : undefined;
      return { record, ...(event ? { event } : {}) };
    }
    throw new ApiError('CONFLICT', `the record of ${host} kept changing; retry`);
  }

  /** The live repository's record of a host (undefined: the revision does not declare it). */
  async #repositoryLifecycle(host: string): Promise<{ lifecycle: LifecycleState | undefined } | undefined> {
    const live = await this.d.revisions.live(AbortSignal.timeout(60_000)).catch(() => undefined);
    const h = live?.loaded.hosts.find((x) => x.name === host);
    const rr = h ? repositoryRecordOf(h) : undefined;
    return rr ? { lifecycle: rr.lifecycle } : undefined;
  }

  /** Records the event of a transition written with its record, launches the on-online plan once, clears the mark. */
  async #finishTransition(doc: HostDoc): Promise<LifecycleEvent | undefined> {
    if (!doc.pendingJson) return undefined;
    const p = JSON.parse(doc.pendingJson) as { id: string; host: string; from: string | null; to: string; by: string; at: number; reason?: string };
    const ev = await this.#recordEvent(p);
    await this.c.hosts.updateOne({ _id: doc._id, pendingJson: doc.pendingJson }, { $unset: { pendingJson: true } });
    return ev;
  }

  async #recordEvent(p: { id: string; host: string; from: string | null; to: string; by: string; at: number; reason?: string }): Promise<LifecycleEvent> {
    let ev: EventDoc = { _id: p.id, host: p.host, from: p.from, to: p.to, by: p.by, at: p.at, ...(p.reason !== undefined ? { reason: p.reason.slice(0, 1024) } : {}) };
    try {
      await this.c.events.insertOne(ev);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      ev = (await this.c.events.findOne({ _id: p.id })) ?? ev;
    }
    if (p.to === 'online' && ev.planJob === undefined) {
      const plan = (await this.settings()).onOnlinePlan;
      if (plan && this.#launcher) {
        try {
          const job = await this.#launcher.launchOn(plan, p.host, p.by, p.id);
          await this.c.events.updateOne({ _id: p.id }, { $set: { planJob: job } });
          ev = { ...ev, planJob: job };
        } catch (err) {
          this.d.log.error('the on-online plan could not be launched', { host: p.host, plan, event: p.id, err: (err as Error).message });
          await this.c.events.updateOne({ _id: p.id }, { $set: { planError: (err as Error).message.slice(0, 500) } });
        }
      }
    }
    return eventView(ev);
  }

  /** Removes the store record of a host (its repository record, if any, stays). */
  async remove(host: string, actor: Actor): Promise<boolean> {
    const cur = await this.c.hosts.findOne({ _id: host });
    if (!cur) return false;
    await this.#checkScope(actor, [{ host, after: null }], `removing ${host}`);
    const n = await this.c.hosts.deleteOne({ _id: host });
    if (n === 0) return false;
    await this.#bump();
    await this.d.auditLog.record({ actor: actor.name, action: 'inventory.delete', target: `host:${host}`, address: actor.address, before: JSON.parse(cur.recordJson) });
    return true;
  }

  /** Lifecycle events of a host, newest first. */
  async events(host: string, limit = 100): Promise<LifecycleEvent[]> {
    return (await this.c.events.find({ host }, { sort: { at: -1, _id: -1 }, limit: Math.min(Math.max(limit, 1), 1000) })).map(eventView);
  }

  // ---- settings ----

  async settings(): Promise<InventorySettings> {
    const d = await this.c.settings.findOne({ _id: 'settings' });
    return { onOnlinePlan: d?.onOnlinePlan ?? null };
  }

  async putSettings(s: InventorySettings, actor: Actor): Promise<InventorySettings> {
    const before = await this.settings();
    if (s.onOnlinePlan === null || s.onOnlinePlan === undefined) await this.c.settings.updateOne({ _id: 'settings' }, { $unset: { onOnlinePlan: true } }, { upsert: true });
    else await this.c.settings.updateOne({ _id: 'settings' }, { $set: { onOnlinePlan: s.onOnlinePlan } }, { upsert: true });
    const after = await this.settings();
    await this.d.auditLog.record({ actor: actor.name, action: 'inventory.settings', target: 'inventory:settings', address: actor.address, before, after });
    return after;
  }

  // ---- effective hosts ----

  /**
   * A scoped operator's edit must find each host inside its scope before (its effective record,
   * if it has one) and leave it inside after (the new store record over the repository's).
   * A null `after` removes the store record.
   */
  async #checkScope(actor: Actor, edits: readonly { host: string; after: InventoryRecord | null }[], what: string): Promise<void> {
    if (!isScoped(actor.scope) || edits.length === 0) return;
    const test = scopeTest(actor.scope);
    const effective = new Map<string, FilterHost>();
    for (const h of await this.all()) effective.set(h.hostname, h);
    const outside: string[] = [];
    for (const e of edits) {
      const before = effective.get(e.host)?.record;
      // A field the store record leaves out (or a patch removes: null) falls back to the current effective value.
      const after = e.after === null ? undefined : { business: e.after.business ?? before?.business, idc: e.after.idc ?? before?.idc };
      if ((before && !test(before)) || (after && !test(after))) outside.push(e.host);
    }
    if (outside.length > 0) throw outsideScopeError(actor.scope, outside, edits.length, what);
  }

  /** Every effective host, sorted by hostname (InventoryHosts). */
  async all(signal?: AbortSignal): Promise<readonly FilterHost[]> {
    return (await this.#snap(signal ?? AbortSignal.timeout(120_000))).hosts;
  }

  async #snap(signal: AbortSignal): Promise<Snapshot> {
    const overlay = await this.overlay(signal);
    const live = await this.d.revisions.live(signal);
    const key = `${live?.key ?? '-'}|${overlay.generation}|${overlay.digest}`;
    if (this.#snapshot?.key === key) return this.#snapshot;
    if (this.#snapshotLoading?.key === key) return this.#snapshotLoading.p;
    const p = Promise.resolve().then(() => {
      const snap = buildSnapshot(key, live, overlay.records);
      this.#snapshot = snap;
      return snap;
    });
    this.#snapshotLoading = { key, p };
    try {
      return await p;
    } finally {
      if (this.#snapshotLoading?.key === key) this.#snapshotLoading = undefined;
    }
  }

  async #allFacts(signal: AbortSignal): Promise<Map<string, Record<string, unknown>>> {
    const now = this.d.clock.now();
    if (this.#facts && now - this.#facts.at < (this.opts.factsTtlMs ?? 30_000)) return this.#facts.value;
    const value = await this.d.hostStates.allFacts(signal);
    this.#facts = { at: now, value };
    return value;
  }

  // ---- dynamic groups ----

  async listGroups(): Promise<InventoryGroup[]> {
    const docs = await this.c.groups.find({}, { sort: { _id: 1 }, limit: MAX_GROUPS });
    let members: Map<string, Set<string>> | undefined;
    try {
      members = await this.groupMembers();
    } catch {
      members = undefined;
    }
    return docs.map((d) => ({ name: d._id, filter: d.filter, ...(d.description !== undefined ? { description: d.description } : {}), ...(members ? { members: members.get(d._id)?.size ?? 0 } : {}) }));
  }

  async getGroup(name: string): Promise<(InventoryGroup & { hosts: string[] }) | undefined> {
    const d = await this.c.groups.findOne({ _id: name });
    if (!d) return undefined;
    const hosts = [...((await this.groupMembers()).get(name) ?? [])].sort();
    return { name, filter: d.filter, ...(d.description !== undefined ? { description: d.description } : {}), members: hosts.length, hosts };
  }

  /** Creates or replaces a dynamic group; refused when a repository group has the name or the filter is bad. */
  async putGroup(g: InventoryGroup, actor: Actor): Promise<{ group: InventoryGroup; created: boolean }> {
    parseFilter(g.filter);
    const signal = AbortSignal.timeout(60_000);
    const live = await this.d.revisions.live(signal);
    if (live && (g.name === 'all' || live.loaded.hosts.some((h) => h.groups.includes(g.name)) || (await this.#repositoryGroups(live.id)).has(g.name))) {
      throw new ApiError('CONFLICT', `the live revision has a group "${g.name}" (groups/${g.name}.yaml); an inventory group needs another name`);
    }
    const before = await this.c.groups.findOne({ _id: g.name });
    if (!before && (await this.c.groups.count({})) >= MAX_GROUPS) throw new ApiError('CONFLICT', `at most ${MAX_GROUPS} inventory groups`);
    const now = this.d.clock.now();
    await this.c.groups.updateOne({ _id: g.name }, { $set: { filter: g.filter, updatedAt: now, updatedBy: actor.name, ...(g.description !== undefined ? { description: g.description } : {}) }, ...(g.description === undefined ? { $unset: { description: true } } : {}), $setOnInsert: { createdAt: now } }, { upsert: true });
    this.#groupsVersion++;
    await this.d.auditLog.record({ actor: actor.name, action: 'inventory.group.put', target: `inventory-group:${g.name}`, address: actor.address, before: before ? { filter: before.filter, description: before.description } : null, after: { filter: g.filter, description: g.description } });
    const members = (await this.groupMembers()).get(g.name)?.size ?? 0;
    return { group: { name: g.name, filter: g.filter, ...(g.description !== undefined ? { description: g.description } : {}), members }, created: !before };
  }

  async deleteGroup(name: string, actor: Actor): Promise<boolean> {
    const before = await this.c.groups.findOne({ _id: name });
    if (!before) return false;
    await this.c.groups.deleteOne({ _id: name });
    this.#groupsVersion++;
    await this.d.auditLog.record({ actor: actor.name, action: 'inventory.group.delete', target: `inventory-group:${name}`, address: actor.address, before: { filter: before.filter } });
    return true;
  }

  /**
   * Dynamic group → member hosts (TargetResolver.setInventoryGroups). A group's filter may name
   * other groups (group:X); a cycle makes the inner test false. Memoized per snapshot and group change.
   */
  async groupMembers(signal?: AbortSignal): Promise<Map<string, Set<string>>> {
    const sig = signal ?? AbortSignal.timeout(120_000);
    const snap = await this.#snap(sig);
    const version = this.#groupsVersion;
    // Another server's group edits are seen within 10 s; this one's at once.
    if (this.#members && this.#members.key === snap.key && this.#members.groupsVersion === version && this.d.clock.now() - this.#members.at < 10_000) return this.#members.value;
    const docs = await this.c.groups.find({}, { sort: { _id: 1 }, limit: MAX_GROUPS });
    const filters = new Map<string, CompiledFilter>();
    for (const d of docs) {
      try {
        filters.set(d._id, parseFilter(d.filter));
      } catch {
        this.d.log.warn('an inventory group has a bad filter; it has no members', { group: d._id });
      }
    }
    const facts = [...filters.values()].some((f) => f.usesFacts) ? await this.#allFacts(sig) : undefined;
    const value = evaluateGroups(snap.hosts, filters, facts);
    this.#members = { key: snap.key, groupsVersion: version, at: this.d.clock.now(), value };
    return value;
  }

  async #groupFilters(): Promise<Map<string, CompiledFilter>> {
    const filters = new Map<string, CompiledFilter>();
    for (const d of await this.c.groups.find({}, { sort: { _id: 1 }, limit: MAX_GROUPS })) {
      try {
        filters.set(d._id, parseFilter(d.filter));
      } catch {
        // reported by groupMembers
      }
    }
    return filters;
  }

  async #repositoryGroups(revision: string): Promise<Awaited<ReturnType<typeof loadRepository>>['groups']> {
    if (this.#repoGroups?.revision !== revision) {
      const p = (async () => (await loadRepository(await this.d.revisions.checkoutDir(revision))).groups)();
      p.catch(() => {
        if (this.#repoGroups?.p === p) this.#repoGroups = undefined;
      });
      this.#repoGroups = { revision, p };
    }
    return this.#repoGroups.p;
  }

  // ---- search ----

  /** One page of the hosts a filter selects, sorted by hostname; `after` is the last hostname of the previous page. */
  async list(q: { filter?: string | undefined; after?: string | undefined; limit?: number | undefined }, signal: AbortSignal): Promise<{ hosts: Record<string, unknown>[]; total: number; next?: string }> {
    const filter = q.filter !== undefined && q.filter.trim() !== '' ? parseFilter(q.filter) : undefined;
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    const snap = await this.#snap(signal);
    const groupFilters = await this.#groupFilters();
    const facts = filter?.usesFacts || [...groupFilters.values()].some((f) => f.usesFacts && filter?.groups.length) ? await this.#allFacts(signal) : undefined;
    const ctx = groupContext(groupFilters, facts);
    const members = await this.groupMembers(signal);
    let total = 0;
    const page: FilterHost[] = [];
    let more = false;
    for (const h of snap.hosts) {
      if (filter && !filter.matches(h, ctx)) continue;
      total++;
      if (q.after !== undefined && h.hostname <= q.after) continue;
      if (page.length < limit) page.push(h);
      else more = true;
    }
    // The page's facts only (not the fleet's): the OS column and the mismatch count of each row.
    const pageFacts = facts ?? (await this.d.hostStates.factsOf(page.map((h) => h.hostname), signal));
    const rows = page.map((h) => {
      const dyn = [...members].filter(([, set]) => set.has(h.hostname)).map(([g]) => g);
      const { hostname: _h, ...fields } = h.record;
      const f = pageFacts.get(h.hostname);
      const os = f ? osText(f) : undefined;
      return { hostname: h.hostname, ...fields, lifecycle: h.lifecycle, source: h.source, groups: [...h.groups, ...dyn], ...(os ? { os } : {}), ...(f ? { mismatches: mismatchesOf(h.hostname, h.record, f).length } : {}) };
    });
    return { hosts: rows, total, ...(more && page.length > 0 ? { next: page[page.length - 1]!.hostname } : {}) };
  }

  /** Everything about one host (GET /api/v1/inventory/hosts/:host); undefined when no inventory knows it. */
  async detail(host: string, signal: AbortSignal): Promise<Record<string, unknown> | undefined> {
    const snap = await this.#snap(signal);
    const h = snap.byName.get(host);
    const state = await this.d.hostStates.get(host);
    if (!h) return undefined;
    const lh = snap.live.get(host);
    const repo = lh ? repositoryRecordOf(lh) : undefined;
    const stored = snap.stored.get(host);
    const facts = state?.facts;
    const mismatches: Mismatch[] = facts ? mismatchesOf(h.hostname, h.record, facts) : [];
    const groups: { group: string; source: 'repository' | 'inventory'; why: string }[] = [];
    if (snap.revision !== undefined && h.groups.length > 0) {
      try {
        const repoGroups = await this.#repositoryGroups(snap.revision);
        const merged = mergeInventoryRecord(repo, stored);
        if (h.groups.includes('all')) groups.push({ group: 'all', source: 'repository', why: 'every host is in all' });
        for (const g of explainGroups(repoGroups, { name: host, file: '', record: merged }, facts)) groups.push({ group: g.group, source: 'repository', why: g.why });
        for (const g of h.groups) if (!groups.some((x) => x.group === g)) groups.push({ group: g, source: 'repository', why: 'member (by the compiler)' });
      } catch (err) {
        this.d.log.warn('the repository groups could not be explained', { host, err: (err as Error).message });
        for (const g of h.groups) groups.push({ group: g, source: 'repository', why: 'member' });
      }
    }
    const members = await this.groupMembers(signal);
    const docs = await this.c.groups.find({}, { sort: { _id: 1 }, limit: MAX_GROUPS });
    for (const d of docs) if (members.get(d._id)?.has(host)) groups.push({ group: d._id, source: 'inventory', why: `filter ${d.filter}` });
    const children = snap.hosts.filter((x) => x.record.parent === host).map((x) => x.hostname);
    let virtuals: { virtuals: readonly VirtualResource[]; updatedAt: string } | undefined;
    if (this.#agent) {
      try {
        virtuals = await this.#agent.virtualsOf(host);
      } catch (err) {
        this.d.log.warn('the virtual resources of a host could not be read', { host, err: (err as Error).message });
      }
    }
    return {
      host,
      source: h.source,
      effective: h.record,
      ...(stored ? { stored } : {}),
      ...(repo ? { repository: repo } : {}),
      ...(facts ? { facts } : {}),
      ...(state?.factsUpdatedAt !== undefined ? { factsUpdatedAt: isoAt(state.factsUpdatedAt) } : {}),
      mismatches,
      groups,
      lifecycleHistory: await this.events(host, 100),
      children,
      virtuals: virtuals?.virtuals ?? [],
      ...(virtuals ? { virtualsUpdatedAt: virtuals.updatedAt } : {}),
    };
  }

  // ---- import / export ----

  /** Validates a whole file; nothing is written unless every row is valid (and not a dry run). */
  async import(text: string, o: { format: 'csv' | 'json'; dryRun: boolean; mode: 'merge' | 'replace' }, actor: Actor): Promise<ImportResult> {
    const run = this.#importChain.then(() => this.#import(text, o, actor));
    this.#importChain = run.catch(() => undefined);
    return run;
  }

  async #import(text: string, o: { format: 'csv' | 'json'; dryRun: boolean; mode: 'merge' | 'replace' }, actor: Actor): Promise<ImportResult> {
    const parsed = o.format === 'csv' ? parseCsvImport(text) : parseJsonImport(text);
    const base = { dryRun: o.dryRun, mode: o.mode };
    if (parsed.problems.length > 0) {
      auditUnchanged();
      return { ...base, applied: false, added: [], changed: [], removed: [], unchanged: 0, counts: { added: 0, changed: 0, removed: 0 }, problems: parsed.problems };
    }
    const current = new Map<string, InventoryRecord>();
    for (const d of await this.c.hosts.find({}, { projection: { recordJson: 1 } })) current.set(d._id, JSON.parse(d.recordJson) as InventoryRecord);
    const plan = planImport(current, parsed.rows, o.mode);
    await this.#checkScope(actor, plan.ops.map((op) => ({ host: op.h, after: op.r === null ? null : (JSON.parse(op.r) as InventoryRecord) })), 'this import');
    const counts = { added: plan.added.length, changed: plan.changed.length, removed: plan.removed.length };
    const result: ImportResult = { ...base, applied: false, added: plan.added.slice(0, 1000), changed: plan.changed.slice(0, 1000), removed: plan.removed.slice(0, 1000), unchanged: plan.unchanged, counts, problems: [] };
    if (o.dryRun || plan.ops.length === 0) auditUnchanged();
    if (o.dryRun) return result;
    if (plan.ops.length === 0) return { ...result, applied: true, generation: await this.generation() };
    const id = await this.#intents.stage(plan, actor.name, o.mode);
    const generation = await this.#intents.apply(id, actor.name);
    await this.d.auditLog.record({ actor: actor.name, action: 'inventory.import', target: `inventory-import:${id}`, address: actor.address, after: { mode: o.mode, format: o.format, ...counts, unchanged: plan.unchanged }, details: { added: plan.added.slice(0, 100), changed: plan.changed.slice(0, 100).map((c) => c.hostname), removed: plan.removed.slice(0, 100) } });
    return { ...result, applied: true, generation };
  }

  /** The store records as CSV or JSON (the import formats). */
  async export(format: 'csv' | 'json'): Promise<string> {
    const records = (await this.c.hosts.find({}, { projection: { recordJson: 1 }, sort: { _id: 1 } })).map((d) => JSON.parse(d.recordJson) as InventoryRecord);
    return format === 'csv' ? exportCsv(records) : exportJson(records);
  }
}

/** "Debian GNU/Linux 12 (bookworm)" from the agent's os facts (prettyName, else name and version). */
function osText(facts: Record<string, unknown>): string | undefined {
  const os = facts['os'];
  if (typeof os !== 'object' || os === null) return undefined;
  const o = os as Record<string, unknown>;
  const text = typeof o['prettyName'] === 'string' && o['prettyName'] !== '' ? o['prettyName'] : [o['name'], o['versionId']].filter((x) => typeof x === 'string' && x !== '').join(' ');
  return typeof text === 'string' && text !== '' ? text.slice(0, 200) : undefined;
}
