/**
 * Report ingestion and the index of every host's last run.
 *
 * Ingest is idempotent on (host, runId): the unique _id stores a report once, and a re-sent
 * report is acknowledged with duplicate: true. Writes are group-committed: reports arriving
 * together are inserted with one insertMany (one transaction, one fsync on the embedded
 * store) and each is acknowledged only after that commit.
 *
 * Each report document carries its compliance summary; the last-run index (host → newest
 * summary) lives in memory: loaded at start-up from the newest report of each host, updated at
 * once by local ingests, and synced incrementally from reports other servers stored (by
 * receivedAtMs). The raw report is kept as JSON text, inert whatever keys it holds. Raw
 * reports are deleted after the retention; hourly rollups outlive them.
 *
 * Compact reports (ADR 0021): with a catalog index, a report is stored compact — the in-sync
 * rest summarised against the catalog the server served under its catalogId — whether the agent
 * sent it so (checked first: refused with 422 FULL_REPORT_REQUIRED when it does not hold, and
 * the agent then sends the full one) or sent it full (an older agent: compacted here when the
 * catalog is known and the report accounts for exactly its resources). Every read expands it
 * back from the catalog index, so readers see the full report.
 */
import type { Collection, DocumentStore } from '../store/types.js';
import { isDuplicateKey } from '../store/types.js';
import { deleteOlderThan } from '../store/retention.js';
import type { RunReport } from '../../schemas/report.js';
import { checkCompact, compactReport, expandReport } from '../../schemas/compact-report.js';
import type { CatalogIndexService, HostCatalogIndex } from './catalog-index.js';
import type { Clock } from '../domain/clock.js';
import type { LastRunSummary } from '../domain/compliance.js';
import { ApiError } from '../domain/errors.js';

type ReportDoc = {
  _id: string;
  host: string;
  runId: string;
  startedAtMs: number;
  receivedAtMs: number;
  outcome: RunReport['outcome'];
  mode: RunReport['mode'];
  corrective: number;
  changed: number;
  failed: number;
  catalogId: string;
  revision: string;
  summary: StoredSummary;
  json: string;
  /** true: `json` is a compact report (expanded from the catalog index when read). */
  compact?: boolean;
};

/** The summary as stored: a compact report's resource ids are those of its catalog (not repeated per report). */
type StoredSummary = Omit<LastRunSummary, 'resources'> & { resources?: readonly string[] };

export interface ReportListItem {
  readonly runId: string;
  readonly host: string;
  readonly startedAt: number;
  readonly receivedAt: number;
  readonly outcome: string;
  readonly mode: string;
  readonly corrective: number;
  readonly changed: number;
  readonly failed: number;
  readonly catalogId: string;
  readonly revision: string;
}

interface Pending {
  readonly doc: ReportDoc;
  readonly report: RunReport;
  resolve(duplicate: boolean): void;
  reject(err: unknown): void;
}

export interface ReportServiceOptions {
  /** Largest group commit. Default 500. */
  readonly maxBatch?: number;
  /**
   * How often the last-run index looks for reports stored by other servers. Default 2 s.
   * Infinity: never (a server with the store to itself sees every report it stores).
   */
  readonly syncEveryMs?: number;
  /**
   * Called with the reports of a group commit that are new, before they are stored (drift
   * history): it must be idempotent (a report re-sent after a crash is passed again); when it
   * throws, the batch is not stored and its senders retry.
   */
  readonly beforeStore?: (reports: readonly StoredReport[]) => Promise<void>;
  /**
   * The catalogs served, by id (ADR 0021). Without it compact reports are refused (422
   * FULL_REPORT_REQUIRED) and every report is stored as it came.
   */
  readonly catalogIndex?: CatalogIndexService;
  /** Store full reports compact when their catalog is known. Default true (false: the benchmark's "before"). */
  readonly compactFull?: boolean;
}

/** A report about to be stored, with the time the server received it. */
export interface StoredReport {
  readonly host: string;
  readonly report: RunReport;
  readonly receivedAtMs: number;
}

/** Told of every report stored for the first time (not of duplicates); must return at once (ingestion's hot path). */
export type IngestListener = (host: string, report: RunReport) => void;

