/**
 * The fleet plan (ADR 0017 §2): what a revision — stored, or an upload validated but not
 * stored — would change on every host compared with a base revision (default: the live one).
 * Every host of either inventory is compiled under both revisions with its stored facts and the
 * two catalogs are compared resource by resource (catalog-diff.ts). Work is bounded: at most
 * `compileConcurrency` hosts compile at once (the compile worker pool is shared with catalog
 * serving), each host has a deadline (a host that misses it "fails" with PLAN_TIMEOUT), a whole
 * plan has a deadline, diffs are cut at 64 KiB per file and 8 MiB per plan, and at most
 * `plansAtOnce` plans are computed at once per server (SERVER_BUSY beyond).
 *
 * When a revision is published its plan against the previous live revision is computed in the
 * background and stored: `fleet_plans` (one document per revision: base, state, the blob key)
 * and the plan's JSON in the `fleet_plan_json` blob bucket (content-addressed). Reports of runs of
 * that revision that change a resource the plan did not predict for that host are stored in
 * `plan_surprises`, idempotently per (run, resource). The check runs after the report is stored
 * (ReportService.onIngested) and costs nothing for a run that changed nothing; the plan's
 * per-host index is cached per revision. Reports stored before the plan was ready are looked at
 * when it is (and once more a little later, for those other servers took meanwhile).
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldNow } from 'node:timers/promises';
import type { FleetPlan } from '../../../schemas/api/fleet-plan.js';
import type { RunReport } from '../../../schemas/report.js';
import type { Clock } from '../../domain/clock.js';
import { isoAt } from '../../domain/clock.js';
import { ApiError, isApiError } from '../../domain/errors.js';
import type { Logger } from '../../log.js';
import type { BlobStore, Collection, DocumentStore } from '../../store/types.js';
import { isDuplicateKey } from '../../store/types.js';
import type { CompileResult, CompilerPort, LoadedRevision, LocatedProblem } from '../compiler-port.js';
import type { HostStateService } from '../host-state-service.js';
import type { ReportService } from '../report-service.js';
import { revisionId, sha256Hex, writeCheckout } from '../repository-files.js';
import type { RevisionService } from '../revision-service.js';
import { diffCatalogs, type CatalogSide, type ResourceChange } from './catalog-diff.js';

export type HostPlan = FleetPlan['hosts'][number];
type Problem = NonNullable<HostPlan['problems']>[number];

export interface Surprise {
  readonly host: string;
  readonly resource: string;
  readonly runId: string;
  readonly at: string;
  readonly reason: string;
}

export interface SurpriseList {
  readonly revision: string;
  readonly planned: boolean;
  readonly surprises: Surprise[];
}

export interface FleetPlanOptions {
  /** Hosts compiled at once by one plan. Default 2. */
  readonly compileConcurrency?: number;
  /** One host's two compiles (waiting for a compile worker included). Default 120 s. */
  readonly hostDeadlineMs?: number;
  /** A whole plan. Default 15 min. */
  readonly planDeadlineMs?: number;
  /** Diff bytes of one plan (all hosts); further changes carry no diff. Default 8 MiB. */
  readonly diffBudgetBytes?: number;
  /** Plans computed at once by this server (stored plans included). Default 2. */
  readonly plansAtOnce?: number;
  /** The second look at a revision's reports after its plan was stored. Default 15 s. */
  readonly rescanDelayMs?: number;
}

type PlanDoc = {
  _id: string;
  base: string | null;
  state: 'computing' | 'ready' | 'failed';
  startedAt: number;
  computedAt?: number;
  /** sha256 of the plan's JSON in the fleet_plans bucket. */
  blob?: string;
  error?: string;
};

type SurpriseDoc = {
  _id: string;
  revision: string;
  host: string;
  resource: string;
  runId: string;
  at: number;
  reason: string;
  createdAt: number;
};

/** What the surprise check needs of a stored plan: per host its status and predicted resources. */
interface PlanIndex {
  /** The revision's full id. */
  readonly revision: string;
  /** The base it was planned against. */
  readonly base: string | null;
  /** When the revision was published (the plan started): runs received before are the base's. */
  readonly publishedAt: number;
  readonly blob: string;
  readonly hosts: ReadonlyMap<string, { readonly status: HostPlan['status']; readonly resources: ReadonlySet<string> }>;
}

