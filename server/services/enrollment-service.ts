/**
 * Agent enrollment, approval, revocation and bootstrap tokens, plus the identity lookup the
 * signed-request middleware uses on every agent call (served from memory; see IdentityCache).
 *
 * Rules (security.md A5):
 * - A host's first key is pending until an operator approves it, or approved at once when a
 *   valid bootstrap token (single-use, unexpired, optionally bound to the host name) is given.
 * - A bootstrap token never approves a host that already exists as approved or revoked, and
 *   never replaces an approved key: such a key goes to pending and the token stays unused.
 * - A second key for a host goes to pending and never replaces the first; only an operator
 *   approving that fingerprint rotates the key (the old one becomes "retired").
 * - A revoked host is refused everywhere until an operator approves a key again; a new key
 *   enrolled for it is pending (it may ask its status) and approving it retires the old key.
 *
 * Slots (ADR 0009): a host holds at most `maxPendingKeys` pending keys. A pending key expires
 * `pendingKeyTtlMs` after it enrolled and a rejected key holds no slot, so neither blocks the
 * host name for good; a valid bootstrap token for a never-approved host is accepted even when
 * the slots are full, approves at once, and rejects the other (competing) pending keys.
 * Operators may delete any key except the approved key of a host that is not revoked.
 */
import type { KeyObject } from 'node:crypto';
import type { Collection, DocumentStore } from '../store/types.js';
import { isDuplicateKey } from '../store/types.js';
import { deleteOlderThan } from '../store/retention.js';
import type { Clock } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import { byFields, type ActorLike, type AuditLog } from './audit-log.js';
import { assertHostName } from '../domain/host-name.js';
import { parseAgentPublicKey } from '../domain/signature.js';
import { hashToken, newToken } from '../domain/tokens.js';

export type HostStatus = 'pending' | 'approved' | 'revoked';
export type KeyStatus = 'pending' | 'approved' | 'retired' | 'rejected';

type StoredKey = {
  fingerprint: string;
  pem: string;
  status: KeyStatus;
  createdAt: number;
  approvedAt?: number;
  rejectedAt?: number;
  via?: 'operator' | 'bootstrap-token';
};

type AgentDoc = {
  _id: string;
  status: HostStatus;
  keys: StoredKey[];
  version: number;
  updatedAt: number;
};

type BootstrapTokenDoc = {
  _id: string;
  createdAt: number;
  expiresAt: number;
  host?: string;
  usedAt?: number;
  usedBy?: string;
};

/** What the auth middleware needs about a host, cached in memory. */
export interface HostIdentity {
  readonly host: string;
  readonly status: HostStatus;
  /** Keys that may sign: approved (for everything) and pending (for the status route only). */
  readonly keys: readonly { readonly fingerprint: string; readonly key: KeyObject; readonly status: 'approved' | 'pending' }[];
}

/** A host's enrollment as operators see it. */
export interface AgentRecord {
  readonly host: string;
  readonly status: HostStatus;
  readonly keys: readonly { fingerprint: string; status: KeyStatus; createdAt: number; approvedAt?: number; expiresAt?: number; via?: 'operator' | 'bootstrap-token' }[];
}

/** What the audit log keeps of a host's enrollment: its status and its keys' states. */
function agentSummary(r: AgentRecord): unknown {
  return { status: r.status, keys: r.keys.map((k) => ({ fingerprint: k.fingerprint, status: k.status })) };
}

export interface EnrollInput {
  readonly host: string;
  readonly publicKey: string;
  readonly bootstrapToken?: string;
}

export interface EnrollmentOptions {
  /**
   * How long an identity stays cached before the store is asked again. Default 5 s: other
   * servers of a shared store change records this one does not see. A server with the store to
   * itself is given much longer (compose.ts): every change goes through this service, which
   * drops the host's entry at once.
   */
  readonly identityTtlMs?: number;
  /** Pending keys a host may hold at once; more enrollments without a bootstrap token are refused. Default 16. */
  readonly maxPendingKeys?: number;
  /** A pending key not approved within this time expires and frees its slot. Default 24 h. */
  readonly pendingKeyTtlMs?: number;
}

const maxAttempts = 5;
/** Rejected keys remembered per host (newest first): they hold no slot, and re-enrolling one is refused. */
const rejectedKept = 16;
export const defaultPendingKeyTtlMs = 24 * 3600_000;

