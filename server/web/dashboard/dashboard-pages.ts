/**
 * The dashboard pages (issue 12):
 *   GET /                 tiles, the compliance chart (48 h hourly / 30 d daily / 12 months monthly,
 *                         ?range=), drift per day, most drifted resources, failing hosts, running
 *                         jobs and rollouts, groups, and the host list searched and paged on the
 *                         server (?q= name or group, ?state=, ?page=; 50 a page)
 *   GET /dashboard.json   what dashboard.js redraws every few seconds (tiles and tables, for the
 *                         same ?q=/?state=/?page=); session cookie, same as the page
 *   GET /drift            drift events of a resource across hosts (?resource=), a host (?host=),
 *                         a kind (?kind=), older pages (?cursor=), with a per-day chart
 * With scripts off the overview reloads itself (meta refresh inside <noscript>) and the charts'
 * numbers are tables.
 */
import type { Router } from '@koa/router';
import type { AppContext, AppState } from '../../api/app-state.js';
import { requestSignal } from '../../api/request-signal.js';
import { complianceStates } from '../../domain/compliance.js';
import { driftKinds, monthStart, type DriftKind } from '../../domain/drift.js';
import { isoAt } from '../../domain/clock.js';
import type { Services } from '../../services/services.js';
import { SHORT_REVISION_ID } from '../../services/revision-service.js';
import type { ConsoleKit } from '../console-kit.js';
import { complianceChart, complianceRange, driftChart, jsonForScript, rangeIds, rangeRows, type RangeId } from '../compliance-chart.js';
import { eventRows, failingRows, hostPage, jobRows, liveModel, rolloutRows, topRows, type HostListEntry, type HostQuery } from './dashboard-model.js';
import { driftView, overviewView } from './dashboard-views.js';

const hostNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The scripts and styles a page with charts asks the layout for. */
export const chartAssets = { scripts: ['uplot.iife.min.js', 'dashboard.js'], styles: ['uplot.min.css'] } as const;

