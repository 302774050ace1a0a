/**
 * bench:fleet's harness (test/bench/fleet-bench.ts prints it; test/bench/fleet-bench.test.ts
 * runs it tiny). Phases, all against one real `stead server` process:
 *   1. seed N approved agent identities into the store (server's own store code), start the
 *      server publishing a generated repository with N hosts;
 *   2. warm-up: every agent's first, unconditional catalog fetch (each compiles once: the cost
 *      of a server restart), and report exemplars from the agent's engine;
 *   3. steady state: the open-loop fleet (poll + report per agent per interval) for `duration`;
 *   4. publish burst (unless `publish: false`): a revision that changes 10 % of the hosts'
 *      catalogs is published while the fleet keeps polling; every host downloads its catalog
 *      once (new catalog, or the same one naming the new revision); measured until every agent
 *      has polled after the publish went live;
 *   5. floor: the same simulator, same rate, polls only, against a bare node:http server
 *      answering 304.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { RunReport } from '../../schemas/index.js';
import { fleetHost, fleetRepository, fleetRole, type FleetRole } from './fleet-repository.js';
import { cpuSeconds, makeIdentities, mongoBytes, rssMiB, seedApprovedAgents, startFleetServer, type FleetServer } from './fleet-server.js';
import { engineReports, type ReportExemplars } from './fleet-reports.js';
import { firstPolls, makeAgents, openLoop, RouteStats, type SimAgent } from './fleet-sim.js';
import { startFloor } from './fleet-floor.js';
import { eventsWithin, FLEET_AHEAD_MAX_SECONDS, RawPool, signRun, type AheadRuns, type SignedRun } from './fleet-ahead.js';

export interface FleetBenchOptions {
  readonly mainJs: string;
  readonly agents: number;
  /** Seconds of steady state measured. */
  readonly durationS: number;
  /** Seconds between one agent's runs (poll + report). */
  readonly intervalS: number;
  readonly store: 'sqlite' | 'mongo';
  /** mongodb:// URL with the database to use (store mongo). */
  readonly mongodbUrl?: string;
  readonly publish: boolean;
  /** Share of runs that find drift. */
  readonly driftShare: number;
  /** Keep-alive connections the simulator shares. */
  readonly sockets: number;
  /**
   * Sign the steady state's and the floor's requests before their window (fleet-ahead.ts), so
   * that the simulator's signing and HTTP client do not take the server's CPU; false signs
   * every request as it is sent, through AgentClient (and allows windows over 200 s).
   */
  readonly signAhead: boolean;
  /** First polls in flight at once during warm-up. */
  readonly warmConcurrency: number;
  readonly floorS: number;
  /** Node.js options for the server process (e.g. V8's `--max-semi-space-size=64`). */
  readonly serverNodeArgs?: readonly string[];
  /** Directory for the server's --cpu-prof output (profiles the whole run). */
  readonly cpuProfDir?: string;
  readonly log: (line: string) => void;
}

export interface Phase {
  readonly seconds: number;
  readonly routes: ReturnType<RouteStats['summary']>;
  readonly errors: Record<string, number>;
  readonly lateStarts: number;
}

function phase(st: RouteStats, seconds: number): Phase {
  return { seconds: +seconds.toFixed(1), routes: st.summary(), errors: Object.fromEntries(st.errors), lateStarts: st.lateStarts };
}

function operatorPost(base: URL, token: string, path: string, body: unknown): Promise<{ status: number; body: string }> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const r = http.request({ host: base.hostname, port: base.port, method: 'POST', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(data.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    r.on('error', reject);
    r.end(data);
  });
}

/** Logical bytes of the embedded store (pages in use, WAL included), read-only beside the server. */
function sqliteLogicalBytes(dataDir: string): number {
  const db = new Database(join(dataDir, 'stead.db'), { readonly: true, fileMustExist: true });
  try {
    const n = (p: string): number => Number(db.pragma(p, { simple: true }));
    return (n('page_count') - n('freelist_count')) * n('page_size');
  } finally {
    db.close();
  }
}

