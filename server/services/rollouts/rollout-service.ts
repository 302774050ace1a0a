/**
 * RolloutService (ADR 0017 §3): starts rollouts (revisions from publishing, jobs from the API),
 * lists them, applies operator actions (continue, pause, abort, rollback — each a CAS on
 * `version`, each in the audit log) and answers which revision a host is served while a
 * revision rollout is active (`revisionFor`, cached ≤ 1 s). The driver (rollout-driver.ts) moves
 * rollouts between actions.
 */
import { randomBytes } from 'node:crypto';
import type { JobLaunch } from '../../../schemas/api/jobs.js';
import type { RolloutPolicy, RolloutView } from '../../../schemas/api/rollouts.js';
import type { Clock } from '../../domain/clock.js';
import { ApiError } from '../../domain/errors.js';
import { isDuplicateKey, type Collection } from '../../store/types.js';
import type { AuditLog } from '../audit-log.js';
import { parseBatches } from './batches.js';
import { isScoped, type Scope } from '../../domain/roles.js';
import { checkScope, type ScopeGuard } from '../users/scope-guard.js';
import type { RolloutDriver, TargetFor } from './rollout-driver.js';
import { activeStates, rolloutView, type RolloutDoc } from './rollout-model.js';
import { planBatches } from './topology.js';

export interface RolloutActor {
  readonly name: string;
  readonly address?: string | undefined;
  /** A scoped operator's scope: job rollouts must stay inside it; revision rollouts are refused (ADR 0020). */
  readonly scope?: Scope | undefined;
}

const revisionSlot = 'revision';
const cacheMs = 1000;
/** How long hosts of a completed revision rollout stay pinned to its revision while `live` moves. */
const completedGraceMs = 10_000;

export class RolloutService {
  #pin: { at: number; value: { revision: string; hosts: ReadonlySet<string> } | undefined } | undefined;
  #pinLoading: Promise<{ revision: string; hosts: ReadonlySet<string> } | undefined> | undefined;

  constructor(
    private readonly rollouts: Collection<RolloutDoc>,
    private readonly clock: Clock,
    private readonly targetFor: TargetFor,
    readonly driver: RolloutDriver,
    private readonly auditLog: AuditLog,
    private readonly scopes?: ScopeGuard,
  ) {
    driver.onChange = () => {
      this.#pin = undefined;
    };
  }