function one(ctx: AppContext, name: string): string | undefined {
  const v = ctx.query[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function hostQuery(ctx: AppContext): HostQuery {
  const stateRaw = one(ctx, 'state');
  const state = complianceStates.find((s) => s === stateRaw);
  const q = one(ctx, 'q')?.slice(0, 200);
  const pageRaw = one(ctx, 'page');
  const page = pageRaw !== undefined && /^[1-9][0-9]{0,6}$/.test(pageRaw) ? Number(pageRaw) : 1;
  return { ...(state ? { state } : {}), ...(q !== undefined ? { q } : {}), page };
}

/** Enrollment as the live endpoint reads it: reused for a few seconds (every open dashboard polls). */
const enrolledCaches = new WeakMap<Services, { at: number; list: Awaited<ReturnType<Services['enrollment']['list']>> }>();
const enrolledCacheMs = 15_000;

/** Every host the console knows: inventory ∪ reported (compliance) ∪ enrolled agents. */
async function hostEntries(services: Services, signal: AbortSignal, cached = false): Promise<HostListEntry[]> {
  const now = services.clock.now();
  const hit = enrolledCaches.get(services);
  const fresh = !cached || !hit || now - hit.at >= enrolledCacheMs || now < hit.at;
  const [hosts, agents] = await Promise.all([services.compliance.hosts(signal), fresh || !hit ? services.enrollment.list() : Promise.resolve(hit.list)]);
  if (fresh) enrolledCaches.set(services, { at: now, list: agents });
  const enrolled = new Map(agents.map((a) => [a.host, a.status]));
  const out: HostListEntry[] = hosts.map((h) => ({ host: h.host, state: h.state, groups: h.groups, ...(enrolled.has(h.host) ? { enrollment: enrolled.get(h.host)! } : {}), ...(h.lastRun ? { lastRun: h.lastRun } : {}) }));
  const known = new Set(hosts.map((h) => h.host));
  for (const [host, status] of enrolled) if (!known.has(host)) out.push({ host, state: 'unknown', groups: [], enrollment: status });
  return out.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

/** The query string of the host list without its page (for page links and the live endpoint). */
function listQuery(q: HostQuery): string {
  const p = new URLSearchParams();
  if (q.state) p.set('state', q.state);
  if (q.q !== undefined) p.set('q', q.q);
  return p.toString();
}

export function mountDashboardPages(router: Router<AppState>, kit: ConsoleKit): void {
  const { services } = kit;

  router.get('/', async (ctx) => {
    ctx.state.routeName = '/';
    const op = kit.operator(ctx);
    if (!op) return;
    const signal = requestSignal(ctx);
    const now = services.clock.now();
    const range: RangeId = rangeIds.find((r) => r === ctx.query['range']) ?? '48h';
    const query = hostQuery(ctx);
    const firstMonth = Date.UTC(new Date(monthStart(now)).getUTCFullYear(), new Date(monthStart(now)).getUTCMonth() - 11, 1);
    const [dash, summary, entries, hourly, daily, monthly, days] = await Promise.all([
      services.dashboard.summary(signal),
      services.compliance.summary(signal),
      hostEntries(services, signal),
      services.compliance.series('fleet', 'hour', now - 48 * HOUR, now + HOUR),
      services.compliance.series('fleet', 'day', now - 30 * DAY, now + DAY),
      services.compliance.series('fleet', 'month', firstMonth, now + DAY),
      services.drift.perDay(now - 29 * DAY, {}, signal),
    ]);
    const ranges = [complianceRange('48h', hourly, now, dash.fleet.counts), complianceRange('30d', daily, now), complianceRange('12m', monthly, now)];
    const chosen = ranges.find((r) => r.id === range)!;
    const hosts = hostPage(entries, query);
    const base = listQuery(query);
    kit.html(
      ctx,
      overviewView({
        ...(await kit.frame(ctx, op, 'overview', true)),
        ...chartAssets,
        live: true,
        title: 'Dashboard',
        states: complianceStates,
        revision: dash.revision?.slice(0, SHORT_REVISION_ID),
        fleet: dash.fleet,
        totals: { failing: dash.failing.total, jobs: dash.jobs.total, rollouts: dash.rollouts.total },
        tables: { failing: failingRows(dash), jobs: jobRows(dash), rollouts: rolloutRows(dash), 'top-drifted': topRows(dash), hosts: hosts.rows },
        ranges,
        range: chosen,
        rangeRows: rangeRows(chosen),
        chartJson: jsonForScript(complianceChart(ranges, range)),
        driftTitle: 'Drift events per day, last 30 days',
        driftJson: jsonForScript(driftChart(days, now)),
        driftDays: days.map((d) => ({ day: isoAt(d.day).slice(0, 10), counts: d.counts })).reverse(),
        groups: summary.groups.map((g) => ({ name: g.scope.replace(/^group:/, ''), total: g.total, counts: g.counts, percent: g.percent })),
        filter: query.state,
        q: query.q ?? '',
        hosts,
        pageQuery: base === '' ? '' : `${base}&`,
        liveQuery: `${base}${base === '' ? '' : '&'}page=${hosts.page}`,
      }),
    );
  });

  router.get('/dashboard.json', async (ctx) => {
    ctx.state.routeName = '/dashboard.json';
    const op = kit.operator(ctx);
    if (!op) return;
    const signal = requestSignal(ctx);
    const [dash, entries] = await Promise.all([services.dashboard.summary(signal), hostEntries(services, signal, true)]);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = liveModel(dash, hostPage(entries, hostQuery(ctx)));
  });

  router.get('/drift', async (ctx) => {
    ctx.state.routeName = '/drift';
    const op = kit.operator(ctx);
    if (!op) return;
    const signal = requestSignal(ctx);
    const now = services.clock.now();
    const resource = one(ctx, 'resource');
    const host = one(ctx, 'host');
    const kindRaw = one(ctx, 'kind');
    const kind: DriftKind | undefined = driftKinds.find((k) => k === kindRaw);
    const cursor = one(ctx, 'cursor');
    let error: string | undefined;
    if (resource !== undefined && (resource.length > 600 || /[\u0000-\u001f]/.test(resource))) error = 'A resource id is at most 600 characters, without control characters.';
    else if (host !== undefined && !hostNamePattern.test(host)) error = `${host.slice(0, 253)} is not a valid host name.`;
    else if (cursor !== undefined && !/^[A-Za-z0-9_-]{1,1400}$/.test(cursor)) error = 'That page link is not valid.';
    const where = { ...(resource !== undefined ? { resource } : {}), ...(host !== undefined ? { host } : {}) };
    let events: Awaited<ReturnType<Services['drift']['list']>> = { events: [] };
    let days: Awaited<ReturnType<Services['drift']['perDay']>> = [];
    let hostsAffected = 0;
    if (error === undefined) {
      try {
        [events, days] = await Promise.all([services.drift.list({ ...where, ...(kind ? { kind } : {}), ...(cursor !== undefined ? { cursor } : {}), limit: 100 }), services.drift.perDay(now - 29 * DAY, where, signal)]);
        if (resource !== undefined) hostsAffected = (await services.drift.top(now - 30 * DAY, 100, signal)).find((x) => x.resource === resource)?.hosts ?? 0;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
    }
    const nextQuery = new URLSearchParams();
    if (resource !== undefined) nextQuery.set('resource', resource);
    if (host !== undefined) nextQuery.set('host', host);
    if (kind !== undefined) nextQuery.set('kind', kind);
    if (events.next !== undefined) nextQuery.set('cursor', events.next);
    kit.html(
      ctx,
      driftView({
        ...(await kit.frame(ctx, op, 'overview', false)),
        ...chartAssets,
        title: resource !== undefined ? `Drift of ${resource}` : 'Drift',
        resource: resource ?? '',
        host: host ?? '',
        kind: kind ?? '',
        kinds: driftKinds,
        error,
        hostsAffected,
        events: eventRows(events.events, resource !== undefined ? 'resource' : host !== undefined ? 'host' : undefined),
        next: events.next,
        nextQuery: nextQuery.toString(),
        driftTitle: 'Drift events per day, last 30 days',
        driftJson: jsonForScript(driftChart(days, now)),
        driftDays: days.map((d) => ({ day: isoAt(d.day).slice(0, 10), counts: d.counts })).reverse(),
      }),
      error === undefined ? 200 : 400,
    );
  });
}

/** The host page's drift section: a per-day chart of the last 30 days and the newest events. */
export async function hostDrift(services: Services, host: string, signal: AbortSignal): Promise<Record<string, unknown>> {
  const now = services.clock.now();
  const [events, days] = await Promise.all([services.drift.list({ host, limit: 25 }), services.drift.perDay(now - 29 * DAY, { host }, signal)]);
  return {
    driftTitle: `Drift events of ${host} per day, last 30 days`,
    driftJson: jsonForScript(driftChart(days, now)),
    driftDays: days.map((d) => ({ day: isoAt(d.day).slice(0, 10), counts: d.counts })).reverse(),
    events: eventRows(events.events, 'host'),
    more: events.next !== undefined,
  };
}


