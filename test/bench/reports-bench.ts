/**
 * bench:reports — what a no-op poll costs the store, before and after compact reports (ADR
 * 0021), and how fast compact no-op reports are ingested on one core.
 *
 * Store growth: for RESOURCES in SIZES (default 5,000 and 10,000) a catalog of that many
 * resources (files, packages, services, users, in realistic id shapes) per host, and a no-op
 * run of it as the agent's engine reports one (every resource in sync; quick probes report
 * durationMs 0, one in fifty a few ms). POLLS reports (default 40: HOSTS hosts taking turns)
 * are ingested through ReportService on the embedded store (SQLite), and the store's used bytes
 * — (page_count - freelist_count) × page_size, read from the database file by a second SQLite
 * connection, not estimated — are compared before and after:
 *   before       full reports stored as sent (the server before ADR 0021: compaction off);
 *   after        compact reports (compactForDelivery, the agent's own code), checked and stored;
 *   after (old)  full reports from older agents, compacted by the server on ingest.
 * The catalog records (one per catalog, written when it is first served) are reported apart:
 * a one-off per catalog, not per poll.
 *
 * Ingest: REPORTS (default 10,000) compact no-op reports of AGENTS (default 100) hosts with
 * INGEST_RESOURCES (default 5,000) resources each, CONCURRENCY (64) in flight, the path a
 * report takes past the HTTP edge: JSON.parse + schema guard + ReportService.ingest (digest
 * check, summary, drift hook, group commit). Baseline in the same run: the bare floor of
 * JSON.parse + one insertOne of the body per report into a collection of the same store. One
 * process, one thread: reports/min of CPU time (process.cpuUsage) is the per-core figure.
 *
 * Run: npm run bench:reports   (env: SIZES=5000,10000 POLLS=40 HOSTS=4 REPORTS=10000 AGENTS=100)
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { compactForDelivery } from '../../agent/daemon/report-compaction.js';
import { compileGuard, resourceId, runReportSchema, type Catalog, type Guard, type Resource, type RunReport } from '../../schemas/index.js';
import { systemClock } from '../../server/domain/clock.js';
import { CatalogIndexService } from '../../server/services/catalog-index.js';
import { DriftService } from '../../server/services/drift-service.js';
import { ReportService } from '../../server/services/report-service.js';
import { openStore, SQLITE_FILE_NAME } from '../../server/store/open.js';
import type { DocumentStore } from '../../server/store/types.js';

const SIZES = (process.env['SIZES'] ?? '5000,10000').split(',').map(Number);
const POLLS = Number(process.env['POLLS'] ?? 40);
const HOSTS = Number(process.env['HOSTS'] ?? 4);
const REPORTS = Number(process.env['REPORTS'] ?? 10_000);
const AGENTS = Number(process.env['AGENTS'] ?? 100);
const INGEST_RESOURCES = Number(process.env['INGEST_RESOURCES'] ?? 5000);
const CONCURRENCY = Number(process.env['CONCURRENCY'] ?? 64);
const KiB = 1024;

/** A catalog of `n` resources for `host`, in the id shapes real catalogs have. */
function catalogFor(host: string, n: number): Catalog {
  const resources: Resource[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 20;
    if (k < 14) resources.push({ type: 'file', path: `/srv/app-${Math.floor(i / 200)}/conf.d/service-${String(i).padStart(5, '0')}.conf`, content: `setting=${i}\n` } as Resource);
    else if (k < 17) resources.push({ type: 'package', name: `lib-bench-${String(i).padStart(5, '0')}`, ensure: 'present' } as Resource);
    else if (k < 19) resources.push({ type: 'service', name: `bench-${String(i).padStart(5, '0')}.service`, ensure: 'running' } as Resource);
    else resources.push({ type: 'user', name: `svc${String(i).padStart(5, '0')}`, ensure: 'present' } as Resource);
  }
  const id = createHash('sha256').update(JSON.stringify({ host, resources })).digest('hex');
  return { id, host, revision: id.slice(0, 16), resources };
}

