/**
 * `npm run bench:agent`: what every poll of the real `stead agent` daemon costs at N managed
 * files, and its memory, against the physical floor.
 *
 * bench:apply measures the engine alone (reconcile() in a child process). This bench runs the
 * product: a real `stead server` process (embedded store, loopback, free port) with the
 * bench:apply layout published as a manifest repository (test/helpers/bench-agent-repository.ts),
 * and a real `stead agent` process started as the shipped unit starts it (`MALLOC_ARENA_MAX=2
 * node dist/cli/main.js agent --server … --interval I --splay 0 --json`), which enrolls with a bootstrap token, fetches its
 * catalog and blobs, applies (the first run), then polls: signed conditional catalog request
 * (304), blob-cache check, engine no-op run, report written to its on-disk spool and delivered.
 *
 * Per run it takes, at the agent's `run finished` log line: the engine's durationMs, the agent
 * process's CPU time (utime + stime from /proc/<pid>/stat; the delta between two runs is the
 * whole poll: HTTP, spool, report, timers and GC while idle), its VmRSS and its peak RSS
 * (VmHWM in /proc/<pid>/status). The peak is reset after each reading (`5` written to
 * /proc/<pid>/clear_refs, Linux ≥ 4.0), so each figure is the peak of one window: the first
 * run's catalog and blob fetch (up to its `new catalog` line), its engine run and report, then
 * each poll (from one `run finished` line to the next). Where the reset is refused, VmHWM is the
 * process's peak so far and is labelled so. The server's CPU per run comes from /proc too, and
 * its access log (info level, its default) gives the server time of each agent request, by
 * route, for the first run and per poll. The report's size is read back from the server.
 * After the agent stops, the bench process measures the floor over the same files under the
 * agent's root: the faster of a sync and an async lstat + readFile + sha256 loop, median of
 * BENCH_REPEAT. Every figure is printed with its ratio to the floor.
 *
 * Exit: 0; 2 when the runs were not what a healthy agent does (first run not `changed` on a
 * fresh catalog, a poll not `in-sync` on an unchanged one, a warning or error logged — listed
 * under "problems"); 1 on failure (stable codes BENCH_*); 130 when interrupted.
 *
 * Environment: BENCH_N=10000 (files), BENCH_POLLS=15 (no-op polls after the first run),
 * BENCH_INTERVAL=1 (the agent's --interval, seconds, ≥ 1), BENCH_NODE_FLAGS="" (node flags for
 * the agent process only), BENCH_AGENT_ENV=inherit (the agent without the MALLOC_ARENA_MAX=2
 * that docs/systemd/stead-agent.service and the `stead` command give it),
 * BENCH_REPEAT=5 (floor repetitions), BENCH_KEEP=1 (keep the work directory), BENCH_JSON=1 or
 * --json (one JSON object on stdout instead of the text). Progress goes to stderr.
 *
 * Every process started here runs in its own process group and is killed on exit, on error and
 * on SIGINT/SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { benchHost, benchLayout, benchRepository, benchResourceCount } from '../helpers/bench-agent-repository.js';
import { measureFloor, median } from '../helpers/bench-floor.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The package root: dist/test/bench/ → ../../.., test/bench/ → ../.. */
const repoRoot = here.includes(`${join('dist', 'test')}`) ? join(here, '..', '..', '..') : join(here, '..', '..');
const mainJs = join(repoRoot, 'dist', 'cli', 'main.js');

/** A bench failure with a stable code (the message says what was seen). */
class BenchError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'BenchError';
    this.code = code;
  }
}

interface Config {
  readonly n: number;
  readonly polls: number;
  readonly intervalS: number;
  readonly nodeFlags: string[];
  readonly repeat: number;
  readonly keep: boolean;
  readonly json: boolean;
}

