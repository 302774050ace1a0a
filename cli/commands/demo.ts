/**
 * `stead demo` (what `npm start` runs): a whole Stead on one machine, for a newcomer.
 *
 * 1. starts `stead server` on the embedded store in <dir>/server, on 127.0.0.1;
 * 2. publishes the demo manifest repository (manifests/demo) as a revision;
 * 3. creates a bootstrap token for host "demo-1" through the API;
 * 4. starts `stead agent` for demo-1, confined to <dir>/root, with a short interval;
 * 5. prints where to look, then passes the agent's run summaries through until Ctrl-C,
 *    which stops both processes cleanly.
 *
 * Both are child processes of this one (the real programs, not in-process imitations), so the
 * demo behaves exactly like a deployment. Server and agent logs go to <dir>/server.log and
 * <dir>/agent.log.
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, promises as fsp } from 'node:fs';
import net from 'node:net';
import { basename, join, relative, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UsageError, writeLine, type CliIo } from '../io.js';

export const usage = `Usage: stead demo [options]

Starts a server on the embedded store, publishes the demo manifests, and runs a local agent
for host demo-1 confined to a sandbox directory. Ctrl-C stops everything.

Options:
  --dir DIR         where the demo keeps its state; default ./.stead-demo
  --port PORT       server port on 127.0.0.1; default 8440, or a free port when taken
  --interval SECS   agent run interval; default 10
  --manifests DIR   the manifest repository to publish; default the bundled manifests/demo
  --reset           delete the demo directory first (a fresh server, host and identity)
  -h, --help        show this help

Exit codes: 0 stopped with Ctrl-C; 1 the server or the agent failed or stopped unexpectedly;
64 usage error.`;

const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN_JS = fileURLToPath(new URL('../main.js', import.meta.url));

async function portFree(port: number): Promise<boolean> {
  const srv = net.createServer();
  try {
    srv.listen(port, '127.0.0.1');
    await once(srv, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    srv.close();
  }
}

/** A free TCP port on 127.0.0.1 (bound, noted, released). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Every file of a repository directory, base64-encoded, by relative path (dot files and symlinks left out). */
export async function readRepository(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) files[relative(dir, p).split(sep).join('/')] = (await fsp.readFile(p)).toString('base64');
    }
  };
  await walk(dir);
  return files;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((r) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      r();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      r();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function stopChild(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

interface Api {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

function api(base: string, token: string): Api {
  return {
    async call(method, path, body) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      try {
        return { status: res.status, body: JSON.parse(text) };
      } catch {
        return { status: res.status, body: text };
      }
    },
  };
}

export async function run(args: string[], io: CliIo): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        dir: { type: 'string' },
        port: { type: 'string' },
        interval: { type: 'string' },
        manifests: { type: 'string' },
        reset: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (v.help) {
    writeLine(io.stdout, usage);
    return 0;
  }
  const dir = resolve(io.cwd, v.dir ?? '.stead-demo');
  const manifests = resolve(io.cwd, v.manifests ?? join(PACKAGE_ROOT, 'manifests/demo'));
  const interval = Number(v.interval ?? '10');
  if (!Number.isFinite(interval) || interval < 1 || interval > 3600) throw new UsageError('--interval must be between 1 and 3600 seconds');
  let port = v.port === undefined ? 8440 : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a port number');
  if (port === 0 || !(await portFree(port))) {
    if (v.port !== undefined && port !== 0) throw new UsageError(`port ${port} is taken`);
    port = await freePort();
  }
  try {
    await fsp.access(join(manifests, 'stead.yaml'));
  } catch {
    throw new UsageError(`${manifests} is not a manifest repository (no stead.yaml)`);
  }

  if (v.reset) await fsp.rm(dir, { recursive: true, force: true });
  const serverDir = join(dir, 'server');
  const agentDir = join(dir, 'agent');
  const root = join(dir, 'root');
  for (const d of [dir, serverDir, agentDir, root]) await fsp.mkdir(d, { recursive: true, mode: 0o700 });
  const url = `http://127.0.0.1:${port}`;

  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let server: ChildProcess | undefined;
  let agent: ChildProcess | undefined;
  const say = (line: string): void => writeLine(io.stdout, line);
  try {
    // 1. The server.
    say(`Starting the server on ${url} (embedded store in ${serverDir}) ...`);
    const serverLog = createWriteStream(join(dir, 'server.log'), { flags: 'a', mode: 0o600 });
    // The demo repository carries an encrypted secret; its key sits beside it (a demo only: never do this for real).
    const secretKey = join(manifests, '..', `${basename(manifests)}-secret.key`);
    const keyArgs = (await fsp.access(secretKey).then(() => true, () => false)) ? ['--secret-key-file', secretKey] : [];
    server = spawn(process.execPath, [MAIN_JS, 'server', '--port', String(port), '--host', '127.0.0.1', '--data-dir', serverDir, ...keyArgs], { cwd: io.cwd, env: io.env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.pipe(serverLog, { end: false });
    server.stderr!.pipe(serverLog, { end: false });
    const serverExit = once(server, 'exit');
    let up = false;
    for (let i = 0; i < 600 && !controller.signal.aborted && server.exitCode === null; i++) {
      const res = await fetch(`${url}/healthz`).catch(() => undefined);
      if (res && res.status < 500) {
        up = true;
        break;
      }
      await sleep(100, controller.signal);
    }
    if (controller.signal.aborted) return 0;
    if (!up) {
      writeLine(io.stderr, `stead demo: the server did not start; see ${join(dir, 'server.log')}`);
      return 1;
    }
    const tokenFile = join(serverDir, 'admin-token');
    const token = (await fsp.readFile(tokenFile, 'utf8')).trim();
    const http = api(url, token);

    // 2. The demo manifests.
    say(`Publishing ${manifests} ...`);
    const pub = await http.call('POST', '/api/v1/revisions', { files: await readRepository(manifests), encoding: 'base64', message: 'stead demo' });
    if (pub.status !== 201) {
      writeLine(io.stderr, `stead demo: the demo manifests were refused (HTTP ${pub.status}):`);
      const problems = (pub.body?.error?.details?.problems ?? []) as { file?: string; line?: number; message: string }[];
      for (const p of problems.slice(0, 20)) writeLine(io.stderr, `  ${p.file ?? ''}${p.line ? `:${p.line}` : ''} ${p.message}`);
      if (problems.length === 0) writeLine(io.stderr, `  ${JSON.stringify(pub.body)}`);
      return 1;
    }
    say(`Revision ${String(pub.body.id).slice(0, 12)} is live.`);

    // 3. A bootstrap token for demo-1, so the agent is approved at once.
    const boot = await http.call('POST', '/api/v1/bootstrap-tokens', { host: 'demo-1', ttlSeconds: 3600 });
    if (boot.status !== 201) {
      writeLine(io.stderr, `stead demo: could not create a bootstrap token (HTTP ${boot.status}): ${JSON.stringify(boot.body)}`);
      return 1;
    }
    const bootFile = join(dir, 'bootstrap-token');
    await fsp.writeFile(bootFile, `${boot.body.token as string}\n`, { mode: 0o600 });

    // A console user "demo" (admin) with a random password, printed below (a second run keeps the first's).
    const demoPassword = randomBytes(12).toString('base64url');
    const demoUser = await http.call('POST', '/api/v1/users', { name: 'demo', role: 'admin', password: demoPassword });
    const login = demoUser.status === 201 ? `user demo, password ${demoPassword}` : undefined;

    // 4. The agent.
    const agentLog = createWriteStream(join(dir, 'agent.log'), { flags: 'a', mode: 0o600 });
    agent = spawn(process.execPath, [MAIN_JS, 'agent', '--server', url, '--data-dir', agentDir, '--root', root, '--host', 'demo-1', '--interval', String(interval), '--splay', '0', '--bootstrap-token-file', bootFile], { cwd: io.cwd, env: { MALLOC_ARENA_MAX: '2', ...io.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stderr!.pipe(agentLog, { end: false });
    const agentExit = once(agent, 'exit');
    createInterface({ input: agent.stdout! }).on('line', (l) => say(`[agent] ${l}`));

    // 5. Where to look.
    const rel = (p: string): string => (relative(io.cwd, p).startsWith('..') ? p : relative(io.cwd, p) || '.');
    say('');
    say('Stead demo is running.');
    say(`  Console and API:   ${url}/   (admin token in ${rel(tokenFile)})`);
    if (login) say(`  Console login:     ${login}   (or the admin token)`);
    else say(`  Console login:     the admin token, or user demo with the password printed by the first run`);
    say(`  Sandbox root:      ${rel(root)}   (host demo-1 lives here; /srv/shop is under it)`);
    say(`  Logs:              ${rel(join(dir, 'server.log'))}, ${rel(join(dir, 'agent.log'))}`);
    say(`  Agent runs every ${interval} s; each run prints a line below.`);
    say('');
    say('Try drift: edit a managed file by hand and watch the next run repair it (reported as corrective):');
    say(`  echo tampered > ${rel(join(root, 'srv/shop/etc/app.ini'))}`);
    say(`See the host: curl -H "Authorization: Bearer $(cat ${rel(tokenFile)})" ${url}/api/v1/hosts/demo-1`);
    say('Press Ctrl-C to stop.');
    say('');

    const which = await Promise.race([
      once(controller.signal, 'abort').then(() => 'signal' as const),
      serverExit.then(() => 'server' as const),
      agentExit.then(() => 'agent' as const),
    ]);
    // Ctrl-C in a terminal reaches the children too: a child ending because of it is a normal stop.
    if (which === 'signal' || controller.signal.aborted) {
      say('Stopping ...');
      await Promise.all([stopChild(agent, 15_000), stopChild(server, 15_000)]);
      say('Stopped.');
      return 0;
    }
    writeLine(io.stderr, `stead demo: the ${which} stopped unexpectedly (exit ${String((which === 'server' ? server : agent)?.exitCode)}); see ${join(dir, `${which}.log`)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all([stopChild(agent, 15_000), stopChild(server, 15_000)]);
  }
}
