/**
 * The audit log: who did what, when, from where, with the state before and after. Services
 * call `record` for operator actions worth answering for later (job launches, approvals of
 * blocked scripts, cancels, redos, confirmations, …). One document per event in
 * `audit_events`; the log is append-only through this service.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../domain/errors.js';
import type { Clock } from '../domain/clock.js';
import { deleteOlderThan } from '../store/retention.js';
import type { Collection, DocumentStore, Filter } from '../store/types.js';

export interface AuditEventInput {
  /** Who: the operator's name (or "system", "schedule:<name>"). */
  readonly actor: string;
  /** What: a dotted verb, e.g. "job.launch", "job.approve-blocked". */
  readonly action: string;
  /** On what: e.g. "job:<id>". */
  readonly target: string;
  /** The client address, when the action came over HTTP. */
  readonly address?: string | undefined;
  readonly before?: unknown;
  readonly after?: unknown;
  /** Further details (reason, findings, …). */
  readonly details?: unknown;
}

export interface AuditEvent extends AuditEventInput {
  readonly id: string;
  readonly at: number;
}

type AuditDoc = {
  _id: string;
  at: number;
  actor: string;
  action: string;
  target: string;
  address?: string;
  /** JSON text: arbitrary keys stay inert data in the store. */
  beforeJson?: string;
  afterJson?: string;
  detailsJson?: string;
};

const maxJson = 64 * 1024;

function json(v: unknown): string {
  const s = JSON.stringify(v) ?? 'null';
  return s.length > maxJson ? JSON.stringify({ truncated: true, prefix: s.slice(0, maxJson) }) : s;
}

export class AuditLog {
  #seq = 0;

  private constructor(
    private readonly events: Collection<AuditDoc>,
    private readonly clock: Clock,
  ) {}

  static async open(store: DocumentStore, clock: Clock): Promise<AuditLog> {
    return new AuditLog(
      await store.collection<AuditDoc>('audit_events', [
        { name: 'at', fields: { at: -1 } },
        { name: 'target_at', fields: { target: 1, at: -1 } },
        { name: 'actor_at', fields: { actor: 1, at: -1 } },
        { name: 'action_at', fields: { action: 1, at: -1 } },
      ]),
      clock,
    );
  }

  /** Appends one event; resolves it. */
  async record(e: AuditEventInput): Promise<AuditEvent> {
    const at = this.clock.now();
    const doc: AuditDoc = {
      // Sorts by time, then (within one process) by order of recording: events of one millisecond keep their order.
      _id: `${at.toString(36).padStart(9, '0')}-${(this.#seq++ % 36 ** 6).toString(36).padStart(6, '0')}-${randomUUID()}`,
      at,
      actor: e.actor.slice(0, 200),
      action: e.action.slice(0, 100),
      target: e.target.slice(0, 400),
      ...(e.address !== undefined ? { address: e.address.slice(0, 100) } : {}),
      ...(e.before !== undefined ? { beforeJson: json(e.before) } : {}),
      ...(e.after !== undefined ? { afterJson: json(e.after) } : {}),
      ...(e.details !== undefined ? { detailsJson: json(e.details) } : {}),
    };
    await this.events.insertOne(doc);
    auditScope.getStore()?.events.push({ action: doc.action, target: doc.target });
    return toEvent(doc);
  }

  /**
   * Events newest first (by time, then id), filtered; a page of at most `limit` (1-500) and
   * the cursor of the next page when there may be more. `q` is a case-insensitive substring
   * of actor, action, target, address, before, after or details; it is matched in the server
   * over at most `scanLimit` candidate events per call (the indexed filters narrow first), and
   * the answer's cursor resumes after the last one scanned, so the work of a call is bounded.
   */
  async search(f: AuditSearch = {}): Promise<AuditPage> {
    const limit = Math.min(Math.max(f.limit ?? 50, 1), 500);
    const and: Filter[] = [];
    if (f.actor !== undefined) and.push({ actor: f.actor });
    if (f.target !== undefined) and.push(f.target.endsWith('*') ? { target: { $startsWith: f.target.slice(0, -1) } } : { target: f.target });
    if (f.action !== undefined) and.push(f.action.endsWith('.') || f.action.endsWith('*') ? { action: { $startsWith: f.action.replace(/\*$/, '') } } : { action: f.action });
    if (f.since !== undefined) and.push({ at: { $gte: f.since } });
    if (f.until !== undefined) and.push({ at: { $lt: f.until } });
    if (f.cursor !== undefined) {
      const c = decodeCursor(f.cursor);
      and.push({ $or: [{ at: { $lt: c.at } }, { at: c.at, _id: { $lt: c.id } }] });
    }
    const filter: Filter = and.length === 0 ? {} : and.length === 1 ? and[0]! : { $and: and };
    const sort = { at: -1, _id: -1 } as const;
    const q = f.q?.trim().toLowerCase();
    if (q === undefined || q === '') {
      const docs = await this.events.find(filter, { sort, limit: limit + 1, ...(f.signal ? { signal: f.signal } : {}) });
      const page = docs.slice(0, limit);
      return { events: page.map(toEvent), ...(docs.length > limit ? { next: encodeCursor(page[page.length - 1]!) } : {}) };
    }
    const scanLimit = Math.min(Math.max(f.scanLimit ?? 5000, limit), 20_000);
    const out: AuditDoc[] = [];
    let scanned = 0;
    let last: AuditDoc | undefined;
    let exhausted = false;
    const chunk = 500;
    let pageFilter = filter;
    while (out.length < limit && scanned < scanLimit) {
      const want = Math.min(chunk, scanLimit - scanned);
      const docs = await this.events.find(pageFilter, { sort, limit: want, ...(f.signal ? { signal: f.signal } : {}) });
      let full = false;
      for (const d of docs) {
        scanned++;
        last = d;
        if (matches(d, q)) out.push(d);
        if (out.length === limit) {
          full = true;
          break;
        }
      }
      if (!full && docs.length < want) {
        exhausted = true;
        break;
      }
      if (last === undefined) break;
      pageFilter = { $and: [filter, { $or: [{ at: { $lt: last.at } }, { at: last.at, _id: { $lt: last._id } }] }] };
    }
    const more = !exhausted && last !== undefined;
    return { events: out.map(toEvent), ...(more ? { next: encodeCursor(last!) } : {}), scanned };
  }

