/**
 * bench:inventory — ingesting agents' inventory reports (ADR 0018 §5) through SoftwareService on
 * the embedded store, against a same-run baseline: the raw store write of the same documents.
 *
 * Each simulated agent's report is what a typical host sends: 50 tracked dpkg packages, 10
 * tracked services (systemd), 2 virtual resources, no errors (about 6 KB of JSON). For AGENTS
 * agents (default 10,000), with CONCURRENCY reports in flight at once (default 64, as a busy
 * server's event loop would interleave them):
 *
 *   1. baseline: `replaceOne({_id: host}, {report as JSON text, receivedAt}, upsert)` into a
 *      collection of its own — the one store write an ingest cannot avoid;
 *   2. first ingest: SoftwareService.ingest of every agent's report (host documents created);
 *   3. table load: the first package table request (the in-memory index is loaded from the
 *      store once), then the fleet view and the drift table;
 *   4. steady ingest: every agent again with one package upgraded and one service failed (drift
 *      memory moves, the loaded index is updated in place).
 *
 * Figures: reports/s and per-report latency p50/p99, and the ratio of each ingest figure to the
 * baseline of the same run (what the service costs above the one write).
 *
 * Run: node dist/test/bench/inventory-ingest-bench.js   (env: AGENTS=10000, CONCURRENCY=64)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AgentInventoryReport } from '../../schemas/inventory-protocol.js';
import { agentInventoryReportSchema } from '../../schemas/inventory-protocol.js';
import { compileGuard } from '../../schemas/validate.js';
import { systemClock } from '../../server/domain/clock.js';
import { AuditLog } from '../../server/services/audit-log.js';
import type { JobService } from '../../server/services/jobs/job-service.js';
import type { RolloutService } from '../../server/services/rollouts/rollout-service.js';
import { SoftwareService } from '../../server/services/software/software-service.js';
import { openStore } from '../../server/store/open.js';

const AGENTS = Number(process.env['AGENTS'] ?? 10_000);
const CONCURRENCY = Number(process.env['CONCURRENCY'] ?? 64);
const PACKAGES = 50;
const SERVICES = 10;
const admin = { name: 'bench', role: 'admin' as const };

function host(i: number): string {
  return `bench-${String(i).padStart(5, '0')}`;
}

function report(i: number, round: number): AgentInventoryReport {
  return {
    configVersion: 'bench',
    collectedAt: new Date(Date.UTC(2026, 11, 7, 10, round, 0)).toISOString(),
    packages: Array.from({ length: PACKAGES }, (_, p) => ({ name: `pkg-${p}`, manager: 'dpkg' as const, version: `1.${p}.${(i + p + (round > 0 && p === 0 ? 1 : 0)) % 4}-1+deb12u${(i % 3) + 1}`, arch: 'amd64' })),
    services: Array.from({ length: SERVICES }, (_, s) => ({
      name: `svc-${s}`,
      state: round > 0 && s === 0 && i % 10 === 0 ? ('failed' as const) : ('running' as const),
      pid: round > 0 && s === 0 && i % 10 === 0 ? null : 1000 + s,
      startedAt: round > 0 && s === 0 && i % 10 === 0 ? null : '2026-12-07T08:00:00.000Z',
      user: 'root',
      processes: 1,
    })),
    virtuals: [
      { kind: 'container' as const, name: `c-${i}-a`, state: 'running', source: 'docker' },
      { kind: 'vm' as const, name: `vm-${i}`, state: 'running', source: 'libvirt', attributes: { vcpus: 2, memoryMiB: 4096 } },
    ],
    errors: [],
  };
}

interface Phase {
  readonly name: string;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Runs `one(i)` for every agent with CONCURRENCY in flight; per-call latency in ms. */
