/**
 * Compliance: per-host state (domain/compliance.ts), fleet / group / resource percentages,
 * and their history rolled up per hour. The rollup is level-triggered: each tick recomputes
 * the current hour's bucket from the current host states (an upsert, so a tick is idempotent
 * and several servers may run it). Hourly buckets are kept far longer than raw reports.
 */
import { deleteOlderThan } from '../store/retention.js';
import type { Collection, DocumentStore } from '../store/types.js';
import type { Clock } from '../domain/clock.js';
import { emptyCounts, hostCompliance, hourStart, percentInSync, type ComplianceState, type StateCounts } from '../domain/compliance.js';
import type { LastRunSummary } from '../domain/compliance.js';
import type { ReportService } from './report-service.js';
import type { RevisionService } from './revision-service.js';

type HourlyDoc = {
  _id: string;
  scope: string;
  hour: number;
  total: number;
  counts: StateCounts;
};

export interface Bucket {
  readonly scope: string;
  readonly total: number;
  readonly counts: StateCounts;
  readonly percent: number;
}

export interface HostCompliance {
  readonly host: string;
  readonly state: ComplianceState;
  readonly groups: readonly string[];
  readonly inInventory: boolean;
  readonly lastRun?: LastRunSummary;
}

export interface ComplianceOptions {
  /** A host whose last report is older than this is not reporting. Default 15 min. */
  readonly staleAfterMs?: number;
}

export class ComplianceService {
  readonly staleAfterMs: number;

  private constructor(
    private readonly hourly: Collection<HourlyDoc>,
    private readonly reports: ReportService,
    private readonly revisions: RevisionService,
    private readonly clock: Clock,
    opts: ComplianceOptions,
  ) {
    this.staleAfterMs = opts.staleAfterMs ?? 15 * 60_000;
  }

  static async open(store: DocumentStore, reports: ReportService, revisions: RevisionService, clock: Clock, opts: ComplianceOptions = {}): Promise<ComplianceService> {
    const hourly = await store.collection<HourlyDoc>('compliance_hourly', [{ name: 'by_scope_hour', fields: { scope: 1, hour: 1 } }, { name: 'by_hour', fields: { hour: 1 } }]);
    return new ComplianceService(hourly, reports, revisions, clock, opts);
  }

  /** Every known host (inventory of the live revision ∪ hosts that reported) with its state. */
  async hosts(signal: AbortSignal): Promise<HostCompliance[]> {
    const now = this.clock.now();
    const live = await this.revisions.live(signal);
    const inventory = new Map<string, readonly string[]>();
    for (const h of live?.loaded.hosts ?? []) inventory.set(h.name, h.groups);
    const runs = await this.reports.lastRuns();
    const names = new Set<string>([...inventory.keys(), ...runs.keys()]);
    return [...names].sort().map((host) => {
      const last = runs.get(host);
      return {
        host,
        state: hostCompliance(last, now, this.staleAfterMs),
        groups: inventory.get(host) ?? [],
        inInventory: inventory.has(host),
        ...(last ? { lastRun: last } : {}),
      };
    });
  }

  /** Fleet, per-group and per-resource compliance now. Only hosts in the inventory count. */
  async summary(signal: AbortSignal): Promise<{ at: number; fleet: Bucket; groups: Bucket[]; resources: Bucket[] }> {
    const hosts = (await this.hosts(signal)).filter((h) => h.inInventory);
    const fleet = emptyCounts();
    const groups = new Map<string, StateCounts>();
    const resources = new Map<string, { total: number; ok: number }>();
    for (const h of hosts) {
      fleet[h.state]++;
      for (const g of h.groups) {
        const c = groups.get(g) ?? emptyCounts();
        c[h.state]++;
        groups.set(g, c);
      }
      if (h.lastRun && h.state !== 'not-reporting') {
        const bad = new Set(h.lastRun.nonCompliant);
        for (const r of h.lastRun.resources) {
          const e = resources.get(r) ?? { total: 0, ok: 0 };
          e.total++;
          if (!bad.has(r)) e.ok++;
          resources.set(r, e);
        }
      }
    }
    return {
      at: this.clock.now(),
      fleet: bucket('fleet', fleet),
      groups: [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([g, c]) => bucket(`group:${g}`, c)),
      resources: [...resources.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([r, e]) => {
          const counts = emptyCounts();
          counts['in-sync'] = e.ok;
          counts.drifted = e.total - e.ok;
          return { scope: `resource:${r}`, total: e.total, counts, percent: e.total === 0 ? 100 : Math.round((e.ok / e.total) * 10000) / 100 };
        }),
    };
  }

  /** Recomputes the current hour's buckets (fleet and groups; resources when few). Idempotent. */
  async rollup(signal: AbortSignal): Promise<number> {
    const s = await this.summary(signal);
    const hour = hourStart(s.at);
    const buckets = [s.fleet, ...s.groups, ...(s.resources.length <= 500 ? s.resources : [])];
    for (const b of buckets) {
      await this.hourly.updateOne({ _id: `${b.scope}@${hour}` }, { $set: { scope: b.scope, hour, total: b.total, counts: b.counts } }, { upsert: true });
    }
    return buckets.length;
  }

  /** Hourly points of `scope` between fromMs (inclusive) and toMs (exclusive). */
  async history(scope: string, fromMs: number, toMs: number): Promise<{ hour: number; total: number; counts: StateCounts; percent: number }[]> {
    const docs = await this.hourly.find({ scope, hour: { $gte: fromMs, $lt: toMs } }, { sort: { hour: 1 }, limit: 24 * 400 });
    return docs.map((d) => ({ hour: d.hour, total: d.total, counts: d.counts, percent: bucket(scope, d.counts).percent }));
  }

  /**
   * Deletes hourly buckets whose hour started before `beforeMs` (epoch ms), oldest first in
   * bounded batches; stops between batches when `signal` aborts.
   */
  async prune(beforeMs: number, signal?: AbortSignal): Promise<number> {
    return (await deleteOlderThan(this.hourly, { field: 'hour', cutoff: beforeMs, ...(signal ? { signal } : {}) })).deleted;
  }
}

function bucket(scope: string, counts: StateCounts): Bucket {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return { scope, total, counts, percent: percentInSync(counts) };
}
