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
 * - A revoked host is refused everywhere until an operator approves a key again.
 */
import type { KeyObject } from 'node:crypto';
import type { Collection, DocumentStore } from '../store/types.js';
import { isDuplicateKey } from '../store/types.js';
import { deleteOlderThan } from '../store/retention.js';
import type { Clock } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
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
  readonly keys: readonly { fingerprint: string; status: KeyStatus; createdAt: number; approvedAt?: number; via?: 'operator' | 'bootstrap-token' }[];
}

export interface EnrollInput {
  readonly host: string;
  readonly publicKey: string;
  readonly bootstrapToken?: string;
}

export interface EnrollmentOptions {
  /** How long an identity stays cached before the store is asked again (several servers). Default 5 s. */
  readonly identityTtlMs?: number;
  /** Most keys a host may hold (all states); more enrollments are refused. Default 16. */
  readonly maxKeysPerHost?: number;
}

const maxAttempts = 5;

export class EnrollmentService {
  readonly #cache = new Map<string, { id: HostIdentity | undefined; at: number }>();
  /** Parsed keys by PEM: a cache refresh re-reads the record but never re-parses a known key. */
  readonly #keyMemo = new Map<string, KeyObject>();
  readonly #ttl: number;
  readonly #maxKeys: number;
  /** Bumped on every local change, so observers (console, compliance) can tell. */
  #generation = 0;