/** The full report of a no-op run of `catalog`, as the engine builds it. */
function noopReport(catalog: Catalog, runId: string, startedAtMs: number): RunReport {
  const resources = catalog.resources.map((r, i) => ({ id: resourceId(r), type: r.type, state: 'in-sync' as const, changes: [], durationMs: i % 50 === 0 ? (i % 7) + 1 : 0 }));
  const n = resources.length;
  return {
    runId, host: catalog.host, catalogId: catalog.id, revision: catalog.revision, mode: 'apply', startedAt: new Date(startedAtMs).toISOString(), durationMs: 950,
    outcome: 'in-sync', counts: { total: n, inSync: n, changed: 0, wouldChange: 0, failed: 0, skipped: 0, corrective: 0 }, resources,
  };
}

/** Bytes of the store's database in use: (page_count - freelist_count) × page_size, committed WAL frames included. */
function usedBytes(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const pages = db.pragma('page_count', { simple: true }) as number;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    const size = db.pragma('page_size', { simple: true }) as number;
    return (pages - free) * size;
  } finally {
    db.close();
  }
}

interface Opened {
  readonly dir: string;
  readonly store: DocumentStore;
  readonly index: CatalogIndexService;
  readonly reports: ReportService;
}

async function open(compact: boolean): Promise<Opened> {
  const dir = mkdtempSync(join(os.tmpdir(), 'stead-reports-bench-'));
  const store = await openStore({ dataDir: dir });
  const drift = await DriftService.open(store);
  const index = await CatalogIndexService.open(store, systemClock);
  const reports = await ReportService.open(store, systemClock, { beforeStore: (s) => drift.record(s), ...(compact ? { catalogIndex: index } : {}), compactFull: compact });
  return { dir, store, index, reports };
}

async function close(o: Opened): Promise<void> {
  await o.store.close();
  rmSync(o.dir, { recursive: true, force: true });
}

type Variant = 'before' | 'after' | 'after (old)';

/** Store growth per no-op poll of `n`-resource hosts for one variant. */
async function growth(n: number, variant: Variant): Promise<{ perPoll: number; oneOff: number; wire: number }> {
  const o = await open(variant !== 'before');
  try {
    const file = join(o.dir, SQLITE_FILE_NAME);
    const catalogs = Array.from({ length: HOSTS }, (_, h) => catalogFor(`bench-${h}`, n));
    // Warm: each host's first report (tables and indexes created), then measure from there.
    const t0 = Date.UTC(2026, 11, 7, 10, 0, 0);
    const before0 = usedBytes(file);
    for (const c of catalogs) if (variant !== 'before') await o.index.record(c.id, c.host, c.resources.map(resourceId));
    const afterRecords = usedBytes(file);
    let wire = 0;
    const send = async (c: Catalog, k: number): Promise<void> => {
      const full = noopReport(c, `run-${k}`, t0 + k * 60_000);
      const body = variant === 'after' ? compactForDelivery(full, c) : full;
      if (!body) throw new Error('the no-op report did not compact');
      const text = JSON.stringify(body);
      wire = Buffer.byteLength(text);
      await o.reports.ingest(c.host, JSON.parse(text) as RunReport);
    };
    for (const [h, c] of catalogs.entries()) await send(c, -1 - h);
    const start = usedBytes(file);
    for (let k = 0; k < POLLS; k++) await send(catalogs[k % HOSTS]!, k);
    const end = usedBytes(file);
    const stored = await o.reports.count();
    if (stored !== POLLS + HOSTS) throw new Error(`stored ${stored} reports, expected ${POLLS + HOSTS}`);
    return { perPoll: (end - start) / POLLS, oneOff: (afterRecords - before0) / HOSTS, wire };
  } finally {
    await close(o);
  }
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Rate {
  readonly wallPerMin: number;
  readonly cpuPerMin: number;
  readonly p50: number;
  readonly p99: number;
}

/** Runs `one(i)` for i < REPORTS with CONCURRENCY in flight; reports per wall and per CPU minute. */
async function rate(name: string, one: (i: number) => Promise<unknown>): Promise<Rate> {
  const lat: number[] = new Array<number>(REPORTS);
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, REPORTS) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= REPORTS) return;
        const s = performance.now();
        await one(i);
        lat[i] = performance.now() - s;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  const cpu = (c.user + c.system) / 1e6;
  lat.sort((a, b) => a - b);
  const r = { wallPerMin: (REPORTS / wall) * 60, cpuPerMin: (REPORTS / cpu) * 60, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99) };
  console.log(`${name.padEnd(44)} ${wall.toFixed(2).padStart(6)} s wall ${cpu.toFixed(2).padStart(6)} s CPU  ${Math.round(r.wallPerMin).toLocaleString('en-US').padStart(9)} /min wall  ${Math.round(r.cpuPerMin).toLocaleString('en-US').padStart(9)} /CPU-min  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`);
  return r;
}

