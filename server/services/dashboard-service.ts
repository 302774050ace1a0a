/**
 * The dashboard: what an operator looks at first, in one read that stays cheap at 10,000 hosts.
 * Fleet compliance now (the in-memory last-run index), the failing hosts (the first few and a
 * count), running jobs and rollouts (state-indexed queries, a page each), and the most drifted
 * resources over a window (drift history; counted at most every 30 s, the live page polls). The
 * API, the CLI and the console's live page all read this one model.
 */
import type { Clock } from '../domain/clock.js';
import { emptyCounts, percentInSync, type StateCounts } from '../domain/compliance.js';
import type { RolloutView } from '../../schemas/api/rollouts.js';
import type { ComplianceService, HostCompliance } from './compliance-service.js';
import type { DriftService, TopDrifted } from './drift-service.js';
import type { JobService } from './jobs/job-service.js';
import type { JobSummaryView } from './jobs/job-view.js';
import type { RevisionService } from './revision-service.js';
import type { RolloutService } from './rollouts/rollout-service.js';

export interface Dashboard {
  readonly at: number;
  readonly revision?: string;
  readonly fleet: { readonly total: number; readonly counts: StateCounts; readonly percent: number };
  readonly failing: { readonly total: number; readonly hosts: readonly HostCompliance[] };
  readonly drifted: { readonly total: number; readonly hosts: readonly HostCompliance[] };
  readonly jobs: { readonly total: number; readonly items: readonly JobSummaryView[] };
  readonly rollouts: { readonly total: number; readonly items: readonly RolloutView[] };
  readonly topDrifted: { readonly sinceMs: number; readonly items: readonly TopDrifted[] };
}

export interface DashboardDeps {
  readonly compliance: ComplianceService;
  readonly drift: DriftService;
  readonly jobs: JobService;
  readonly rollouts: RolloutService;
  readonly revisions: RevisionService;
  readonly clock: Clock;
}

export const defaultDriftWindowMs = 7 * 86_400_000;

/** How long the most-drifted list is reused (it counts events over the window; the live page asks every few seconds). */
export const topCacheMs = 30_000;

export class DashboardService {
  #top: { key: string; at: number; items: TopDrifted[] } | undefined;

  constructor(private readonly d: DashboardDeps) {}

  /** The most drifted resources, counted at most every topCacheMs per (window, limit). */
  async #topDrifted(sinceMs: number, windowMs: number, limit: number, signal: AbortSignal): Promise<TopDrifted[]> {
    const now = this.d.clock.now();
    const key = `${windowMs}/${limit}`;
    const hit = this.#top;
    if (hit && hit.key === key && now - hit.at < topCacheMs && now >= hit.at) return hit.items;
    const items = await this.d.drift.top(sinceMs, limit, signal);
    this.#top = { key, at: now, items };
    return items;
  }

  /** The dashboard now; `windowMs` is the top-drifted window (default 7 days), `limit` the rows per list. */
  async summary(signal: AbortSignal, opts: { windowMs?: number; limit?: number } = {}): Promise<Dashboard> {
    const limit = Math.min(Math.max(opts.limit ?? 10, 1), 100);
    const now = this.d.clock.now();
    const windowMs = opts.windowMs ?? defaultDriftWindowMs;
    const sinceMs = now - windowMs;
    const [hosts, jobs, rollouts, top, live] = await Promise.all([
      this.d.compliance.hosts(signal),
      this.d.jobs.active(limit),
      this.d.rollouts.active(limit),
      this.#topDrifted(sinceMs, windowMs, limit, signal),
      this.d.revisions.live(signal),
    ]);
    const inFleet = hosts.filter((h) => h.inInventory);
    const failing = inFleet.filter((h) => h.state === 'failing');
    const drifted = inFleet.filter((h) => h.state === 'drifted');
    const counts = emptyCounts();
    for (const h of inFleet) counts[h.state]++;
    return {
      at: now,
      ...(live ? { revision: live.id } : {}),
      fleet: { total: inFleet.length, counts, percent: percentInSync(counts) },
      failing: { total: failing.length, hosts: failing.slice(0, limit) },
      drifted: { total: drifted.length, hosts: drifted.slice(0, limit) },
      jobs: { total: jobs.total, items: jobs.jobs },
      rollouts: { total: rollouts.total, items: rollouts.rollouts },
      topDrifted: { sinceMs, items: top },
    };
  }
}