export class ReportService {
  readonly #listeners: IngestListener[] = [];
  #ingested = 0;
  #duplicates = 0;
  #queue: Pending[] = [];
  #flushing = false;
  readonly #lastRuns = new Map<string, LastRunSummary>();
  #cursor = 0;
  #lastSync = Number.NEGATIVE_INFINITY;
  readonly #maxBatch: number;
  readonly #syncEveryMs: number;
  readonly #beforeStore: ReportServiceOptions['beforeStore'];
  readonly #index: CatalogIndexService | undefined;
  readonly #compactFull: boolean;
  #compactReceived = 0;
  #compactedOnIngest = 0;
  #compactRefused = 0;

  private constructor(
    private readonly reports: Collection<ReportDoc>,
    private readonly clock: Clock,
    opts: ReportServiceOptions,
  ) {
    this.#maxBatch = opts.maxBatch ?? 500;
    this.#syncEveryMs = opts.syncEveryMs ?? 2000;
    this.#beforeStore = opts.beforeStore;
    this.#index = opts.catalogIndex;
    this.#compactFull = opts.compactFull ?? true;
  }

  static async open(store: DocumentStore, clock: Clock, opts: ReportServiceOptions = {}): Promise<ReportService> {
    const reports = await store.collection<ReportDoc>('reports', [
      { name: 'by_host_time', fields: { host: 1, startedAtMs: -1 } },
      { name: 'by_received', fields: { receivedAtMs: 1 } },
    ]);
    const svc = new ReportService(reports, clock, opts);
    await svc.#loadIndex();
    return svc;
  }

  /**
   * ingested, duplicates; compactReceived: compact reports stored as sent; compactedOnIngest: full
   * reports stored compact; compactRefused: compact reports refused (FULL_REPORT_REQUIRED).
   */
  get counters(): { ingested: number; duplicates: number; compactReceived: number; compactedOnIngest: number; compactRefused: number } {
    return { ingested: this.#ingested, duplicates: this.#duplicates, compactReceived: this.#compactReceived, compactedOnIngest: this.#compactedOnIngest, compactRefused: this.#compactRefused };
  }

  /**
   * The catalog index a compact report is checked against, or why it cannot be: throws
   * FULL_REPORT_REQUIRED (the agent then sends the full report; nothing is stored meanwhile).
   */
  async #checked(host: string, report: RunReport): Promise<HostCatalogIndex> {
    const index = this.#index ? await this.#index.get(report.catalogId) : undefined;
    const why = !index ? `the server has no record of catalog ${report.catalogId.slice(0, 16)}` : index.host !== host ? `catalog ${report.catalogId.slice(0, 16)} is not ${host}'s` : checkCompact(report, index);
    if (why !== undefined || !index) {
      this.#compactRefused++;
      throw new ApiError('FULL_REPORT_REQUIRED', `compact report ${report.runId} refused: ${why ?? 'unknown catalog'}; send the full report`);
    }
    return index;
  }

