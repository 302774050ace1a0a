/**
 * The rollout driver (ADR 0017 §3): moves every running or waiting rollout one step at a time.
 * Level-triggered like the job plan driver: `advance(id)` reads the rollout and does the one next
 * thing — start the next batch (intent recorded by CAS, then delivered), judge a delivered batch
 * from its target's outcomes and the batch timeout, run the health probes, apply the threshold
 * and the gate — each a compare-and-swap on `version`, so several servers driving the same
 * rollout make each transition once. A timer ticks every second on every server; its first tick
 * after a start resumes what the store says.
 */
import { CoalescingChains } from '../coalescing-chains.js';
import type { Clock } from '../../domain/clock.js';
import type { Logger } from '../../log.js';
import type { Collection, Update } from '../../store/types.js';
import type { AuditLog } from '../audit-log.js';
import type { DeliveryContext, HostOutcome, RolloutTarget } from './ports.js';
import { failureCount, type RolloutDoc, type RolloutEffect, type StoredBatch } from './rollout-model.js';
import { exceeds, tolerated } from './threshold.js';

/** A target plus the side effects of its kind (moving `live`, cancelling a job). */
export interface KindTarget extends RolloutTarget {
  effect?(effect: RolloutEffect, doc: RolloutDoc): Promise<void>;
}

export type TargetFor = (doc: Pick<RolloutDoc, '_id' | 'kind' | 'revision' | 'previous' | 'job' | 'createdBy' | 'policy'>) => KindTarget;

/** One health probe of the policy against one host. */
export type ProbeRunner = (probe: NonNullable<RolloutDoc['policy']['probes']>[number], host: { name: string; address: string }, signal: AbortSignal) => Promise<{ ok: boolean; message: string }>;

export interface RolloutDriverOptions {
  /** Interval of the timer. Default 1000 ms. */
  readonly tickMs?: number;
  /** Probes run at once by this server. Default 32. */
  readonly probeConcurrency?: number;
}

export const defaultBatchTimeoutSeconds = 600;

export class RolloutDriver {
  readonly #chains = new CoalescingChains();
  readonly #verifying = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #closed = false;
  readonly #stop = new AbortController();
  readonly #tickMs: number;
  readonly #probeConcurrency: number;
  /** Called after every transition this process made (RolloutService drops its caches). */
  onChange: (id: string) => void = () => undefined;

