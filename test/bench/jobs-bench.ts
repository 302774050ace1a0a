/**
 * bench:jobs — how fast a job reaches a fleet over the long-poll channel (ADR 0014). A real
 * `stead server` process (embedded store) and, in this process, simulated agents: each has its
 * own key and its own keep-alive connection and speaks the job channel with signed requests
 * (long-poll GET /api/v1/hosts/:host/jobs, POST …/start, POST …/result), "running" the script in
 * no time. The server is jobs-bench-server.ts: the real composition root in its own process,
 * exactly as `stead server` wires it (the script safety audit included). For each fleet size
 * (1,000 and 10,000 by default):
 *
 *   1. baseline: every agent sends one plain signed no-op request at once (a poll with wait=0,
 *      answered with empty lists); the time from the round's start until each agent has its
 *      answer, p50/p99, and until the last one;
 *   2. job: every agent parks a long-poll; one POST /api/v1/jobs starts the clock; the time until each agent has been told
 *      `run: true` by …/start (its "started"), p50/p99, and until every result is stored (the
 *      last …/result acknowledged with stored: true); then the job's state is read back.
 *      "Launch" is one POST /api/v1/jobs: a one-line shell script on every host of the size's tag.
 *
 * Ratios divide the job figures by the baseline measured in the same run on the same machine,
 * so they say what the job machinery costs above one signed round trip per agent. The agents
 * share the machine's cores with the server: the absolute times are an upper bound.
 *
 * Run: npm run bench:jobs   (env: JOB_AGENTS=1000,10000; JOB_PROF=DIR writes the server's CPU
 * profile to DIR)
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newNonce, signRequest } from '../../agent/identity/request-signature.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = here.includes('/dist/') ? join(here, '..', '..', '..') : join(here, '..', '..');
const serverJs = join(root, 'dist', 'test', 'bench', 'jobs-bench-server.js');
const SIZES = (process.env['JOB_AGENTS'] ?? '1000,10000').split(',').map(Number).sort((a, b) => a - b);
const MAX = SIZES[SIZES.length - 1]!;

interface Sim {
  host: string;
  key: KeyObject;
  pem: string;
  agent: http.Agent;
}

interface Res {
  status: number;
  body: Buffer;
}

function repo(n: number): Record<string, string> {
  const hosts = Array.from({ length: n }, (_, i) => `  bench-${String(i).padStart(5, '0')}:\n    tags: [${['web', ...SIZES.filter((s) => i < s).map((s) => `n${s}`)].join(', ')}]`).join('\n');
  return {
    'stead.yaml': 'stead: 1\nname: bench-jobs\n',
    'inventory/hosts.yaml': `hosts:\n${hosts}\n`,
    'groups/web.yaml': 'kind: custom\npriority: 10\nmatch:\n  - tags: web\nroles: [app]\n',
    'roles/app/role.yaml': 'resources:\n  - type: file\n    path: /srv/app/static.txt\n    content: "static\\n"\n',
  };
}

function request(base: URL, agent: http.Agent | false, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Res> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: base.hostname, port: base.port, method, path, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

let retries = 0;

/**
 * A signed request, sent again (freshly signed) when the connection was reset (the server
 * closes keep-alive connections idle for 5 s, and a request can cross that close) or answered
 * 408/503 (a burst the server could not read in time), after a short random pause, as a real
 * agent retries. Every request of the channel is safe to repeat (a repeated
 * start answers run: true again, a repeated result duplicate: true).
 */