  #newId(): string {
    return `r${this.clock.now().toString(36).padStart(9, '0')}${randomBytes(4).toString('hex')}`;
  }

  /** The active revision rollout, if any (from the store). */
  async activeRevision(): Promise<RolloutDoc | null> {
    return this.rollouts.findOne({ activeSlot: revisionSlot });
  }

  /** Refuses (409 ROLLOUT_ACTIVE) while a revision rollout is active: publishing would race it. */
  async assertNoActiveRevision(): Promise<void> {
    const a = await this.activeRevision();
    if (a) throw new ApiError('ROLLOUT_ACTIVE', `rollout ${a._id} of revision ${a.revision?.slice(0, 12) ?? ''} is ${a.state}; continue it to the end, or abort it, before publishing another revision`, { rollout: a._id, state: a.state });
  }

  /**
   * Which revision `host` is served while a revision rollout is active: the rollout's revision
   * for hosts of started batches, undefined for everyone else (they keep the live one).
   */
  async revisionFor(host: string): Promise<string | undefined> {
    const now = this.clock.now();
    let pin = this.#pin && now - this.#pin.at < cacheMs ? this.#pin.value : undefined;
    if (!this.#pin || now - this.#pin.at >= cacheMs) {
      this.#pinLoading ??= (async () => {
        try {
          const a = await this.activeRevision();
          let value = a && a.revision !== undefined ? { revision: a.revision, hosts: new Set(a.batches.filter((b) => b.state !== 'pending').flatMap((b) => b.hosts)) } : undefined;
          if (!value) {
            // Just completed: `live` moves right after (and other servers trust their live pointer for a
            // couple of seconds), so its hosts stay pinned a little longer rather than flap to the old one.
            const done = await this.rollouts.findOne({ kind: 'revision', state: 'completed', updatedAt: { $gte: this.clock.now() - completedGraceMs } }, { sort: { updatedAt: -1 } });
            if (done?.revision !== undefined) value = { revision: done.revision, hosts: new Set(done.targets.map((x) => x.name)) };
          }
          this.#pin = { at: this.clock.now(), value };
          return value;
        } finally {
          this.#pinLoading = undefined;
        }
      })();
      pin = await this.#pinLoading;
    }
    return pin && pin.hosts.has(host) ? pin.revision : undefined;
  }

  /** Starts delivering a stored (validated, not live) revision in batches. 409 ROLLOUT_ACTIVE when one is active. */
  async startRevision(input: { revision: string; previous?: string | undefined; commit?: string | undefined; policy: RolloutPolicy }, actor: RolloutActor): Promise<RolloutView> {
    await this.assertNoActiveRevision();
    const spec = { kind: 'revision' as const, revision: input.revision, ...(input.previous !== undefined ? { previous: input.previous } : {}), ...(input.commit !== undefined ? { commit: input.commit } : {}) };
    return this.#create(spec, input.policy, actor);
  }

  /**
   * Throws what startRevision would throw (a bad policy, no host to deliver to, an active rollout)
   * without starting anything: publishing checks it before the revision enters the history.
   */
  async checkRevision(input: { revision: string; previous?: string | undefined; policy: RolloutPolicy }): Promise<void> {
    await this.assertNoActiveRevision();
    await this.#prepare({ kind: 'revision', revision: input.revision, ...(input.previous !== undefined ? { previous: input.previous } : {}) }, input.policy, { name: 'check' });
  }

  /** Runs a job batch by batch. */
  async startJob(job: JobLaunch, policy: RolloutPolicy, actor: RolloutActor): Promise<RolloutView> {
    return this.#create({ kind: 'job', job }, policy, actor);
  }

  async #create(spec: Pick<RolloutDoc, 'kind' | 'revision' | 'previous' | 'commit' | 'job'>, policy: RolloutPolicy, actor: RolloutActor): Promise<RolloutView> {
    const doc = await this.#prepare(spec, policy, actor);
    const id = doc._id;
    try {
      await this.rollouts.insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) await this.assertNoActiveRevision();
      throw err;
    }
    this.#pin = undefined;
    await this.auditLog.record({ actor: actor.name, action: 'rollout.start', target: `rollout:${id}`, address: actor.address, after: { kind: doc.kind, ...(doc.revision !== undefined ? { revision: doc.revision } : {}), policy, hosts: doc.targets.length, batches: doc.batches.map((b) => b.hosts.length) } });
    await this.driver.kick(id);
    return this.get(id);
  }

  /** The rollout document a start would insert: the policy checked, the hosts resolved and cut into batches. */
  async #prepare(spec: Pick<RolloutDoc, 'kind' | 'revision' | 'previous' | 'commit' | 'job'>, policy: RolloutPolicy, actor: RolloutActor): Promise<RolloutDoc> {
    const terms = parseBatches(policy.batches);
    for (const p of policy.probes ?? []) {
      const kinds = (p.tcp ? 1 : 0) + (p.http ? 1 : 0) + (p.script !== undefined ? 1 : 0);
      if (kinds !== 1) throw new ApiError('BAD_REQUEST', 'each probe is exactly one of tcp, http or script');
    }
    const id = this.#newId();
    const base = { _id: id, createdBy: actor.name, policy, ...spec };
    if (spec.kind === 'revision' && isScoped(actor.scope)) throw new ApiError('FORBIDDEN', 'a revision rollout reaches the whole fleet: it needs an admin or an operator without a scope');
    const hosts = await this.targetFor(base).hosts();
    await checkScope(this.scopes, actor.scope, hosts.map((h) => h.name), 'this rollout');
    if (hosts.length === 0) throw new ApiError('BAD_REQUEST', spec.kind === 'revision' ? 'the revision has no enrolled host to deliver to' : 'the job targets no runnable host');
    const batches = planBatches(hosts, terms);
    const now = this.clock.now();
    return {
      ...base,
      state: 'running',
      version: 1,
      createdAt: now,
      updatedAt: now,
      policy,
      current: -1,
      batches: batches.map((hs, index) => ({ index, hosts: hs.map((h) => h.name), state: 'pending', failures: [] })),
      targets: batches.flat().map((h) => ({ name: h.name, address: h.address })),
      ...(spec.kind === 'revision' ? { activeSlot: revisionSlot } : {}),
    };
  }

  async get(id: string): Promise<RolloutView> {
    return rolloutView(await this.#doc(id));
  }

  async #doc(id: string): Promise<RolloutDoc> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new ApiError('BAD_REQUEST', 'a rollout id is 1-64 letters, digits, "_" or "-"');
    const d = await this.rollouts.findOne({ _id: id });
    if (!d) throw new ApiError('NOT_FOUND', `no rollout ${id}`);
    return d;
  }

  /** Running, waiting and paused rollouts, newest first (the dashboard); rides the state index. */
  async active(limit = 20): Promise<{ rollouts: RolloutView[]; total: number }> {
    const filter = { state: { $in: ['running', 'waiting', 'paused'] } };
    const [docs, total] = await Promise.all([this.rollouts.find(filter, { sort: { _id: -1 }, limit: Math.min(Math.max(limit, 1), 200) }), this.rollouts.count(filter)]);
    return { rollouts: docs.map(rolloutView), total };
  }

  /** Newest first; `before` is the cursor of the previous page. */
  async list(opts: { limit?: number; before?: string } = {}): Promise<{ rollouts: RolloutView[]; next?: string }> {
    const limit = Math.min(Math.max(opts.limit ?? 50, 1), 500);
    const docs = await this.rollouts.find(opts.before !== undefined ? { _id: { $lt: opts.before } } : {}, { sort: { _id: -1 }, limit: limit + 1 });
    const page = docs.slice(0, limit);
    return { rollouts: page.map(rolloutView), ...(docs.length > limit ? { next: page[page.length - 1]!._id } : {}) };
  }

  /** waiting → the next batch starts; paused → the batch that was running goes on being judged, or (judged) the next starts. */
  continue(id: string, actor: RolloutActor, reason?: string): Promise<RolloutView> {
    return this.#act(id, 'continue', actor, reason, (d) => {
      if (d.state !== 'waiting' && d.state !== 'paused') throw conflict(d, 'continue', 'only a waiting or paused rollout continues');
      const b = d.batches[d.current];
      const judged = b === undefined ? d.current >= 0 : b.state === 'succeeded' || b.state === 'failed';
      // A paused failed batch is not re-run: the next batch starts (past the last: completed by the driver).
      return { set: { state: 'running', ...(judged ? { current: d.current + 1 } : {}) }, unset: { gate: 1, nextAt: 1, reason: 1 } };
    });
  }

  pause(id: string, actor: RolloutActor, reason?: string): Promise<RolloutView> {
    return this.#act(id, 'pause', actor, reason, (d) => {
      if (d.state !== 'running' && d.state !== 'waiting') throw conflict(d, 'pause', 'only a running or waiting rollout pauses');
      return { set: { state: 'paused', reason: reason ?? `paused by ${actor.name}` }, unset: { gate: 1, nextAt: 1 } };
    });
  }

  /** Stops the rollout; revision rollouts: every host back on the previous revision (live never moved); job rollouts: the running batch job is cancelled. */
  abort(id: string, actor: RolloutActor, reason?: string): Promise<RolloutView> {
    return this.#act(id, 'abort', actor, reason, (d) => {
      if (!(activeStates as readonly string[]).includes(d.state)) throw conflict(d, 'abort', 'only a running, waiting or paused rollout is aborted');
      return { set: { state: 'aborted', reason: reason ?? `aborted by ${actor.name}`, ...(d.kind === 'job' ? { effects: ['cancel-job' as const] } : {}) }, unset: { gate: 1, nextAt: 1, activeSlot: 1 } };
    });
  }

  /** Revision rollouts: the previous revision is live again (after completion), or every host returns to it (before). */
  rollback(id: string, actor: RolloutActor, reason?: string): Promise<RolloutView> {
    return this.#act(id, 'rollback', actor, reason, (d) => {
      if (d.kind !== 'revision') throw conflict(d, 'rollback', 'a job rollout cannot be rolled back; abort stops it');
      if (d.previous === undefined) throw conflict(d, 'rollback', 'nothing was live before this revision');
      if (d.state === 'completed') return { set: { state: 'rolled-back', reason: reason ?? `rolled back by ${actor.name}`, effects: ['activate-previous' as const] }, unset: {} };
      if ((activeStates as readonly string[]).includes(d.state)) return { set: { state: 'rolled-back', reason: reason ?? `rolled back by ${actor.name}` }, unset: { gate: 1, nextAt: 1, activeSlot: 1 } };
      throw conflict(d, 'rollback', 'only a completed or active rollout is rolled back');
    });
  }

  async #act(id: string, action: string, actor: RolloutActor, reason: string | undefined, plan: (d: RolloutDoc) => { set: Partial<RolloutDoc>; unset: Record<string, 1> }): Promise<RolloutView> {
    for (let i = 0; i < 20; i++) {
      const d = await this.#doc(id);
      if (i === 0 && isScoped(actor.scope)) {
        if (d.kind === 'revision') throw new ApiError('FORBIDDEN', `rollout ${id} delivers a revision to the whole fleet: it needs an admin or an operator without a scope`);
        await checkScope(this.scopes, actor.scope, d.targets.map((t) => t.name), `rollout ${id}`);
      }
      const { set, unset } = plan(d);
      // An action of the operator never reads a batch as delivered that was not: only state, position and effects change.
      const moved = await this.driver.cas(d, set, Object.keys(unset).length > 0 ? { $unset: unset } : {});
      if (!moved) continue;
      this.#pin = undefined;
      await this.auditLog.record({ actor: actor.name, action: `rollout.${action}`, target: `rollout:${id}`, address: actor.address, before: { state: d.state, current: d.current }, after: { state: moved.state, current: moved.current }, ...(reason !== undefined ? { details: { reason } } : {}) });
      await this.driver.kick(id);
      return this.get(id);
    }
    throw new ApiError('CONFLICT', `rollout ${id} kept changing; try again`);
  }
}

function conflict(d: RolloutDoc, action: string, why: string): ApiError {
  return new ApiError('CONFLICT', `cannot ${action} rollout ${d._id}: it is ${d.state}; ${why}`, { state: d.state });
}
