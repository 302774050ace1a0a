/**
 * The agent side of bench:fleet: many simulated agents in one process, each an AgentClient of
 * its own (its host name and Ed25519 key: every request signed exactly as a real agent signs
 * it), all sharing one pool of keep-alive connections (this machine allows 20,000 open files
 * per process, so 100,000 agents cannot each hold a socket; the server's cost per request does
 * not depend on which socket carries it, since identity comes from the signature).
 *
 * The schedule is open loop: agent i is due at start + i/N × interval + k × interval, and its
 * latency is counted from that due time, not from when a request could be sent, so a slow
 * server shows as latency instead of as fewer requests (no coordinated omission). One cycle is
 * what a real agent does every run: a conditional catalog fetch, then its run report.
 */
import { AgentClient } from '../../agent/client/agent-client.js';
import { HttpTransport } from '../../agent/client/http-transport.js';
import { aheadCycle, type AheadRuns } from './fleet-ahead.js';
import type { FleetIdentity } from './fleet-server.js';
import { nextReport, type ReportExemplars } from './fleet-reports.js';

/** One simulated agent. */
export interface SimAgent {
  readonly id: FleetIdentity;
  readonly client: AgentClient;
  /** The catalog it holds (id and revision), as the real agent's catalog cache does. */
  catalogId: string | undefined;
  revision: string;
  runs: number;
  /** Still in the previous cycle when the next one came due. */
  busy: boolean;
  /** Catalog ids it downloaded since the marker was last cleared (publish burst). */
  downloads: number;
}

/** Makes the agents, over one shared connection pool to `serverUrl`. */
export function makeAgents(ids: readonly FleetIdentity[], serverUrl: string, sockets: number): { agents: SimAgent[]; transport: HttpTransport } {
  const transport = new HttpTransport({ maxSockets: sockets, timeoutMs: 120_000 });
  const agents = ids.map((id) => ({ id, client: new AgentClient({ serverUrl, host: id.host, privateKey: id.key, transport }), catalogId: undefined, revision: '', runs: 0, busy: false, downloads: 0 }));
  return { agents, transport };
}

/** Latencies (ms) and outcomes per route, for one phase. */
export class RouteStats {
  readonly lat = new Map<string, number[]>();
  readonly errors = new Map<string, number>();
  catalogBytes = 0;
  lateStarts = 0;

  add(route: string, ms: number): void {
    let l = this.lat.get(route);
    if (!l) this.lat.set(route, (l = []));
    l.push(ms);
  }

  error(route: string, err: unknown): void {
    // One line per kind of failure, not per host.
    const key = `${route}: ${((err as Error).message ?? String(err)).replace(/fleet-\d+/g, 'fleet-N').slice(0, 120)}`;
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }

  count(route: string): number {
    return this.lat.get(route)?.length ?? 0;
  }

  /** p50/p99/max (ms) and count per route. */
  summary(): Record<string, { n: number; p50ms: number; p99ms: number; maxms: number }> {
    const out: Record<string, { n: number; p50ms: number; p99ms: number; maxms: number }> = {};
    for (const [route, l] of [...this.lat].sort()) {
      const s = [...l].sort((a, b) => a - b);
      out[route] = { n: s.length, p50ms: round(pct(s, 50)), p99ms: round(pct(s, 99)), maxms: round(s[s.length - 1]!) };
    }
    return out;
  }

  errorCount(): number {
    let n = 0;
    for (const v of this.errors.values()) n += v;
    return n;
  }
}

export function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function round(x: number): number {
  return x >= 100 ? Math.round(x) : +x.toFixed(2);
}

