/**
 * Per-host state the server learns from agents: their facts (the last runs are indexed by
 * the report service).
 * One document per host in `host_state`; facts are kept as a JSON string so arbitrary keys
 * (dots, dollars) stay inert data. A memory copy of the facts hash feeds the compile cache.
 */
import { createHash } from 'node:crypto';
import type { Collection, DocumentStore } from '../store/types.js';
import type { Clock } from '../domain/clock.js';

type HostStateDoc = {
  _id: string;
  factsJson?: string;
  factsHash?: string;
  factsUpdatedAt?: number;
};

export interface HostState {
  readonly host: string;
  readonly facts?: Record<string, unknown>;
  readonly factsHash?: string;
  readonly factsUpdatedAt?: number;
}

export class HostStateService {
  /** host → facts hash, loaded lazily; the compile cache key uses it on every poll. */
  readonly #factsHash = new Map<string, string | null>();

  private constructor(
    private readonly states: Collection<HostStateDoc>,
    private readonly clock: Clock,
  ) {}

  static async open(store: DocumentStore, clock: Clock): Promise<HostStateService> {
    return new HostStateService(await store.collection<HostStateDoc>('host_state'), clock);
  }

  /** Stores facts; resolves whether they differ from the previous ones. */
  async putFacts(host: string, facts: Record<string, unknown>): Promise<boolean> {
    const json = canonicalJson(facts);
    const hash = createHash('sha256').update(json).digest('hex');
    const prev = await this.factsHash(host);
    if (prev === hash) return false;
    await this.states.updateOne({ _id: host }, { $set: { factsJson: json, factsHash: hash, factsUpdatedAt: this.clock.now() } }, { upsert: true });
    this.#factsHash.set(host, hash);
    return true;
  }

  /** The hash of the host's facts (memory first); undefined when none were sent. */
  async factsHash(host: string): Promise<string | undefined> {
    const hit = this.#factsHash.get(host);
    if (hit !== undefined) return hit ?? undefined;
    const doc = await this.states.findOne({ _id: host }, { projection: { factsHash: 1 } });
    const h = doc?.factsHash;
    if (this.#factsHash.size > 500_000) this.#factsHash.clear();
    this.#factsHash.set(host, h ?? null);
    return h;
  }

  async facts(host: string): Promise<Record<string, unknown> | undefined> {
    const doc = await this.states.findOne({ _id: host }, { projection: { factsJson: 1 } });
    return doc?.factsJson ? (JSON.parse(doc.factsJson) as Record<string, unknown>) : undefined;
  }

  async get(host: string): Promise<HostState | undefined> {
    const doc = await this.states.findOne({ _id: host });
    return doc ? toState(doc) : undefined;
  }

  /** The facts of the given hosts (a page of the inventory list); hosts without facts are absent. */
  async factsOf(hosts: readonly string[], signal?: AbortSignal): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    if (hosts.length === 0) return out;
    for (const d of await this.states.find({ _id: { $in: [...hosts] }, factsJson: { $exists: true } }, { projection: { factsJson: 1 }, signal })) if (d.factsJson) out.set(d._id, JSON.parse(d.factsJson) as Record<string, unknown>);
    return out;
  }

  /** Every host's facts (inventory filters on fact. paths read them all at once). */
  async allFacts(signal?: AbortSignal): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    for (const d of await this.states.find({ factsJson: { $exists: true } }, { projection: { factsJson: 1 }, signal })) if (d.factsJson) out.set(d._id, JSON.parse(d.factsJson) as Record<string, unknown>);
    return out;
  }

  /** Every host's state, without facts (for lists and compliance). */
  async all(): Promise<HostState[]> {
    return (await this.states.find({}, { projection: { factsUpdatedAt: 1, factsHash: 1 }, sort: { _id: 1 } })).map(toState);
  }
}

function toState(doc: HostStateDoc): HostState {
  return {
    host: doc._id,
    ...(doc.factsJson !== undefined ? { facts: JSON.parse(doc.factsJson) as Record<string, unknown> } : {}),
    ...(doc.factsHash !== undefined ? { factsHash: doc.factsHash } : {}),
    ...(doc.factsUpdatedAt !== undefined ? { factsUpdatedAt: doc.factsUpdatedAt } : {}),
  };
}

/** JSON with object keys sorted, so equal facts hash equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
