/**
 * The audit log: who did what, when, from where, with the state before and after. Services
 * call `record` for operator actions worth answering for later (job launches, approvals of
 * blocked scripts, cancels, redos, confirmations, …). One document per event in
 * `audit_events`; the log is append-only through this service.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
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
  private constructor(
    private readonly events: Collection<AuditDoc>,
    private readonly clock: Clock,
  ) {}

  static async open(store: DocumentStore, clock: Clock): Promise<AuditLog> {
    return new AuditLog(
      await store.collection<AuditDoc>('audit_events', [
        { name: 'at', fields: { at: -1 } },
        { name: 'target_at', fields: { target: 1, at: -1 } },
      ]),
      clock,
    );
  }

  /** Appends one event; resolves it. */
  async record(e: AuditEventInput): Promise<AuditEvent> {
    const at = this.clock.now();
    const doc: AuditDoc = {
      _id: `${at.toString(36).padStart(9, '0')}-${randomUUID()}`,
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
    return toEvent(doc);
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
