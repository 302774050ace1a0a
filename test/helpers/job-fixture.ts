/**
 * Test fixture for jobs: a real server (startServer) whose job ports are small real
 * implementations, clearly test doubles — an auditor with one rule (block `rm -rf /`), an
 * in-memory script library and account table, and step runners that store file contents as
 * blobs, connect to TCP ports and run local scripts with /bin/sh — plus a repository with
 * operator attributes and a helper that plays an agent over the signed job channel.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { JobResult } from '../../schemas/job-protocol.js';
import type { ServerConfig } from '../../server/compose.js';
import { ApiError } from '../../server/domain/errors.js';
import { compilerAdapter } from '../../server/services/compiler-adapter.js';
import type { AccountSource, JobPorts, ResolvedScript, ScriptAuditor, ScriptSource, StepRunners } from '../../server/services/jobs/ports.js';
import { demoSecretKey, startServer, type RawResponse, type ServerFixture, type TestAgent } from './server-fixture.js';

/** TEST DOUBLE of the safety audit: one real rule, `rm -rf /` blocks. */
export const testAuditor: ScriptAuditor = {
  async check({ source }) {
    const findings = [];
    const lines = source.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /rm\s+-rf\s+\/(\s|$)/.exec(lines[i]!);
      if (m) findings.push({ rule: 'test-rm-root', mode: 'block' as const, line: i + 1, column: m.index + 1, message: 'removes the root filesystem', excerpt: lines[i]!.slice(0, 80) });
      if (/curl .*\|\s*sh/.test(lines[i]!)) findings.push({ rule: 'test-curl-sh', mode: 'scan' as const, line: i + 1, column: 1, message: 'pipes a download into a shell', excerpt: lines[i]!.slice(0, 80) });
    }
    return { verdict: findings.some((f) => f.mode === 'block') ? 'block' : findings.length > 0 ? 'warn' : 'pass', findings };
  },
};

/** TEST DOUBLE of the script library: a map. */
export function testScripts(scripts: ResolvedScript[]): ScriptSource {
  return {
    async resolve(id, version) {
      const all = scripts.filter((s) => s.id === id && (version === undefined || s.version === version));
      const s = all.sort((a, b) => b.version - a.version)[0];
      if (!s) throw new ApiError('NOT_FOUND', `no script ${id}${version !== undefined ? ` version ${version}` : ''}`);
      return s;
    },
  };
}

/** TEST DOUBLE of execution accounts. */
export const testAccounts: AccountSource = {
  async get(name) {
    return name === 'deploy' ? { name, user: 'deployer' } : null;
  },
};

/** Simple real step runners: files as blobs, TCP connects, /bin/sh. */
export const testRunners: StepRunners = {
  async files(step, _host, ctx) {
    const files = [];
    const blobs: Record<string, number> = {};
    for (const f of step.files) {
      const data = Buffer.from(f.content ?? f.template ?? '', 'utf8');
      const sha = createHash('sha256').update(data).digest('hex');
      await ctx.blobs.put(sha, data);
      blobs[`sha256:${sha}`] = data.length;
      files.push({ path: f.path, source: `sha256:${sha}`, ...(f.mode !== undefined ? { mode: f.mode } : {}) });
    }
    return { files, blobs };
  },
  probe(probe, address, signal) {
    return new Promise((resolve) => {
      const port = probe.tcp?.port ?? probe.http?.port ?? 0;
      const s = net.connect({ host: address, port, signal });
      s.once('connect', () => {
        s.destroy();
        resolve({ ok: true, message: `connected to ${address}:${port}` });
      });
      s.once('error', (e) => resolve({ ok: false, message: `${address}:${port}: ${e.message}` }));
    });
  },
  local(script, timeoutSeconds, signal) {
    return new Promise<JobResult>((resolve) => {
      const startedAt = new Date().toISOString();
      // Its own process group, killed whole on abort or timeout (a grandchild must not hold the pipes).
      const child = spawn('/bin/sh', ['-c', script.source, 'sh', ...(script.args ?? [])], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...script.env }, detached: true });
      const kill = (): void => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(kill, timeoutSeconds * 1000);
      signal.addEventListener('abort', kill, { once: true });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', () => {});
      child.on('close', (code) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', kill);
        resolve({ state: code === 0 ? 'succeeded' : signal.aborted ? 'cancelled' : 'failed', exitCode: code, stdout, stderr, startedAt, finishedAt: new Date().toISOString() });
      });
    });
  },
};

export const testLibrary: ResolvedScript[] = [
  { id: 'greet', name: 'greet', version: 1, lang: 'shell', source: 'echo hello "$1"\n', params: [{ name: 'WHO', required: true }] },
  { id: 'greet', name: 'greet', version: 2, lang: 'shell', source: 'echo hi "$1" "$2"\n', params: [{ name: 'WHO', required: true }, { name: 'GREETING', default: 'hey' }] },
];

