/**
 * Drift history: the drift events of every report (domain/drift.ts), stored when the report is
 * (ReportService's beforeStore hook, so an acknowledged report always has its events), kept
 * after the host is back in sync, deleted after their own retention by the housekeeping.
 *
 * Reads: events of a host or of a resource (across hosts), newest first with a cursor; the most
 * drifted resources over a window (events and distinct hosts); events per UTC day. Each query
 * rides an index: (host, at), (resource, at), (at), (day).
 */
import { deleteOlderThan } from '../store/retention.js';
import { isDuplicateKey, type Collection, type DocumentStore, type Filter } from '../store/types.js';
import { dayStart, driftEventsOf, driftKinds, type DriftKind } from '../domain/drift.js';
import { ApiError } from '../domain/errors.js';
import type { StoredReport } from './report-service.js';

type DriftDoc = {
  _id: string;
  host: string;
  resource: string;
  kind: DriftKind;
  runId: string;
  /** When the server received the report (ms); windows and retention use it. */
  at: number;
  /** UTC day of `at`. */
  day: number;
  /** When the run started, by the agent's clock (ms). */
  startedAtMs: number;
  mode: 'apply' | 'noop';
  corrective: boolean;
  properties: string[];
  error?: string;
};

export interface DriftEventView {
  readonly id: string;
  readonly host: string;
  readonly resource: string;
  readonly kind: DriftKind;
  readonly runId: string;
  readonly at: number;
  readonly startedAt: number;
  readonly mode: 'apply' | 'noop';
  readonly corrective: boolean;
  readonly properties: readonly string[];
  readonly error?: string;
}

export interface DriftQuery {
  readonly host?: string;
  readonly resource?: string;
  readonly kind?: DriftKind;
  /** Events at or after (ms). */
  readonly sinceMs?: number;
  /** The `next` of an earlier page. */
  readonly cursor?: string;
  /** 1-1000, default 100. */
  readonly limit?: number;
}

export interface TopDrifted {
  readonly resource: string;
  readonly events: number;
  readonly hosts: number;
  readonly byKind: Record<DriftKind, number>;
  readonly lastAt: number;
}

export interface DriftDay {
  readonly day: number;
  readonly counts: Record<DriftKind, number>;
}

export interface DriftOptions {
  /** Events kept per report (the rest are counted, not stored). Default 100. */
  readonly maxEventsPerReport?: number;
}

export class DriftService {
  #dropped = 0;
  #recorded = 0;

  private constructor(
    private readonly events: Collection<DriftDoc>,
    private readonly maxPerReport: number,
  ) {}

  static async open(store: DocumentStore, opts: DriftOptions = {}): Promise<DriftService> {
    const events = await store.collection<DriftDoc>('drift_events', [
      { name: 'by_host_at', fields: { host: 1, at: -1 } },
      { name: 'by_resource_at', fields: { resource: 1, at: -1 } },
      { name: 'by_at', fields: { at: 1 } },
      { name: 'by_day', fields: { day: 1, kind: 1 } },
    ]);
    return new DriftService(events, opts.maxEventsPerReport ?? 100);
  }