function intEnv(name: string, def: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new BenchError('BENCH_USAGE', `${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return v;
}

function config(): Config {
  return {
    n: intEnv('BENCH_N', 10_000, 1),
    polls: intEnv('BENCH_POLLS', 15, 1),
    intervalS: intEnv('BENCH_INTERVAL', 1, 1),
    nodeFlags: (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== ''),
    repeat: intEnv('BENCH_REPEAT', 5, 1),
    keep: process.env['BENCH_KEEP'] === '1',
    json: process.env['BENCH_JSON'] === '1' || process.argv.includes('--json'),
  };
}

const progress = (msg: string): void => {
  process.stderr.write(`[bench:agent ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

// ---------------------------------------------------------------- processes

/** Children started by the bench, each the leader of its own process group. */
const children = new Set<ChildProcess>();

function alive(c: ChildProcess): boolean {
  return c.exitCode === null && c.signalCode === null;
}

/** Signals a child's whole process group (it was spawned detached, so its pid is the group id). */
function signalGroup(c: ChildProcess, sig: NodeJS.Signals): void {
  if (c.pid === undefined) return;
  try {
    process.kill(-c.pid, sig);
  } catch {
    // already gone
  }
}

function exited(c: ChildProcess): Promise<void> {
  if (!alive(c)) return Promise.resolve();
  return new Promise((resolve) => c.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
async function stopChild(c: ChildProcess, graceMs = 20_000): Promise<void> {
  if (alive(c)) {
    signalGroup(c, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited(c), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    if (alive(c)) {
      signalGroup(c, 'SIGKILL');
      await exited(c);
    }
  }
  // whatever the leader left behind in its group
  signalGroup(c, 'SIGKILL');
  children.delete(c);
}

function killAllNow(): void {
  for (const c of children) signalGroup(c, 'SIGKILL');
}
process.on('exit', killAllNow);

/**
 * The agent's environment as docs/systemd/stead-agent.service sets it (MALLOC_ARENA_MAX=2: glibc
 * malloc arenas, ~7-10 MB of the agent's RSS at N = 10,000); BENCH_AGENT_ENV=inherit runs it
 * with this process's environment only (an agent started by hand), an explicit
 * MALLOC_ARENA_MAX in the environment wins.
 */
const agentEnv: Record<string, string> = process.env['BENCH_AGENT_ENV'] === 'inherit' ? {} : { MALLOC_ARENA_MAX: process.env['MALLOC_ARENA_MAX'] ?? '2' };

function startNode(flags: string[], args: string[], extraEnv: Record<string, string> = {}): ChildProcess {
  const c = spawn(process.execPath, [...flags, mainJs, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...extraEnv } });
  children.add(c);
  return c;
}

function onLines(stream: NodeJS.ReadableStream | null, fn: (line: string) => void): void {
  if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', fn);
}

/**
 * Polls `probe` until it returns a value other than undefined; throws after `timeoutMs`. A probe
 * may throw to stop waiting at once (the process it waits on exited).
 */
async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number, signal: AbortSignal): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    signal.throwIfAborted();
    const v = probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new BenchError('BENCH_TIMEOUT', `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------- /proc

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const v = Number(r.stdout?.trim());
  return Number.isFinite(v) && v > 0 ? v : 100;
})();

/** The process's CPU time (utime + stime) in ms, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/**
 * Resets the process's VmHWM to its current RSS (writes `5` to /proc/<pid>/clear_refs, allowed
 * for our own processes). Returns false when the kernel refuses.
 */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** VmRSS and VmHWM (peak RSS since start or the last resetPeak) in MiB, from /proc/<pid>/status. */
function memMb(pid: number): { rssMb: number; hwmMb: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

// ---------------------------------------------------------------- HTTP

function request(url: string, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) }, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------- figures

/** What the bench saw at one `run finished` line of the agent. */
interface RunSample {
  readonly index: number;
  readonly runId: string;
  readonly catalogSource: string;
  readonly outcome: string;
  readonly counts: Record<string, number>;
  /** The engine's own duration (report.durationMs). */
  readonly engineMs: number;
  /** Agent CPU since the previous sample (the first: since the process started). */
  readonly cpuMs: number;
  /** Server CPU since the previous sample (the first: since the agent was spawned). */
  readonly serverCpuMs: number;
  /** Wall time since the previous run finished, minus the interval (the first: since the agent was spawned). */
  readonly wallMs: number;
  readonly rssMb: number;
  /** VmHWM: the peak RSS since the previous sample (or since start when peaks cannot be reset). */
  readonly hwmMb: number;
}


function gitInfo(): { commit: string; dirtyProductFiles: number } {
  const commit = spawnSync('git', ['log', '-1', '--format=%h'], { cwd: repoRoot, encoding: 'utf8' }).stdout?.trim() || 'unknown';
  const st = spawnSync('git', ['status', '--porcelain', '--', 'agent', 'cli', 'server', 'compiler', 'schemas'], { cwd: repoRoot, encoding: 'utf8' }).stdout ?? '';
  return { commit, dirtyProductFiles: st.split('\n').filter((l) => l.trim() !== '').length };
}


function dirStats(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  try {
    for (const name of readdirSync(dir)) {
      const s = statSync(join(dir, name));
      if (s.isFile()) {
        files++;
        bytes += s.size;
      }
    }
  } catch {
    // absent
  }
  return { files, bytes };
}

function fileSize(p: string): number | undefined {
  try {
    return statSync(p).size;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- main

async function bench(cfg: Config, base: string, signal: AbortSignal): Promise<Record<string, unknown>> {
  const git = gitInfo();
  const out: Record<string, unknown> = {
    n: cfg.n,
    resources: benchResourceCount(cfg.n),
    polls: cfg.polls,
    intervalSeconds: cfg.intervalS,
    agentNodeFlags: cfg.nodeFlags.join(' '),
    node: process.version,
    cpus: os.cpus().length,
    commit: git.commit,
    uncommittedProductFiles: git.dirtyProductFiles,
    loadAverageAtStart: os.loadavg().map((l) => +l.toFixed(2)),
    workDir: base,
  };
  const repoDir = join(base, 'repo');
  const serverData = join(base, 'server-data');
  const agentData = join(base, 'agent-data');
  const root = join(base, 'root');
  mkdirSync(root, { recursive: true });

  // 1. The repository (also written to disk, so `stead compile` can be run on it by hand with BENCH_KEEP=1).
  progress(`generating the repository for N = ${cfg.n} (${benchResourceCount(cfg.n)} resources)`);
  const files = benchRepository(cfg.n);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(repoDir, rel)), { recursive: true });
    writeFileSync(join(repoDir, rel), content);
  }
  const uploadBody = JSON.stringify({ files, message: `bench:agent N=${cfg.n}` });
  out['repositoryFiles'] = Object.keys(files).length;
  out['uploadBytes'] = Buffer.byteLength(uploadBody);

  // 2. The server.
  /** The server's access-log lines for requests signed by the agent. */
  const agentRequests: { t: number; route: string; ms: number }[] = [];
  progress('starting stead server');
  // Info level, the server's default: its access log says what each agent request cost the server.
  const server = startNode([], ['server', '--port', '0', '--host', '127.0.0.1', '--data-dir', serverData, '--json', '--log-level', 'info']);
  const serverErr: string[] = [];
  let serverUrl: string | undefined;
  const onServerLine = (l: string) => {
    const m = /"event":"listening","url":"([^"]+)"/.exec(l);
    if (m) serverUrl = m[1];
    if (!l.includes('"msg":"request"')) {
      serverErr.push(l);
      if (serverErr.length > 50) serverErr.shift();
      return;
    }
    try {
      const e = JSON.parse(l) as Record<string, unknown>;
      if (typeof e['principal'] === 'string' && e['principal'].startsWith('agent:') && typeof e['time'] === 'string') {
        agentRequests.push({ t: Date.parse(e['time']), route: `${String(e['method'])} ${String(e['route'])} ${String(e['status'])}`, ms: Number(e['ms']) });
      }
    } catch {
      // not JSON
    }
  };
  onLines(server.stdout, onServerLine);
  onLines(server.stderr, onServerLine);
  const serverExited = () => {
    if (!alive(server)) throw new BenchError('BENCH_SERVER_EXITED', `stead server exited (${server.exitCode ?? server.signalCode}): ${serverErr.slice(-5).join(' | ')}`);
  };
  const url = await waitFor('the server to listen', () => (serverExited(), serverUrl), 120_000, signal);
  const admin = readFileSync(join(serverData, 'admin-token'), 'utf8').trim();
  const op = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
  const api = async (method: string, path: string, body?: unknown, timeoutMs = 60_000) => {
    const r = await request(new URL(path, url).toString(), method, body !== undefined ? op : { authorization: op.authorization }, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), timeoutMs);
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.text);
    } catch {
      parsed = r.text;
    }
    return { status: r.status, body: parsed as Record<string, unknown>, bytes: Buffer.byteLength(r.text) };
  };

  // Publish (the server validates the whole repository in its compile worker).
  progress(`publishing the repository (${(Buffer.byteLength(uploadBody) / 1024 / 1024).toFixed(1)} MB, ${Object.keys(files).length} files)`);
  const t0 = performance.now();
  const pub = await api('POST', '/api/v1/revisions', uploadBody, 15 * 60_000);
  if (pub.status !== 201) throw new BenchError('BENCH_PUBLISH_REFUSED', `publish answered ${pub.status}: ${JSON.stringify(pub.body).slice(0, 2000)}`);
  out['publishMs'] = performance.now() - t0;
  const tok = await api('POST', '/api/v1/bootstrap-tokens', { host: benchHost, ttlSeconds: 3600 });
  if (tok.status !== 201 || typeof tok.body['token'] !== 'string') throw new BenchError('BENCH_TOKEN', `bootstrap token: ${tok.status} ${JSON.stringify(tok.body)}`);
  const tokenFile = join(base, 'bootstrap-token');
  writeFileSync(tokenFile, `${tok.body['token']}\n`, { mode: 0o600 });

  // 3. The agent, as an operator starts it.
  progress(`starting stead agent${cfg.nodeFlags.length ? ` (node ${cfg.nodeFlags.join(' ')})` : ''}, interval ${cfg.intervalS} s; first run applies ${cfg.n} files`);
  const agentArgs = ['agent', '--server', url, '--data-dir', agentData, '--root', root, '--host', benchHost, '--bootstrap-token-file', tokenFile, '--interval', String(cfg.intervalS), '--splay', '0', '--json'];
  out['agentCommand'] = `${Object.entries(agentEnv).map(([k, v]) => `${k}=${v} `).join('')}node ${[...cfg.nodeFlags, 'dist/cli/main.js', ...agentArgs].join(' ')}`;
  const spawnedAt = performance.now();
  const spawnedAtWall = Date.now();
  const firstRunMarks = new Map<string, number>();
  /** The agent's own time of each `run finished` line (the server's access log is assigned to runs by it). */
  const finishedAt: number[] = [];
  /** Peak RSS of the first run up to its `new catalog` line (enrol, facts, catalog, blob fetch). */
  let fetchPeakMb: number | undefined;
  let peakResets = true;
  const agent = startNode(cfg.nodeFlags, agentArgs, agentEnv);
  const pid = agent.pid;
  if (pid === undefined) throw new BenchError('BENCH_SPAWN', 'the agent process did not start');
  const samples: RunSample[] = [];
  const agentLog: string[] = [];
  const problems: string[] = [];
  let lastCpu = 0;
  const serverPid = server.pid!;
  let lastServerCpu = cpuMs(serverPid);
  let lastAt = spawnedAt;
  let blobsFetched: number | undefined;
  const summaries: Record<string, unknown>[] = [];
  onLines(agent.stdout, (l) => {
    try {
      summaries.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      problems.push(`agent stdout: ${l.slice(0, 300)}`);
    }
  });
  onLines(agent.stderr, (l) => {
    agentLog.push(l);
    if (agentLog.length > 200) agentLog.shift();
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(l) as Record<string, unknown>;
    } catch {
      return;
    }
    if (e['level'] === 'warn' || e['level'] === 'error') problems.push(`agent ${String(e['level'])}: ${l.slice(0, 400)}`);
    if (e['msg'] === 'new catalog' && typeof e['blobsFetched'] === 'number') blobsFetched = e['blobsFetched'];
    if (e['msg'] === 'new catalog' && samples.length === 0 && fetchPeakMb === undefined) {
      try {
        fetchPeakMb = memMb(pid).hwmMb;
        peakResets &&= resetPeak(pid);
      } catch {
        // gone
      }
    }
    // The agent's own clock at the first occurrence of each milestone of the first run.
    const msg = String(e['msg']);
    if (samples.length === 0 && typeof e['time'] === 'string' && !firstRunMarks.has(msg)) firstRunMarks.set(msg, Date.parse(e['time']));
    if (e['msg'] !== 'run finished') return;
    finishedAt.push(typeof e['time'] === 'string' ? Date.parse(e['time']) : Date.now());
    // Sampled at once, while the agent is between runs.
    const at = performance.now();
    let cpu = NaN;
    let serverCpu = NaN;
    let mem = { rssMb: NaN, hwmMb: NaN };
    try {
      cpu = cpuMs(pid);
      mem = memMb(pid);
      serverCpu = cpuMs(serverPid);
      peakResets &&= resetPeak(pid);
    } catch {
      // a process is gone; the waits report it
    }
    const index = samples.length;
    samples.push({
      index,
      runId: String(e['runId']),
      catalogSource: String(e['catalogSource']),
      outcome: String(e['outcome']),
      counts: (e['counts'] ?? {}) as Record<string, number>,
      engineMs: Number(e['durationMs']),
      cpuMs: cpu - lastCpu,
      serverCpuMs: serverCpu - lastServerCpu,
      wallMs: at - lastAt - (index === 0 ? 0 : cfg.intervalS * 1000),
      ...mem,
    });
    lastCpu = cpu;
    lastServerCpu = serverCpu;
    lastAt = at;
    if (index === 0) progress(`first run finished: ${String(e['outcome'])} in ${Math.round(Number(e['durationMs']))} ms (engine); now ${cfg.polls} no-op polls`);
    else if (!cfg.json) progress(`poll ${index}/${cfg.polls}: ${String(e['outcome'])}, engine ${Math.round(Number(e['durationMs']))} ms, RSS ${mem.rssMb.toFixed(0)} MB`);
  });
  const agentExited = () => {
    if (!alive(agent)) throw new BenchError('BENCH_AGENT_EXITED', `stead agent exited (${agent.exitCode ?? agent.signalCode}): ${agentLog.slice(-8).join('\n')}`);
  };
  // Generous: the first run enrolls, fetches N blobs and applies N files on a shared machine.
  await waitFor('the first run of the agent', () => (agentExited(), samples[0]), 30 * 60_000, signal);
  for (let i = 1; i <= cfg.polls; i++) {
    await waitFor(`no-op poll ${i} (last log: ${agentLog.slice(-2).join(' | ')})`, () => (agentExited(), samples[i]), cfg.intervalS * 1000 + 10 * 60_000, signal);
  }
  // Let the stdout summary of the last run arrive before stopping (it is printed right after the log line).
  await waitFor('the summary line of the last run', () => (summaries.length >= samples.length ? true : (agentExited(), undefined)), 60_000, signal).catch(() => problems.push('the last run summary line did not arrive on stdout'));

  // What a poll writes and sends: the report as the server stored it, the caches on disk.
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const firstReport = await api('GET', `/api/v1/hosts/${benchHost}/reports/${encodeURIComponent(first.runId)}`);
  const noopReport = await api('GET', `/api/v1/hosts/${benchHost}/reports/${encodeURIComponent(last.runId)}`);
  out['firstReportBytes'] = firstReport.status === 200 ? firstReport.bytes : `HTTP ${firstReport.status}`;
  out['noopReportBytes'] = noopReport.status === 200 ? noopReport.bytes : `HTTP ${noopReport.status}`;
  const stored = await api('GET', `/api/v1/reports?host=${benchHost}&limit=1000`);
  out['reportsStoredOnServer'] = Array.isArray(stored.body['reports']) ? (stored.body['reports'] as unknown[]).length : `HTTP ${stored.status}`;
  out['blobsFetchedFirstRun'] = blobsFetched;
  // Where the first run's wall time went, from the agent's log times (ms resolution).
  const mark = (m: string) => firstRunMarks.get(m);
  const span = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? b - a : undefined);
  const started = mark('agent started');
  const newCatalog = mark('new catalog');
  const finished = mark('run finished');
  const afterCatalog = span(newCatalog, finished);
  out['firstRunBreakdownMs'] = {
    processStartAndEnrol: span(spawnedAtWall, started),
    factsCatalogAndBlobs: span(started, newCatalog),
    engine: samples[0]!.engineMs,
    spoolAndReportDelivery: afterCatalog === undefined ? undefined : afterCatalog - samples[0]!.engineMs,
  };
  // What the agent's requests cost the server. Koa writes the access-log line before it sends the
  // response, so a request of run i is logged no later than that run's `run finished` line.
  const byWindow = finishedAt.map(() => new Map<string, { count: number; ms: number }>());
  for (const r of agentRequests) {
    const w = finishedAt.findIndex((f) => r.t <= f);
    if (w < 0) continue;
    const m = byWindow[w]!;
    const cur = m.get(r.route) ?? { count: 0, ms: 0 };
    m.set(r.route, { count: cur.count + 1, ms: cur.ms + r.ms });
  }
  out['serverFirstRun'] = Object.fromEntries([...(byWindow[0] ?? new Map<string, { count: number; ms: number }>())].map(([k, v]) => [k, { count: v.count, totalMs: +v.ms.toFixed(1) }]));
  const pollRoutes = new Set(byWindow.slice(1).flatMap((m) => [...m.keys()]));
  out['serverPerPoll'] = Object.fromEntries(
    [...pollRoutes].map((route) => {
      const per = byWindow.slice(1).map((m) => m.get(route) ?? { count: 0, ms: 0 });
      return [route, { countMedian: median(per.map((p) => p.count)), msMedian: +median(per.map((p) => p.ms)).toFixed(1) }];
    }),
  );

  // The per-poll blob check is one listing of the blob cache (agent/daemon/blob-cache.ts ensure()).
  const listings: number[] = [];
  for (let i = 0; i < cfg.repeat; i++) {
    const t1 = performance.now();
    readdirSync(join(agentData, 'blobs'));
    listings.push(performance.now() - t1);
  }
  out['blobCacheListingMs'] = median(listings);
  out['agentBlobCache'] = dirStats(join(agentData, 'blobs'));
  out['agentCatalogFileBytes'] = fileSize(join(agentData, 'catalog.json'));
  out['agentStateDir'] = dirStats(join(agentData, 'state'));
  out['agentSpoolLeft'] = dirStats(join(agentData, 'spool'));
  try {
    out['serverRssMb'] = memMb(server.pid!).rssMb;
  } catch {
    // gone
  }

  progress('stopping the agent');
  await stopChild(agent);
  out['agentExit'] = agent.exitCode ?? agent.signalCode;

  // 5. The floor, with the agent stopped (nothing else of ours competes for the cores).
  progress(`measuring the floor (lstat + readFile + sha256 over ${cfg.n} files, median of ${cfg.repeat})`);
  const floorMs = await measureFloor(benchLayout(cfg.n).files.map((f) => join(root, f.path)), cfg.repeat);
  progress('stopping the server');
  await stopChild(server);

  const noops = samples.slice(1);
  const notInSync = noops.filter((s) => s.outcome !== 'in-sync' || s.catalogSource !== 'unchanged');
  if (first.catalogSource !== 'fresh' || first.outcome !== 'changed') problems.push(`the first run was ${first.outcome} with a ${first.catalogSource} catalog (expected changed, fresh)`);
  for (const s of notInSync) problems.push(`poll ${s.index} was ${s.outcome} with a ${s.catalogSource} catalog (expected in-sync, unchanged): ${JSON.stringify(s.counts)}`);
  if (first.counts['total'] !== benchResourceCount(cfg.n)) problems.push(`the first run counted ${first.counts['total']} resources, expected ${benchResourceCount(cfg.n)}`);

  Object.assign(out, {
    floorMs,
    peakResets,
    firstRun: { engineMs: first.engineMs, cpuMsSinceStart: first.cpuMs, wallMsSinceSpawn: first.wallMs, outcome: first.outcome, counts: first.counts, rssMb: first.rssMb, fetchPeakMb, enginePeakMb: first.hwmMb, peakMb: Math.max(first.hwmMb, fetchPeakMb ?? 0) },
    noop: {
      engineMedianMs: median(noops.map((s) => s.engineMs)),
      cpuMedianMs: median(noops.map((s) => s.cpuMs)),
      wallMedianMs: median(noops.map((s) => s.wallMs)),
      engineMs: noops.map((s) => +s.engineMs.toFixed(1)),
      cpuMs: noops.map((s) => s.cpuMs),
      serverCpuMedianMs: median(noops.map((s) => s.serverCpuMs)),
      serverCpuMs: noops.map((s) => s.serverCpuMs),
      wallMs: noops.map((s) => +s.wallMs.toFixed(1)),
      rssMb: noops.map((s) => +s.rssMb.toFixed(1)),
      peakMb: noops.map((s) => +s.hwmMb.toFixed(1)),
      maxPeakMb: Math.max(...noops.map((s) => s.hwmMb)),
      // Poll 1's window starts with the first run's memory still resident: the steady state is polls 2…
      steadyPeakMb: noops.length > 1 ? Math.max(...noops.slice(1).map((s) => s.hwmMb)) : NaN,
    },
    end: { rssMb: last.rssMb },
    problems,
    loadAverageAtEnd: os.loadavg().map((l) => +l.toFixed(2)),
  });
  return out;
}

function printHuman(r: Record<string, unknown>): void {
  const floor = r['floorMs'] as number;
  const first = r['firstRun'] as { engineMs: number; cpuMsSinceStart: number; wallMsSinceSpawn: number; outcome: string; rssMb: number; fetchPeakMb: number | undefined; enginePeakMb: number; peakMb: number };
  const noop = r['noop'] as { serverCpuMedianMs: number; serverCpuMs: number[]; engineMedianMs: number; cpuMedianMs: number; wallMedianMs: number; engineMs: number[]; cpuMs: number[]; wallMs: number[]; rssMb: number[]; peakMb: number[]; maxPeakMb: number; steadyPeakMb: number };
  const end = r['end'] as { rssMb: number };
  const resets = r['peakResets'] === true;
  const n = r['n'] as number;
  const s = (ms: number) => (ms < 1000 ? `${ms.toFixed(ms < 10 ? 2 : 0)} ms` : `${(ms / 1000).toFixed(2)} s`);
  const x = (ms: number) => `${(ms / floor).toFixed(2)}x floor`;
  const mb = (v: number) => `${v.toFixed(1)} MB`;
  const kb = (v: unknown) => (typeof v === 'number' ? `${(v / 1024).toFixed(1)} KiB` : String(v));
  const L = (label: string, rest: string) => console.log(`  ${label.padEnd(46)}${rest}`);
  console.log(`stead bench:agent — node ${String(r['node'])}, ${String(r['cpus'])} CPUs, commit ${String(r['commit'])}${(r['uncommittedProductFiles'] as number) > 0 ? ` (+${String(r['uncommittedProductFiles'])} uncommitted product files in the build)` : ''}, load ${(r['loadAverageAtStart'] as number[]).join(' ')} → ${(r['loadAverageAtEnd'] as number[]).join(' ')}`);
  console.log(`agent: ${String(r['agentCommand'])}`);
  console.log(`\nN = ${n} files (${String(r['resources'])} resources); ${String(r['polls'])} no-op polls, --interval ${String(r['intervalSeconds'])} s; repository ${String(r['repositoryFiles'])} files, upload ${kb(r['uploadBytes'])}, publish ${s(r['publishMs'] as number)}`);
  L('floor (lstat + read + sha256 loop)', `${s(floor)}   (${((floor * 1000) / n).toFixed(1)} µs/file)`);
  L('first run: engine', `${s(first.engineMs)}   ${x(first.engineMs)}   (${first.outcome}; ${String(r['blobsFetchedFirstRun'] ?? '?')} blobs fetched)`);
  L('first run: agent CPU since start', `${s(first.cpuMsSinceStart)}   ${x(first.cpuMsSinceStart)}   (wall since spawn ${s(first.wallMsSinceSpawn)}: enrol, catalog, blobs, apply, report)`);
  L('no-op poll: engine durationMs (median)', `${s(noop.engineMedianMs)}   ${x(noop.engineMedianMs)}   (target ≤ 2x)`);
  L('no-op poll: agent CPU per poll (median)', `${s(noop.cpuMedianMs)}   ${x(noop.cpuMedianMs)}   (whole poll: HTTP 304, blob check, engine, spool, report; ${(1000 / CLK_TCK).toFixed(0)} ms CPU tick)`);
  L('no-op poll: wall (median)', `${s(noop.wallMedianMs)}   ${x(noop.wallMedianMs)}   (gap between run-finished lines − interval)`);
  L('  engine per poll, ms', noop.engineMs.map((v) => v.toFixed(0)).join(' '));
  L('  CPU per poll, ms', noop.cpuMs.map((v) => v.toFixed(0)).join(' '));
  L('no-op poll: server CPU per poll (median)', `${s(noop.serverCpuMedianMs)}   ${x(noop.serverCpuMedianMs)}   (304 answer, report check and store; per poll: ${noop.serverCpuMs.map((v) => v.toFixed(0)).join(' ')} ms)`);
  const verdict = (v: number) => `${v < 100 ? 'under' : 'OVER'} the 100 MB target`;
  const fetchPart = first.fetchPeakMb === undefined ? '' : `fetch phase ${mb(first.fetchPeakMb)}, `;
  L('peak RSS, first run', `${mb(first.peakMb)}   ${verdict(first.peakMb)}   (${resets ? `${fetchPart}engine+report phase ${mb(first.enginePeakMb)}; ` : ''}VmRSS after it ${mb(first.rssMb)})`);
  if (resets && Number.isFinite(noop.steadyPeakMb)) L('peak RSS during no-op polls 2…', `${mb(noop.steadyPeakMb)}   ${verdict(noop.steadyPeakMb)}   (poll 1, with the first run's memory still resident: ${mb(noop.peakMb[0] ?? NaN)}; VmRSS at the end ${mb(end.rssMb)})`);
  else L(resets ? 'peak RSS during the no-op polls' : 'peak RSS so far (VmHWM) at the end', `${mb(noop.maxPeakMb)}   ${verdict(noop.maxPeakMb)}   (VmRSS at the end ${mb(end.rssMb)})`);
  L('  VmRSS after each poll, MB', noop.rssMb.map((v) => v.toFixed(0)).join(' '));
  L(resets ? '  peak RSS within each poll, MB' : '  VmHWM after each poll, MB', noop.peakMb.map((v) => v.toFixed(0)).join(' '));
  const fmtRoutes = (o: Record<string, { count?: number; totalMs?: number; countMedian?: number; msMedian?: number }>) =>
    Object.entries(o)
      .map(([k, v]) => (v.count !== undefined ? `${k} ×${v.count} ${s(v.totalMs ?? NaN)}` : `${k} ×${String(v.countMedian)} ${s(v.msMedian ?? NaN)}`))
      .join('; ');
  L('server time for the agent, first run', fmtRoutes(r['serverFirstRun'] as Record<string, { count: number; totalMs: number }>));
  L('server time for the agent, per poll (median)', fmtRoutes(r['serverPerPoll'] as Record<string, { countMedian: number; msMedian: number }>));
  const b = r['firstRunBreakdownMs'] as Record<string, number | undefined>;
  const bs = (v: number | undefined) => (v === undefined ? '?' : s(v));
  L('first run: where the wall time went', `start+enrol ${bs(b['processStartAndEnrol'])}, facts+catalog+blobs ${bs(b['factsCatalogAndBlobs'])}, engine ${bs(b['engine'])}, spool+report delivery ${bs(b['spoolAndReportDelivery'])}`);
  L('blob-cache listing (per-poll blob check)', `${s(r['blobCacheListingMs'] as number)}   ${x(r['blobCacheListingMs'] as number)}   (readdir of the cache, in the bench process)`);
  const cache = r['agentBlobCache'] as { files: number; bytes: number };
  L('report size (server-stored JSON)', `first run ${kb(r['firstReportBytes'])}, no-op ${kb(r['noopReportBytes'])}; ${String(r['reportsStoredOnServer'])} reports stored`);
  L('agent data dir', `catalog.json ${kb(r['agentCatalogFileBytes'])}; blob cache ${cache.files} files, ${kb(cache.bytes)}; spool left ${String((r['agentSpoolLeft'] as { files: number }).files)}`);
  if (typeof r['serverRssMb'] === 'number') L('server VmRSS at the end', mb(r['serverRssMb']));
  const problems = r['problems'] as string[];
  if (problems.length > 0) {
    console.log(`\n  ${problems.length} problem(s) seen:`);
    for (const p of problems.slice(0, 20)) console.log(`    - ${p}`);
  }
}

async function main(): Promise<void> {
  const cfg = config();
  for (const f of [mainJs]) statSync(f);
  const base = mkdtempSync(join(os.tmpdir(), 'stead-bench-agent-'));
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    progress(`${sig}: stopping`);
    controller.abort(new BenchError('BENCH_INTERRUPTED', `interrupted by ${sig}`));
    killAllNow();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const r = await bench(cfg, base, controller.signal);
    if (cfg.json) console.log(JSON.stringify(r));
    else printHuman(r);
    if ((r['problems'] as string[]).length > 0) process.exitCode = 2;
  } finally {
    await Promise.all([...children].map((c) => stopChild(c, 5000)));
    if (cfg.keep) progress(`kept ${base}`);
    else rmSync(base, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  killAllNow();
  console.error(err instanceof BenchError ? `bench:agent failed [${err.code}]: ${err.message}` : err);
  process.exitCode = err instanceof BenchError && err.code === 'BENCH_INTERRUPTED' ? 130 : 1;
});