export class EnrollmentService {
  readonly #cache = new Map<string, { id: HostIdentity | undefined; until: number }>();
  /** Parsed keys by PEM: a cache refresh re-reads the record but never re-parses a known key. */
  readonly #keyMemo = new Map<string, KeyObject>();
  readonly #ttl: number;
  readonly #maxPending: number;
  readonly #pendingTtl: number;
  /** Bumped on every local change, so observers (console, compliance) can tell. */
  #generation = 0;

  private constructor(
    private readonly agents: Collection<AgentDoc>,
    private readonly tokens: Collection<BootstrapTokenDoc>,
    private readonly clock: Clock,
    opts: EnrollmentOptions,
  ) {
    this.#ttl = opts.identityTtlMs ?? 5000;
    this.#maxPending = opts.maxPendingKeys ?? 16;
    this.#pendingTtl = opts.pendingKeyTtlMs ?? defaultPendingKeyTtlMs;
  }

  static async open(store: DocumentStore, clock: Clock, opts: EnrollmentOptions = {}): Promise<EnrollmentService> {
    const agents = await store.collection<AgentDoc>('agents', [{ name: 'by_status', fields: { status: 1 } }]);
    const tokens = await store.collection<BootstrapTokenDoc>('bootstrap_tokens', [{ name: 'by_expiry', fields: { expiresAt: 1 } }]);
    return new EnrollmentService(agents, tokens, clock, opts);
  }

  get generation(): number {
    return this.#generation;
  }

