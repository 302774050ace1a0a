/**
 * End-to-end harness: a real `stead server` process and real `stead agent` processes (the
 * compiled dist/cli/main.js) on loopback, each agent confined to its own --root. Waits are
 * event-driven: poll a condition with a generous upper bound, never a fixed sleep that decides
 * pass or fail. Every process started here is killed at teardown.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promises as fsp, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

export const repoRoot = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
/**
 * The `stead` program the tests run: dist/cli/main.js in a private snapshot of dist/ (made by
 * buildOnce), so another build writing dist/ while a test runs cannot hand a process a
 * half-written module.
 */
export let mainJs = join(repoRoot, 'dist/cli/main.js');
/** The package root of the snapshot (dist/, package.json, and links to node_modules and manifests). */
export let programRoot = repoRoot;

/** Anything with a teardown (a tap Test). */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * Compiles the project to dist/ once per process (tsc emits even when an unrelated file has a
 * type error). Set STEAD_E2E_SKIP_BUILD=1 when dist/ is known to be fresh: `npm test` does, having
 * just built, so no test process rewrites dist/ while another copies it into its snapshot (tsc and
 * copy-assets write in place; a copy taken meanwhile held a half-written module).
 */
let built: Promise<void> | undefined;
export function buildOnce(): Promise<void> {
  built ??= (async () => {
    if (process.env.STEAD_E2E_SKIP_BUILD !== '1') {
      await promisify(execFile)(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(repoRoot, 'tsconfig.json')], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 }).catch(() => undefined);
      // The precompiled schema validators (as `npm run build` does); a failure here is a broken build.
      await promisify(execFile)(process.execPath, [join(repoRoot, 'dist/schemas/standalone-build.js')], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
      // Run-time assets beside the compiled modules (base scripts), as `npm run build` does.
      await promisify(execFile)(process.execPath, [join(repoRoot, 'cli/copy-assets.mjs')], { cwd: repoRoot });
    }
    for (const f of ['dist/cli/main.js', 'dist/cli/commands/agent.js']) await fsp.access(join(repoRoot, f));
    const snap = await fsp.mkdtemp(join(os.tmpdir(), 'stead-e2e-'));
    process.once('exit', () => rmSync(snap, { recursive: true, force: true }));
    await fsp.cp(join(repoRoot, 'dist'), join(snap, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') });
    await fsp.copyFile(join(repoRoot, 'package.json'), join(snap, 'package.json'));
    await fsp.symlink(join(repoRoot, 'node_modules'), join(snap, 'node_modules'));
    await fsp.symlink(join(repoRoot, 'manifests'), join(snap, 'manifests'));
    programRoot = snap;
    mainJs = join(snap, 'dist/cli/main.js');
  })();
  return built;
}

/** true when the build holds the named command (e.g. the server helper's `server`). */
export async function hasCommand(name: string): Promise<boolean> {
  try {
    await fsp.access(join(programRoot, 'dist/cli/commands', `${name}.js`));
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1 (the demo's own helper). */
import { freePort } from '../../cli/commands/demo.js';
export { freePort };

/** Thrown by a probe to stop waiting at once (the process it waits on has exited). */
export class WaitAborted extends Error {}

/**
 * Polls `probe` until it returns a value other than undefined/false; throws after `timeoutMs`
 * with `what`, or at once when the probe throws WaitAborted.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 90_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      if (err instanceof WaitAborted) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Collects a child's output lines. */
function lines(stream: NodeJS.ReadableStream, into: string[], onLine?: (l: string) => void): void {
  createInterface({ input: stream }).on('line', (l) => {
    into.push(l);
    onLine?.(l);
  });
}

/**
 * Teardown: SIGKILL a process still running and wait (up to 10 s) until it is gone, so it no
 * longer writes into the test directory tap is about to remove (an agent mid-run made that
 * removal fail with ENOTEMPTY).
 */
async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGKILL');
  await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: any;
}

/** A `stead server` process on 127.0.0.1 with the embedded store in `dataDir`. */
export class ServerProcess {
  readonly dataDir: string;
  /** Chosen free before the start; another test may take it first, and start() then moves on to another. */
  port: number;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  child: ChildProcess | undefined;
  adminToken = '';

  /** With `tls`, the server serves HTTPS with that certificate; the harness trusts `tls.ca`. */
  readonly tls: { readonly cert: string; readonly key: string; readonly ca: Buffer } | undefined;
  /** More `stead server` options, appended at start. */
  readonly extraArgs: string[] = [];

  constructor(dataDir: string, port: number, tls?: { cert: string; key: string; ca: Buffer }) {
    this.dataDir = dataDir;
    this.port = port;
    this.tls = tls;
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** One HTTP(S) request from the harness (trusting the test CA). */
  async fetch(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; text: string }> {
    const url = new URL(path, this.url);
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? https : http).request(url, { method, headers, ...(this.tls ? { ca: this.tls.ca } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * Starts the process and waits until /healthz answers and the admin token exists. A port taken
   * by another test's process between freePort() and the bind (both run at once under tap's
   * jobs) makes the server exit with EADDRINUSE: it starts again on another free port, and an
   * answer on the port counts only once this server has said it listens (the other process
   * answered /healthz before this one existed).
   */
  async start(t: Teardown): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#startOnce(t);
        return;
      } catch (err) {
        if (attempt >= 3 || !(err instanceof WaitAborted) || !/EADDRINUSE/.test(err.message)) throw err;
        this.port = await freePort();
      }
    }
  }

  async #startOnce(t: Teardown): Promise<void> {
    const tlsArgs = this.tls ? ['--tls-cert', this.tls.cert, '--tls-key', this.tls.key] : [];
    const child = spawn(process.execPath, [mainJs, 'server', '--port', String(this.port), '--host', '127.0.0.1', '--data-dir', this.dataDir, ...tlsArgs, ...this.extraArgs], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'test' } });
    this.child = child;
    t.teardown(() => killAndWait(child));
    this.stdout.length = 0;
    this.stderr.length = 0;
    lines(child.stdout!, this.stdout);
    lines(child.stderr!, this.stderr);
    const tokenFile = join(this.dataDir, 'admin-token');
    await waitFor(`the server on port ${this.port} (stderr: ${this.stderr.slice(-5).join(' | ')})`, async () => {
      if (child.exitCode !== null) throw new WaitAborted(`server exited with ${child.exitCode}: ${this.stderr.slice(-10).join('\n')}`);
      const res = await this.fetch('GET', '/healthz').catch(() => undefined);
      return res !== undefined && res.status < 500 && this.stdout.some((l) => /listening on|"event":"listening"/.test(l));
    });
    this.adminToken = (await fsp.readFile(tokenFile, 'utf8')).trim();
  }

  /** SIGKILL, and waits until the process is gone. */
  async kill(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGKILL');
    await exitOf(this.child);
  }

  async stop(): Promise<number | null> {
    if (!this.child) return null;
    this.child.kill('SIGTERM');
    return exitOf(this.child);
  }

  /** An operator API call with the admin token. */
  async api(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const res = await this.fetch(method, path, { authorization: `Bearer ${this.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body !== undefined ? JSON.stringify(body) : undefined);
    const text = res.text;
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  }

  /** Publishes a repository (files by relative path); returns the answer (201 or 422). */
  publish(files: Record<string, string>, message = 'e2e'): Promise<ApiAnswer> {
    return this.api('POST', '/api/v1/revisions', { files, message });
  }

  /** Every report the server stored for `host` (newest first). */
  async reports(host: string): Promise<{ runId: string; outcome: string; catalogId?: string; counts?: Record<string, number> }[]> {
    const r = await this.api('GET', `/api/v1/reports?host=${encodeURIComponent(host)}&limit=1000`);
    if (r.status !== 200) throw new Error(`GET reports: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.reports;
  }
}

/** What `stead agent --json` prints after each run. */
export interface RunLine {
  host: string;
  runId: string;
  catalogSource: 'fresh' | 'unchanged' | 'cached' | 'none';
  serverReachable: boolean;
  pendingReports: number;
  outcome?: 'in-sync' | 'changed' | 'would-change' | 'failed';
  counts?: { total: number; inSync: number; changed: number; wouldChange: number; failed: number; skipped: number; corrective: number };
  catalogId?: string;
  revision?: string;
  error?: string;
}

export interface AgentOptions {
  readonly host: string;
  readonly server: string;
  readonly root: string;
  readonly dataDir: string;
  readonly intervalSeconds?: number;
  readonly bootstrapToken?: string;
  readonly extraArgs?: readonly string[];
}

/** A `stead agent --json` process. */
export class AgentProcess {
  readonly opts: AgentOptions;
  readonly runs: RunLine[] = [];
  readonly logs: string[] = [];
  readonly stdout: string[] = [];
  child: ChildProcess | undefined;
  exit: Promise<number | null> | undefined;

  constructor(opts: AgentOptions) {
    this.opts = opts;
  }

  start(t: Teardown): this {
    const o = this.opts;
    const args = [mainJs, 'agent', '--server', o.server, '--data-dir', o.dataDir, '--root', o.root, '--host', o.host, '--interval', String(o.intervalSeconds ?? 1), '--splay', '0', '--json', ...(o.bootstrapToken ? ['--bootstrap-token', o.bootstrapToken] : []), ...(o.extraArgs ?? [])];
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exit = exitOf(child);
    t.teardown(() => killAndWait(child));
    lines(child.stdout!, this.stdout, (l) => {
      try {
        this.runs.push(JSON.parse(l) as RunLine);
      } catch {
        // not a summary line
      }
    });
    lines(child.stderr!, this.logs);
    return this;
  }

  /** Runs seen since index `from` (use runs.length before an action). */
  since(from: number): RunLine[] {
    return this.runs.slice(from);
  }

  /** Waits for a run (at index ≥ from) matching `pred`. */
  waitForRun(what: string, pred: (r: RunLine) => boolean, from = 0, timeoutMs = 90_000): Promise<RunLine> {
    return waitFor(`${this.opts.host}: ${what} (last runs: ${JSON.stringify(this.runs.slice(-2))}; last log: ${this.logs.slice(-3).join(' | ')})`, () => {
      if (this.child?.exitCode !== null && this.child?.exitCode !== undefined) throw new WaitAborted(`agent ${this.opts.host} exited with ${this.child.exitCode}: ${this.logs.slice(-5).join('\n')}`);
      return this.runs.slice(from).find(pred);
    }, timeoutMs);
  }

  /** SIGTERM and the exit code. */
  async stop(): Promise<number | null> {
    if (!this.child || !this.exit) return null;
    this.child.kill('SIGTERM');
    return this.exit;
  }

  async kill(): Promise<void> {
    if (!this.child || !this.exit) return;
    this.child.kill('SIGKILL');
    await this.exit;
  }

  /** Reads a managed file under the agent's root. */
  read(path: string): Promise<string> {
    return fsp.readFile(join(this.opts.root, path), 'utf8');
  }
}

/**
 * The e2e manifest repository: hosts a1, a2 (group alpha) and b1 (group beta), each with a
 * directory, a templated file carrying its group's greeting, and a file with its own name.
 * `extraResources` is YAML appended to the role's resource list.
 */
export function fleetRepository(opts: { alphaGreeting?: string; betaGreeting?: string; template?: string; extraResources?: string } = {}): Record<string, string> {
  return {
    'stead.yaml': 'stead: 1\nname: e2e\n',
    'inventory/hosts.yaml': 'hosts:\n  a1: { idc: lo, set: alpha }\n  a2: { idc: lo, set: alpha }\n  b1: { idc: lo, set: beta }\n',
    'groups/alpha.yaml': `description: alpha hosts\nkind: custom\npriority: 10\nhosts: [a1, a2]\nroles: [app]\nvars:\n  greeting: ${opts.alphaGreeting ?? 'hello-alpha'}\n`,
    'groups/beta.yaml': `description: beta hosts\nkind: custom\npriority: 10\nhosts: [b1]\nroles: [app]\nvars:\n  greeting: ${opts.betaGreeting ?? 'hello-beta'}\n`,
    'roles/app/role.yaml': [
      'description: a small app',
      'resources:',
      '  - type: directory',
      '    path: /srv',
      '    mode: "0755"',
      '  - type: directory',
      '    path: /srv/app',
      '    mode: "0755"',
      '    require: [directory:/srv]',
      '  - type: file',
      '    path: /srv/app/greeting.conf',
      '    template: greeting.j2',
      '    mode: "0644"',
      '    require: [directory:/srv/app]',
      '  - type: file',
      '    path: /srv/app/host',
      '    content: "{{ inventory_hostname }}\\n"',
      '    mode: "0644"',
      '    require: [directory:/srv/app]',
      opts.extraResources ?? '',
    ].join('\n'),
    'templates/greeting.j2': opts.template ?? 'greeting={{ greeting }}\n',
    'vars/global.yaml': 'greeting: default\n',
  };
}

/** Runs the built `stead` as an operator would, with the server and its admin token from the environment. */
export function steadAsOperator(server: ServerProcess, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', STEAD_SERVER: server.url, STEAD_TOKEN: server.adminToken } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