/** What one cycle does besides the catalog fetch. */
export interface CycleOptions {
  /** Report exemplars for a host (from the agent's engine); undefined: polls only (the floor run). */
  readonly reportsFor?: (host: string) => ReportExemplars;
  /** Share of runs that find drift (0–1). */
  readonly driftShare: number;
  /** Stats for a due time (a phase), or undefined to record nothing. */
  readonly statsFor: (dueMs: number) => RouteStats | undefined;
  /** Called with every catalog download (200): bytes, when, and whether the id changed. */
  readonly onDownload?: (bytes: number, atMs: number, newId: boolean) => void;
  /** Runs signed ahead (fleet-ahead.ts): event k < runs.length sends runs[k] through `pool` instead of signing now. */
  readonly ahead?: AheadRuns;
}

/**
 * One agent's run as the real agent makes it (agent/daemon/agent-run.ts): conditional catalog
 * fetch, then the run's report. Times are performance.now() milliseconds.
 */
export async function cycle(a: SimAgent, dueMs: number, o: CycleOptions): Promise<void> {
  const stats = o.statsFor(dueMs);
  const signal = AbortSignal.timeout(180_000);
  let ok = false;
  try {
    const r = await a.client.fetchCatalog(a.catalogId, signal);
    const t = performance.now();
    if (r.kind === 'catalog') {
      const bytes = Buffer.byteLength(JSON.stringify(r.catalog)); // the server sends exactly this serialisation
      if (stats) stats.catalogBytes += bytes;
      o.onDownload?.(bytes, t, r.catalog.id !== a.catalogId);
      a.catalogId = r.catalog.id;
      a.revision = r.catalog.revision;
      a.downloads++;
    }
    stats?.add(r.kind === 'catalog' ? 'GET catalog 200' : 'GET catalog 304', t - dueMs);
    ok = true;
  } catch (err) {
    stats?.error('GET catalog', err);
  }
  if (!ok || !o.reportsFor || a.catalogId === undefined) return;
  const { report, drift } = nextReport(a, a.catalogId, o.reportsFor(a.id.host), o.driftShare);
  const t0 = performance.now();
  try {
    await a.client.sendReport(report, signal);
    stats?.add(drift ? 'POST report (drift)' : 'POST report', performance.now() - t0);
  } catch (err) {
    stats?.error('POST report', err);
  }
}

/**
 * Runs the open-loop schedule from `startMs` until `end()` (performance.now() ms): agent i is
 * due at startMs + (i / N) × intervalMs + k × intervalMs. Resolves when every started cycle has
 * finished (`end` is read as the loop goes: a phase may extend it). An agent still busy when due again starts anyway (counted in lateStarts).
 */
export async function openLoop(agents: readonly SimAgent[], intervalMs: number, startMs: number, end: () => number, o: CycleOptions): Promise<void> {
  const n = agents.length;
  const inflight = new Set<Promise<void>>();
  let k = 0; // next event: cycle Math.floor(k / n), agent k % n
  const dueOf = (e: number): number => startMs + Math.floor(e / n) * intervalMs + ((e % n) / n) * intervalMs;
  while (dueOf(k) < end()) {
    const now = performance.now();
    while (dueOf(k) <= now && dueOf(k) < end()) {
      const a = agents[k % n]!;
      const due = dueOf(k);
      if (a.busy) {
        const st = o.statsFor(due);
        if (st) st.lateStarts++;
      }
      a.busy = true;
      const run = o.ahead?.runs[k];
      const p = (run ? aheadCycle(o.ahead!.pool, a, run, due, o.statsFor(due)) : cycle(a, due, o)).finally(() => {
        a.busy = false;
        inflight.delete(p);
      });
      inflight.add(p);
      k++;
    }
    const wait = dueOf(k) - performance.now();
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(wait, 5))));
  }
  await Promise.all(inflight);
}

/** Every agent's first run (unconditional catalog fetch, report), `concurrency` at a time; resolves ms taken. */
export async function firstPolls(agents: readonly SimAgent[], concurrency: number, stats: RouteStats, reportsFor?: (host: string) => ReportExemplars): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < agents.length) {
      const a = agents[next++]!;
      await cycle(a, performance.now(), { driftShare: 0, statsFor: () => stats, ...(reportsFor ? { reportsFor } : {}) });
    }
  }));
  return performance.now() - t0;
}