async function ingestRate(): Promise<void> {
  const o = await open(true);
  try {
    const guard: Guard<RunReport> = compileGuard(runReportSchema);
    const catalogs = Array.from({ length: AGENTS }, (_, h) => catalogFor(`agent-${String(h).padStart(5, '0')}`, INGEST_RESOURCES));
    for (const c of catalogs) await o.index.record(c.id, c.host, c.resources.map(resourceId));
    // Every body as the agent sends it (its own compaction code), serialised once up front.
    const t0 = Date.UTC(2026, 11, 7, 12, 0, 0);
    const bodies = catalogs.map((c) => JSON.stringify(compactForDelivery(noopReport(c, 'template', t0), c)));
    const bodyOf = (i: number): string => bodies[i % AGENTS]!.replace('"runId":"template"', `"runId":"poll-${i}"`).replace(/"startedAt":"[^"]+"/, `"startedAt":"${new Date(t0 + i * 1000).toISOString()}"`);
    const texts = Array.from({ length: REPORTS }, (_, i) => bodyOf(i));
    console.log(`\ningest: ${REPORTS.toLocaleString('en-US')} compact no-op reports of ${AGENTS} hosts × ${INGEST_RESOURCES.toLocaleString('en-US')} resources (${Buffer.byteLength(texts[0]!)} bytes each), ${CONCURRENCY} in flight`);
    const raw = await o.store.collection<{ _id: string; json: string }>('bench_floor', []);
    const floor = await rate('floor: JSON.parse + insertOne of the body', async (i) => {
      const r = JSON.parse(texts[i]!) as RunReport;
      await raw.insertOne({ _id: `${r.host}/${r.runId}`, json: texts[i]! });
    });
    const ingest = await rate('parse + guard + ReportService.ingest', async (i) => {
      const r = JSON.parse(texts[i]!) as unknown;
      guard.assert(r);
      const ack = await o.reports.ingest(r.host, r);
      if (ack.duplicate) throw new Error('duplicate');
    });
    if (o.reports.counters.compactReceived !== REPORTS) throw new Error(`${o.reports.counters.compactReceived} compact reports stored`);
    console.log(`ingest / floor: ${(ingest.cpuPerMin / floor.cpuPerMin).toFixed(2)} of the floor's reports per CPU-minute (${(ingest.wallPerMin / floor.wallPerMin).toFixed(2)} by wall time); p50 ${(ingest.p50 / floor.p50).toFixed(2)}x, p99 ${(ingest.p99 / floor.p99).toFixed(2)}x the floor`);
    console.log(`ingest: ${Math.round(ingest.cpuPerMin).toLocaleString('en-US')} agents/min/core (target ≥ 20,000)`);
  } finally {
    await close(o);
  }
}

async function main(): Promise<void> {
  console.log(`bench:reports — Node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)}, ${POLLS} no-op polls of ${HOSTS} hosts per variant`);
  console.log(`${'resources'.padEnd(10)} ${'variant'.padEnd(12)} ${'on the wire'.padStart(12)} ${'store / poll'.padStart(13)} ${'one-off / catalog'.padStart(18)}  vs before`);
  for (const n of SIZES) {
    let base = 0;
    for (const v of ['before', 'after', 'after (old)'] as const) {
      const g = await growth(n, v);
      if (v === 'before') base = g.perPoll;
      console.log(`${String(n).padEnd(10)} ${v.padEnd(12)} ${`${(g.wire / KiB).toFixed(1)} KiB`.padStart(12)} ${`${(g.perPoll / KiB).toFixed(1)} KiB`.padStart(13)} ${`${(g.oneOff / KiB).toFixed(1)} KiB`.padStart(18)}  ${(g.perPoll / base).toFixed(4)}${v !== 'before' && n === 5000 ? (g.perPoll <= 20 * KiB ? '  (target ≤ 20 KiB: met)' : '  (target ≤ 20 KiB: NOT met)') : ''}`);
    }
  }
  await ingestRate();
}

await main();