export async function runFleetBench(o: FleetBenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(os.tmpdir(), 'stead-bench-fleet-'));
  const out: Record<string, unknown> = {
    simulated: { agents: o.agents, runIntervalSeconds: o.intervalS, eachRun: 'signed conditional catalog GET, then a signed run report POST', driftShareOfRuns: o.driftShare, steadySeconds: o.durationS, store: o.store, sharedConnections: o.sockets, signing: o.signAhead ? 'ahead: steady state and floor requests signed before their window, sent on raw keep-alive sockets (test/helpers/fleet-ahead.ts)' : 'live: every request signed as it is sent, through AgentClient and node:http' },
    machine: { cpus: os.cpus().length, node: process.version, loadAverageAtStart: os.loadavg().map((l) => +l.toFixed(2)) },
  };
  if (o.signAhead && Math.max(o.durationS, o.floorS) > FLEET_AHEAD_MAX_SECONDS) {
    throw new Error(`requests signed ahead must reach the server within its 300 s clock window: --duration and --floor at most ${FLEET_AHEAD_MAX_SECONDS} s, or sign live (--sign live)`);
  }
  const signAll = (agents: readonly SimAgent[], origin: URL, windowS: number, reportsFor?: (host: string) => ReportExemplars): { runs: SignedRun[]; ms: number } => {
    const t0 = performance.now();
    const runs = Array.from({ length: eventsWithin(agents.length, o.intervalS * 1000, windowS * 1000) }, (_, k) => signRun(agents[k % agents.length]!, origin, reportsFor, o.driftShare));
    return { runs, ms: performance.now() - t0 };
  };
  let server: FleetServer | undefined;
  const transports: { close(): void }[] = [];
  try {
    const writeRepo = (sub: string, files: Record<string, string>): string => {
      for (const [p, c] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, sub, p)), { recursive: true });
        writeFileSync(join(dir, sub, p), c);
      }
      return join(dir, sub);
    };
    const repoDir = writeRepo('repo', fleetRepository(o.agents, 0));
    let t = performance.now();
    const ids = makeIdentities(Array.from({ length: o.agents }, (_, i) => fleetHost(i)));
    o.log(`keys: ${o.agents} Ed25519 key pairs in ${Math.round(performance.now() - t)} ms`);
    const dataDir = join(dir, 'data');
    const seedMs = await seedApprovedAgents(o.store === 'mongo' ? { mongodbUrl: o.mongodbUrl! } : { dataDir }, ids);
    o.log(`seeded ${o.agents} approved agents into the store in ${Math.round(seedMs)} ms`);
    t = performance.now();
    server = await startFleetServer({ mainJs: o.mainJs, dataDir, repoDir, ...(o.store === 'mongo' ? { mongodbUrl: o.mongodbUrl! } : {}), nodeArgs: [...(o.serverNodeArgs ?? []), ...(o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : [])] });
    const startS = (performance.now() - t) / 1000;
    o.log(`server started and published ${o.agents} hosts in ${startS.toFixed(1)} s`);
    const pid = server.pid;
    const storeBytes = async (): Promise<number> => (o.store === 'mongo' ? mongoBytes(o.mongodbUrl!) : sqliteLogicalBytes(dataDir));
    out['setup'] = { seedAgentsMs: Math.round(seedMs), serverStartAndPublishSeconds: +startS.toFixed(1), enrollment: 'seeded through the server\'s store code (openStore, agents collection) before start, not through the API' };

    const { agents, transport } = makeAgents(ids, server.url.origin, o.sockets);
    transports.push(transport);

    // 2. report exemplars from the engine (one host per role), then the warm-up: every agent's
    // first run (unconditional catalog fetch, compiled now; then its report, so the server knows
    // which revision each host runs, as it does for a fleet that has been running).
    const firstOf = new Map<FleetRole, number>();
    for (let i = 0; i < o.agents && firstOf.size < 4; i++) if (!firstOf.has(fleetRole(i))) firstOf.set(fleetRole(i), i);
    const exemplars = new Map<FleetRole, ReportExemplars>();
    for (const [role, i] of firstOf) {
      const a = agents[i]!;
      const r = await a.client.fetchCatalog(undefined, AbortSignal.timeout(600_000));
      if (r.kind !== 'catalog') throw new Error('no catalog for the exemplar');
      exemplars.set(role, await engineReports(r.catalog, a.client, join(dir, `engine-${role}`)));
    }
    const roleOf = new Map(agents.map((a, i) => [a.id.host, fleetRole(i)]));
    const reportsFor = (host: string): ReportExemplars => exemplars.get(roleOf.get(host)!) ?? exemplars.values().next().value!;
    const warm = new RouteStats();
    const cpuW = cpuSeconds(pid);
    const warmMs = await firstPolls(agents, o.warmConcurrency, warm, reportsFor);
    const missing = agents.filter((a) => a.catalogId === undefined).length;
    out['warmup'] = { firstPollsPerSecond: Math.round(o.agents / (warmMs / 1000)), serverCpuMsPerFirstPoll: +(((cpuSeconds(pid) - cpuW) * 1000) / o.agents).toFixed(2), withoutCatalog: missing, ...phase(warm, warmMs / 1000) };
    o.log(`warm-up: ${o.agents} first runs (each poll compiles) in ${(warmMs / 1000).toFixed(1)} s`);
    if (missing > 0) throw new Error(`${missing} agents got no catalog in the warm-up: ${JSON.stringify(Object.fromEntries(warm.errors)).slice(0, 500)}`);
    const size = (r: RunReport): number => Buffer.byteLength(JSON.stringify(r));
    const web = exemplars.get('web') ?? exemplars.values().next().value!;
    out['reportBytes'] = { inSync: size(web.inSync), drift: size(web.drift), resources: web.inSync.resources.length };

    // 3 + 4. steady state, then the publish burst, in one open-loop run.
    let ahead: AheadRuns | undefined;
    if (o.signAhead) {
      const { runs, ms } = signAll(agents, server.url, o.durationS, reportsFor);
      const pool = new RawPool(server.url, o.sockets);
      transports.push(pool);
      ahead = { pool, runs };
      out['signedAhead'] = { requests: runs.length + runs.filter((r) => r.report).length, seconds: +(ms / 1000).toFixed(1), bytes: runs.reduce((n, r) => n + r.get.length + (r.report?.length ?? 0), 0) };
      o.log(`signed the steady state's ${runs.length} runs ahead in ${(ms / 1000).toFixed(1)} s`);
    }
    const steady = new RouteStats();
    const burst = new RouteStats();
    const intervalMs = o.intervalS * 1000;
    const startMs = performance.now() + 200;
    const publishAt = startMs + o.durationS * 1000;
    let endMs = o.publish ? Number.POSITIVE_INFINITY : publishAt;
    let live = Number.NaN;
    const downloads: { at: number; bytes: number; newId: boolean }[] = [];
    const bytes0 = await storeBytes();
    const cpu0 = cpuSeconds(pid);
    const loop0 = cpuSeconds(pid, true);
    const gen0 = process.cpuUsage();
    let steadyCpu = Number.NaN;
    let steadyLoop = Number.NaN;
    let steadyGen = Number.NaN;
    let steadyBytes = Number.NaN;
    let rssPeakSteady = 0;
    let rssPeakAll = 0;
    const sampler = setInterval(() => {
      const r = rssMiB(pid).now;
      rssPeakAll = Math.max(rssPeakAll, r);
      if (performance.now() < publishAt) rssPeakSteady = Math.max(rssPeakSteady, r);
    }, 500);
    let publish: Promise<void> = Promise.resolve();
    const publishTimer = setTimeout(() => {
      steadyCpu = cpuSeconds(pid) - cpu0;
      steadyLoop = cpuSeconds(pid, true) - loop0;
      const g = process.cpuUsage(gen0);
      steadyGen = (g.user + g.system) / 1e6;
      publish = (async () => {
        steadyBytes = (await storeBytes()) - bytes0;
        if (!o.publish) return;
        const t0 = performance.now();
        downloads.length = 0;
        const r = await operatorPost(server!.url, server!.adminToken, '/api/v1/revisions', { files: fleetRepository(o.agents, 1), message: 'bench:fleet: db pool size' });
        live = performance.now();
        if (r.status !== 200 && r.status !== 201) throw new Error(`publish: ${r.status} ${r.body.slice(0, 300)}`);
        out['publish'] = { requestSeconds: +((live - t0) / 1000).toFixed(1) };
        o.log(`published generation 1 in ${((live - t0) / 1000).toFixed(1)} s; fleet keeps polling for one interval after it went live`);
        endMs = live + intervalMs;
      })();
      publish.catch(() => { endMs = publishAt; });
    }, Math.max(0, publishAt - performance.now()));
    o.log(`steady state: ${o.agents} agents, one run each every ${o.intervalS} s (${(o.agents / o.intervalS).toFixed(1)} polls/s + as many reports/s), ${o.durationS} s measured`);
    await openLoop(agents, intervalMs, startMs, () => endMs, {
      reportsFor,
      driftShare: o.driftShare,
      statsFor: (due) => (due < publishAt ? steady : burst),
      onDownload: (b, at, newId) => { if (at >= publishAt) downloads.push({ at, bytes: b, newId }); },
      ...(ahead ? { ahead } : {}),
    });
    ahead?.pool.close();
    clearTimeout(publishTimer);
    await publish;
    clearInterval(sampler);
    const cpuAll = cpuSeconds(pid) - cpu0;
    const polls = steady.count('GET catalog 304') + steady.count('GET catalog 200');
    const reports = steady.count('POST report') + steady.count('POST report (drift)');
    const intended = o.agents / o.intervalS;
    const growthPerReport = reports > 0 ? steadyBytes / reports : Number.NaN;
    out['steady'] = {
      ...phase(steady, o.durationS),
      intendedPollsPerSecond: +intended.toFixed(1),
      achievedPollsPerSecond: +(polls / o.durationS).toFixed(1),
      achievedReportsPerSecond: +(reports / o.durationS).toFixed(1),
      serverCpuCores: +(steadyCpu / o.durationS).toFixed(3),
      serverCpuMicrosecondsPerRun: Math.round((steadyCpu / Math.max(1, polls)) * 1e6),
      serverEventLoopCores: +(steadyLoop / o.durationS).toFixed(3),
      serverEventLoopMicrosecondsPerRun: Math.round((steadyLoop / Math.max(1, polls)) * 1e6),
      simulatorCpuCores: +(steadyGen / o.durationS).toFixed(3),
      serverRssPeakMiB: Math.round(rssPeakSteady),
      storeGrowthBytes: steadyBytes,
      storeGrowthBytesPerReport: Math.round(growthPerReport),
      storeGrowthPerDayMiB: +((growthPerReport * o.agents * (86_400 / o.intervalS)) / 2 ** 20).toFixed(1),
      storeGrowthPerDayPer1000AgentsMiB: +((growthPerReport * 1000 * (86_400 / o.intervalS)) / 2 ** 20).toFixed(2),
    };
    if (o.publish && Number.isFinite(live)) {
      // Every download since the publish request was sent (the revision goes live on the server a
      // little before the request's answer arrives here).
      const after = downloads;
      const last = after.length > 0 ? Math.max(...after.map((d) => d.at)) : live;
      const got = agents.filter((a) => a.downloads >= 2).length; // warm-up + the burst
      out['publish'] = {
        ...(out['publish'] as object),
        ...phase(burst, (endMs - publishAt) / 1000),
        catalogDownloads: after.length,
        newCatalogs: after.filter((d) => d.newId).length,
        sameCatalogResent: after.filter((d) => !d.newId).length,
        agentsThatDownloaded: got,
        bytesSent: after.reduce((s, d) => s + d.bytes, 0),
        secondsFromLiveUntilLastDownload: +(Math.max(0, last - live) / 1000).toFixed(1),
        note: 'after the last download every poll is a 304 again; an agent polls once per interval, so the burst cannot end before one interval has passed',
      };
    }
    out['server'] = { cpuSecondsAllPhases: +cpuAll.toFixed(1), rssPeakMiB: Math.round(rssPeakAll), vmHwmMiB: Math.round(rssMiB(pid).peak), rssEndMiB: Math.round(rssMiB(pid).now) };
    out['storeBytesEnd'] = await storeBytes();
    transport.close();
    await server.stop();
    server = undefined;

    // 5. floor.
    const floor = await startFloor();
    try {
      const { agents: fa, transport: ft } = makeAgents(ids, floor.url, o.sockets);
      transports.push(ft);
      for (const a of fa) a.catalogId = 'floor';
      let fAhead: AheadRuns | undefined;
      if (o.signAhead) {
        const pool = new RawPool(new URL(floor.url), o.sockets);
        transports.push(pool);
        fAhead = { pool, runs: signAll(fa, new URL(floor.url), o.floorS).runs };
      }
      const fs = new RouteStats();
      const fStart = performance.now() + 200;
      const fCpu0 = cpuSeconds(floor.pid);
      await openLoop(fa, intervalMs, fStart, () => fStart + o.floorS * 1000, { driftShare: 0, statsFor: () => fs, ...(fAhead ? { ahead: fAhead } : {}) });
      const fsum = fs.summary()['GET catalog 304'];
      out['floor'] = { ...phase(fs, o.floorS), serverCpuCores: +((cpuSeconds(floor.pid) - fCpu0) / o.floorS).toFixed(3) };
      const srv = (out['steady'] as Phase).routes['GET catalog 304'];
      if (fsum && srv) out['ratios'] = { p50: +(srv.p50ms / fsum.p50ms).toFixed(1), p99: +(srv.p99ms / fsum.p99ms).toFixed(1), note: 'server GET catalog 304 over the floor\'s 304 at the same rate' };
      ft.close();
    } finally {
      await floor.stop();
    }
    out['machine'] = { ...(out['machine'] as object), loadAverageAtEnd: os.loadavg().map((l) => +l.toFixed(2)) };
    return out;
  } finally {
    for (const tr of transports) tr.close();
    if (server) await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