  constructor(
    private readonly rollouts: Collection<RolloutDoc>,
    private readonly clock: Clock,
    private readonly targetFor: TargetFor,
    private readonly probe: ProbeRunner,
    private readonly auditLog: AuditLog,
    private readonly log: Logger,
    opts: RolloutDriverOptions = {},
  ) {
    this.#tickMs = opts.tickMs ?? 1000;
    this.#probeConcurrency = opts.probeConcurrency ?? 32;
  }

  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => void this.tick(), this.#tickMs);
    this.#timer.unref();
    void this.tick();
  }

  async stop(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stop.abort(new Error('server stopping'));
    await this.settle();
  }

  /** Resolves when no advance or tick of this process is in flight (tests, shutdown). */
  async settle(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      const pending = [...this.#chains.pending(), ...(this.#ticking ? [this.#ticking] : [])];
      if (pending.length === 0) return;
      await Promise.allSettled(pending);
    }
  }

  /** One pass over every rollout that may move, or owes a side effect. */
  tick(): Promise<void> {
    this.#ticking ??= (async () => {
      try {
        const live = await this.rollouts.find({ $or: [{ state: { $in: ['running', 'waiting'] } }, { effects: { $exists: true } }] }, { projection: { _id: 1 }, sort: { _id: 1 }, limit: 1000 });
        await Promise.all(live.map((r) => this.kick(r._id)));
      } catch (err) {
        this.log.error('rollout driver tick failed', { err: (err as Error)?.message ?? String(err) });
      } finally {
        this.#ticking = undefined;
      }
    })();
    return this.#ticking;
  }

  /** Advances a rollout soon; calls for one rollout run one after another, and queued calls coalesce. */
  kick(id: string): Promise<void> {
    return this.#chains.kick(id, async (k) => {
      if (!this.#closed) await this.advance(k);
    }, (err: unknown) => this.log.error('rollout driver failed', { rollout: id, err: (err as Error)?.message ?? String(err) }));
  }

  /** Compare-and-swap of a transition; resolves the new document or null when another writer won. */
  async cas(d: RolloutDoc, set: Partial<RolloutDoc>, extra: Omit<Update, '$set' | '$inc'> = {}): Promise<RolloutDoc | null> {
    const r = await this.rollouts.findOneAndUpdate({ _id: d._id, version: d.version }, { $set: { ...set, updatedAt: this.clock.now() }, $inc: { version: 1 }, ...extra }, { returnDocument: 'after' });
    if (r) this.onChange(d._id);
    return r;
  }

  /** Does what the rollout needs next, until it waits for something outside (hosts, a timer, an operator). */
  async advance(id: string): Promise<void> {
    for (let round = 0; round < 1000 && !this.#closed; round++) {
      const d = await this.rollouts.findOne({ _id: id });
      if (!d) return;
      if (d.effects && d.effects.length > 0) {
        await this.#effects(d);
        continue;
      }
      const now = this.clock.now();
      if (d.state === 'waiting') {
        if (d.gate === 'timer' && d.nextAt !== undefined && now >= d.nextAt) {
          await this.cas(d, { state: 'running', current: d.current + 1 }, { $unset: { gate: 1, nextAt: 1 } });
          continue;
        }
        return;
      }
      if (d.state !== 'running') return;
      const b = d.batches[d.current];
      if (!b) {
        // Before the first batch (or past the last: cannot happen through this driver).
        if (d.current < 0) await this.cas(d, { current: 0 });
        else await this.#finish(d);
        continue;
      }
      if (b.state === 'pending') {
        await this.cas(d, { batches: withBatch(d, b.index, { state: 'running', startedAt: now }) });
        continue;
      }
      if (b.state === 'running') {
        if (b.deliveredAt === undefined) {
          await this.#deliver(d, b);
          continue;
        }
        if (await this.#judgeRuns(d, b)) continue;
        return;
      }
      if (b.state === 'verifying') {
        if (this.#verifying.has(d._id)) return;
        if (b.verifyUntil !== undefined && now < b.verifyUntil) return; // another server probes
        const claimed = await this.cas(d, { batches: withBatch(d, b.index, { verifyUntil: now + this.#verifyLeaseMs(d, b) }) });
        if (!claimed) continue;
        this.#verifying.add(d._id);
        try {
          await this.#verify(claimed, claimed.batches[b.index]!);
        } finally {
          this.#verifying.delete(d._id);
        }
        continue;
      }
      // A judged batch the rollout did not move past (cannot happen: judging moves in the same CAS).
      return;
    }
  }

  #ctx(d: RolloutDoc, b: StoredBatch): DeliveryContext & { ref?: string } {
    return { rolloutId: d._id, batchIndex: b.index, startedAt: b.startedAt ?? d.updatedAt, ...(b.ref !== undefined ? { ref: b.ref } : {}) };
  }

  async #deliver(d: RolloutDoc, b: StoredBatch): Promise<void> {
    const target = this.targetFor(d);
    let ref: string | undefined;
    let failed: string | undefined;
    try {
      ref = (await target.deliver(b.hosts, this.#ctx(d, b))).ref;
    } catch (err) {
      failed = `delivery failed: ${(err as Error)?.message ?? String(err)}`.slice(0, 1000);
    }
    const now = this.clock.now();
    if (failed !== undefined) {
      this.log.error('rollout batch delivery failed', { rollout: d._id, batch: b.index, err: failed });
      await this.#judge(d, b, b.hosts.map((host) => ({ host, reason: failed })), 0);
      return;
    }
    const done = await this.cas(d, { batches: withBatch(d, b.index, { deliveredAt: now, ...(ref !== undefined ? { ref } : {}) }) });
    if (done) this.log.info('rollout batch delivered', { rollout: d._id, batch: b.index, hosts: b.hosts.length, ...(ref !== undefined ? { ref } : {}) });
  }

  /** Resolves true when the rollout moved (judged or verifying), false while hosts are still pending. */
  async #judgeRuns(d: RolloutDoc, b: StoredBatch): Promise<boolean> {
    const outcomes: HostOutcome[] = await this.targetFor(d).outcomes(b.hosts, this.#ctx(d, b));
    const byHost = new Map(outcomes.map((o) => [o.host, o] as const));
    const timeoutSeconds = d.policy.batchTimeoutSeconds ?? defaultBatchTimeoutSeconds;
    const late = this.clock.now() >= (b.startedAt ?? 0) + timeoutSeconds * 1000;
    const failures: { host: string; reason: string }[] = [];
    const passed: string[] = [];
    for (const host of b.hosts) {
      const o = byHost.get(host) ?? { host, state: 'pending' as const };
      if (o.state === 'failed') failures.push({ host, reason: o.reason.slice(0, 1000) });
      else if (o.state === 'succeeded') passed.push(host);
      else if (!late) return false;
      else failures.push({ host, reason: `no report within ${timeoutSeconds} s` });
    }
    const probes = d.policy.probes ?? [];
    if (probes.length > 0 && passed.length > 0) {
      return (await this.cas(d, { batches: withBatch(d, b.index, { state: 'verifying', failures, passed }) })) !== null;
    }
    return this.#judge(d, b, failures, passed.length);
  }

  #verifyLeaseMs(d: RolloutDoc, b: StoredBatch): number {
    const per = (d.policy.probes ?? []).reduce((s, p) => s + (p.timeoutSeconds ?? (p.script !== undefined ? 60 : 5)), 0);
    const waves = Math.ceil((b.passed?.length ?? b.hosts.length) / this.#probeConcurrency);
    return (per * waves + 30) * 1000;
  }

  /** Runs every probe against every host whose runs passed; then judges the batch. */
  async #verify(d: RolloutDoc, b: StoredBatch): Promise<void> {
    const hosts = b.passed ?? [];
    const address = new Map(d.targets.map((t) => [t.name, t.address] as const));
    const failures = [...b.failures];
    let next = 0;
    let ok = 0;
    const worker = async (): Promise<void> => {
      while (next < hosts.length && !this.#stop.signal.aborted) {
        const host = hosts[next++]!;
        let reason: string | undefined;
        for (const p of d.policy.probes ?? []) {
          const timeout = (p.timeoutSeconds ?? (p.script !== undefined ? 60 : 5)) * 1000;
          const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(timeout)]);
          let r: { ok: boolean; message: string };
          try {
            r = await this.probe(p, { name: host, address: address.get(host) ?? host }, signal);
          } catch (err) {
            r = { ok: false, message: (err as Error)?.message ?? String(err) };
          }
          if (!r.ok) {
            reason = `probe ${describeProbe(p)}: ${r.message}`.slice(0, 1000);
            break;
          }
        }
        if (reason !== undefined) failures.push({ host, reason });
        else ok++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#probeConcurrency, hosts.length) }, () => worker()));
    if (this.#stop.signal.aborted) return; // another server (or this one after a restart) re-runs them
    await this.#judge(d, b, failures, ok);
  }

  /** Judges a batch and moves the rollout in one CAS: paused over the threshold, else the gate decides. */
  async #judge(d: RolloutDoc, b: StoredBatch, failures: { host: string; reason: string }[], succeeded: number): Promise<boolean> {
    const now = this.clock.now();
    const max = d.policy.maxFailures;
    const overall = failureCount(d) - b.failures.length + failures.length;
    const overBatch = exceeds(failures.length, b.hosts.length, max);
    const overAll = exceeds(overall, d.targets.length, max);
    const batches = withBatch(d, b.index, { state: overBatch || overAll ? 'failed' : 'succeeded', finishedAt: now, failures, succeeded }, ['passed', 'verifyUntil']);
    const last = b.index >= d.batches.length - 1;
    let set: Partial<RolloutDoc>;
    let unset: Record<string, 1> = { gate: 1, nextAt: 1 };
    let action: string;
    if (overBatch || overAll) {
      const reason = overBatch
        ? `batch ${b.index + 1} of ${d.batches.length}: ${failures.length} of ${b.hosts.length} hosts failed, more than the ${tolerated(b.hosts.length, max)} tolerated`
        : `${overall} of ${d.targets.length} hosts failed so far, more than the ${tolerated(d.targets.length, max)} tolerated`;
      set = { batches, state: 'paused', reason };
      action = 'rollout.threshold';
    } else if (last) {
      set = { batches, state: 'completed', effects: d.kind === 'revision' ? ['activate-new'] : [] };
      unset = { ...unset, activeSlot: 1 };
      if (d.kind !== 'revision') unset = { ...unset, effects: 1 };
      action = 'rollout.complete';
    } else if ((d.policy.gate ?? 'auto') === 'manual') {
      set = { batches, state: 'waiting', gate: 'manual' };
      unset = {};
      action = 'rollout.gate';
    } else if ((d.policy.waitBetweenSeconds ?? 0) > 0) {
      set = { batches, state: 'waiting', gate: 'timer', nextAt: now + d.policy.waitBetweenSeconds! * 1000 };
      unset = {};
      action = 'rollout.wait';
    } else {
      set = { batches, current: d.current + 1 };
      action = 'rollout.batch';
    }
    if (set.effects && set.effects.length === 0) delete set.effects;
    const moved = await this.cas(d, set, Object.keys(unset).length > 0 ? { $unset: unset } : {});
    if (!moved) return true;
    this.log.info('rollout batch judged', { rollout: d._id, batch: b.index, failures: failures.length, succeeded, state: moved.state });
    if (action !== 'rollout.batch' && action !== 'rollout.wait') {
      await this.auditLog.record({ actor: 'system', action, target: `rollout:${d._id}`, after: { state: moved.state, batch: b.index, failures: failures.length, ...(moved.reason !== undefined && action === 'rollout.threshold' ? { reason: moved.reason } : {}) } });
    }
    return true;
  }

  async #finish(d: RolloutDoc): Promise<void> {
    const unset: Record<string, 1> = { gate: 1, nextAt: 1, activeSlot: 1 };
    const moved = await this.cas(d, { state: 'completed', ...(d.kind === 'revision' ? { effects: ['activate-new' as const] } : {}) }, { $unset: unset });
    if (moved) await this.auditLog.record({ actor: 'system', action: 'rollout.complete', target: `rollout:${d._id}`, after: { state: 'completed', failures: failureCount(d) } });
  }

  /** Performs the side effects owed (idempotent), then clears them by CAS. */
  async #effects(d: RolloutDoc): Promise<void> {
    const target = this.targetFor(d);
    for (const e of d.effects ?? []) {
      try {
        await target.effect?.(e, d);
      } catch (err) {
        this.log.error('rollout side effect failed; retried on the next tick', { rollout: d._id, effect: e, err: (err as Error)?.message ?? String(err) });
        throw err;
      }
    }
    await this.cas(d, {}, { $unset: { effects: 1 } });
  }
}

export function withBatch(d: RolloutDoc, index: number, patch: Partial<StoredBatch>, drop: (keyof StoredBatch)[] = []): StoredBatch[] {
  return d.batches.map((b) => {
    if (b.index !== index) return b;
    const n: StoredBatch = { ...b, ...patch };
    for (const k of drop) delete n[k];
    return n;
  });
}

function describeProbe(p: NonNullable<RolloutDoc['policy']['probes']>[number]): string {
  if (p.script !== undefined) return `script ${p.script}`;
  if (p.http) return `http${p.http.https ? 's' : ''} port ${p.http.port}${p.http.path ?? '/'}`;
  return `tcp port ${p.tcp?.port ?? 0}`;
}
