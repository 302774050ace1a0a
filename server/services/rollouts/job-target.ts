/**
 * Delivering a job (ADR 0017 §3): each batch is one ordinary job, launched through
 * JobService.launch with the rollout's launch request on the batch's hosts only; its fire id
 * `rollout:<id>:<batch>` makes a second launch (after a crash) answer the job the first made.
 * How a host fared is read from that job: a failed dispatch fails it; when the job is over,
 * every other host of the batch that it ran on passed.
 */
import type { JobLaunch } from '../../../schemas/api/jobs.js';
import { failedStates, terminalJobStates } from '../jobs/job-model.js';
import type { JobService } from '../jobs/job-service.js';
import type { TargetResolver } from '../jobs/targets.js';
import type { KindTarget } from './rollout-driver.js';
import type { DeliveryContext, HostOutcome, RolloutHost } from './ports.js';
import type { RolloutDoc, RolloutEffect } from './rollout-model.js';

export class JobTarget implements KindTarget {
  constructor(
    private readonly job: JobLaunch,
    private readonly createdBy: string,
    private readonly jobs: JobService,
    private readonly targets: TargetResolver,
  ) {}

  #actor(): { principal: { name: string; role: 'admin' } } {
    return { principal: { name: this.createdBy, role: 'admin' } };
  }

  async hosts(): Promise<RolloutHost[]> {
    // Refuses what a launch would refuse (unknown script, a blocked script without approval, …) before anything runs.
    await this.jobs.preview(this.job, this.#actor());
    const r = await this.targets.resolve(this.job.targets, AbortSignal.timeout(60_000), { includeInactive: this.job.includeInactive });
    return r.hosts.map((name) => {
      const h = r.inventory.get(name);
      return { name, ...(h?.idc !== undefined ? { idc: h.idc } : {}), ...(h?.set !== undefined ? { set: h.set } : {}), address: h?.ip ?? name };
    });
  }

  async deliver(hosts: readonly string[], ctx: DeliveryContext): Promise<{ ref?: string }> {
    const view = await this.jobs.launch(this.job, this.#actor(), { fireId: `rollout:${ctx.rolloutId}:${ctx.batchIndex}`, restrictTo: hosts, rollout: { id: ctx.rolloutId, batch: ctx.batchIndex } });
    return { ref: view.id };
  }

  async outcomes(hosts: readonly string[], ctx: DeliveryContext & { ref?: string }): Promise<HostOutcome[]> {
    if (ctx.ref === undefined) return hosts.map((host) => ({ host, state: 'pending' }));
    const job = await this.jobs.get(ctx.ref, false);
    const over = (terminalJobStates as readonly string[]).includes(job.state);
    const byHost = new Map(job.hosts.map((h) => [h.host, h] as const));
    const unavailable = new Map((job.unavailable ?? []).map((u) => [u.host, u.reason] as const));
    return hosts.map((host): HostOutcome => {
      const h = byHost.get(host);
      const bad = h?.steps.find((s) => (failedStates as readonly string[]).includes(s.state));
      if (bad) return { host, state: 'failed', reason: `job ${ctx.ref} step ${bad.step} ${bad.state}${bad.exitCode !== null && bad.exitCode !== undefined ? ` (exit ${bad.exitCode})` : ''}${bad.message !== undefined ? `: ${bad.message}` : ''}` };
      if (!h && unavailable.has(host)) return { host, state: 'failed', reason: `not run: ${unavailable.get(host)!}` };
      if (!over) return { host, state: 'pending' };
      if (job.state === 'cancelled') return { host, state: 'failed', reason: `job ${ctx.ref} was cancelled` };
      return { host, state: 'succeeded' };
    });
  }

  async effect(effect: RolloutEffect, doc: RolloutDoc): Promise<void> {
    if (effect !== 'cancel-job') return;
    const ref = doc.batches[doc.current]?.ref;
    if (ref === undefined) return;
    const job = await this.jobs.record(ref);
    if (job.state === 'running' || job.state === 'paused') await this.jobs.cancel(ref, this.#actor());
  }
}