  private constructor(
    private readonly agents: Collection<AgentDoc>,
    private readonly tokens: Collection<BootstrapTokenDoc>,
    private readonly clock: Clock,
    opts: EnrollmentOptions,
  ) {
    this.#ttl = opts.identityTtlMs ?? 5000;
    this.#maxKeys = opts.maxKeysPerHost ?? 16;
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
            // Lost a race with another enrollment of the same host: a consumed token must not be wasted silently.
            if (approved) throw new ApiError('CONFLICT', `host ${host} was enrolled concurrently; the bootstrap token was used, ask for a new one`);
            continue;
          }
          throw err;
        }
        this.#changed(host);
        return { host, status: approved ? 'approved' : 'pending', fingerprint };
      }
      const known = existing.keys.find((k) => k.fingerprint === fingerprint);
      if (known) {
        // Re-enrolling a known key is idempotent: it reports that key's state.
        if (known.status === 'approved' && existing.status === 'approved') return { host, status: 'approved', fingerprint };
        if (known.status === 'pending' && existing.status === 'pending' && input.bootstrapToken !== undefined && !existing.keys.some((k) => k.status === 'approved' || k.status === 'retired')) {
          if (await this.#consumeToken(input.bootstrapToken, host)) {
            if (await this.#approveKey(existing, fingerprint, 'bootstrap-token')) return { host, status: 'approved', fingerprint };
            continue;
          }
        }
        if (known.status === 'rejected' || known.status === 'retired') throw new ApiError('FORBIDDEN', `this key was ${known.status} for host ${host}; generate a new key to enroll again`);
        return { host, status: 'pending', fingerprint };
      }
      if (existing.keys.length >= this.#maxKeys) throw new ApiError('CONFLICT', `host ${host} already has ${existing.keys.length} keys; an operator must remove some first`);
      // A never-approved pending host may still be approved by a token; anything else: pending key.
      const neverApproved = existing.status === 'pending' && !existing.keys.some((k) => k.status === 'approved' || k.status === 'retired');
      const byToken = neverApproved && input.bootstrapToken !== undefined ? await this.#consumeToken(input.bootstrapToken, host) : false;
      const key: StoredKey = byToken
        ? { fingerprint, pem, status: 'approved', createdAt: now, approvedAt: now, via: 'bootstrap-token' }
        : { fingerprint, pem, status: 'pending', createdAt: now };
      const updated = await this.agents.findOneAndUpdate(
        { _id: host, version: existing.version },
        { $push: { keys: key }, $inc: { version: 1 }, $set: { updatedAt: now, ...(byToken ? { status: 'approved' } : {}) } },
        { returnDocument: 'after' },
      );
      if (!updated) {
        if (byToken) throw new ApiError('CONFLICT', `host ${host} changed concurrently; the bootstrap token was used, ask for a new one`);
        continue;
      }
      this.#changed(host);
      return { host, status: byToken ? 'approved' : 'pending', fingerprint };
    }
    throw new ApiError('CONFLICT', `host ${host} is changing concurrently; retry`);
  }

  /**
   * Approves a pending key. Without a fingerprint, the host must have exactly one pending key
   * and no approved one. Approving a second key rotates: the previously approved key is retired.
   */
  async approve(host: string, fingerprint?: string): Promise<AgentRecord> {
    assertHostName(host);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const doc = await this.agents.findOne({ _id: host });
      if (!doc) throw new ApiError('NOT_FOUND', `no agent has enrolled as ${host}`);
      let fp = fingerprint;
      if (fp === undefined) {
        const pending = doc.keys.filter((k) => k.status === 'pending');
        const hasApproved = doc.keys.some((k) => k.status === 'approved');
        if (pending.length === 1 && !hasApproved) fp = pending[0]!.fingerprint;
        else if (pending.length === 0 && hasApproved) {
          if (doc.status === 'revoked') fp = doc.keys.find((k) => k.status === 'approved')!.fingerprint;
          else return toRecord(doc);
        } else throw new ApiError('CONFLICT', `host ${host} has ${pending.length} pending key(s)${hasApproved ? ' and an approved key' : ''}; name the fingerprint to approve`, { pending: pending.map((k) => k.fingerprint) });
      }
      const target = doc.keys.find((k) => k.fingerprint === fp);
      if (!target) throw new ApiError('NOT_FOUND', `host ${host} has no key with fingerprint ${fp}`);
      if (target.status === 'rejected' || target.status === 'retired') throw new ApiError('CONFLICT', `key ${fp} is ${target.status}; the agent must enroll a new key`);
      if (await this.#approveKey(doc, fp, 'operator')) {
        const after = await this.agents.findOne({ _id: host });
        return toRecord(after!);
      }
    }
    throw new ApiError('CONFLICT', `host ${host} is changing concurrently; retry`);
  }

  /** Revokes a host: every later request signed for it gets 403 until an operator approves again. */
  async revoke(host: string): Promise<AgentRecord> {
    assertHostName(host);
    const now = this.clock.now();
    const doc = await this.agents.findOneAndUpdate({ _id: host }, { $set: { status: 'revoked', updatedAt: now }, $inc: { version: 1 } }, { returnDocument: 'after' });
    if (!doc) throw new ApiError('NOT_FOUND', `no agent has enrolled as ${host}`);
    this.#changed(host);
    return toRecord(doc);
  }

  /** Rejects a pending key (it can never be approved later). */
  async reject(host: string, fingerprint: string): Promise<AgentRecord> {
    assertHostName(host);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const doc = await this.agents.findOne({ _id: host });
      if (!doc) throw new ApiError('NOT_FOUND', `no agent has enrolled as ${host}`);
      const keys = doc.keys.map((k) => (k.fingerprint === fingerprint && k.status === 'pending' ? { ...k, status: 'rejected' as const } : k));
      if (!doc.keys.some((k) => k.fingerprint === fingerprint && k.status === 'pending')) throw new ApiError('NOT_FOUND', `host ${host} has no pending key ${fingerprint}`);
      const updated = await this.agents.findOneAndUpdate({ _id: host, version: doc.version }, { $set: { keys, updatedAt: this.clock.now() }, $inc: { version: 1 } }, { returnDocument: 'after' });
      if (updated) {
        this.#changed(host);
        return toRecord(updated);
      }
    }
    throw new ApiError('CONFLICT', `host ${host} is changing concurrently; retry`);
  }

  async get(host: string): Promise<AgentRecord | undefined> {
    const doc = await this.agents.findOne({ _id: host });
    return doc ? toRecord(doc) : undefined;
  }

  async list(): Promise<AgentRecord[]> {
    return (await this.agents.find({}, { sort: { _id: 1 } })).map(toRecord);
  }

  /** Creates a bootstrap token; only its hash is stored. */
  async createBootstrapToken(opts: { ttlSeconds?: number; host?: string }): Promise<{ token: string; expiresAt: number; host?: string }> {
    if (opts.host !== undefined) assertHostName(opts.host);
    const now = this.clock.now();
    const token = newToken('sbt_');
    const expiresAt = now + (opts.ttlSeconds ?? 3600) * 1000;
    await this.tokens.insertOne({ _id: hashToken(token), createdAt: now, expiresAt, ...(opts.host !== undefined ? { host: opts.host } : {}) });
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
    if (hit && now - hit.at < this.#ttl) return hit.id;
    const doc = await this.agents.findOne({ _id: host });
    let id: HostIdentity | undefined;
    if (doc) {
      const keys: { fingerprint: string; key: KeyObject; status: 'approved' | 'pending' }[] = [];
      for (const k of doc.keys) {
        if (k.status !== 'approved' && k.status !== 'pending') continue;
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
    this.#cache.set(host, { id, at: now });
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

  async #approveKey(doc: AgentDoc, fingerprint: string, via: 'operator' | 'bootstrap-token'): Promise<boolean> {
    const now = this.clock.now();
    const keys = doc.keys.map((k): StoredKey => {
      if (k.fingerprint === fingerprint) return { ...k, status: 'approved', approvedAt: now, via };
      if (k.status === 'approved') return { ...k, status: 'retired' };
      return k;
    });
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
}

function toRecord(doc: AgentDoc): AgentRecord {
  return {
    host: doc._id,
    status: doc.status,
    keys: doc.keys.map((k) => ({
      fingerprint: k.fingerprint,
      status: k.status,
      createdAt: k.createdAt,
      ...(k.approvedAt !== undefined ? { approvedAt: k.approvedAt } : {}),
      ...(k.via !== undefined ? { via: k.via } : {}),
    })),
  };
}
