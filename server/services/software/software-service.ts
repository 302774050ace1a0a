/**
 * SoftwareService (ADR 0018 §5–§7): what operators track (packages with an approved version,
 * services, collector scripts, the collection interval), the tracking config agents fetch, the
 * latest inventory report of every host (it implements the AgentInventory port), the tables
 * (per host, per package with the fleet view of versions, services with drift), and the actions
 * "upgrade to approved" (a job rollout of a resources step) and service start/stop/restart (an
 * audited job, or a job rollout when a batch policy is given).
 *
 * Store:
 *   software_tracking         one document per tracked entry: "package:<manager>/<name>",
 *                             "service:<name>", "collector:<name>", "settings"; the entry is JSON
 *                             text (artifact version maps have dotted keys), with who and when.
 *   software_hosts            one document per host: the last accepted report (JSON text), its
 *                             digest, when it arrived, and the drift memory of every service.
 *   software_service_actions  the last action an operator launched per host × service.
 *
 * Tables read an in-memory index of the reports (host-index.ts), loaded once and then updated by
 * ingests and by incremental refreshes, never by loading every report per request.
 */
import { createHash } from 'node:crypto';
import type { HostPackageRow, HostServiceRow, PackageManager, SoftwareSettings, TrackedPackage, TrackedService } from '../../../schemas/api/software.js';
import type { JobLaunch } from '../../../schemas/api/jobs.js';
import type { RolloutPolicy } from '../../../schemas/api/rollouts.js';
import type { VirtualResource } from '../../../schemas/api/inventory.js';
import type { AgentInventoryReport, Collector, TrackingConfig } from '../../../schemas/inventory-protocol.js';
import { sortNewestFirst, versionStatus, type VersionStatus } from '../../../schemas/version-order.js';
import type { Clock } from '../../domain/clock.js';
import { RateLimiter } from '../../domain/rate-limiter.js';
import { ApiError } from '../../domain/errors.js';
import { isAdmin, type Role, type Scope } from '../../domain/roles.js';
import type { Collection, DocumentStore } from '../../store/types.js';
import type { AuditLog } from '../audit-log.js';
import type { AgentInventory, InventoryHosts } from '../inventory/ports.js';
import type { JobService } from '../jobs/job-service.js';
import type { RolloutService } from '../rollouts/rollout-service.js';
import { defaultActionGraceMs, isDrift, nextMemory, type LastAction, type ServiceMemory, type ServiceState } from './drift.js';
import { cmp, HostIndex, packageKey, type IndexedHost, type IndexedPackage, type IndexedService } from './host-index.js';
import { serviceScript, type ServiceAction } from './service-scripts.js';
import { buildTrackingConfig } from './tracking.js';

/** Who acts: the operator (name, role) and the client address. */
export interface SoftwareActor {
  readonly name: string;
  readonly role: Role;
  readonly scope?: Scope | undefined;
  readonly address?: string | undefined;
}

type TrackingDoc = { _id: string; kind: 'package' | 'service' | 'collector' | 'settings'; bodyJson: string; updatedAt: number; updatedBy: string };
type HostDoc = {
  _id: string;
  receivedAt: number;
  collectedAt: string;
  configVersion: string;
  digest: string;
  reportJson: string;
  /** Drift memory per tracked service name. */
  services: { name: string; lastRunningAt?: number; stoppedSince?: number }[];
};
type ActionDoc = { _id: string; host: string; name: string; action: ServiceAction; by: string; at: number; job?: string; rollout?: string };

export interface SoftwareOptions {
  /** How long the tracking config is cached (other servers' changes show within it). Default 1 s. */
  readonly configTtlMs?: number;
  /** How often a table request refreshes the index from the store at most. Default 1 s. */
  readonly refreshMs?: number;
  /** Drift: how long before a service was first seen down a stop/restart still counts (drift.ts). */
  readonly actionGraceMs?: number;
  /** Inventory reports accepted per host per minute (429 beyond). Default 20 (an agent sends at most one per interval, 10 s at least). */
  readonly reportsPerMinute?: number;
}

export interface PackageQuery {
  readonly host?: string;
  readonly name?: string;
  readonly manager?: PackageManager;
  readonly status?: VersionStatus;
  readonly limit?: number;
  readonly after?: string;
}

export interface ServiceQuery {
  readonly host?: string;
  readonly name?: string;
  readonly drift?: boolean;
  readonly limit?: number;
  readonly after?: string;
}

export interface PackageTable {
  packages: HostPackageRow[];
  tracked: TrackedPackage[];
  versions: { name: string; manager: PackageManager; approved?: string; counts: { version: string | null; hosts: number; status: VersionStatus }[] }[];
  total: number;
  next?: string;
}