  /** Deletes events older than `cutoff` (epoch ms) in bounded batches; resolves how many. */
  async prune(cutoff: number, signal?: AbortSignal, maxBatches = 200): Promise<number> {
    const r = await deleteOlderThan(this.events, { field: 'at', cutoff, batchSize: 1000, maxBatches, ...(signal ? { signal } : {}) });
    return r.deleted;
  }

  /** Events newest first, optionally of one target or action; at most `limit` (≤ 1000). */
  async list(opts: { target?: string; action?: string; limit?: number } = {}): Promise<AuditEvent[]> {
    const filter: Filter = {};
    if (opts.target !== undefined) filter['target'] = opts.target;
    if (opts.action !== undefined) filter['action'] = opts.action;
    const docs = await this.events.find(filter, { sort: { at: -1 }, limit: Math.min(Math.max(opts.limit ?? 100, 1), 1000) });
    return docs.map(toEvent);
  }
}

/** Search filters of the audit log (API GET /api/v1/audit/events). */
export interface AuditSearch {
  readonly actor?: string;
  /** Exact, or a prefix when it ends with "." or "*" ("job." matches job.launch, job.cancel, …). */
  readonly action?: string;
  /** Exact, or a prefix when it ends with "*" ("host:web-*"). */
  readonly target?: string;
  /** Case-insensitive substring of any field (bounded scan, see search). */
  readonly q?: string;
  /** Epoch ms, inclusive. */
  readonly since?: number;
  /** Epoch ms, exclusive. */
  readonly until?: number;
  readonly cursor?: string;
  readonly limit?: number;
  /** Most events q is matched against in one call (default 5000, at most 20000). */
  readonly scanLimit?: number;
  readonly signal?: AbortSignal;
}

export interface AuditPage {
  readonly events: AuditEvent[];
  /** Pass as `cursor` for the next (older) page; absent when there is none. */
  readonly next?: string;
  /** With q: how many events were examined. */
  readonly scanned?: number;
}

function matches(d: AuditDoc, q: string): boolean {
  for (const v of [d.actor, d.action, d.target, d.address, d.beforeJson, d.afterJson, d.detailsJson]) {
    if (v !== undefined && v.toLowerCase().includes(q)) return true;
  }
  return false;
}

function encodeCursor(d: AuditDoc): string {
  return Buffer.from(JSON.stringify([d.at, d._id])).toString('base64url');
}

function decodeCursor(c: string): { at: number; id: string } {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string' && v[1].length <= 100) return { at: v[0] as number, id: v[1] };
  } catch {
    // fall through
  }
  throw new ApiError('BAD_REQUEST', 'cursor is not one this server gave out');
}

/**
 * The events recorded within one request (the router runs each write route inside a scope):
 * lets the router check that a successful change was recorded, and recorded once.
 */
export const auditScope = new AsyncLocalStorage<AuditScope>();

export interface AuditScope {
  readonly events: { action: string; target: string }[];
  /** Set by auditUnchanged(): the request changed nothing (a dry run, an unchanged record). */
  unchanged: boolean;
}

/** Tells the router's audit check that the current request changed nothing, so recorded nothing. */
export function auditUnchanged(): void {
  const s = auditScope.getStore();
  if (s) s.unchanged = true;
}

function toEvent(d: AuditDoc): AuditEvent {
  return {
    id: d._id,
    at: d.at,
    actor: d.actor,
    action: d.action,
    target: d.target,
    ...(d.address !== undefined ? { address: d.address } : {}),
    ...(d.beforeJson !== undefined ? { before: JSON.parse(d.beforeJson) as unknown } : {}),
    ...(d.afterJson !== undefined ? { after: JSON.parse(d.afterJson) as unknown } : {}),
    ...(d.detailsJson !== undefined ? { details: JSON.parse(d.detailsJson) as unknown } : {}),
  };
}

/** Who made a change: an operator's name and, over HTTP, the client address. */
export interface AuditActor {
  readonly name: string;
  readonly address?: string | undefined;
}

/** A service parameter naming who acts: a bare name (older callers, tests) or an AuditActor. */
export type ActorLike = string | AuditActor;

/** The name of `by`. */
export function actorName(by: ActorLike | undefined): string {
  return by === undefined ? 'system' : typeof by === 'string' ? by : by.name;
}

/** The actor and address fields of an audit event made by `by`. */
export function byFields(by: ActorLike | undefined): { actor: string; address?: string } {
  const address = typeof by === 'object' ? by.address : undefined;
  return { actor: actorName(by), ...(address !== undefined ? { address } : {}) };
}