  /** Enrolls a key; resolves the resulting status of that key's host for this key. */
  async enroll(input: EnrollInput): Promise<{ host: string; status: 'pending' | 'approved'; fingerprint: string }> {
    assertHostName(input.host);
    const { fingerprint, pem } = parseAgentPublicKey(input.publicKey);
    const host = input.host;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const now = this.clock.now();
      const existing = await this.agents.findOne({ _id: host });
      if (!existing) {
        const approved = input.bootstrapToken !== undefined ? await this.#consumeToken(input.bootstrapToken, host) : false;
        const key: StoredKey = approved
          ? { fingerprint, pem, status: 'approved', createdAt: now, approvedAt: now, via: 'bootstrap-token' }
          : { fingerprint, pem, status: 'pending', createdAt: now };
        try {
          await this.agents.insertOne({ _id: host, status: approved ? 'approved' : 'pending', keys: [key], version: 1, updatedAt: now });
        } catch (err) {
          if (isDuplicateKey(err)) {
            // Lost a race with another enrollment of the same host: a consumed token still approves this key.
            if (approved) return this.#approveByConsumedToken(host, fingerprint, pem);
            continue;
          }
          throw err;
        }
        this.#changed(host);
        return { host, status: approved ? 'approved' : 'pending', fingerprint };
      }
      const keys = this.#live(existing.keys, now);
      const known = keys.find((k) => k.fingerprint === fingerprint);
      // Never approved (nor revoked): the host name is still up for grabs by a bootstrap token.
      const neverApproved = existing.status === 'pending' && !keys.some((k) => k.status === 'approved' || k.status === 'retired');
      if (known) {
        // Re-enrolling a known key is idempotent: it reports that key's state.
        if (known.status === 'approved' && existing.status === 'approved') return { host, status: 'approved', fingerprint };
        if (known.status === 'pending' && neverApproved && input.bootstrapToken !== undefined) {
          await this.#consumeToken(input.bootstrapToken, host);
          return this.#approveByConsumedToken(host, fingerprint, pem);
        }
        if (known.status === 'rejected' || known.status === 'retired') throw new ApiError('FORBIDDEN', `this key was ${known.status} for host ${host}; generate a new key to enroll again`);
        return { host, status: 'pending', fingerprint };
      }
      const byToken = neverApproved && input.bootstrapToken !== undefined;
      const pending = keys.filter((k) => k.status === 'pending').length;
      if (!byToken && pending >= this.#maxPending) {
        throw new ApiError('ENROLLMENT_SLOTS_FULL', `host ${host} already has ${pending} keys waiting for approval; an operator must approve, reject or delete one (GET /api/v1/agents/${host}), or the agent must present a bootstrap token for this host`);
      }
      if (byToken) {
        await this.#consumeToken(input.bootstrapToken!, host);
        return this.#approveByConsumedToken(host, fingerprint, pem);
      }
      const key: StoredKey = { fingerprint, pem, status: 'pending', createdAt: now };
      const updated = await this.agents.findOneAndUpdate(
        { _id: host, version: existing.version },
        { $set: { keys: [...keys, key], updatedAt: now }, $inc: { version: 1 } },
        { returnDocument: 'after' },
      );
      if (!updated) continue;
      this.#changed(host);
      return { host, status: 'pending', fingerprint };
    }
    throw new ApiError('CONFLICT', `host ${host} is changing concurrently; retry`);
  }

  #audit: AuditLog | undefined;

  /** Operator changes (approve, reject, revoke, delete a key, bootstrap tokens) are recorded in the audit log from now on. */
  setAuditLog(log: AuditLog): void {
    this.#audit = log;
  }

  async #audited<T extends AgentRecord | undefined>(by: ActorLike | undefined, action: string, host: string, change: () => Promise<T>, details?: unknown): Promise<T> {
    const before = this.#audit ? await this.get(host) : undefined;
    const after = await change();
    await this.#audit?.record({ ...byFields(by), action, target: `host:${host}`, before: before ? agentSummary(before) : null, after: after ? agentSummary(after) : null, ...(details !== undefined ? { details } : {}) });
    return after;
  }

  /** Approves a pending key (see #approve); recorded in the audit log as agent.approve. */
  approve(host: string, fingerprint?: string, by?: ActorLike): Promise<AgentRecord> {
    return this.#audited(by, 'agent.approve', host, () => this.#approve(host, fingerprint), fingerprint !== undefined ? { fingerprint } : undefined);
  }

  /** Revokes a host (see #revoke); recorded as agent.revoke. */
  revoke(host: string, by?: ActorLike): Promise<AgentRecord> {
    return this.#audited(by, 'agent.revoke', host, () => this.#revoke(host));
  }

  /** Rejects a pending key (see #reject); recorded as agent.reject. */
  reject(host: string, fingerprint: string, by?: ActorLike): Promise<AgentRecord> {
    return this.#audited(by, 'agent.reject', host, () => this.#reject(host, fingerprint), { fingerprint });
  }

  /** Deletes a key (see #deleteKey); recorded as agent.delete-key. */
  deleteKey(host: string, fingerprint: string, by?: ActorLike): Promise<AgentRecord | undefined> {
    return this.#audited(by, 'agent.delete-key', host, () => this.#deleteKey(host, fingerprint), { fingerprint });
  }

  /**
   * Approves a pending key. Without a fingerprint, the host must have exactly one pending key
   * and no approved one. Approving a second key rotates: the previously approved key is retired.
   */
  async #approve(host: string, fingerprint?: string): Promise<AgentRecord> {
    assertHostName(host);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const doc = await this.agents.findOne({ _id: host });
      if (!doc) throw new ApiError('NOT_FOUND', `no agent has enrolled as ${host}`);
      const keys = this.#live(doc.keys, this.clock.now());
      let fp = fingerprint;
      if (fp === undefined) {
        const pending = keys.filter((k) => k.status === 'pending');
        const hasApproved = keys.some((k) => k.status === 'approved');
        // A revoked host's one new key (its agent re-enrolled after the revocation) is unambiguous too.
        if (pending.length === 1 && (!hasApproved || doc.status === 'revoked')) fp = pending[0]!.fingerprint;
        else if (pending.length === 0 && hasApproved) {
          if (doc.status === 'revoked') fp = keys.find((k) => k.status === 'approved')!.fingerprint;
          else return this.#record(doc);
        } else throw new ApiError('CONFLICT', `host ${host} has ${pending.length} pending key(s)${hasApproved ? ' and an approved key' : ''}; name the fingerprint to approve`, { pending: pending.map((k) => k.fingerprint) });
      }
      const target = keys.find((k) => k.fingerprint === fp);
      if (!target) throw new ApiError('NOT_FOUND', `host ${host} has no key with fingerprint ${fp} (a pending key expires ${Math.round(this.#pendingTtl / 60_000)} min after it enrolled; the agent enrolls it again)`);
      if (target.status === 'rejected' || target.status === 'retired') throw new ApiError('CONFLICT', `key ${fp} is ${target.status}; the agent must enroll a new key`);
      if (await this.#approveKey(doc, keys, fp, 'operator')) {
        const after = await this.agents.findOne({ _id: host });
        return this.#record(after!);
      }
    }
    throw new ApiError('CONFLICT', `host ${host} is changing concurrently; retry`);
  }

  /** Revokes a host: every later request signed for it gets 403 until an operator approves again. */
  async #revoke(host: string): Promise<AgentRecord> {
    assertHostName(host);
    const now = this.clock.now();
    const doc = await this.agents.findOneAndUpdate({ _id: host }, { $set: { status: 'revoked', updatedAt: now }, $inc: { version: 1 } }, { returnDocument: 'after' });
    if (!doc) throw new ApiError('NOT_FOUND', `no agent has enrolled as ${host}`);
    this.#changed(host);
    return this.#record(doc);
  }

  /** Rejects a pending key (it can never be approved later). */
  async #reject(host: string, fingerprint: string): Promise<AgentRecord> {
    const r = await this.#editKeys(host, (_doc, live, now) => {
      if (!live.some((k) => k.fingerprint === fingerprint && k.status === 'pending')) throw new ApiError('NOT_FOUND', `host ${host} has no pending key ${fingerprint}`);
      return this.#live(live.map((k) => (k.fingerprint === fingerprint ? { ...k, status: 'rejected' as const, rejectedAt: now } : k)), now);
    }, { keepEmpty: true });
    if (!r) throw new Error('unreachable: keepEmpty keeps the host record');
    return r;
  }

  /**
   * Deletes a key of any state, except the approved key of a host that is not revoked (revoke
   * first, or approve another key: that retires it). Deleting the last key forgets the host:
   * its next enrollment is a first enrollment again. Resolves the record, or undefined then.
   */
  async #deleteKey(host: string, fingerprint: string): Promise<AgentRecord | undefined> {
    return this.#editKeys(host, (doc, live) => {
      const target = live.find((k) => k.fingerprint === fingerprint);
      if (!target) throw new ApiError('NOT_FOUND', `host ${host} has no key with fingerprint ${fingerprint}`);
      if (target.status === 'approved' && doc.status !== 'revoked') {
        throw new ApiError('CONFLICT', `key ${fingerprint} is the approved key of ${host}; revoke the host first, or approve another key (which retires this one)`);
      }
      return live.filter((k) => k.fingerprint !== fingerprint);
    });
  }

  /**
   * Replaces a host's keys with what `edit` makes of its live ones (optimistic concurrency on the
   * record's version, retried); no key left deletes the record (resolves undefined) unless
   * `keepEmpty`.
   */
  async #editKeys(host: string, edit: (doc: AgentDoc, live: StoredKey[], now: number) => StoredKey[], opts: { keepEmpty?: boolean } = {}): Promise<AgentRecord | undefined> {
    assertHostName(host);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const doc = await this.agents.findOne({ _id: host });
      if (!doc) throw new ApiError('NOT_FOUND', `no agent has enrolled as ${host}`);
      const now = this.clock.now();
      const keys = edit(doc, this.#live(doc.keys, now), now);
      if (keys.length === 0 && opts.keepEmpty !== true) {
        if ((await this.agents.deleteOne({ _id: host, version: doc.version })) > 0) {
          this.#changed(host);
          return undefined;
        }
        continue;
      }
      const updated = await this.agents.findOneAndUpdate({ _id: host, version: doc.version }, { $set: { keys, updatedAt: now }, $inc: { version: 1 } }, { returnDocument: 'after' });
      if (updated) {
        this.#changed(host);
        return this.#record(updated);
      }
    }
    throw new ApiError('CONFLICT', `host ${host} is changing concurrently; retry`);
  }

  /** A host's enrollment; undefined when unknown, or when its only keys were pending and expired. */
  async get(host: string): Promise<AgentRecord | undefined> {
    const doc = await this.agents.findOne({ _id: host });
    if (!doc) return undefined;
    const r = this.#record(doc);
    return r.keys.length > 0 || r.status !== 'pending' ? r : undefined;
  }

  async list(): Promise<AgentRecord[]> {
    return (await this.agents.find({}, { sort: { _id: 1 } })).map((d) => this.#record(d)).filter((r) => r.keys.length > 0 || r.status !== 'pending');
  }

  /**
   * The enrollment status of each of `hosts` that is enrolled (as list() reports it), read by
   * id 500 at a time: a job's targets cost what they name, not the size of the fleet.
   */
  async statusOf(hosts: readonly string[]): Promise<Map<string, AgentRecord['status']>> {
    const out = new Map<string, AgentRecord['status']>();
    for (let i = 0; i < hosts.length; i += 500) {
      for (const d of await this.agents.find({ _id: { $in: hosts.slice(i, i + 500) } })) {
        const r = this.#record(d);
        if (r.keys.length > 0 || r.status !== 'pending') out.set(r.host, r.status);
      }
    }
    return out;
  }

  /** Creates a bootstrap token; only its hash is stored. */
  async createBootstrapToken(opts: { ttlSeconds?: number; host?: string }, by?: ActorLike): Promise<{ token: string; expiresAt: number; host?: string }> {
    if (opts.host !== undefined) assertHostName(opts.host);
    const now = this.clock.now();
    const token = newToken('sbt_');
    const expiresAt = now + (opts.ttlSeconds ?? 3600) * 1000;
    const id = hashToken(token);
    await this.tokens.insertOne({ _id: id, createdAt: now, expiresAt, ...(opts.host !== undefined ? { host: opts.host } : {}) });
    // The token itself is never recorded: its hash prefix names it.
    await this.#audit?.record({ ...byFields(by), action: 'bootstrap-token.create', target: `bootstrap-token:${id.slice(0, 12)}`, after: { expiresAt: new Date(expiresAt).toISOString(), ...(opts.host !== undefined ? { host: opts.host } : {}) } });
    return { token, expiresAt, ...(opts.host !== undefined ? { host: opts.host } : {}) };
  }

  /** Deletes expired bootstrap tokens (housekeeping), in bounded batches. */
  async sweepTokens(signal?: AbortSignal): Promise<number> {
    return (await deleteOlderThan(this.tokens, { field: 'expiresAt', cutoff: this.clock.now(), ...(signal ? { signal } : {}) })).deleted;
  }

  /**
   * The identity of `host` for signature checks, from memory when fresh. Undefined: unknown host.
   * Pending and approved keys are returned; the caller decides what each may do.
   */
  async identity(host: string): Promise<HostIdentity | undefined> {
    const now = this.clock.now();
    const hit = this.#cache.get(host);
    if (hit && now < hit.until) return hit.id;
    const doc = await this.agents.findOne({ _id: host });
    let id: HostIdentity | undefined;
    // A pending key leaves the identity when it expires: the entry lives no longer than that.
    let until = now + this.#ttl;
    if (doc) {
      const keys: { fingerprint: string; key: KeyObject; status: 'approved' | 'pending' }[] = [];
      for (const k of this.#live(doc.keys, now)) {
        if (k.status !== 'approved' && k.status !== 'pending') continue;
        if (k.status === 'pending') until = Math.min(until, k.createdAt + this.#pendingTtl);
        let parsed = this.#keyMemo.get(k.pem);
        if (!parsed) {
          parsed = parseAgentPublicKey(k.pem).key;
          if (this.#keyMemo.size > 200_000) this.#keyMemo.clear();
          this.#keyMemo.set(k.pem, parsed);
        }
        keys.push({ fingerprint: k.fingerprint, key: parsed, status: k.status });
      }
      id = { host, status: doc.status, keys };
    }
    if (this.#cache.size > 200_000) this.#cache.clear();
    this.#cache.set(host, { id, until });
    return id;
  }

  /** Consumes a token atomically; false when unknown, expired, used, or bound to another host. */
  async #consumeToken(token: string, host: string): Promise<boolean> {
    const now = this.clock.now();
    const hash = hashToken(token);
    const doc = await this.tokens.findOneAndUpdate(
      { _id: hash, usedAt: { $exists: false }, expiresAt: { $gt: now }, $or: [{ host: { $exists: false } }, { host }] },
      { $set: { usedAt: now, usedBy: host } },
      { returnDocument: 'after' },
    );
    if (!doc) throw new ApiError('TOKEN_INVALID', 'the bootstrap token is unknown, expired, already used, or bound to another host');
    return true;
  }

  /**
   * After a bootstrap token for `host` was consumed: approves this key, retrying on concurrent
   * changes of the record (other enrollments keep arriving under a squatted name) so the token
   * is not wasted. Refused only when the host got approved or revoked meanwhile.
   */
  async #approveByConsumedToken(host: string, fingerprint: string, pem: string): Promise<{ host: string; status: 'approved'; fingerprint: string }> {
    for (let attempt = 0; attempt < maxAttempts * 4; attempt++) {
      const now = this.clock.now();
      const doc = await this.agents.findOne({ _id: host });
      if (!doc) {
        try {
          await this.agents.insertOne({ _id: host, status: 'approved', keys: [{ fingerprint, pem, status: 'approved', createdAt: now, approvedAt: now, via: 'bootstrap-token' }], version: 1, updatedAt: now });
          this.#changed(host);
          return { host, status: 'approved', fingerprint };
        } catch (err) {
          if (isDuplicateKey(err)) continue;
          throw err;
        }
      }
      const keys = this.#live(doc.keys, now);
      if (doc.status !== 'pending' || keys.some((k) => k.status === 'approved' || k.status === 'retired')) break;
      const withKey = keys.some((k) => k.fingerprint === fingerprint) ? keys : [...keys, { fingerprint, pem, status: 'pending' as const, createdAt: now }];
      if (withKey.find((k) => k.fingerprint === fingerprint)!.status !== 'pending') break;
      if (await this.#approveKey(doc, withKey, fingerprint, 'bootstrap-token')) return { host, status: 'approved', fingerprint };
    }
    throw new ApiError('CONFLICT', `host ${host} changed concurrently; the bootstrap token was used, ask for a new one`);
  }

  /**
   * Approves `fingerprint` among `live` (the pruned keys of `doc`); the approved key before it is
   * retired. Approval by a bootstrap token also rejects the other pending keys: they competed for
   * a host name the token's holder has now proved to own.
   */
  async #approveKey(doc: AgentDoc, live: readonly StoredKey[], fingerprint: string, via: 'operator' | 'bootstrap-token'): Promise<boolean> {
    const now = this.clock.now();
    const keys = this.#live(
      live.map((k): StoredKey => {
        if (k.fingerprint === fingerprint) return { ...k, status: 'approved', approvedAt: now, via };
        if (k.status === 'approved') return { ...k, status: 'retired' };
        if (k.status === 'pending' && via === 'bootstrap-token') return { ...k, status: 'rejected', rejectedAt: now };
        return k;
      }),
      now,
    );
    const updated = await this.agents.findOneAndUpdate(
      { _id: doc._id, version: doc.version },
      { $set: { keys, status: 'approved', updatedAt: now }, $inc: { version: 1 } },
      { returnDocument: 'after' },
    );
    if (updated) this.#changed(doc._id);
    return updated !== null;
  }

  #changed(host: string): void {
    this.#cache.delete(host);
    this.#generation++;
  }

  /** The keys that still count: expired pending keys dropped, only the newest rejected ones kept. */
  #live(keys: readonly StoredKey[], now: number): StoredKey[] {
    const rejected = keys.filter((k) => k.status === 'rejected').sort((a, b) => (b.rejectedAt ?? b.createdAt) - (a.rejectedAt ?? a.createdAt));
    const keptRejected = new Set(rejected.slice(0, rejectedKept));
    return keys.filter((k) => (k.status === 'pending' ? now - k.createdAt < this.#pendingTtl : k.status !== 'rejected' || keptRejected.has(k)));
  }

  #record(doc: AgentDoc): AgentRecord {
    return {
      host: doc._id,
      status: doc.status,
      keys: this.#live(doc.keys, this.clock.now()).map((k) => ({
        fingerprint: k.fingerprint,
        status: k.status,
        createdAt: k.createdAt,
        ...(k.approvedAt !== undefined ? { approvedAt: k.approvedAt } : {}),
        ...(k.status === 'pending' ? { expiresAt: k.createdAt + this.#pendingTtl } : {}),
        ...(k.via !== undefined ? { via: k.via } : {}),
      })),
    };
  }
}