export interface ServiceTable {
  services: HostServiceRow[];
  tracked: TrackedService[];
  total: number;
  next?: string;
}

export interface ActionResult {
  job?: string;
  rollout?: string;
  hosts: string[];
}

const maxLimit = 5000;
const defaultLimit = 500;
/** Refresh margin: documents received this long before the last refresh are read again. */
const refreshMarginMs = 5000;
/** Upgrade: a job rollout with the canary policy of the schema's description. */
const defaultUpgradePolicy: RolloutPolicy = { batches: '1,50%,100%', gate: 'auto', maxFailures: { count: 0 } };
/** Limits of a target selector (server/services/jobs/selector.ts). */
const maxSelectorTerms = 200;
const maxSelectorChars = 4096;

const iso = (ms: number): string => new Date(ms).toISOString();
const encodeCursor = (parts: readonly string[]): string => Buffer.from(parts.join('\u0000'), 'utf8').toString('base64url');
function decodeCursor(c: string | undefined): string[] | undefined {
  if (c === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(c)) throw new ApiError('BAD_REQUEST', 'after must be the `next` cursor of a previous page');
  return Buffer.from(c, 'base64url').toString('utf8').split('\u0000');
}

export class SoftwareService implements AgentInventory {
  readonly #index = new HostIndex();
  #indexLoaded: Promise<void> | undefined;
  #refreshedAt = -Infinity;
  #watermark = 0;
  #refreshing: Promise<void> | undefined;
  #config: { at: number; value: Promise<{ config: TrackingConfig; packages: Map<string, TrackedPackage>; services: Map<string, TrackedService> }> } | undefined;
  #inventoryHosts: InventoryHosts | undefined;
  readonly #configTtlMs: number;
  readonly #refreshMs: number;
  readonly #graceMs: number;
  readonly #reportLimiter: RateLimiter;

  private constructor(
    private readonly tracking: Collection<TrackingDoc>,
    private readonly hostDocs: Collection<HostDoc>,
    private readonly actions: Collection<ActionDoc>,
    private readonly clock: Clock,
    private readonly deps: { readonly jobs: JobService; readonly rollouts: RolloutService; readonly auditLog: AuditLog },
    opts: SoftwareOptions,
  ) {
    this.#configTtlMs = opts.configTtlMs ?? 1000;
    this.#refreshMs = opts.refreshMs ?? 1000;
    this.#graceMs = opts.actionGraceMs ?? defaultActionGraceMs;
    this.#reportLimiter = new RateLimiter(clock, opts.reportsPerMinute ?? 20, 60_000);
  }

  static async open(store: DocumentStore, clock: Clock, deps: { readonly jobs: JobService; readonly rollouts: RolloutService; readonly auditLog: AuditLog }, opts: SoftwareOptions = {}): Promise<SoftwareService> {
    return new SoftwareService(
      await store.collection<TrackingDoc>('software_tracking', [{ name: 'kind', fields: { kind: 1 } }]),
      await store.collection<HostDoc>('software_hosts', [{ name: 'received_at', fields: { receivedAt: 1 } }]),
      await store.collection<ActionDoc>('software_service_actions', [{ name: 'host', fields: { host: 1 } }]),
      clock,
      deps,
      opts,
    );
  }

  /** The host set of the tables (ADR 0018: the effective inventory); without it, the hosts that reported. */
  setInventoryHosts(hosts: InventoryHosts | undefined): void {
    this.#inventoryHosts = hosts;
  }

  // ---------------------------------------------------------------------------------------------
  // Tracking
  // ---------------------------------------------------------------------------------------------