async function signedRequest(base: URL, s: Sim, method: string, path: string, value?: unknown): Promise<Res> {
  const body = value === undefined ? undefined : Buffer.from(JSON.stringify(value));
  for (let attempt = 0; ; attempt++) {
    const headers = signRequest({ method, pathWithQuery: path, body, host: s.host, timeMs: Date.now(), nonce: newNonce() }, s.key);
    try {
      const r = await request(base, s.agent, method, path, { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body);
      // 408: the server cut a request it could not read in time; 503: busy. An agent backs off and retries.
      if ((r.status === 408 || r.status === 503) && attempt < 5) {
        retries++;
        await new Promise((res) => setTimeout(res, 200 + Math.random() * 800));
        continue;
      }
      return r;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (attempt >= 5 || (code !== 'ECONNRESET' && code !== 'EPIPE')) throw err;
      retries++;
    }
  }
}

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const progress = (line: string): void => void process.stderr.write(`bench:jobs: ${line}\n`);
const ms = (from: number): number => performance.now() - from;
const round = (n: number): number => +n.toFixed(1);

interface Dist {
  p50ms: number;
  p99ms: number;
  maxMs: number;
}

function dist(values: number[]): Dist {
  values.sort((a, b) => a - b);
  return { p50ms: round(pct(values, 50)), p99ms: round(pct(values, 99)), maxMs: round(values[values.length - 1] ?? NaN) };
}

/** One signed no-op request per agent, all at once: when each got its answer. */
async function baseline(base: URL, sims: readonly Sim[]): Promise<Dist> {
  const t0 = performance.now();
  const done = await Promise.all(
    sims.map(async (s) => {
      const r = await signedRequest(base, s, 'GET', `/api/v1/hosts/${s.host}/jobs?wait=0`);
      if (r.status !== 200) throw new Error(`no-op poll ${s.host}: ${r.status} ${r.body.toString().slice(0, 200)}`);
      return ms(t0);
    }),
  );
  return dist(done);
}

/** One agent's part of a job: long-poll until work comes, start it, deliver its result. */
async function runAgent(base: URL, s: Sim, clock: { t0: number }, sent: () => void): Promise<{ started: number; stored: number }> {
  for (let first = true; ; first = false) {
    const p = signedRequest(base, s, 'GET', `/api/v1/hosts/${s.host}/jobs?wait=55`);
    if (first) sent();
    const r = await p;
    if (r.status !== 200) throw new Error(`poll ${s.host}: ${r.status} ${r.body.toString().slice(0, 200)}`);
    const work = (JSON.parse(r.body.toString()) as { work: { id: string; kind: string; files?: { path: string }[] }[] }).work;
    if (work.length === 0) continue;
    const id = encodeURIComponent(work[0]!.id);
    const st = await signedRequest(base, s, 'POST', `/api/v1/hosts/${s.host}/jobs/${id}/start`);
    if (st.status !== 200 || (JSON.parse(st.body.toString()) as { run: boolean }).run !== true) throw new Error(`start ${s.host}: ${st.status} ${st.body.toString().slice(0, 200)}`);
    const started = ms(clock.t0);
    const now = new Date().toISOString();
    const w = work[0]!;
    const outcome = w.kind === 'files' ? { exitCode: null, files: (w.files ?? []).map((f) => ({ path: f.path, outcome: 'changed' })) } : { exitCode: 0 };
    const res = await signedRequest(base, s, 'POST', `/api/v1/hosts/${s.host}/jobs/${id}/result`, { state: 'succeeded', ...outcome, stdout: '', stderr: '', startedAt: now, finishedAt: now });
    const ack = res.status === 200 ? (JSON.parse(res.body.toString()) as { stored: boolean; duplicate: boolean }) : undefined;
    if (!ack || !(ack.stored || ack.duplicate)) throw new Error(`result ${s.host}: ${res.status} ${res.body.toString().slice(0, 200)}`);
    return { started, stored: ms(clock.t0) };
  }
}

/** The job each round launches: a one-line shell script on every host of the round's tag. */
const step = { kind: 'script', script: { lang: 'shell', source: 'true' } };

async function jobRound(base: URL, op: Record<string, string>, sims: readonly Sim[], size: number): Promise<Record<string, unknown>> {
  const clock = { t0: 0 };
  let sent = 0;
  const agents = sims.map((s) => runAgent(base, s, clock, () => void sent++));
  for (const a of agents) a.catch(() => undefined); // a failed round is reported below; no unhandled rejections meanwhile
  while (sent < sims.length) await new Promise((r) => setTimeout(r, 20));
  // Let every long-poll reach the server and park (sending 10,000 signed requests takes a moment).
  await new Promise((r) => setTimeout(r, Math.max(1500, size / 4)));
  clock.t0 = performance.now();
  const launch = await request(base, false, 'POST', '/api/v1/jobs', op, Buffer.from(JSON.stringify({ name: `bench-${size}`, targets: `tag:n${size}`, steps: [step] })));
  const launchMs = ms(clock.t0);
  if (launch.status !== 201) throw new Error(`launch: ${launch.status} ${launch.body.toString().slice(0, 500)}`);
  const jobId = (JSON.parse(launch.body.toString()) as { id: string }).id;
  progress(`${size} agents: job ${jobId} launched in ${round(launchMs)} ms`);
  if (process.env['JOB_DEBUG']) {
    await new Promise((r) => setTimeout(r, 3000));
    progress((await request(base, false, 'GET', `/api/v1/jobs/${encodeURIComponent(jobId)}`, op)).body.toString().slice(0, 3000));
  }
  const results = await Promise.all(agents);
  const allStoredMs = Math.max(...results.map((r) => r.stored));
  let state = '';
  const tState = performance.now();
  for (let i = 0; i < 600 && state !== 'succeeded'; i++) {
    const v = await request(base, false, 'GET', `/api/v1/jobs/${encodeURIComponent(jobId)}`, op);
    state = (JSON.parse(v.body.toString()) as { state: string }).state;
    if (state !== 'succeeded') await new Promise((r) => setTimeout(r, 100));
  }
  return { launchAnsweredMs: round(launchMs), started: dist(results.map((r) => r.started)), allResultsStoredMs: round(allStoredMs), jobState: state, jobSucceededAfterLastResultMs: round(ms(tState)) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'stead-bench-jobs-'));
  writeFileSync(join(dir, 'repo.json'), JSON.stringify(repo(MAX)));
  const child = spawn(process.execPath, [...(process.env['JOB_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['JOB_PROF']}`] : []), serverJs, join(dir, 'data'), join(dir, 'repo.json')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = /"event":"listening","url":"([^"]+)"/.exec(buf);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  const base = new URL(url);
  const admin = readFileSync(join(dir, 'data', 'admin-token'), 'utf8').trim();
  const op = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
  const out: Record<string, unknown> = { command: 'npm run bench:jobs', sizes: SIZES, cpus: os.cpus().length, node: process.version, loadAverageAtStart: os.loadavg().map((l) => +l.toFixed(2)) };
  const sims: Sim[] = [];
  try {
    for (let i = 0; i < MAX; i++) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      sims.push({ host: `bench-${String(i).padStart(5, '0')}`, key: privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) });
    }
    const tEnroll = performance.now();
    const setup = new http.Agent({ keepAlive: true, maxSockets: 16 });
    for (let i = 0; i < sims.length; i += 32) {
      await Promise.all(
        sims.slice(i, i + 32).map(async (s) => {
          const tok = JSON.parse((await request(base, setup, 'POST', '/api/v1/bootstrap-tokens', op, Buffer.from(JSON.stringify({ host: s.host })))).body.toString()).token as string;
          const r = await request(base, setup, 'POST', '/api/v1/agents/enroll', { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ host: s.host, publicKey: s.pem, bootstrapToken: tok })));
          if (r.status !== 201) throw new Error(`enroll ${s.host}: ${r.status}`);
        }),
      );
    }
    setup.destroy();
    out['enrollSeconds'] = round(ms(tEnroll) / 1000);
    progress(`${MAX} agents enrolled in ${out['enrollSeconds']} s`);
    const rounds: Record<string, unknown>[] = [];
    for (const size of SIZES) {
      const fleet = sims.slice(0, size);
      await baseline(base, fleet); // warm: connections open, identity caches filled
      const b = await baseline(base, fleet);
      progress(`${size} agents: baseline round p50 ${b.p50ms} ms, p99 ${b.p99ms} ms`);
      const j = await jobRound(base, op, fleet, size);
      const started = j['started'] as Dist;
      rounds.push({
        agents: size,
        baselineNoopRound: b,
        job: j,
        ratios: {
          startedP50OverBaselineP50: round(started.p50ms / b.p50ms),
          startedP99OverBaselineP99: round(started.p99ms / b.p99ms),
          allResultsStoredOverBaselineMax: round((j['allResultsStoredMs'] as number) / b.maxMs),
        },
      });
      progress(`${size} agents done: ${JSON.stringify(rounds[rounds.length - 1])}`);
    }
    out['rounds'] = rounds;
    out['loadAverageAtEnd'] = os.loadavg().map((l) => +l.toFixed(2));
    out['connectionResetRetries'] = retries;
  } finally {
    for (const s of sims) s.agent.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:jobs failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
