/**
 * One agent run (STYLE §4): deliver queued reports, send facts when they changed, fetch the
 * catalog conditionally, fetch missing blobs, reconcile, queue the report durably, deliver it.
 * When the server cannot be reached the cached catalog is enforced and the report waits in
 * the spool. Errors never escape: the result says what happened.
 */
import { randomBytes } from 'node:crypto';
import { SchemaError, type Catalog, type RunReport } from '../../schemas/index.js';
import type { AgentClient } from '../client/agent-client.js';
import { ApiError } from '../client/api-error.js';
import type { ReportSpool } from '../spool/report-spool.js';
import { shortenReport } from '../spool/shorten-report.js';
import { compactForDelivery } from './report-compaction.js';
import { catalogBlobRefs, type BlobCache } from './blob-cache.js';
import type { CatalogCache } from './catalog-cache.js';
import type { FactsReporter } from './facts-reporter.js';
import { errorFields, type Logger } from './json-logger.js';

/** The engine, bound to its host, blob source and state directory by the composition root. */
export type Reconciler = (catalog: Catalog, opts: { readonly noop: boolean; readonly signal: AbortSignal; readonly runId: string }) => Promise<RunReport>;

export interface AgentRunDeps {
  readonly client: Pick<AgentClient, 'fetchCatalog' | 'fetchBlob' | 'sendReport' | 'host' | 'server'>;
  readonly spool: ReportSpool;
  readonly catalogs: CatalogCache;
  readonly blobs: BlobCache;
  readonly reconcile: Reconciler;
  readonly facts?: FactsReporter | undefined;
  readonly log: Logger;
  readonly now?: () => number;
  readonly newRunId?: () => string;
  /** Send reports in full only (no compact reports, ADR 0021). Default false. */
  readonly fullReports?: boolean;
}

/** After a server refused a compact report as malformed (an older server), reports go in full for this long. */
const compactPauseMs = 3_600_000;
let compactPausedUntil = 0;

export type CatalogSource = 'fresh' | 'unchanged' | 'cached' | 'none';

export interface AgentRunResult {
  readonly runId: string;
  /** Where the enforced catalog came from: fresh (200), unchanged (304), cached (server unreachable), none. */
  readonly catalogSource: CatalogSource;
  readonly report?: RunReport | undefined;
  /** The server answered every call this run made (no network or 5xx failure). */
  readonly serverReachable: boolean;
  /** The server refused this agent's identity (401/403): revoked or unknown. */
  readonly identityRefused?: ApiError | undefined;
  /** Reports still queued after this run. */
  readonly pendingReports: number;
  /** Why the run did not produce a report, or why the catalog could not be fetched. */
  readonly error?: string | undefined;
}

/** A run id: time-ordered and unique ("m2x8k1c0-3f9a1b2c4d5e"). */
export function newRunId(nowMs: number = Date.now()): string {
  return `${nowMs.toString(36)}-${randomBytes(6).toString('hex')}`;
}

