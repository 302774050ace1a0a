/**
 * Delivering a manifest revision (ADR 0017 §3). The hosts are the enrolled hosts of the new
 * revision's inventory (idc and set as the inventory gives them, the same fields the `idc:` and
 * `set:` selectors read). Delivering a batch needs no action here: once the batch is started,
 * RolloutService.revisionFor pins its hosts to the new revision and CatalogService serves them
 * its catalog. A host has fared when it reported a run of the new revision received after the
 * batch started: a failed run (or failed resources) is a failure.
 */
import type { RevisionService } from '../revision-service.js';
import type { ReportService } from '../report-service.js';
import type { TargetResolver } from '../jobs/targets.js';
import type { KindTarget } from './rollout-driver.js';
import type { DeliveryContext, HostOutcome, RolloutHost } from './ports.js';
import type { RolloutDoc, RolloutEffect } from './rollout-model.js';

export class RevisionTarget implements KindTarget {
  constructor(
    private readonly revision: string,
    private readonly previous: string | undefined,
    private readonly revisions: RevisionService,
    private readonly reports: ReportService,
    private readonly targets: TargetResolver,
    /**
     * Makes a revision live: through the manifest history when the server has git (a rollback is
     * a new commit whose tree equals the old revision; the new revision's own commit is already
     * the head), else RevisionService.activate.
     */
    private readonly activate: (id: string, by: string) => Promise<unknown> = (id) => revisions.activate(id),
    /**
     * Deliver to hosts whose lifecycle is not online too (ADR 0018 §2). Left out, such a host is
     * in no batch: it keeps the previous catalog until the rollout completes and moves live.
     */
    private readonly includeInactive = false,
  ) {}

  async hosts(): Promise<RolloutHost[]> {
    const loaded = await this.revisions.load(this.revision, AbortSignal.timeout(120_000));
    const eligible = loaded.hosts.filter((h) => this.includeInactive || (h.lifecycle ?? 'online') === 'online');
    const runnable = new Set((await this.targets.runnable(eligible.map((h) => h.name), { includeInactive: true })).hosts);
    return loaded.hosts.filter((h) => runnable.has(h.name)).map((h) => ({ name: h.name, ...(h.idc !== undefined ? { idc: h.idc } : {}), ...(h.set !== undefined ? { set: h.set } : {}), address: h.ip ?? h.name }));
  }

  /** Nothing to send: the batch's start (stored before this call) is what pins its hosts. */
  deliver(): Promise<{ ref?: string }> {
    return Promise.resolve({});
  }

  async outcomes(hosts: readonly string[], ctx: DeliveryContext): Promise<HostOutcome[]> {
    const runs = await this.reports.newestOf(hosts, this.revision, ctx.startedAt);
    return hosts.map((host): HostOutcome => {
      const r = runs.get(host);
      if (!r) return { host, state: 'pending' };
      if (r.outcome === 'failed' || r.failed > 0) return { host, state: 'failed', reason: `run ${r.runId} failed: ${r.failed} resource${r.failed === 1 ? '' : 's'} failed` };
      return { host, state: 'succeeded' };
    });
  }

  async effect(effect: RolloutEffect, doc: RolloutDoc): Promise<void> {
    const by = doc.createdBy;
    if (effect === 'activate-new') await this.activate(this.revision, by);
    else if (effect === 'activate-previous' && this.previous !== undefined) await this.activate(this.previous, by);
  }
}