interface CacheEntry {
  readonly at: number;
  /** undefined: no plan (yet) for this revision. */
  readonly index: PlanIndex | undefined;
  readonly state: PlanDoc['state'] | 'none';
}

/** Most surprises stored for one run. */
const maxSurprisesPerRun = 100;
/** Surprise checks waiting at once; beyond, a check is dropped. */
const maxPendingChecks = 10_000;
/** Surprises a list answers with at most. */
const maxSurprisesListed = 1000;

export class FleetPlanService {
  readonly #cache = new Map<string, CacheEntry>();
  readonly #loading = new Map<string, Promise<CacheEntry>>();
  readonly #background = new Set<Promise<unknown>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #stop = new AbortController();
  readonly #scratch: string;
  #running = 0;
  #dropped = 0;
  #latestPlan: { at: number; index: PlanIndex | undefined } | undefined;
  #latestLoading: Promise<PlanIndex | undefined> | undefined;
  #uploads = 0;
  #uploadChain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly plans: Collection<PlanDoc>,
    private readonly surprisesColl: Collection<SurpriseDoc>,
    private readonly blobs: BlobStore,
    dataDir: string,
    private readonly revisions: RevisionService,
    private readonly hostStates: HostStateService,
    private readonly reports: ReportService,
    private readonly compiler: CompilerPort,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: FleetPlanOptions,
  ) {
    this.#scratch = join(dataDir, 'plan-uploads');
  }

  static async open(store: DocumentStore, dataDir: string, deps: { revisions: RevisionService; hostStates: HostStateService; reports: ReportService; compiler: CompilerPort; clock: Clock; log: Logger }, opts: FleetPlanOptions = {}): Promise<FleetPlanService> {
    const plans = await store.collection<PlanDoc>('fleet_plans', [{ name: 'by_started', fields: { startedAt: -1 } }]);
    const surprises = await store.collection<SurpriseDoc>('plan_surprises', [{ name: 'by_revision_at', fields: { revision: 1, at: -1 } }]);
    const svc = new FleetPlanService(plans, surprises, await store.blobs('fleet_plan_json'), dataDir, deps.revisions, deps.hostStates, deps.reports, deps.compiler, deps.clock, deps.log, opts);
    // Uploads a killed process was planning: never needed again.
    await fsp.rm(svc.#scratch, { recursive: true, force: true });
    await fsp.mkdir(svc.#scratch, { recursive: true, mode: 0o750 });
    deps.reports.onIngested((host, report) => svc.onReport(host, report));
    return svc;
  }

  /** The plan of stored revision `target` against `base` (undefined: the live revision). */
  async planRevision(target: string, base: string | undefined, signal: AbortSignal): Promise<FleetPlan> {
    const baseId = base ?? (await this.revisions.liveId());
    const stored = await this.storedPlan(target);
    if (stored && (stored.base ?? undefined) === baseId) return stored;
    return this.#slot(async () => {
      const t = await this.revisions.load(target, signal);
      const b = baseId === undefined ? undefined : { id: baseId, loaded: await this.revisions.load(baseId, signal) };
      return this.#compute({ id: target, loaded: t }, b, signal);
    });
  }

  /**
   * The plan of an uploaded repository (validated as publishing would, not stored) against
   * `base` (undefined: the live revision). Repository-wide errors refuse it (REVISION_INVALID,
   * 422, as publishing would); a host whose catalog does not compile is a "fails" host.
   */
  async planUpload(files: ReadonlyMap<string, Buffer>, base: string | undefined, signal: AbortSignal): Promise<FleetPlan> {
    // One upload is planned at a time (validation is CPU heavy); one more may wait, holding its files.
    if (this.#uploads >= 2) throw new ApiError('SERVER_BUSY', 'another uploaded repository is being planned on this server; try again shortly').retryAfter(10);
    this.#uploads++;
    const run = this.#uploadChain.then(() => this.#slot(() => this.#planUpload(files, base, signal)));
    this.#uploadChain = run.catch(() => undefined);
    return run.finally(() => this.#uploads--);
  }

  async #planUpload(files: ReadonlyMap<string, Buffer>, base: string | undefined, signal: AbortSignal): Promise<FleetPlan> {
    signal.throwIfAborted();
    const { id } = revisionId(files);
    // A key of its own: the compile worker keeps loaded revisions by key, and this checkout goes away.
    const key = `plan-${randomBytes(8).toString('hex')}`;
    const dir = join(this.#scratch, key);
    await writeCheckout(dir, files);
    try {
      const overlay = await this.revisions.inventoryOverlay(signal);
      const problems = await this.compiler.validate(dir, key, signal, overlay);
      const repoErrors = problems.filter((p) => (p.severity ?? 'error') === 'error' && p.host === undefined);
      if (repoErrors.length > 0) {
        throw new ApiError('REVISION_INVALID', `the repository has ${repoErrors.length} error(s) and cannot be planned. First: ${describe(repoErrors[0]!)}`, { problems: repoErrors.slice(0, 500).map(toProblem) });
      }
      const loaded = await this.compiler.load(dir, key, signal, overlay);
      const baseId = base ?? (await this.revisions.liveId());
      const b = baseId === undefined ? undefined : { id: baseId, loaded: await this.revisions.load(baseId, signal) };
      return await this.#compute({ id, loaded }, b, signal);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }

  /** Runs `fn` in one of the plansAtOnce slots; SERVER_BUSY when all are taken (or, with `wait`, waits for one). */
  async #slot<T>(fn: () => Promise<T>, wait = false): Promise<T> {
    const max = this.opts.plansAtOnce ?? 2;
    while (this.#running >= max) {
      if (!wait) throw new ApiError('SERVER_BUSY', `${max} fleet plans are being computed on this server; try again shortly`).retryAfter(10);
      this.#stop.signal.throwIfAborted();
      await new Promise((r) => setTimeout(r, 500).unref());
    }
    this.#running++;
    try {
      return await fn();
    } finally {
      this.#running--;
    }
  }

  /** Compiles every host of either inventory under both revisions and compares. */
  async #compute(target: { id: string; loaded: LoadedRevision }, base: { id: string; loaded: LoadedRevision } | undefined, outer: AbortSignal): Promise<FleetPlan> {
    const deadline = AbortSignal.timeout(this.opts.planDeadlineMs ?? 15 * 60_000);
    const signal = AbortSignal.any([outer, deadline, this.#stop.signal]);
    const inTarget = new Set(target.loaded.hosts.map((h) => h.name));
    const inBase = new Set(base?.loaded.hosts.map((h) => h.name) ?? []);
    const names = [...new Set([...inTarget, ...inBase])].sort();
    const budget = { left: this.opts.diffBudgetBytes ?? 8 * 1024 * 1024 };
    const hostMs = this.opts.hostDeadlineMs ?? 120_000;
    const results = new Array<HostPlan>(names.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < names.length) {
        const i = next++;
        const host = names[i]!;
        signal.throwIfAborted();
        results[i] = await this.#planHost(host, inTarget.has(host) ? target.loaded : undefined, inBase.has(host) ? base?.loaded : undefined, signal, hostMs, budget);
        await yieldNow();
      }
    };
    const n = Math.max(1, Math.min(this.opts.compileConcurrency ?? 2, names.length));
    try {
      await Promise.all(Array.from({ length: n }, worker));
    } catch (err) {
      if (deadline.aborted && !outer.aborted) throw new ApiError('SERVER_BUSY', `the fleet plan did not finish within ${Math.round((this.opts.planDeadlineMs ?? 15 * 60_000) / 1000)} s`).retryAfter(60);
      throw err;
    }
    const rank: Record<HostPlan['status'], number> = { fails: 0, changes: 1, added: 2, removed: 3, unchanged: 4 };
    results.sort((a, b) => rank[a.status] - rank[b.status] || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
    const count = (s: HostPlan['status']): number => results.filter((h) => h.status === s).length;
    return {
      base: base?.id ?? null,
      target: target.id,
      computedAt: isoAt(this.clock.now()),
      summary: {
        hosts: results.length,
        changed: count('changes') + count('added') + count('removed'),
        unchanged: count('unchanged'),
        failed: count('fails'),
        resources: results.reduce((n2, h) => n2 + h.changes.length, 0),
      },
      hosts: results,
    };
  }

  async #planHost(host: string, target: LoadedRevision | undefined, base: LoadedRevision | undefined, outer: AbortSignal, hostMs: number, budget: { left: number }): Promise<HostPlan> {
    const timer = AbortSignal.timeout(hostMs);
    const signal = AbortSignal.any([outer, timer]);
    const timedOut = (): HostPlan => ({ host, status: 'fails', changes: [], problems: [{ code: 'PLAN_TIMEOUT', severity: 'error', file: '', host, message: `the catalogs of ${host} could not be compiled within ${Math.round(hostMs / 1000)} s` }] });
    try {
      const facts = await this.hostStates.facts(host);
      const t = target ? await compileSide(target, host, facts, signal) : undefined;
      if (t && !t.ok) return { host, status: 'fails', changes: [], problems: t.problems };
      const b = base ? await compileSide(base, host, facts, signal) : undefined;
      // A base that does not compile counts as an empty catalog: everything the target has is new.
      const changes: ResourceChange[] = diffCatalogs(b?.ok ? b.side : undefined, t?.ok ? t.side : undefined, { budget });
      const status: HostPlan['status'] = !base ? 'added' : !target ? 'removed' : changes.length > 0 ? 'changes' : 'unchanged';
      return { host, status, changes };
    } catch (err) {
      if (timer.aborted && !outer.aborted) return timedOut();
      throw err;
    }
  }

  /**
   * Computes the plan of `revision` (just published, at once or as a rollout) against `base`
   * (the revision live before it) in the background and stores it; reports of its runs are
   * then compared with it. Nothing when base is the revision itself (a re-publish). Resolves
   * when stored (callers need not wait; failures are logged and stored as state "failed").
   */
  planPublished(revision: string, base: string | undefined): Promise<void> {
    if (base === revision) return Promise.resolve();
    const p = this.#planPublished(revision, base).catch((err: unknown) => {
      // Cut short by a shutdown (stored as failed, with "the server is stopping"): not an error of the server's.
      if (this.#stop.signal.aborted) this.log.info('the fleet plan of a published revision was cut short by the shutdown', { revision, err: (err as Error).message });
      else this.log.error('the fleet plan of a published revision failed', { revision, err: (err as Error).message });
    });
    this.#background.add(p);
    void p.finally(() => this.#background.delete(p));
    return p;
  }

  async #planPublished(revision: string, base: string | undefined): Promise<void> {
    const startedAt = this.clock.now();
    await this.plans.replaceOne({ _id: revision }, { _id: revision, base: base ?? null, state: 'computing', startedAt }, { upsert: true });
    this.#cache.delete(revision);
    let plan: FleetPlan;
    try {
      plan = await this.#computeStored(revision, base);
    } catch (err) {
      await this.plans.updateOne({ _id: revision, startedAt }, { $set: { state: 'failed', error: (err as Error).message.slice(0, 500), computedAt: this.clock.now() } });
      throw err;
    }
    const json = Buffer.from(JSON.stringify(plan));
    const blob = sha256Hex(json);
    await this.blobs.put(blob, json);
    await this.plans.updateOne({ _id: revision, startedAt }, { $set: { state: 'ready', blob, computedAt: this.clock.now() } });
    const index = indexOf(plan, revision, blob, startedAt);
    this.#cache.delete(revision.slice(0, 16));
    this.#cache.set(revision, { at: this.clock.now(), index, state: 'ready' });
    this.#latestPlan = { at: this.clock.now(), index };
    this.log.info('fleet plan stored', { revision, base: base ?? null, ...plan.summary });
    // Runs reported before the plan was ready (here or on another server): judged now, and once
    // more after every server's cache has seen the plan.
    await this.#rescan(revision, base, startedAt);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      const again = this.#rescan(revision, base, startedAt).catch((err: unknown) => this.log.warn('a second look at runs of a planned revision failed', { revision, err: (err as Error).message }));
      this.#background.add(again);
      void again.finally(() => this.#background.delete(again));
    }, this.opts.rescanDelayMs ?? 15_000);
    timer.unref();
    this.#timers.add(timer);
  }

  async #computeStored(revision: string, base: string | undefined): Promise<FleetPlan> {
    // Published plans wait for a slot instead of failing: they matter more than a busy moment.
    return this.#slot(async () => {
      const never = this.#stop.signal;
      const t = await this.revisions.load(revision, never);
      const b = base === undefined ? undefined : { id: base, loaded: await this.revisions.load(base, never) };
      return this.#compute({ id: revision, loaded: t }, b, never);
    }, true);
  }

  /** The stored plan of `revision` (undefined: none, or not ready). */
  async storedPlan(revision: string): Promise<FleetPlan | undefined> {
    const doc = await this.plans.findOne({ _id: revision });
    if (!doc || doc.state !== 'ready' || !doc.blob) return undefined;
    const data = await this.blobs.get(doc.blob);
    return data ? (JSON.parse(data.toString('utf8')) as FleetPlan) : undefined;
  }

  /** Surprises of `revision`, newest first. */
  async surprises(revision: string): Promise<SurpriseList> {
    const doc = await this.plans.findOne({ _id: revision }, { projection: { state: 1 } });
    const docs = await this.surprisesColl.find({ revision }, { sort: { at: -1 }, limit: maxSurprisesListed });
    return { revision, planned: doc?.state === 'ready', surprises: docs.map((d) => ({ host: d.host, resource: d.resource, runId: d.runId, at: isoAt(d.at), reason: d.reason })) };
  }

  /**
   * Ingestion's hook (ReportService.onIngested): returns at once. A run that changed nothing
   * costs one pass over its resources; otherwise the check runs in the background.
   */
  onReport(host: string, report: RunReport): void {
    const changed = changedResources(report);
    if (changed.length === 0) return;
    // A store too slow to keep up: checks are dropped (and counted) rather than queued without bound.
    if (this.#background.size >= maxPendingChecks) {
      this.#dropped++;
      return;
    }
    const at = Date.parse(report.startedAt);
    const now = this.clock.now();
    const p = this.#judge(host, report.revision, report.runId, Number.isFinite(at) ? at : now, now, changed).catch((err: unknown) => this.log.warn('a surprise check failed', { host, runId: report.runId, err: (err as Error).message }));
    this.#background.add(p);
    void p.finally(() => this.#background.delete(p));
  }

  /** `ref`: the revision as the report names it (catalogs carry the first 16 hex characters of the id). */
  async #judge(host: string, ref: string, runId: string, at: number, receivedAt: number, changed: readonly string[]): Promise<void> {
    // A host the newest plan leaves unchanged keeps its catalog, and so reports the base
    // revision's name (catalog ids do not depend on the revision): its runs are runs of the
    // newest revision as much as of the base, and are judged against the newest plan.
    const latest = await this.#latest();
    const viaLatest = latest?.base != null && receivedAt >= latest.publishedAt && ref.length >= 12 && latest.base.startsWith(ref) && latest.hosts.get(host)?.status === 'unchanged';
    const index = viaLatest ? latest : (await this.#index(ref)).index;
    if (!index) return;
    const revision = index.revision;
    const planned = index.hosts.get(host);
    const fresh: SurpriseDoc[] = [];
    for (const resource of changed) {
      if (planned?.resources.has(resource)) continue;
      const reason = planned?.status === 'unchanged' ? 'the plan predicted no change' : 'not in the plan of this host';
      fresh.push({ _id: sha256Hex(`${revision}\u0000${host}\u0000${runId}\u0000${resource}`), revision, host, resource, runId, at, reason, createdAt: this.clock.now() });
      if (fresh.length >= maxSurprisesPerRun) break;
    }
    for (const d of fresh) {
      try {
        await this.surprisesColl.insertOne(d);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    if (fresh.length > 0) this.log.warn('a run changed what its revision\'s plan did not predict', { host, revision, runId, surprises: fresh.length, first: fresh[0]!.resource });
  }

  /** The index of the newest stored plan (re-asked every 10 s; set at once when this server stores one). */
  async #latest(): Promise<PlanIndex | undefined> {
    const now = this.clock.now();
    if (this.#latestPlan && now - this.#latestPlan.at < 10_000) return this.#latestPlan.index;
    this.#latestLoading ??= (async () => {
      try {
        const [doc] = await this.plans.find({ state: 'ready' }, { sort: { startedAt: -1 }, limit: 1, projection: { _id: 1 } });
        const index = doc ? (await this.#index(doc._id)).index : undefined;
        this.#latestPlan = { at: this.clock.now(), index };
        return index;
      } finally {
        this.#latestLoading = undefined;
      }
    })();
    return this.#latestLoading;
  }

  /**
   * The plan index of the revision `revision` names (its id, or the prefix catalogs and reports
   * carry), cached: no plan is re-asked after 10 s, a computing one after 1 s, a ready one after 60 s.
   */
  async #index(revision: string): Promise<CacheEntry> {
    const now = this.clock.now();
    const hit = this.#cache.get(revision);
    const ttl = hit?.state === 'ready' ? 60_000 : hit?.state === 'computing' ? 1000 : 10_000;
    if (hit && now - hit.at < ttl) return hit;
    let p = this.#loading.get(revision);
    if (!p) {
      p = (async (): Promise<CacheEntry> => {
        const doc = await this.#planDoc(revision);
        let entry: CacheEntry;
        if (!doc) entry = { at: this.clock.now(), index: undefined, state: 'none' };
        else if (doc.state !== 'ready' || !doc.blob) entry = { at: this.clock.now(), index: undefined, state: doc.state };
        else if (hit?.index?.blob === doc.blob) entry = { ...hit, at: this.clock.now() };
        else {
          const data = await this.blobs.get(doc.blob);
          entry = { at: this.clock.now(), index: data ? indexOf(JSON.parse(data.toString('utf8')) as FleetPlan, doc._id, doc.blob, doc.startedAt) : undefined, state: data ? 'ready' : 'none' };
        }
        this.#cache.set(revision, entry);
        while (this.#cache.size > 8) this.#cache.delete(this.#cache.keys().next().value!);
        return entry;
      })().finally(() => this.#loading.delete(revision));
      this.#loading.set(revision, p);
    }
    return p;
  }

  /** The plan document of a revision named by its id or a prefix of at least 12 hex characters (one match only). */
  async #planDoc(ref: string): Promise<Pick<PlanDoc, '_id' | 'state' | 'blob' | 'startedAt'> | null> {
    if (ref.length === 64) return this.plans.findOne({ _id: ref }, { projection: { state: 1, blob: 1, startedAt: 1 } });
    if (!/^[0-9a-f]{12,63}$/.test(ref)) return null;
    const found = await this.plans.find({ _id: { $gte: ref, $lt: `${ref}g` } }, { projection: { state: 1, blob: 1, startedAt: 1 }, limit: 2 });
    return found.length === 1 ? found[0]! : null;
  }

  /**
   * Judges the stored runs of a just-planned revision: those naming it (reports name the
   * revision as their catalog did: the first 16 hex characters of the id) received since a
   * minute before `sinceMs` (servers' clocks differ a little), and those naming the base —
   * hosts the plan leaves unchanged keep its catalog — received since `sinceMs` (runs before the
   * publish are the base's own). Bounded: 100 pages of 1000 each.
   */
  async #rescan(revision: string, base: string | undefined, sinceMs: number): Promise<void> {
    await this.#rescanNames([revision, revision.slice(0, 16)], sinceMs - 60_000);
    if (base) await this.#rescanNames([base, base.slice(0, 16)], sinceMs);
  }

  async #rescanNames(names: readonly string[], sinceMs: number): Promise<void> {
    let since = sinceMs;
    for (let page = 0; page < 100 && !this.#stop.signal.aborted; page++) {
      const docs = await this.reports.ofRevisionSince(names, since, 1000);
      for (const d of docs) {
        const report = JSON.parse(d.json) as RunReport;
        const changed = changedResources(report);
        if (changed.length === 0) continue;
        const at = Date.parse(report.startedAt);
        await this.#judge(d.host, report.revision, d.runId, Number.isFinite(at) ? at : d.receivedAtMs, d.receivedAtMs, changed);
      }
      if (docs.length < 1000) return;
      const last = docs[docs.length - 1]!.receivedAtMs;
      since = last > since ? last : since + 1;
      await yieldNow();
    }
  }

  /** Surprise checks dropped because too many were waiting (the store could not keep up). */
  get counters(): { droppedChecks: number } {
    return { droppedChecks: this.#dropped };
  }

  /** Waits for background work (stored plans, surprise checks) to settle: tests and shutdown. */
  async idle(maxWaitMs = Number.POSITIVE_INFINITY): Promise<void> {
    const until = Date.now() + maxWaitMs;
    while (this.#background.size > 0 && Date.now() < until) {
      let timer: NodeJS.Timeout | undefined;
      const limit = Number.isFinite(maxWaitMs) ? new Promise((r) => (timer = setTimeout(r, Math.max(0, until - Date.now())))) : undefined;
      await Promise.race([Promise.allSettled([...this.#background]), ...(limit ? [limit] : [])]);
      clearTimeout(timer);
    }
  }

  /**
   * Stops background work: plans being computed end (a compile already running in a worker ends
   * with it: close the compiler, then wait for idle() before closing the store).
   */
  close(): void {
    this.#stop.abort(new ApiError('SERVER_BUSY', 'the server is stopping'));
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

/** Resources a run changed (or would change) for a reason other than routine or a refresh. */
export function changedResources(report: Pick<RunReport, 'resources'>): string[] {
  const out: string[] = [];
  for (const r of report.resources) {
    if (r.state !== 'changed' && r.state !== 'would-change') continue;
    if (r.changes.some((c) => c.routine !== true)) out.push(r.id);
  }
  return out;
}

function indexOf(plan: FleetPlan, revision: string, blob: string, publishedAt: number): PlanIndex {
  const hosts = new Map<string, { status: HostPlan['status']; resources: Set<string> }>();
  for (const h of plan.hosts) hosts.set(h.host, { status: h.status, resources: new Set(h.changes.map((c) => c.resource)) });
  return { revision, base: plan.base, publishedAt, blob, hosts };
}

type Side = { ok: true; side: CatalogSide } | { ok: false; problems: Problem[] };

async function compileSide(rev: LoadedRevision, host: string, facts: Record<string, unknown> | undefined, signal: AbortSignal): Promise<Side> {
  let r: CompileResult;
  try {
    r = await rev.compile(host, facts, signal);
  } catch (err) {
    if (signal.aborted) throw err;
    if (isApiError(err) && err.code === 'COMPILE_FAILED') return { ok: false, problems: [{ code: 'COMPILE_FAILED', severity: 'error', file: '', host, message: err.message.slice(0, 500) }] };
    throw err;
  }
  const errors = r.problems.filter((p) => (p.severity ?? 'error') === 'error');
  if (!r.catalog || errors.length > 0) {
    return { ok: false, problems: (errors.length > 0 ? errors : [{ code: 'COMPILE_FAILED', message: 'the compiler returned no catalog', host }]).slice(0, 50).map(toProblem) };
  }
  return { ok: true, side: { catalog: r.catalog, blobs: r.blobs } };
}

function toProblem(p: LocatedProblem): Problem {
  return {
    code: p.code,
    severity: p.severity ?? 'error',
    file: p.file ?? '',
    ...(p.line !== undefined && p.line >= 1 ? { line: p.line } : {}),
    ...(p.column !== undefined && p.column >= 1 ? { column: p.column } : {}),
    ...(p.path !== undefined ? { path: p.path } : {}),
    ...(p.host !== undefined ? { host: p.host } : {}),
    message: p.message.slice(0, 2000),
  };
}

function describe(p: LocatedProblem): string {
  const where = p.file !== undefined ? `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ` : '';
  return `${where}${p.message}`.slice(0, 500);
}