/** Deliver queued reports; returns [reachable, remaining, identity refusal]. */
export async function deliverSpool(deps: Pick<AgentRunDeps, 'spool' | 'client' | 'log'> & Partial<Pick<AgentRunDeps, 'catalogs' | 'fullReports'>>, signal: AbortSignal): Promise<{ ok: boolean; remaining: number; refused?: ApiError }> {
  // The catalog reports are compacted against (ADR 0021): the one the agent holds, read once per flush.
  let held: Catalog | undefined | null = null;
  const r = await deps.spool.flush(async (report, s, serialized) => {
    if (report.host !== deps.client.host) {
      // Queued under another --host with this data directory: the server answers 403 for it,
      // which must not read as this identity being refused (and block the queue for good).
      deps.log.error('a queued report is for another host name; set aside in the spool as *.rejected', { reportRunId: report.runId, reportHost: report.host.slice(0, 253) });
      return 'rejected';
    }
    if (deps.catalogs && deps.fullReports !== true && Date.now() >= compactPausedUntil) {
      if (held === null) held = (await deps.catalogs.load(deps.client.host).catch(() => undefined))?.catalog;
      const compact = compactForDelivery(report, held);
      if (compact) {
        try {
          await deps.client.sendReport(compact, s);
          return;
        } catch (err) {
          if (!(err instanceof ApiError && (err.status === 400 || err.status === 413 || err.status === 422))) throw err;
          // FULL_REPORT_REQUIRED: the server cannot check it (it never served that catalog, or
          // its record is gone); 400: a server that predates compact reports; 413: too large
          // even so (the full path below shortens it). Either way the full report, still in
          // the spool, goes now.
          if (err.code !== 'FULL_REPORT_REQUIRED') compactPausedUntil = Date.now() + compactPauseMs;
          deps.log.warn('the server refused the compact report; sending it in full', { reportRunId: report.runId, err: errorFields(err) });
        }
      }
    }
    try {
      await deps.client.sendReport(report, s, serialized);
    } catch (err) {
      if (err instanceof ApiError && err.status === 413) {
        // Too large for the server's report limit: deliver the run's states without diffs and
        // output (retried later like any report if this fails); the full one is kept as *.rejected.
        deps.log.warn('the server refused a report as too large; sending it shortened, the full report is kept in the spool as *.rejected', { reportRunId: report.runId, err: errorFields(err) });
        try {
          await deps.client.sendReport(shortenReport(report), s);
        } catch (again) {
          if (!(again instanceof ApiError && (again.status === 400 || again.status === 413 || again.status === 422))) throw again;
          deps.log.error('the server refused the shortened report too; set aside in the spool as *.rejected', { reportRunId: report.runId, err: errorFields(again) });
        }
        return 'rejected';
      }
      if (err instanceof SchemaError || (err instanceof ApiError && (err.status === 400 || err.status === 413 || err.status === 422))) {
        deps.log.error('the server rejected a report as malformed; set aside in the spool as *.rejected', { reportRunId: report.runId, err: errorFields(err) });
        return 'rejected';
      }
      throw err;
    }
  }, signal);
  if (r.delivered > 0) deps.log.info('reports delivered', { delivered: r.delivered, remaining: r.remaining });
  if (r.error === undefined) return { ok: !signal.aborted, remaining: r.remaining };
  if (r.error instanceof ApiError && r.error.status === 429) {
    // Throttled: the server is there; the rest stay queued for a later run.
    deps.log.warn('the server asked to send reports more slowly; they stay queued', { err: errorFields(r.error), remaining: r.remaining });
    return { ok: true, remaining: r.remaining };
  }
  if (!signal.aborted) deps.log.warn('report delivery failed; will retry', { err: errorFields(r.error), remaining: r.remaining });
  if (r.error instanceof ApiError && r.error.identityRefused) return { ok: false, remaining: r.remaining, refused: r.error };
  return { ok: false, remaining: r.remaining };
}

/**
 * Contacts the server without reconciling: delivers queued reports and asks whether the catalog
 * changed. Used between runs while the server was unreachable. Returns true when a new catalog
 * is waiting (the caller then runs at once).
 */
export async function probeServer(deps: AgentRunDeps, signal: AbortSignal): Promise<{ reachable: boolean; newCatalog: boolean; refused?: ApiError }> {
  const delivered = await deliverSpool(deps, signal);
  if (delivered.refused) return { reachable: false, newCatalog: false, refused: delivered.refused };
  if (!delivered.ok) return { reachable: false, newCatalog: false };
  try {
    const cached = await deps.catalogs.load(deps.client.host);
    const answer = await deps.client.fetchCatalog(cached?.catalog.id, signal);
    return { reachable: true, newCatalog: answer.kind === 'catalog' };
  } catch (err) {
    if (err instanceof ApiError && err.identityRefused) return { reachable: false, newCatalog: false, refused: err };
    return { reachable: false, newCatalog: false };
  }
}

/** Logs the progress of a long blob fetch: its start, then at most every 5 s. */
function blobProgress(log: Logger, now: () => number): (done: number, missing: number) => void {
  let last = -Infinity;
  return (done, missing) => {
    const t = now();
    if (done === 1 || done === missing || t - last >= 5000) {
      last = t;
      log.info('fetching blobs', { fetched: done, missing });
    }
  };
}

export interface AgentRunOptions {
  /**
   * Bounds the server contact before the reconcile (queued reports, facts, catalog, blobs), on
   * top of `signal`: when it fires, the run goes on as if the server were unreachable (the
   * cached catalog is enforced, if any). The reconcile and the report's delivery are not bound
   * by it. `stead agent --once --give-up-after` uses it.
   */
  readonly contactSignal?: AbortSignal;
}

