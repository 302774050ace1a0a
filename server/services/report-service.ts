/**
 * Report ingestion. Idempotent on (host, runId): a re-sent report is acknowledged with
 * duplicate: true and stored once (the unique _id does it, on both stores). The raw report is
 * kept as JSON text (inert, whatever keys it holds) next to the fields queries need; the
 * host's last-run summary feeds compliance. Raw reports are deleted after the retention.
 */
import type { Collection, DocumentStore } from '../store/types.js';
import { isDuplicateKey } from '../store/types.js';
import type { RunReport } from '../../schemas/report.js';
import type { Clock } from '../domain/clock.js';
import type { LastRunSummary } from '../domain/compliance.js';
import { ApiError } from '../domain/errors.js';
import type { HostStateService } from './host-state-service.js';

type ReportDoc = {
  _id: string;
  host: string;
  runId: string;
  startedAtMs: number;
  receivedAtMs: number;
  outcome: RunReport['outcome'];
  mode: RunReport['mode'];
  corrective: number;
  changed: number;
  failed: number;
  catalogId: string;
  revision: string;
  json: string;
};

export interface ReportListItem {
  readonly runId: string;
  readonly host: string;
  readonly startedAt: number;
  readonly receivedAt: number;
  readonly outcome: string;
  readonly mode: string;
  readonly corrective: number;
  readonly changed: number;
  readonly failed: number;
  readonly catalogId: string;
  readonly revision: string;
}

export class ReportService {
  #ingested = 0;
  #duplicates = 0;

  private constructor(
    private readonly reports: Collection<ReportDoc>,
    private readonly hostStates: HostStateService,
    private readonly clock: Clock,
  ) {}

  static async open(store: DocumentStore, hostStates: HostStateService, clock: Clock): Promise<ReportService> {
    const reports = await store.collection<ReportDoc>('reports', [
      { name: 'by_host_time', fields: { host: 1, startedAtMs: -1 } },
      { name: 'by_received', fields: { receivedAtMs: 1 } },
    ]);
    return new ReportService(reports, hostStates, clock);
  }

  get counters(): { ingested: number; duplicates: number } {
    return { ingested: this.#ingested, duplicates: this.#duplicates };
  }

  /** Stores a report sent by `host` (the authenticated identity). */
  async ingest(host: string, report: RunReport): Promise<{ runId: string; duplicate: boolean }> {
    if (report.host !== host) throw new ApiError('FORBIDDEN', `report is for host "${report.host.slice(0, 253)}" but was signed by ${host}`);
    const startedAtMs = Date.parse(report.startedAt);
    if (!Number.isFinite(startedAtMs)) throw new ApiError('BAD_REQUEST', 'startedAt is not a valid time');
    const now = this.clock.now();
    const doc: ReportDoc = {
      _id: `${host}/${report.runId}`,
      host,
      runId: report.runId,
      startedAtMs,
      receivedAtMs: now,
      outcome: report.outcome,
      mode: report.mode,
      corrective: report.counts.corrective,
      changed: report.counts.changed,
      failed: report.counts.failed + report.counts.skipped,
      catalogId: report.catalogId,
      revision: report.revision,
      json: JSON.stringify(report),
    };
    try {
      await this.reports.insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) {
        this.#duplicates++;
        return { runId: report.runId, duplicate: true };
      }
      throw err;
    }
    this.#ingested++;
    await this.hostStates.recordRun(host, summarise(report, startedAtMs, now));
    return { runId: report.runId, duplicate: false };
  }

  async list(filter: { host?: string; limit?: number; outcome?: string }): Promise<ReportListItem[]> {
    const f: Record<string, string> = {};
    if (filter.host !== undefined) f['host'] = filter.host;
    if (filter.outcome !== undefined) f['outcome'] = filter.outcome;
    const docs = await this.reports.find(f, { sort: { startedAtMs: -1 }, limit: Math.min(filter.limit ?? 50, 1000), projection: { json: 0 } });
    return docs.map((d) => ({ runId: d.runId, host: d.host, startedAt: d.startedAtMs, receivedAt: d.receivedAtMs, outcome: d.outcome, mode: d.mode, corrective: d.corrective, changed: d.changed, failed: d.failed, catalogId: d.catalogId, revision: d.revision }));
  }

  async get(host: string, runId: string): Promise<RunReport | undefined> {
    const d = await this.reports.findOne({ _id: `${host}/${runId}` });
    return d ? (JSON.parse(d.json) as RunReport) : undefined;
  }

  async count(host?: string): Promise<number> {
    return this.reports.count(host === undefined ? {} : { host });
  }

  /** Deletes raw reports received before `beforeMs`; the host summaries and hourly rollups stay. */
  async prune(beforeMs: number): Promise<number> {
    return this.reports.deleteMany({ receivedAtMs: { $lt: beforeMs } });
  }
}

/** The part of a report compliance needs. */
export function summarise(report: RunReport, atMs: number, receivedAtMs: number): LastRunSummary {
  const nonCompliant: string[] = [];
  const resources: string[] = [];
  for (const r of report.resources) {
    resources.push(r.id);
    const corrective = r.changes.some((c) => c.corrective);
    if (r.state === 'failed' || r.state === 'skipped' || r.state === 'would-change' || corrective) nonCompliant.push(r.id);
  }
  return {
    runId: report.runId,
    atMs,
    receivedAtMs,
    outcome: report.outcome,
    mode: report.mode,
    corrective: report.counts.corrective,
    changed: report.counts.changed,
    failed: report.counts.failed + report.counts.skipped,
    catalogId: report.catalogId,
    revision: report.revision,
    nonCompliant,
    resources,
  };
}