  /** Stores a report sent by `host` (the authenticated identity); resolves after the commit. */
  async ingest(host: string, report: RunReport): Promise<{ runId: string; duplicate: boolean }> {
    if (report.host !== host) throw new ApiError('FORBIDDEN', `report is for host "${report.host.slice(0, 253)}" but was signed by ${host}`);
    const startedAtMs = Date.parse(report.startedAt);
    if (!Number.isFinite(startedAtMs)) throw new ApiError('BAD_REQUEST', 'startedAt is not a valid time');
    let stored = report;
    let index: HostCatalogIndex | undefined;
    if (report.inSyncSummary !== undefined) index = await this.#checked(host, report);
    else if (this.#index && this.#compactFull && report.counts.inSync > 0 && report.resources.length > 0) {
      const known = await this.#index.get(report.catalogId);
      const compact = known && known.host === host ? compactReport(report, known) : undefined;
      if (compact) {
        index = known;
        stored = compact;
      }
    }
    // Drift and listeners see the full report (drift event ids use the run-order position); a
    // compact one that lists nothing has nothing for them, and is passed as it is (no expansion).
    const full = index && report.inSyncSummary !== undefined && report.resources.length > 0 ? expandReport(report, index) : report;
    const now = this.clock.now();
    const summary = summarise(stored, startedAtMs, now, index?.ids);
    const { resources: _ids, ...storedSummary } = summary;
    const doc: ReportDoc = {
      _id: `${host}/${report.runId}`,
      host,
      runId: report.runId,
      startedAtMs,
      receivedAtMs: now,
      outcome: report.outcome,
      mode: report.mode,
      corrective: summary.corrective,
      changed: summary.changed,
      failed: summary.failed,
      catalogId: report.catalogId,
      revision: report.revision,
      summary: index ? storedSummary : summary,
      json: JSON.stringify(stored),
      ...(index ? { compact: true } : {}),
    };
    const duplicate = await new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ doc, report: full, resolve, reject });
      if (!this.#flushing) setImmediate(() => void this.#flush());
    });
    if (duplicate) this.#duplicates++;
    else {
      this.#ingested++;
      if (index && report.inSyncSummary !== undefined) this.#compactReceived++;
      else if (index) this.#compactedOnIngest++;
      this.#note(summary, host);
      for (const fn of this.#listeners) {
        try {
          fn(host, full);
        } catch {
          // a listener's failure is its own; the report is stored
        }
      }
    }
    return { runId: report.runId, duplicate };
  }

  /** Calls `fn` after each report stored for the first time (the fleet plan's surprise check). */
  onIngested(fn: IngestListener): void {
    this.#listeners.push(fn);
  }

  /**
   * Reports of runs of one of `revisions` (as reports name them) received at or after `sinceMs`, oldest first, at most `limit`
   * (over the receivedAt index): for passes that look at a revision's runs after the fact.
   * The JSON may be a compact report: every resource that changed, would change, failed or was
   * skipped is listed in it all the same (only plain in-sync ones are summarised).
   */
  async ofRevisionSince(revisions: readonly string[], sinceMs: number, limit = 1000): Promise<{ host: string; runId: string; receivedAtMs: number; json: string }[]> {
    const docs = await this.reports.find({ receivedAtMs: { $gte: sinceMs }, revision: { $in: [...revisions] } }, { sort: { receivedAtMs: 1 }, limit: Math.min(Math.max(1, limit), 5000), projection: { host: 1, runId: 1, receivedAtMs: 1, json: 1 } });
    return docs.map((d) => ({ host: d.host, runId: d.runId, receivedAtMs: d.receivedAtMs, json: d.json }));
  }

  /** Drains the queue in group commits: one insertMany per batch, duplicates filtered first. */
  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        try {
          const ids = [...new Set(batch.map((p) => p.doc._id))];
          const existing = new Set((await this.reports.find({ _id: { $in: ids } }, { projection: { _id: 1 } })).map((d) => d._id));
          const fresh: Pending[] = [];
          const dup: Pending[] = [];
          const seen = new Set<string>();
          for (const p of batch) {
            if (existing.has(p.doc._id) || seen.has(p.doc._id)) dup.push(p);
            else {
              seen.add(p.doc._id);
              fresh.push(p);
            }
          }
          if (fresh.length > 0 && this.#beforeStore) await this.#beforeStore(fresh.map((p) => ({ host: p.doc.host, report: p.report, receivedAtMs: p.doc.receivedAtMs })));
          let dupAfter: Set<string> | undefined;
          try {
            if (fresh.length > 0) await this.reports.insertMany(fresh.map((p) => p.doc));
          } catch (err) {
            if (!isDuplicateKey(err)) throw err;
            // Another server stored one of them meanwhile: settle one by one (insertMany kept those before the clash).
            dupAfter = new Set();
            for (const p of fresh) {
              if (await this.reports.findOne({ _id: p.doc._id, receivedAtMs: p.doc.receivedAtMs, runId: p.doc.runId }, { projection: { _id: 1 } })) continue;
              try {
                await this.reports.insertOne(p.doc);
              } catch (e) {
                if (isDuplicateKey(e)) dupAfter.add(p.doc._id);
                else throw e;
              }
            }
          }
          for (const p of fresh) p.resolve(dupAfter?.has(p.doc._id) ?? false);
          for (const p of dup) p.resolve(true);
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  #note(s: LastRunSummary, host: string): void {
    const cur = this.#lastRuns.get(host);
    if (!cur || cur.atMs < s.atMs || (cur.atMs === s.atMs && cur.receivedAtMs <= s.receivedAtMs)) this.#lastRuns.set(host, s);
  }

  async #loadIndex(): Promise<void> {
    const hosts = await this.reports.countBy('host', {});
    for (const g of hosts) {
      if (typeof g.value !== 'string') continue;
      const d = await this.reports.findOne({ host: g.value }, { sort: { startedAtMs: -1 }, projection: { summary: 1, receivedAtMs: 1 } });
      if (d) {
        this.#note(await this.#resolved(d.summary), g.value);
        this.#cursor = Math.max(this.#cursor, d.receivedAtMs);
      }
    }
  }

  /** A stored summary with its resource ids (those of its catalog when the report is compact). */
  async #resolved(s: StoredSummary): Promise<LastRunSummary> {
    if (s.resources !== undefined) return s as LastRunSummary;
    const index = this.#index ? await this.#index.get(s.catalogId) : undefined;
    // No record (cannot happen while retention keeps it): compliance then knows the non-compliant ids only.
    return { ...s, resources: index?.ids ?? s.nonCompliant };
  }

  /** Picks up reports other servers stored since the last look (throttled). */
  async #sync(): Promise<void> {
    const now = this.clock.now();
    if (now - this.#lastSync < this.#syncEveryMs) return;
    this.#lastSync = now;
    // A few seconds of overlap: other servers' commits may land slightly out of receivedAt order.
    for (;;) {
      const docs = await this.reports.find({ receivedAtMs: { $gte: this.#cursor - 5000 } }, { sort: { receivedAtMs: 1 }, limit: 5000, projection: { host: 1, summary: 1, receivedAtMs: 1 } });
      for (const d of docs) this.#note(await this.#resolved(d.summary), d.host);
      const last = docs[docs.length - 1]?.receivedAtMs;
      if (docs.length < 5000 || last === undefined || last - 5000 <= this.#cursor - 5000) {
        if (last !== undefined) this.#cursor = Math.max(this.#cursor, last);
        return;
      }
      this.#cursor = last;
    }
  }

  /** The newest run of every host that reported (within the raw-report retention). */
  async lastRuns(): Promise<ReadonlyMap<string, LastRunSummary>> {
    await this.#sync();
    return this.#lastRuns;
  }

  /**
   * The newest run of `revision` each of `hosts` reported, among reports received at or after
   * `sinceMs` (a rollout batch's start): outcome and failed resources.
   */
  async newestOf(hosts: readonly string[], revision: string, sinceMs: number): Promise<Map<string, { runId: string; outcome: string; failed: number }>> {
    const out = new Map<string, { runId: string; outcome: string; failed: number; receivedAtMs: number }>();
    for (let i = 0; i < hosts.length; i += 500) {
      const chunk = hosts.slice(i, i + 500);
      // Catalogs (and so reports) name the revision by its first 16 characters; API clients may send it whole.
      const docs = await this.reports.find({ host: { $in: chunk }, revision: { $in: [...new Set([revision, revision.slice(0, 16)])] }, receivedAtMs: { $gte: sinceMs } }, { sort: { receivedAtMs: -1 }, limit: chunk.length * 20, projection: { host: 1, runId: 1, outcome: 1, failed: 1, receivedAtMs: 1 } });
      for (const d of docs) {
        const cur = out.get(d.host);
        if (!cur || cur.receivedAtMs < d.receivedAtMs) out.set(d.host, { runId: d.runId, outcome: d.outcome, failed: d.failed, receivedAtMs: d.receivedAtMs });
      }
    }
    return new Map([...out].map(([h, v]) => [h, { runId: v.runId, outcome: v.outcome, failed: v.failed }] as const));
  }

  async list(filter: { host?: string; limit?: number; outcome?: string }): Promise<ReportListItem[]> {
    const f: Record<string, string> = {};
    if (filter.host !== undefined) f['host'] = filter.host;
    if (filter.outcome !== undefined) f['outcome'] = filter.outcome;
    const docs = await this.reports.find(f, { sort: { startedAtMs: -1 }, limit: Math.min(filter.limit ?? 50, 1000), projection: { json: 0, summary: 0 } });
    return docs.map((d) => ({ runId: d.runId, host: d.host, startedAt: d.startedAtMs, receivedAt: d.receivedAtMs, outcome: d.outcome, mode: d.mode, corrective: d.corrective, changed: d.changed, failed: d.failed, catalogId: d.catalogId, revision: d.revision }));
  }

  async get(host: string, runId: string): Promise<RunReport | undefined> {
    const json = await this.getJson(host, runId);
    return json !== undefined ? (JSON.parse(json) as RunReport) : undefined;
  }

  /**
   * The full report as JSON text: a full report as stored (served without parsing it), a
   * compact one expanded from its catalog's index.
   */
  async getJson(host: string, runId: string): Promise<string | undefined> {
    const d = await this.reports.findOne({ _id: `${host}/${runId}` }, { projection: { json: 1, compact: 1 } });
    if (!d) return undefined;
    if (d.compact !== true) return d.json;
    const report = JSON.parse(d.json) as RunReport;
    const index = this.#index ? await this.#index.get(report.catalogId) : undefined;
    // Without its catalog's record (cannot happen while retention keeps it) the compact form is
    // served: still a valid report, its summary saying what was left out.
    return index ? JSON.stringify(expandReport(report, index)) : d.json;
  }

  async count(host?: string): Promise<number> {
    return this.reports.count(host === undefined ? {} : { host });
  }

  /**
   * Deletes raw reports received before `beforeMs` (epoch ms), oldest first in bounded batches
   * (deleteOlderThan), except each host's newest report: the last-run index, "not reporting"
   * and the host views need it, however old it is. Hourly compliance rollups are elsewhere and
   * stay. Safe to run on several servers at once; stops between batches when `signal` aborts.
   */
  async prune(beforeMs: number, signal?: AbortSignal): Promise<number> {
    const runs = await this.lastRuns();
    // Only the newest reports that are themselves past the cutoff need protecting: usually few
    // (hosts that stopped reporting), so one $nin keeps the pass to a single bounded loop.
    const protectedIds: string[] = [];
    for (const [host, s] of runs) if (s.receivedAtMs < beforeMs) protectedIds.push(`${host}/${s.runId}`);
    const base = { field: 'receivedAtMs', cutoff: beforeMs, batchSize: 500, ...(signal ? { signal } : {}) } as const;
    // Catalog records no kept report names any more (the newest of each host keep theirs).
    if (this.#index) await this.#index.prune(beforeMs, [...runs.values()].map((s) => s.catalogId), signal);
    if (protectedIds.length <= pruneListLimit) {
      return (await deleteOlderThan(this.reports, protectedIds.length === 0 ? base : { ...base, where: { _id: { $nin: protectedIds } } })).deleted;
    }
    // Very many silent hosts: one pass per host, each keeping that host's newest.
    let deleted = 0;
    for (const [host, s] of runs) {
      if (signal?.aborted === true) break;
      deleted += (await deleteOlderThan(this.reports, { ...base, where: { host, _id: { $ne: `${host}/${s.runId}` } } })).deleted;
    }
    return deleted;
  }
}

/** Largest $nin list prune uses (the store contract allows 10,000 values). */
const pruneListLimit = 5000;

/**
 * The part of a report compliance needs. `catalogIds`: the resource ids of a compact report's
 * catalog (its summarised resources are in sync, so compliant).
 */
export function summarise(report: RunReport, atMs: number, receivedAtMs: number, catalogIds?: readonly string[]): LastRunSummary {
  const nonCompliant: string[] = [];
  const listed: string[] = [];
  for (const r of report.resources) {
    listed.push(r.id);
    const corrective = r.changes.some((c) => c.corrective);
    if (r.state === 'failed' || r.state === 'skipped' || r.state === 'would-change' || corrective) nonCompliant.push(r.id);
  }
  return {
    runId: report.runId,
    atMs,
    receivedAtMs,
    outcome: report.outcome,
    mode: report.mode,
    corrective: report.counts.corrective,
    changed: report.counts.changed,
    failed: report.counts.failed + report.counts.skipped,
    catalogId: report.catalogId,
    revision: report.revision,
    nonCompliant,
    resources: catalogIds ?? listed,
  };
}