/** Runs once. `noop`: compute and report, change nothing. */
export async function agentRun(deps: AgentRunDeps, noop: boolean, signal: AbortSignal, opts: AgentRunOptions = {}): Promise<AgentRunResult> {
  const now = deps.now ?? Date.now;
  const runId = (deps.newRunId ?? (() => newRunId(now())))();
  const log = deps.log.child({ runId });
  let reachable = true;
  const contact = opts.contactSignal ? AbortSignal.any([signal, opts.contactSignal]) : signal;

  // 1. Older reports first, so the server sees runs in order.
  const before = await deliverSpool({ ...deps, log }, contact);
  if (before.refused) return { runId, catalogSource: 'none', serverReachable: false, identityRefused: before.refused, pendingReports: before.remaining, error: before.refused.message };
  if (!before.ok) reachable = false;

  // 2. Facts (only when changed), before the catalog so the compile sees them.
  if (reachable && deps.facts) {
    const sent = await deps.facts.sendIfChanged(contact);
    if (sent.refused) return { runId, catalogSource: 'none', serverReachable: false, identityRefused: sent.refused, pendingReports: before.remaining, error: sent.refused.message };
  }

  // 3. The catalog: fresh, unchanged, or the cached one when the server cannot be reached.
  const cached = await deps.catalogs.load(deps.client.host);
  let catalog: Catalog | undefined = cached?.catalog;
  let source: CatalogSource = cached ? 'cached' : 'none';
  let fetchError: string | undefined;
  if (reachable) {
    try {
      const answer = await deps.client.fetchCatalog(cached?.catalog.id, contact);
      if (answer.kind === 'not-modified') {
        if (cached) {
          source = 'unchanged';
          // A blob can leave the cache while the catalog stays the same (a damaged copy is
          // removed on read, a data directory is cleaned): fetch the missing ones again, or
          // every later run would fail on them until the catalog changes.
          const refetched = await deps.blobs.ensure(catalogBlobRefs(cached.catalog), (sha, s) => deps.client.fetchBlob(sha, s), contact);
          if (refetched > 0) log.info('missing blobs fetched again', { catalogId: cached.catalog.id, blobsFetched: refetched });
        }
      } else {
        // 4. Blobs before the catalog is adopted: a catalog is cached only once it can be enforced.
        const fetched = await deps.blobs.ensure(catalogBlobRefs(answer.catalog), (sha, s) => deps.client.fetchBlob(sha, s), contact, { onProgress: blobProgress(log, now) });
        await deps.catalogs.save({ catalog: answer.catalog, receivedAt: new Date(now()).toISOString() });
        if (!cached || cached.catalog.id !== answer.catalog.id) log.info('new catalog', { catalogId: answer.catalog.id, revision: answer.catalog.revision, resources: answer.catalog.resources.length, blobsFetched: fetched });
        catalog = answer.catalog;
        source = 'fresh';
      }
    } catch (err) {
      if (err instanceof ApiError && err.identityRefused) {
        log.error('the server refused this agent', { err: errorFields(err) });
        return { runId, catalogSource: 'none', serverReachable: false, identityRefused: err, pendingReports: before.remaining, error: err.message };
      }
      if (signal.aborted) return { runId, catalogSource: source, serverReachable: false, pendingReports: before.remaining, error: 'aborted' };
      // A 4xx answer means the server is there (no catalog yet, say); anything else is retried with backoff.
      reachable = err instanceof ApiError && err.status >= 400 && err.status < 500;
      fetchError = err instanceof Error ? err.message : String(err);
      log.warn(catalog ? 'catalog fetch failed; enforcing the cached catalog' : 'catalog fetch failed and no catalog is cached', { err: errorFields(err), cachedCatalogId: catalog?.id });
    }
  }
  if (!catalog) return { runId, catalogSource: 'none', serverReachable: reachable, pendingReports: before.remaining, error: fetchError ?? 'no catalog available' };
  if (signal.aborted) return { runId, catalogSource: source, serverReachable: reachable, pendingReports: before.remaining, error: 'aborted' };

  // 5. Reconcile. The engine never throws by contract; a throw is still caught and reported.
  let report: RunReport;
  try {
    report = await deps.reconcile(catalog, { noop, signal, runId });
  } catch (err) {
    log.error('reconcile threw', { err: errorFields(err, true) });
    return { runId, catalogSource: source, serverReachable: reachable, pendingReports: before.remaining, error: `reconcile failed: ${err instanceof Error ? err.message : String(err)}` };
  }

  // 6. Durable first, then delivered (now, or on a later run).
  await deps.spool.enqueue(report, now());
  const after = reachable ? await deliverSpool({ ...deps, log }, signal) : { ok: false, remaining: (await deps.spool.list()).length };
  if ('refused' in after && after.refused) return { runId, catalogSource: source, report, serverReachable: false, identityRefused: after.refused, pendingReports: after.remaining };
  log.info('run finished', { outcome: report.outcome, mode: report.mode, counts: report.counts, catalogId: report.catalogId, revision: report.revision, catalogSource: source, durationMs: report.durationMs, reportsQueued: after.remaining });
  if (source === 'fresh' && report.outcome !== 'failed') {
    await deps.blobs.prune(catalogBlobRefs(catalog)).catch((err: unknown) => log.warn('blob prune failed', { err: errorFields(err) }));
  }
  return { runId, catalogSource: source, report, serverReachable: reachable && after.ok, pendingReports: after.remaining, error: fetchError };
}