  /** Events recorded and events left out (over the per-report bound) since start. */
  get counters(): { recorded: number; dropped: number } {
    return { recorded: this.#recorded, dropped: this.#dropped };
  }

  /** Stores the drift events of reports about to be stored; idempotent per (host, run, resource). */
  async record(reports: readonly StoredReport[]): Promise<void> {
    const docs: DriftDoc[] = [];
    for (const { host, report, receivedAtMs } of reports) {
      const { events, dropped } = driftEventsOf(host, report, this.maxPerReport);
      this.#dropped += dropped;
      const startedAtMs = Date.parse(report.startedAt);
      for (const e of events) {
        docs.push({
          _id: `${host}/${report.runId}/${e.seq}`,
          host,
          resource: e.resource,
          kind: e.kind,
          runId: e.runId,
          at: receivedAtMs,
          day: dayStart(receivedAtMs),
          startedAtMs: Number.isFinite(startedAtMs) ? startedAtMs : receivedAtMs,
          mode: report.mode,
          corrective: e.corrective,
          properties: [...e.properties],
          ...(e.error !== undefined ? { error: e.error } : {}),
        });
      }
    }
    if (docs.length === 0) return;
    try {
      await this.events.insertMany(docs);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // A re-sent report (or a peer server) stored some already: insert the rest one by one.
      for (const d of docs) {
        try {
          await this.events.insertOne(d);
        } catch (e) {
          if (!isDuplicateKey(e)) throw e;
        }
      }
    }
    this.#recorded += docs.length;
  }

  /** Events newest first; `next` continues the list (absent on the last page). */
  async list(q: DriftQuery): Promise<{ events: DriftEventView[]; next?: string }> {
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    const and: Filter[] = [];
    if (q.host !== undefined) and.push({ host: q.host });
    if (q.resource !== undefined) and.push({ resource: q.resource });
    if (q.kind !== undefined) and.push({ kind: q.kind });
    if (q.sinceMs !== undefined) and.push({ at: { $gte: q.sinceMs } });
    if (q.cursor !== undefined) {
      const c = parseCursor(q.cursor);
      // Sorted by at descending, then _id ascending (the store's tie-break).
      and.push({ $or: [{ at: { $lt: c.at } }, { at: c.at, _id: { $gt: c.id } }] });
    }
    const filter: Filter = and.length === 0 ? {} : and.length === 1 ? and[0]! : { $and: and };
    const docs = await this.events.find(filter, { sort: { at: -1 }, limit: limit + 1 });
    const page = docs.slice(0, limit);
    const last = page[page.length - 1];
    return { events: page.map(view), ...(docs.length > limit && last ? { next: Buffer.from(`${last.at}:${last._id}`).toString('base64url') } : {}) };
  }

  /**
   * The resources with the most drift events at or after `sinceMs` (ties: by name), each with
   * the number of distinct hosts, its events per kind and its latest event.
   */
  async top(sinceMs: number, limit = 10, signal?: AbortSignal): Promise<TopDrifted[]> {
    const opts = signal ? { signal } : {};
    const groups = await this.events.countBy('resource', { at: { $gte: sinceMs } }, opts);
    const best = groups
      .filter((g): g is { value: string; count: number } => typeof g.value === 'string')
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
      .slice(0, Math.min(Math.max(limit, 1), 100));
    const out: TopDrifted[] = [];
    for (const g of best) {
      const where = { resource: g.value, at: { $gte: sinceMs } };
      const [hosts, kinds, newest] = await Promise.all([
        this.events.countBy('host', where, opts),
        this.events.countBy('kind', where, opts),
        this.events.findOne({ resource: g.value }, { sort: { at: -1 }, projection: { at: 1 } }),
      ]);
      const byKind = { detected: 0, repaired: 0, failed: 0 };
      for (const k of kinds) if (typeof k.value === 'string' && (driftKinds as readonly string[]).includes(k.value)) byKind[k.value as DriftKind] = k.count;
      out.push({ resource: g.value, events: g.count, hosts: hosts.length, byKind, lastAt: newest?.at ?? sinceMs });
    }
    return out;
  }

  /** Events per UTC day and kind from the day of `sinceMs` on, optionally of one host or resource. */
  async perDay(sinceMs: number, where: { host?: string; resource?: string } = {}, signal?: AbortSignal): Promise<DriftDay[]> {
    const days = new Map<number, Record<DriftKind, number>>();
    const base: Filter = { day: { $gte: dayStart(sinceMs) } };
    if (where.host !== undefined) base['host'] = where.host;
    if (where.resource !== undefined) base['resource'] = where.resource;
    for (const kind of driftKinds) {
      const groups = await this.events.countBy('day', { ...base, kind }, signal ? { signal } : {});
      for (const g of groups) {
        if (typeof g.value !== 'number') continue;
        const c = days.get(g.value) ?? { detected: 0, repaired: 0, failed: 0 };
        c[kind] = g.count;
        days.set(g.value, c);
      }
    }
    return [...days.entries()].sort(([a], [b]) => a - b).map(([day, counts]) => ({ day, counts }));
  }

  /** Deletes events received before `beforeMs`, oldest first in bounded batches. */
  async prune(beforeMs: number, signal?: AbortSignal): Promise<number> {
    return (await deleteOlderThan(this.events, { field: 'at', cutoff: beforeMs, ...(signal ? { signal } : {}) })).deleted;
  }
}

function view(d: DriftDoc): DriftEventView {
  return { id: d._id, host: d.host, resource: d.resource, kind: d.kind, runId: d.runId, at: d.at, startedAt: d.startedAtMs, mode: d.mode, corrective: d.corrective, properties: d.properties, ...(d.error !== undefined ? { error: d.error } : {}) };
}

function parseCursor(text: string): { at: number; id: string } {
  const raw = /^[A-Za-z0-9_-]{1,1400}$/.test(text) ? Buffer.from(text, 'base64url').toString('utf8') : '';
  const m = /^(\d{1,16}):(.+)$/s.exec(raw);
  if (!m) throw new ApiError('BAD_REQUEST', 'cursor is not one this server gave out');
  return { at: Number(m[1]), id: m[2]! };
}