export function testPorts(): JobPorts {
  return { auditor: testAuditor, scripts: testScripts(testLibrary), accounts: testAccounts, runners: testRunners };
}

/** A repository whose inventory has operator attributes. */
export function jobRepo(): Record<string, string> {
  return {
    'stead.yaml': 'stead: 1\nname: jobs-test\n',
    'inventory/hosts.yaml': [
      'hosts:',
      '  web-1:',
      '    idc: sz',
      '    set: s1',
      '    env: prod',
      '    ip: 127.0.0.1',
      '    tags: [web, canary]',
      '    attributes: { rack: r1, tier: 1 }',
      '  web-2:',
      '    idc: sz',
      '    set: s2',
      '    env: prod',
      '    ip: 127.0.0.2',
      '    tags: [web]',
      '    attributes: { rack: r2, tier: 1 }',
      '  db-1:',
      '    idc: gz',
      '    env: staging',
      '    tags: [db]',
      '  ghost-1:',
      '    tags: [web]',
      '',
    ].join('\n'),
    'groups/web.yaml': 'kind: custom\npriority: 10\nmatch:\n  - tags: web\nroles: []\n',
    'groups/db.yaml': 'kind: custom\npriority: 10\nmatch:\n  - tags: db\nroles: []\n',
  };
}

export interface JobFixture extends ServerFixture {
  readonly agents: Record<string, TestAgent>;
  /** Waits until this server's driver has nothing in flight. */
  settle(): Promise<void>;
  /** GET /jobs/:id (with output). */
  job(id: string): Promise<any>;
  launch(body: unknown, token?: string): Promise<RawResponse>;
}

interface TapLike {
  testdir(): string;
  teardown(fn: () => unknown): void;
}

/**
 * A server with the jobs repository published and web-1, web-2, db-1 enrolled (ghost-1 is not).
 * The compiler runs in-process (the real one; a worker thread costs tens of seconds per server
 * under tap's loader on a loaded machine) unless `worker` is set.
 */
export async function startJobServer(t: TapLike, config: Partial<ServerConfig> = {}, opts: { enroll?: boolean; publish?: boolean; worker?: boolean } = {}): Promise<JobFixture> {
  const fx = await startServer(t, { jobs: { ...testPorts(), driver: { tickMs: 3_600_000 } }, ...(opts.worker ? {} : { compiler: compilerAdapter({ secretKey: demoSecretKey() }) }), ...config });
  if (opts.publish !== false) {
    const r = await fx.publish(jobRepo());
    if (r.status !== 201) throw new Error(`publish: ${r.status} ${r.body.toString()}`);
  }
  const agents: Record<string, TestAgent> = {};
  for (const h of ['web-1', 'web-2', 'db-1']) agents[h] = opts.enroll === false ? fx.agent(h) : await fx.approvedAgent(h);
  const settle = () => fx.server.services.jobs.driver.settle();
  return Object.assign(fx, {
    agents,
    settle,
    async job(id: string) {
      await settle();
      const r = await fx.json('GET', `/api/v1/jobs/${id}?output=true`);
      if (r.status !== 200) throw new Error(`job ${id}: ${r.status} ${r.body.toString()}`);
      return r.json();
    },
    launch: (body: unknown, token?: string) => fx.json('POST', '/api/v1/jobs', body, token),
  });
}

export function result(state: JobResult['state'], extra: Partial<JobResult> = {}): JobResult {
  return { state, exitCode: state === 'succeeded' ? 0 : state === 'failed' ? 1 : null, stdout: '', stderr: '', startedAt: '2026-11-26T10:00:00.000Z', finishedAt: '2026-11-26T10:00:01.000Z', ...extra };
}

/** Plays an agent once: polls (wait 0), starts every offered dispatch and answers with `answer(work)`. */
export async function agentRound(a: TestAgent, answer: (work: any) => JobResult | undefined): Promise<{ work: any[]; cancel: string[] }> {
  const poll = await a.request('GET', `/api/v1/hosts/${a.host}/jobs?wait=0`);
  if (poll.status !== 200) throw new Error(`poll: ${poll.status} ${poll.body.toString()}`);
  const body = poll.json() as { work: any[]; cancel: string[] };
  for (const w of body.work) {
    const st = await a.request('POST', `/api/v1/hosts/${a.host}/jobs/${w.id}/start`, {});
    if (st.json().run !== true) continue;
    const r = answer(w);
    if (r) {
      const ack = await a.request('POST', `/api/v1/hosts/${a.host}/jobs/${w.id}/result`, r);
      if (ack.status !== 200) throw new Error(`result: ${ack.status} ${ack.body.toString()}`);
    }
  }
  return body;
}

/** The same agent (same key) talking to another server on the same data (a restart). */
export function rebind(a: TestAgent, fx: ServerFixture): TestAgent {
  return Object.assign(Object.create(Object.getPrototypeOf(a) as object) as TestAgent, { fx, host: a.host, privateKey: a.privateKey, publicKeyPem: a.publicKeyPem });
}
