/**
 * The dashboard's tables as rows of cells, pure: the page renders them (nunjucks, autoescaped)
 * and /dashboard.json sends the same rows to dashboard.js, which redraws the tables with DOM
 * text nodes; one model, so the live page and the reloaded page cannot disagree.
 */
import { isoAt } from '../../domain/clock.js';
import { complianceStates, type ComplianceState } from '../../domain/compliance.js';
import type { Dashboard } from '../../services/dashboard-service.js';
import type { DriftEventView } from '../../services/drift-service.js';
import type { HostCompliance } from '../../services/compliance-service.js';

/** One table cell: text, optional link, optional badge class, numeric alignment. */
export interface Cell {
  readonly t: string;
  readonly h?: string;
  readonly b?: string;
  readonly n?: true;
}
export type Row = readonly Cell[];

const hostHref = (h: string): string => `/hosts/${encodeURIComponent(h)}`;
export const resourceHref = (r: string): string => `/drift?resource=${encodeURIComponent(r)}`;

export interface HostQuery {
  readonly state?: ComplianceState;
  readonly q?: string;
  readonly page: number;
}

export const hostPageSize = 50;

export interface HostListEntry {
  readonly host: string;
  readonly state: ComplianceState;
  readonly groups: readonly string[];
  readonly enrollment?: string;
  readonly lastRun?: HostCompliance['lastRun'];
}

/**
 * One page of the host list: filtered by state and a case-insensitive substring of the name or
 * a group, sorted by name. Only the page's rows are built.
 */
export function hostPage(all: readonly HostListEntry[], query: HostQuery): { total: number; matched: number; page: number; pages: number; rows: Row[] } {
  const needle = query.q?.toLowerCase();
  const matched = all.filter((h) => (query.state === undefined || h.state === query.state) && (needle === undefined || h.host.toLowerCase().includes(needle) || h.groups.some((g) => g.toLowerCase().includes(needle))));
  const pages = Math.max(1, Math.ceil(matched.length / hostPageSize));
  const page = Math.min(query.page, pages);
  const rows = matched.slice((page - 1) * hostPageSize, page * hostPageSize).map((h): Row => {
    const r = h.lastRun;
    return [
      { t: h.host, h: hostHref(h.host) },
      { t: h.state, b: h.state },
      { t: r ? isoAt(r.receivedAtMs) : 'never' },
      r ? { t: r.outcome, b: r.outcome } : { t: '' },
      { t: r ? String(r.corrective) : '', n: true },
      { t: r ? String(r.changed) : '', n: true },
      { t: r ? String(r.failed) : '', n: true },
      { t: h.groups.join(', ') },
      h.enrollment ? { t: h.enrollment, b: h.enrollment } : { t: '' },
    ];
  });
  return { total: all.length, matched: matched.length, page, pages, rows };
}

export function failingRows(d: Dashboard): Row[] {
  return d.failing.hosts.map((h) => [{ t: h.host, h: hostHref(h.host) }, { t: h.lastRun ? isoAt(h.lastRun.receivedAtMs) : 'never' }, { t: h.lastRun ? String(h.lastRun.failed) : '', n: true }, { t: h.groups.join(', ') }]);
}

export function jobRows(d: Dashboard): Row[] {
  return d.jobs.items.map((j) => [{ t: j.name || j.id, h: `/jobs/${encodeURIComponent(j.id)}` }, { t: j.state, b: j.state === 'running' ? 'changed' : 'drifted' }, { t: String(j.hostCount), n: true }, { t: j.createdBy }, { t: j.createdAt }]);
}

export function rolloutRows(d: Dashboard): Row[] {
  return d.rollouts.items.map((r) => [
    { t: r.id, h: `/rollouts/${encodeURIComponent(r.id)}` },
    { t: r.kind },
    { t: r.state, b: r.state === 'running' ? 'changed' : 'drifted' },
    { t: `${r.current + 1} / ${r.batches.length}` },
    { t: String(r.hosts), n: true },
    { t: String(r.failures), n: true },
  ]);
}

export function topRows(d: Dashboard): Row[] {
  return d.topDrifted.items.map((x) => [
    { t: x.resource, h: resourceHref(x.resource) },
    { t: String(x.events), n: true },
    { t: String(x.hosts), n: true },
    { t: String(x.byKind.detected), n: true },
    { t: String(x.byKind.repaired), n: true },
    { t: String(x.byKind.failed), n: true },
    { t: isoAt(x.lastAt) },
  ]);
}

/** Drift events as rows; `hide` leaves out the column that is the page's subject. */
export function eventRows(events: readonly DriftEventView[], hide?: 'host' | 'resource'): Row[] {
  return events.map((e) => [
    { t: isoAt(e.at) },
    ...(hide !== 'host' ? [{ t: e.host, h: hostHref(e.host) }] : []),
    ...(hide !== 'resource' ? [{ t: e.resource, h: resourceHref(e.resource) }] : []),
    { t: e.kind, b: e.kind === 'detected' ? 'would-change' : e.kind === 'repaired' ? 'changed' : 'failed' },
    { t: e.properties.join(', ') + (e.error !== undefined ? ` ${e.error}` : '') },
    { t: e.runId, h: `${hostHref(e.host)}/runs/${encodeURIComponent(e.runId)}` },
  ]);
}

/** The tiles and tables the live page redraws. */
export function liveModel(d: Dashboard, hosts: ReturnType<typeof hostPage>): Record<string, unknown> {
  const counts: Record<string, number> = {};
  for (const s of complianceStates) counts[s] = d.fleet.counts[s];
  return {
    at: isoAt(d.at),
    fleet: { total: d.fleet.total, percent: d.fleet.percent, counts },
    totals: { failing: d.failing.total, jobs: d.jobs.total, rollouts: d.rollouts.total, hosts: hosts.matched },
    tables: { failing: failingRows(d), jobs: jobRows(d), rollouts: rolloutRows(d), 'top-drifted': topRows(d), hosts: hosts.rows },
  };
}