async function phase(name: string, one: (i: number) => Promise<unknown>): Promise<Phase> {
  const lat: number[] = new Array(AGENTS);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, AGENTS) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= AGENTS) return;
        const s = performance.now();
        await one(i);
        lat[i] = performance.now() - s;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const r = { name, seconds, perSecond: AGENTS / seconds, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99) };
  console.log(`${name.padEnd(34)} ${seconds.toFixed(2).padStart(7)} s  ${r.perSecond.toFixed(0).padStart(7)} reports/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`);
  return r;
}

async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const s = performance.now();
  const v = await fn();
  console.log(`${name.padEnd(34)} ${((performance.now() - s) / 1000).toFixed(3)} s`);
  return v;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'stead-inventory-bench-'));
  const store = await openStore({ dataDir: dir });
  try {
    const auditLog = await AuditLog.open(store, systemClock);
    // Ingest and tables never launch jobs: the job core is not part of what is measured.
    const sw = await SoftwareService.open(store, systemClock, { jobs: undefined as unknown as JobService, rollouts: undefined as unknown as RolloutService, auditLog });
    for (let p = 0; p < PACKAGES; p++) await sw.trackPackage('dpkg', `pkg-${p}`, { name: `pkg-${p}`, manager: 'dpkg', approved: `1.${p}.2-1+deb12u2` }, admin);
    for (let s = 0; s < SERVICES; s++) await sw.trackService(`svc-${s}`, { name: `svc-${s}`, kind: 'systemd' }, admin);
    const first = Array.from({ length: AGENTS }, (_, i) => report(i, 0));
    const second = Array.from({ length: AGENTS }, (_, i) => report(i, 1));
    const bytes = Buffer.byteLength(JSON.stringify(first[0]));
    console.log(`inventory ingest: ${AGENTS} agents, ${PACKAGES} packages + ${SERVICES} services + 2 virtuals per report (${bytes} bytes of JSON), ${CONCURRENCY} in flight, Node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)}`);

    const guard = compileGuard(agentInventoryReportSchema);
    await timed('schema validation of every report', async () => {
      for (const r of first) if (guard.check(JSON.parse(JSON.stringify(r))).length > 0) throw new Error('invalid bench report');
    });
    const raw = await store.collection<{ _id: string; receivedAt: number; reportJson: string }>('bench_raw_reports', [{ name: 'received_at', fields: { receivedAt: 1 } }]);
    const baseline = await phase('baseline: raw store write', (i) => raw.replaceOne({ _id: host(i) }, { _id: host(i), receivedAt: Date.now(), reportJson: JSON.stringify(first[i]) }, { upsert: true }));
    const ingest1 = await phase('SoftwareService.ingest, first', (i) => sw.ingest(host(i), first[i]!));
    const table = await timed('first table (loads the index)', () => sw.packageTable({ limit: 100 }));
    if (table.total !== AGENTS * PACKAGES) throw new Error(`table has ${table.total} rows`);
    await timed('package table, fleet view of 1', () => sw.packageTable({ name: 'pkg-0', limit: 100 }));
    await timed('package table, outdated rows', () => sw.packageTable({ status: 'outdated', limit: 100 }));
    const ingest2 = await phase('SoftwareService.ingest, steady', (i) => sw.ingest(host(i), second[i]!));
    const drift = await timed('service table, drift only', () => sw.serviceTable({ drift: true, limit: 100 }));
    if (drift.total !== AGENTS / 10) throw new Error(`drift table has ${drift.total} rows, expected ${AGENTS / 10}`);
    console.log('');
    for (const p of [ingest1, ingest2]) {
      console.log(`${p.name}: reports/s ratio ${(p.perSecond / baseline.perSecond).toFixed(2)} of baseline; p50 ${(p.p50 / baseline.p50).toFixed(2)}x, p99 ${(p.p99 / baseline.p99).toFixed(2)}x baseline`);
    }
    const mem = process.memoryUsage();
    console.log(`heap used ${(mem.heapUsed / 1048576).toFixed(0)} MiB, rss ${(mem.rss / 1048576).toFixed(0)} MiB (with the index of ${AGENTS} hosts and the bench's own ${2 * AGENTS} report objects)`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