  async #loadConfig(): Promise<{ config: TrackingConfig; packages: Map<string, TrackedPackage>; services: Map<string, TrackedService> }> {
    const docs = await this.tracking.find({});
    const packages = new Map<string, TrackedPackage>();
    const services = new Map<string, TrackedService>();
    const collectors: Collector[] = [];
    let settings: SoftwareSettings = {};
    for (const d of docs) {
      const body = JSON.parse(d.bodyJson) as unknown;
      if (d.kind === 'package') {
        const p = body as TrackedPackage;
        packages.set(packageKey(p.manager, p.name), p);
      } else if (d.kind === 'service') {
        const s = body as TrackedService;
        services.set(s.name, s);
      } else if (d.kind === 'collector') {
        collectors.push(body as Collector);
      } else {
        settings = body as SoftwareSettings;
      }
    }
    return { config: buildTrackingConfig([...packages.values()], [...services.values()], collectors, settings), packages, services };
  }

  async #tracked(): Promise<{ config: TrackingConfig; packages: Map<string, TrackedPackage>; services: Map<string, TrackedService> }> {
    const now = this.clock.now();
    if (!this.#config || now - this.#config.at >= this.#configTtlMs) {
      const value = this.#loadConfig();
      this.#config = { at: now, value };
      value.catch(() => {
        if (this.#config?.value === value) this.#config = undefined;
      });
    }
    return this.#config.value;
  }

  /** The tracking config every agent fetches (cached for configTtlMs). */
  async trackingConfig(): Promise<TrackingConfig> {
    return (await this.#tracked()).config;
  }

  /** Its version (the X-Stead-Tracking header of catalog answers). */
  async trackingVersion(): Promise<string> {
    return (await this.#tracked()).config.version;
  }

  async #put(id: string, kind: TrackingDoc['kind'], body: unknown, actor: SoftwareActor, action: string): Promise<boolean> {
    const prev = await this.tracking.findOne({ _id: id });
    const doc: TrackingDoc = { _id: id, kind, bodyJson: JSON.stringify(body), updatedAt: this.clock.now(), updatedBy: actor.name };
    await this.tracking.replaceOne({ _id: id }, doc, { upsert: true });
    this.#config = undefined;
    await this.deps.auditLog.record({ actor: actor.name, action, target: `software:${id}`, address: actor.address, ...(prev ? { before: JSON.parse(prev.bodyJson) as unknown } : {}), after: body });
    return prev === null;
  }

  async #delete(id: string, actor: SoftwareActor, action: string, what: string): Promise<void> {
    const prev = await this.tracking.findOne({ _id: id });
    if (!prev) throw new ApiError('NOT_FOUND', `${what} is not tracked`);
    await this.tracking.deleteOne({ _id: id });
    this.#config = undefined;
    await this.deps.auditLog.record({ actor: actor.name, action, target: `software:${id}`, address: actor.address, before: JSON.parse(prev.bodyJson) as unknown });
  }

  /** Tracks (or re-tracks) a package; resolves true when it was not tracked before. */
  async trackPackage(manager: PackageManager, name: string, body: TrackedPackage, actor: SoftwareActor): Promise<boolean> {
    if (body.manager !== manager || body.name !== name) throw new ApiError('BAD_REQUEST', `the body names ${body.manager}/${body.name}, the path ${manager}/${name}`);
    if (manager !== 'artifact' && (body.path !== undefined || body.versions !== undefined)) throw new ApiError('BAD_REQUEST', 'path and versions are for artifacts only');
    if (manager === 'artifact' && body.path === undefined) throw new ApiError('BAD_REQUEST', 'an artifact needs path: the file or directory whose sha256 identifies its version');
    if (body.approved !== undefined && manager !== 'artifact' && versionStatus(manager, body.approved, body.approved) !== 'up-to-date') {
      throw new ApiError('BAD_REQUEST', `approved version "${body.approved}" is not a valid ${manager} version`);
    }
    return this.#put(`package:${packageKey(manager, name)}`, 'package', body, actor, 'software.track-package');
  }

  async untrackPackage(manager: PackageManager, name: string, actor: SoftwareActor): Promise<void> {
    await this.#delete(`package:${packageKey(manager, name)}`, actor, 'software.untrack-package', `package ${manager}/${name}`);
  }

  async trackService(name: string, body: TrackedService, actor: SoftwareActor): Promise<boolean> {
    if (body.name !== name) throw new ApiError('BAD_REQUEST', `the body names ${body.name}, the path ${name}`);
    if (body.kind === 'process' && body.pattern === undefined) throw new ApiError('BAD_REQUEST', 'a process service needs pattern (a command-line substring or /regex/)');
    if (body.kind === 'systemd' && (body.pattern !== undefined || body.start !== undefined || body.stop !== undefined || body.user !== undefined)) throw new ApiError('BAD_REQUEST', 'pattern, user, start and stop are for process services; a systemd service has unit');
    return this.#put(`service:${name}`, 'service', body, actor, 'software.track-service');
  }

  async untrackService(name: string, actor: SoftwareActor): Promise<void> {
    await this.#delete(`service:${name}`, actor, 'software.untrack-service', `service ${name}`);
  }

  async putCollector(name: string, body: Collector, actor: SoftwareActor): Promise<boolean> {
    if (!isAdmin(actor.role)) throw new ApiError('FORBIDDEN', 'only an admin may define collectors: they run as root on every agent');
    if (body.name !== name) throw new ApiError('BAD_REQUEST', `the body names ${body.name}, the path ${name}`);
    return this.#put(`collector:${name}`, 'collector', body, actor, 'software.put-collector');
  }

  async deleteCollector(name: string, actor: SoftwareActor): Promise<void> {
    if (!isAdmin(actor.role)) throw new ApiError('FORBIDDEN', 'only an admin may remove collectors');
    await this.#delete(`collector:${name}`, actor, 'software.delete-collector', `collector ${name}`);
  }

  /** Collector scripts with who changed them last (admin only: the route checks). */
  async collectors(): Promise<(Collector & { updatedAt: string; updatedBy: string })[]> {
    const docs = await this.tracking.find({ kind: 'collector' }, { sort: { _id: 1 } });
    return docs.map((d) => ({ ...(JSON.parse(d.bodyJson) as Collector), updatedAt: iso(d.updatedAt), updatedBy: d.updatedBy }));
  }

  async settings(): Promise<SoftwareSettings> {
    const d = await this.tracking.findOne({ _id: 'settings' });
    return d ? (JSON.parse(d.bodyJson) as SoftwareSettings) : {};
  }

  async putSettings(body: SoftwareSettings, actor: SoftwareActor): Promise<SoftwareSettings> {
    await this.#put('settings', 'settings', body, actor, 'software.settings');
    return body;
  }

  /** The tracked packages and services, sorted. */
  async tracked(): Promise<{ packages: TrackedPackage[]; services: TrackedService[] }> {
    const t = await this.#tracked();
    return { packages: [...t.packages.values()].sort((a, b) => cmp(packageKey(a.manager, a.name), packageKey(b.manager, b.name))), services: [...t.services.values()].sort((a, b) => cmp(a.name, b.name)) };
  }

  // ---------------------------------------------------------------------------------------------
  // Reports
  // ---------------------------------------------------------------------------------------------

  /** Counts one report of `host` against its rate; false: refuse it (checked before the body is read). */
  takeReport(host: string): boolean {
    return this.#reportLimiter.take(host);
  }

  /**
   * Stores `host`'s report (validated at the edge): the last one wins. Service drift memory moves
   * with it. Resolves the ack with the current config version (the agent refetches on a change).
   */
  async ingest(host: string, report: AgentInventoryReport): Promise<{ accepted: boolean; configVersion: string }> {
    const now = this.clock.now();
    const reportJson = JSON.stringify(report);
    const digest = createHash('sha256').update(reportJson).digest('hex');
    const prev = await this.hostDocs.findOne({ _id: host }, { projection: { services: 1, receivedAt: 1 } });
    const memories = new Map((prev?.services ?? []).map((s) => [s.name, s] as const));
    const services: HostDoc['services'] = report.services.slice(0, 500).map((s) => ({ name: s.name, ...nextMemory(memories.get(s.name), s.state, now) }));
    const doc: HostDoc = { _id: host, receivedAt: now, collectedAt: report.collectedAt, configVersion: report.configVersion, digest, reportJson, services };
    await this.hostDocs.replaceOne({ _id: host }, doc, { upsert: true });
    if (this.#indexLoaded) this.#index.apply(toIndexed(host, report, now, services));
    return { accepted: true, configVersion: await this.trackingVersion() };
  }

  /** AgentInventory: the last accepted report of `host`. */
  async latest(host: string): Promise<{ readonly report: AgentInventoryReport; readonly receivedAt: string } | undefined> {
    const d = await this.hostDocs.findOne({ _id: host });
    return d ? { report: JSON.parse(d.reportJson) as AgentInventoryReport, receivedAt: iso(d.receivedAt) } : undefined;
  }

  /** AgentInventory: the virtual resources `host` reported, with `host` filled in where an inventory host has that name. */
  async virtualsOf(host: string): Promise<{ readonly virtuals: readonly VirtualResource[]; readonly updatedAt: string } | undefined> {
    const l = await this.latest(host);
    if (!l) return undefined;
    let names = await this.#hostSet();
    if (!names) {
      // Without an inventory: the hosts that reported (read for these names only).
      const wanted = [...new Set(l.report.virtuals.filter((v) => v.host === undefined).map((v) => v.name))].slice(0, 2000);
      names = new Set(wanted.length === 0 ? [] : (await this.hostDocs.find({ _id: { $in: wanted } }, { projection: { _id: 1 } })).map((d) => d._id));
    }
    const virtuals = l.report.virtuals.map((v) => (v.host === undefined && names.has(v.name) ? { ...v, host: v.name } : v));
    return { virtuals, updatedAt: l.receivedAt };
  }

  /** Loads the index on first use; then at most every refreshMs reads the host documents received since. */
  async #fresh(): Promise<void> {
    this.#indexLoaded ??= this.#refresh(0);
    await this.#indexLoaded;
    const now = this.clock.now();
    if (now - this.#refreshedAt < this.#refreshMs) return;
    this.#refreshing ??= this.#refresh(Math.max(0, this.#watermark - refreshMarginMs)).finally(() => {
      this.#refreshing = undefined;
    });
    await this.#refreshing;
  }

  async #refresh(since: number): Promise<void> {
    const started = this.clock.now();
    // First only ids and times: documents this server ingested itself are already in the index,
    // and reading their reports again would cost a parse each for nothing.
    const stamps = since > 0 ? await this.hostDocs.find({ receivedAt: { $gte: since } }, { projection: { _id: 1, receivedAt: 1 } }) : undefined;
    const newer = stamps?.filter((d) => (this.#index.get(d._id)?.receivedAt ?? -1) < d.receivedAt).map((d) => d._id);
    for (const d of stamps ?? []) if (d.receivedAt > this.#watermark) this.#watermark = d.receivedAt;
    const docs: HostDoc[] = [];
    if (newer === undefined) docs.push(...(await this.hostDocs.find({})));
    else for (let i = 0; i < newer.length; i += 500) docs.push(...(await this.hostDocs.find({ _id: { $in: newer.slice(i, i + 500) } })));
    for (const d of docs) {
      const known = this.#index.get(d._id);
      if (known && known.receivedAt >= d.receivedAt) continue;
      this.#index.apply(toIndexed(d._id, JSON.parse(d.reportJson) as AgentInventoryReport, d.receivedAt, d.services));
      if (d.receivedAt > this.#watermark) this.#watermark = d.receivedAt;
    }
    if (this.#watermark === 0) this.#watermark = started;
    this.#refreshedAt = this.clock.now();
  }

  /** The inventory's host names (retired hosts left out), or undefined without an inventory. */
  async #hostSet(): Promise<ReadonlySet<string> | undefined> {
    if (!this.#inventoryHosts) return undefined;
    const all = await this.#inventoryHosts.all(AbortSignal.timeout(60_000));
    return new Set(all.filter((h) => h.lifecycle !== 'retired').map((h) => h.hostname));
  }

  // ---------------------------------------------------------------------------------------------
  // Tables
  // ---------------------------------------------------------------------------------------------

  #packageRow(h: IndexedHost, p: IndexedPackage, t: TrackedPackage, status?: (t: TrackedPackage, installed: string | null) => VersionStatus): HostPackageRow {
    const installed = installedVersion(p, t);
    return {
      host: h.host,
      name: t.name,
      manager: t.manager,
      installed,
      ...(p.arch !== undefined ? { arch: p.arch } : {}),
      ...(t.approved !== undefined ? { approved: t.approved } : {}),
      status: status ? status(t, installed) : versionStatus(t.manager, installed, t.approved),
      reportedAt: iso(h.receivedAt),
    };
  }

  /** GET /software/packages: rows (host, then manager/name), the tracked list and the fleet view of versions. */
  async packageTable(q: PackageQuery = {}): Promise<PackageTable> {
    await this.#fresh();
    const { packages: trackedMap } = await this.#tracked();
    const limit = clampLimit(q.limit);
    const after = decodeCursor(q.after);
    const hostSet = await this.#hostSet();
    const inSet = (h: string): boolean => !hostSet || hostSet.has(h);
    let tracked = [...trackedMap.values()].sort((a, b) => cmp(packageKey(a.manager, a.name), packageKey(b.manager, b.name)));
    if (q.name !== undefined) tracked = tracked.filter((t) => t.name === q.name && (q.manager === undefined || t.manager === q.manager));
    else if (q.manager !== undefined) tracked = tracked.filter((t) => t.manager === q.manager);
    const rows: HostPackageRow[] = [];
    let total = 0;
    let next: string | undefined;
    // A fleet runs few distinct versions of a package: each status is computed once per request.
    const memo = new Map<string, VersionStatus>();
    const status = (t: TrackedPackage, installed: string | null): VersionStatus => {
      const k = `${t.manager}/${t.name}\u0000${installed ?? '\u0001'}`;
      let st = memo.get(k);
      if (st === undefined) memo.set(k, (st = versionStatus(t.manager, installed, t.approved)));
      return st;
    };
    const hosts = q.host !== undefined ? (this.#index.get(q.host) ? [q.host] : []) : this.#index.hosts();
    for (const host of hosts) {
      if (!inSet(host)) continue;
      const h = this.#index.get(host)!;
      for (const t of tracked) {
        const key = packageKey(t.manager, t.name);
        const p = h.packages.get(key);
        if (!p) continue;
        if (q.status !== undefined && status(t, installedVersion(p, t)) !== q.status) continue;
        total++;
        if (after && cmpPair(host, key, after[0] ?? '', after[1] ?? '') <= 0) continue;
        if (rows.length < limit) rows.push(this.#packageRow(h, p, t, status));
        else next ??= encodeCursor([rows[rows.length - 1]!.host, packageKey(rows[rows.length - 1]!.manager, rows[rows.length - 1]!.name)]);
      }
    }
    const versions = tracked.map((t) => this.#fleetVersions(t, q.host !== undefined ? (h) => h === q.host && inSet(h) : inSet));
    return { packages: rows, tracked, versions, total, ...(next !== undefined ? { next } : {}) };
  }

  #fleetVersions(t: TrackedPackage, include: (host: string) => boolean): PackageTable['versions'][number] {
    const counts = new Map<string | null, number>();
    for (const [host, p] of this.#index.package(packageKey(t.manager, t.name)) ?? []) {
      if (!include(host)) continue;
      const v = installedVersion(p, t);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const order = sortNewestFirst(t.manager, [...counts.keys()]);
    return {
      name: t.name,
      manager: t.manager,
      ...(t.approved !== undefined ? { approved: t.approved } : {}),
      counts: order.map((version) => ({ version, hosts: counts.get(version)!, status: versionStatus(t.manager, version, t.approved) })),
    };
  }

  /** GET /software/services: rows (host, then name) with drift and the last operator action. */
  async serviceTable(q: ServiceQuery = {}): Promise<ServiceTable> {
    await this.#fresh();
    const { services: trackedMap } = await this.#tracked();
    const limit = clampLimit(q.limit);
    const after = decodeCursor(q.after);
    const hostSet = await this.#hostSet();
    let tracked = [...trackedMap.values()].sort((a, b) => cmp(a.name, b.name));
    if (q.name !== undefined) tracked = tracked.filter((t) => t.name === q.name);
    const hosts = q.host !== undefined ? (this.#index.get(q.host) ? [q.host] : []) : this.#index.hosts();
    // Actions are read per host, only for hosts with a service that could be drift or is shown.
    const candidates: { h: IndexedHost; s: IndexedService; t: TrackedService }[] = [];
    for (const host of hosts) {
      if (hostSet && !hostSet.has(host)) continue;
      const h = this.#index.get(host)!;
      for (const t of tracked) {
        const s = h.services.get(t.name);
        if (s) candidates.push({ h, s, t });
      }
    }
    const needActions = q.drift !== undefined ? candidates.filter((c) => c.s.state === 'stopped' || c.s.state === 'failed') : candidates;
    const actions = await this.#actionsFor(needActions.map((c) => c.h.host), q.drift === undefined ? { after, limit } : undefined);
    const rows: HostServiceRow[] = [];
    let total = 0;
    let next: string | undefined;
    for (const { h, s, t } of candidates) {
      const last = actions.get(`${h.host}|${t.name}`);
      const drift = isDrift(s.state, s.memory, last ? { action: last.action, at: last.at } : undefined, this.#graceMs);
      if (q.drift !== undefined && drift !== q.drift) continue;
      total++;
      if (after && cmpPair(h.host, t.name, after[0] ?? '', after[1] ?? '') <= 0) continue;
      if (rows.length >= limit) {
        next ??= encodeCursor([rows[rows.length - 1]!.host, rows[rows.length - 1]!.name]);
        continue;
      }
      rows.push(this.#serviceRow(h, s, t, drift, last));
    }
    return { services: rows, tracked, total, ...(next !== undefined ? { next } : {}) };
  }

  #serviceRow(h: IndexedHost, s: IndexedService, t: TrackedService, drift: boolean, last: ActionDoc | undefined): HostServiceRow {
    const checkedAt = iso(h.receivedAt);
    const started = s.startedAt !== null ? Date.parse(s.startedAt) : NaN;
    const checked = Date.parse(h.collectedAt);
    return {
      host: h.host,
      name: t.name,
      kind: t.kind,
      state: s.state,
      pid: s.pid,
      startedAt: s.startedAt,
      checkedAt,
      uptimeSeconds: Number.isFinite(started) && Number.isFinite(checked) && s.state === 'running' ? Math.max(0, Math.floor((checked - started) / 1000)) : null,
      user: s.user,
      ...(s.processes !== undefined ? { processes: s.processes } : {}),
      drift,
      ...(last ? { lastAction: { action: last.action, by: last.by, at: iso(last.at), ...(last.job !== undefined ? { job: last.job } : {}) } } : {}),
    };
  }

  /** The last actions of these hosts (a page's worth when paging allows: hosts from the cursor on). */
  async #actionsFor(hosts: readonly string[], page?: { after: string[] | undefined; limit: number }): Promise<Map<string, ActionDoc>> {
    let wanted = [...new Set(hosts)];
    if (page) {
      const from = page.after?.[0] ?? '';
      wanted = wanted.filter((h) => h >= from).slice(0, page.limit + 1);
    }
    const out = new Map<string, ActionDoc>();
    for (let i = 0; i < wanted.length; i += 500) {
      for (const a of await this.actions.find({ host: { $in: wanted.slice(i, i + 500) } })) out.set(a._id, a);
    }
    return out;
  }

  /** GET /software/hosts/:host: the host's packages and services and what its last report said. */
  async hostView(host: string): Promise<{ host: string; reportedAt?: string; collectedAt?: string; configVersion?: string; packages: HostPackageRow[]; services: HostServiceRow[]; virtuals?: VirtualResource[]; errors?: { source: string; message: string }[] }> {
    const d = await this.hostDocs.findOne({ _id: host });
    if (!d) return { host, packages: [], services: [] };
    const report = JSON.parse(d.reportJson) as AgentInventoryReport;
    const entry = toIndexed(host, report, d.receivedAt, d.services);
    const { packages: tp, services: ts } = await this.#tracked();
    const packages: HostPackageRow[] = [];
    for (const t of [...tp.values()].sort((a, b) => cmp(a.name, b.name) || cmp(a.manager, b.manager))) {
      const p = entry.packages.get(packageKey(t.manager, t.name));
      if (p) packages.push(this.#packageRow(entry, p, t));
    }
    const actions = await this.#actionsFor([host]);
    const services: HostServiceRow[] = [];
    for (const t of [...ts.values()].sort((a, b) => cmp(a.name, b.name))) {
      const s = entry.services.get(t.name);
      if (!s) continue;
      const last = actions.get(`${host}|${t.name}`);
      services.push(this.#serviceRow(entry, s, t, isDrift(s.state, s.memory, last ? { action: last.action, at: last.at } : undefined, this.#graceMs), last));
    }
    const virtuals = (await this.virtualsOf(host))?.virtuals ?? [];
    return { host, reportedAt: iso(d.receivedAt), collectedAt: d.collectedAt, configVersion: d.configVersion, packages, services, virtuals: [...virtuals], errors: report.errors.map((e) => ({ source: e.source, message: e.message })) };
  }

  // ---------------------------------------------------------------------------------------------
  // Actions
  // ---------------------------------------------------------------------------------------------

  /**
   * "Upgrade to approved": a job rollout whose one step is a resources step (package at the
   * version), over `targets` or every reporting host not at that version (outdated or missing).
   */
  async upgrade(manager: PackageManager, name: string, req: { targets?: string; policy?: RolloutPolicy; version?: string }, actor: SoftwareActor): Promise<ActionResult> {
    const { packages } = await this.#tracked();
    const t = packages.get(packageKey(manager, name));
    if (!t) throw new ApiError('NOT_FOUND', `package ${manager}/${name} is not tracked`);
    if (manager !== 'dpkg') throw new ApiError('BAD_REQUEST', `upgrading through the agent's engine is supported for dpkg packages (provider apt); ${manager} packages are upgraded by a job script`);
    if (!/^[a-z0-9][a-z0-9+.:-]*$/.test(name)) throw new ApiError('BAD_REQUEST', `${name} is not a Debian package name`);
    const version = req.version ?? t.approved;
    if (version === undefined) throw new ApiError('BAD_REQUEST', `package ${name} has no approved version: track it with approved, or give version`);
    if (versionStatus('dpkg', version, version) !== 'up-to-date') throw new ApiError('BAD_REQUEST', `"${version}" is not a valid Debian version`);
    let targets = req.targets;
    if (targets === undefined) {
      await this.#fresh();
      const hostSet = await this.#hostSet();
      const behind: string[] = [];
      for (const [host, p] of this.#index.package(packageKey(manager, name)) ?? []) {
        if (hostSet && !hostSet.has(host)) continue;
        const st = versionStatus('dpkg', p.version, version);
        if (st === 'outdated' || st === 'missing') behind.push(host);
      }
      behind.sort(cmp);
      if (behind.length === 0) throw new ApiError('BAD_REQUEST', `no reporting host runs ${name} older than ${version} or lacks it`);
      targets = behind.map((h) => `host:${h}`).join(',');
      if (behind.length > maxSelectorTerms || targets.length > maxSelectorChars) {
        throw new ApiError('BAD_REQUEST', `${behind.length} hosts are behind: more than one selector can name; give targets (e.g. idc:sz) to upgrade them part by part`, { hosts: behind.length });
      }
    }
    const job: JobLaunch = {
      name: `upgrade ${name} to ${version}`,
      targets,
      steps: [{ kind: 'resources', name: `package ${name} ${version}`, resources: [{ type: 'package', name, ensure: version }] }],
    };
    const policy = req.policy ?? defaultUpgradePolicy;
    const view = await this.deps.rollouts.startJob(job, policy, { name: actor.name, address: actor.address, scope: actor.scope });
    const hosts = view.batches.flatMap((b) => b.hosts);
    await this.deps.auditLog.record({ actor: actor.name, action: 'software.upgrade', target: `software:package:${packageKey(manager, name)}`, address: actor.address, after: { version, targets, rollout: view.id, hosts: hosts.length, policy } });
    return { rollout: view.id, hosts };
  }

  /** Start/stop/restart a tracked service: one audited job, or a job rollout with a policy. */
  async serviceAction(name: string, req: { action: ServiceAction; targets: string; policy?: RolloutPolicy; includeInactive?: boolean }, actor: SoftwareActor): Promise<ActionResult> {
    const { services } = await this.#tracked();
    const t = services.get(name);
    if (!t) throw new ApiError('NOT_FOUND', `service ${name} is not tracked`);
    const job: JobLaunch = {
      name: `${req.action} ${name}`,
      targets: req.targets,
      ...(req.includeInactive === true ? { includeInactive: true } : {}),
      steps: [{ kind: 'script', name: `${req.action} ${name}`, script: { lang: 'shell', source: serviceScript(t, req.action) }, timeoutSeconds: 300 }],
    };
    let result: ActionResult;
    if (req.policy) {
      const view = await this.deps.rollouts.startJob(job, { ...req.policy, ...(req.includeInactive === true ? { includeInactive: true } : {}) }, { name: actor.name, address: actor.address, scope: actor.scope });
      result = { rollout: view.id, hosts: view.batches.flatMap((b) => b.hosts) };
    } else {
      const view = await this.deps.jobs.launch(job, { principal: { name: actor.name, role: actor.role, scope: actor.scope }, ...(actor.address !== undefined ? { address: actor.address } : {}) });
      result = { job: view.id, hosts: (await this.deps.jobs.record(view.id)).hosts };
    }
    const at = this.clock.now();
    for (const host of result.hosts) {
      const doc: ActionDoc = { _id: `${host}|${name}`, host, name, action: req.action, by: actor.name, at, ...(result.job !== undefined ? { job: result.job } : {}), ...(result.rollout !== undefined ? { rollout: result.rollout } : {}) };
      await this.actions.replaceOne({ _id: doc._id }, doc, { upsert: true });
    }
    await this.deps.auditLog.record({ actor: actor.name, action: `software.service-${req.action}`, target: `software:service:${name}`, address: actor.address, after: { targets: req.targets, hosts: result.hosts.length, ...(result.job !== undefined ? { job: result.job } : {}), ...(result.rollout !== undefined ? { rollout: result.rollout } : {}) } });
    return result;
  }
}

/** The installed version as the tables show it: artifacts map a known checksum to its label. */
function installedVersion(p: IndexedPackage, t: TrackedPackage): string | null {
  if (p.version === null) return null;
  if (t.manager === 'artifact' && p.sha256 !== undefined && t.versions) {
    for (const [label, sum] of Object.entries(t.versions)) if (sum === p.sha256) return label;
  }
  return p.version;
}

/**
 * Strings the index holds for every host (package names, managers, versions, users) are shared:
 * JSON.parse makes a copy per report, and 10,000 hosts × 50 packages of copies is most of the
 * index's memory. Bounded: past the cap, new strings are kept as they come.
 */
const pool = new Map<string, string>();
const poolCap = 200_000;
function intern<T extends string | null | undefined>(s: T): T {
  if (typeof s !== 'string') return s;
  const known = pool.get(s);
  if (known !== undefined) return known as T;
  if (pool.size < poolCap) pool.set(s, s);
  return s;
}

function toIndexed(host: string, report: AgentInventoryReport, receivedAt: number, memories: HostDoc['services']): IndexedHost {
  const mem = new Map(memories.map((m) => [m.name, m] as const));
  const packages = new Map<string, IndexedPackage>();
  for (const p of report.packages) packages.set(intern(packageKey(p.manager, p.name)), { name: intern(p.name), manager: intern(p.manager), version: intern(p.version), ...(p.arch !== undefined ? { arch: intern(p.arch) } : {}), ...(p.sha256 !== undefined ? { sha256: p.sha256 } : {}) });
  const services = new Map<string, IndexedService>();
  for (const s of report.services) {
    const m = mem.get(s.name);
    const memory: ServiceMemory = { ...(m?.lastRunningAt !== undefined ? { lastRunningAt: m.lastRunningAt } : {}), ...(m?.stoppedSince !== undefined ? { stoppedSince: m.stoppedSince } : {}) };
    services.set(intern(s.name), { name: intern(s.name), state: s.state as ServiceState, pid: s.pid ?? null, startedAt: intern(s.startedAt ?? null), user: intern(s.user ?? null), ...(s.processes !== undefined ? { processes: s.processes } : {}), memory });
  }
  return { host, receivedAt, collectedAt: report.collectedAt, packages, services };
}

function clampLimit(l: number | undefined): number {
  return Math.min(Math.max(l ?? defaultLimit, 1), maxLimit);
}

function cmpPair(a1: string, a2: string, b1: string, b2: string): number {
  return cmp(a1, b1) || cmp(a2, b2);
}

export type { LastAction };
