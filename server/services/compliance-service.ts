/**
 * Compliance: per-host state (domain/compliance.ts), fleet / group / resource percentages,
 * and their history rolled up per hour. The rollup is level-triggered: each tick recomputes
 * the current hour's bucket from the current host states (an upsert, so a tick is idempotent
 * and several servers may run it). Hourly buckets are kept far longer than raw reports.
 */
import { deleteOlderThan } from '../store/retention.js';
import type { Collection, DocumentStore } from '../store/types.js';
import type { Clock } from '../domain/clock.js';
import { complianceStates, emptyCounts, hostCompliance, hourStart, percentInSync, type ComplianceState, type StateCounts } from '../domain/compliance.js';
import { dayStart, monthStart } from '../domain/drift.js';
import type { LastRunSummary } from '../domain/compliance.js';
import type { ReportService } from './report-service.js';
import type { RevisionService } from './revision-service.js';

/** A day's mean of its hourly buckets (fleet and groups): counts are host-hours / hours sampled. */
type DailyDoc = {
  _id: string;
  scope: string;
  day: number;
  /** Hours of the day with a bucket. */
  samples: number;
  total: number;
  counts: StateCounts;
};

/** One point of a compliance series; counts are means for days and months (not integers). */
export interface SeriesPoint {
  readonly at: number;
  readonly total: number;
  readonly counts: StateCounts;
  readonly percent: number;
  /** Hourly buckets behind the point (1 for an hour). */
  readonly samples: number;
}

export type SeriesStep = 'hour' | 'day' | 'month';

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
    private readonly daily: Collection<DailyDoc>,
    private readonly reports: ReportService,
    private readonly revisions: RevisionService,
    private readonly clock: Clock,
    opts: ComplianceOptions,
  ) {
    this.staleAfterMs = opts.staleAfterMs ?? 15 * 60_000;
  }

  static async open(store: DocumentStore, reports: ReportService, revisions: RevisionService, clock: Clock, opts: ComplianceOptions = {}): Promise<ComplianceService> {
    const hourly = await store.collection<HourlyDoc>('compliance_hourly', [{ name: 'by_scope_hour', fields: { scope: 1, hour: 1 } }, { name: 'by_hour', fields: { hour: 1 } }]);
    const daily = await store.collection<DailyDoc>('compliance_daily', [{ name: 'by_scope_day', fields: { scope: 1, day: 1 } }, { name: 'by_day', fields: { day: 1 } }]);
    return new ComplianceService(hourly, daily, reports, revisions, clock, opts);
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
    await this.rollupDays(dayStart(hour) - 86_400_000, hour + 3_600_000);
    return buckets.length;
  }

  /**
   * Recomputes the daily buckets (fleet and groups) of the UTC days from fromMs to toMs from
   * their hourly buckets: the mean of each state over the hours sampled. Idempotent; the tick
   * redoes yesterday and today, so the last hour of a day is counted after midnight too.
   */
  async rollupDays(fromMs: number, toMs: number): Promise<number> {
    const from = dayStart(fromMs);
    const docs = await this.hourly.find(
      { hour: { $gte: from, $lt: toMs }, $or: [{ scope: 'fleet' }, { scope: { $startsWith: 'group:' } }] },
      { sort: { hour: 1 }, limit: 200_000, projection: { scope: 1, hour: 1, counts: 1 } },
    );
    const acc = new Map<string, { scope: string; day: number; samples: number; sums: StateCounts }>();
    for (const d of docs) {
      const day = dayStart(d.hour);
      const key = `${d.scope}@${day}`;
      const a = acc.get(key) ?? { scope: d.scope, day, samples: 0, sums: emptyCounts() };
      a.samples++;
      for (const st of complianceStates) a.sums[st] += d.counts[st] ?? 0;
      acc.set(key, a);
    }
    for (const [key, a] of acc) {
      const counts = emptyCounts();
      for (const st of complianceStates) counts[st] = round2(a.sums[st] / a.samples);
      const total = round2(complianceStates.reduce((n, st) => n + a.sums[st], 0) / a.samples);
      await this.daily.updateOne({ _id: key }, { $set: { scope: a.scope, day: a.day, samples: a.samples, total, counts } }, { upsert: true });
    }
    return acc.size;
  }

  /**
   * The compliance series of `scope` from fromMs (inclusive) to toMs (exclusive), one point per
   * hour (hourly buckets), day (daily buckets: fleet and groups) or month (the days of each
   * UTC month, weighted by their samples).
   */
  async series(scope: string, step: SeriesStep, fromMs: number, toMs: number): Promise<SeriesPoint[]> {
    if (step === 'hour') {
      return (await this.history(scope, fromMs, toMs)).map((p) => ({ at: p.hour, total: p.total, counts: p.counts, percent: p.percent, samples: 1 }));
    }
    const days = await this.daily.find({ scope, day: { $gte: dayStart(fromMs), $lt: toMs } }, { sort: { day: 1 }, limit: 366 * 20 });
    if (step === 'day') return days.map((d) => ({ at: d.day, total: d.total, counts: d.counts, percent: percentInSync(d.counts), samples: d.samples }));
    const months = new Map<number, { samples: number; sums: StateCounts }>();
    for (const d of days) {
      const m = monthStart(d.day);
      const a = months.get(m) ?? { samples: 0, sums: emptyCounts() };
      a.samples += d.samples;
      for (const st of complianceStates) a.sums[st] += (d.counts[st] ?? 0) * d.samples;
      months.set(m, a);
    }
    return [...months.entries()].map(([at, a]) => {
      const counts = emptyCounts();
      for (const st of complianceStates) counts[st] = round2(a.sums[st] / a.samples);
      return { at, total: round2(complianceStates.reduce((n, st) => n + a.sums[st], 0) / a.samples), counts, percent: percentInSync(counts), samples: a.samples };
    });
  }

  /** Deletes daily buckets of days that started before `beforeMs`. */
  async pruneDaily(beforeMs: number, signal?: AbortSignal): Promise<number> {
    return (await deleteOlderThan(this.daily, { field: 'day', cutoff: beforeMs, ...(signal ? { signal } : {}) })).deleted;
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

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function bucket(scope: string, counts: StateCounts): Bucket {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return { scope, total, counts, percent: percentInSync(counts) };
}
