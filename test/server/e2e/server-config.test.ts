/**
 * `stead server` configuration refusals and socket timeouts, with real processes:
 * - several servers (--cluster, --servers N) without --mongodb-url are refused at start, exit 64,
 *   before anything is created in the data directory;
 * - --servers 1 starts normally;
 * - a slowloris client (headers trickled, never finished) is cut off by --headers-timeout,
 *   while the server keeps answering others.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { buildOnce, mainJs, repoRoot, type Teardown } from '../../helpers/e2e-fleet.js';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runServer(args: string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [mainJs, 'server', '--port', '0', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // A refused configuration exits at once; one that starts is killed (and then fails the test).
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

t.before(buildOnce);

t.test('several servers without MongoDB are refused at start with exit 64', async (t) => {
  for (const args of [['--cluster'], ['--servers', '3'], ['--servers', '2', '--cluster']]) {
    const dataDir = join(t.testdir(), 'data');
    const r = await runServer(['--data-dir', dataDir, ...args]);
    t.equal(r.code, 64, `${args.join(' ')}: exit 64 (stderr: ${r.stderr.trim()})`);
    t.match(r.stderr, /several servers need MongoDB/, `${args.join(' ')}: says why`);
    t.notMatch(r.stdout, /listening/, `${args.join(' ')}: never listened`);
    t.notOk(existsSync(join(dataDir, 'stead.db')), `${args.join(' ')}: no embedded store was created`);
    t.notOk(existsSync(join(dataDir, 'admin-token')), `${args.join(' ')}: no admin token was created`);
  }
});

t.test('bad --servers values and a malformed MongoDB URL are usage errors (exit 64)', async (t) => {
  for (const args of [['--servers', '0'], ['--servers', 'two'], ['--servers', '1.5'], ['--cluster', '--mongodb-url', 'http://db:27017/stead'], ['--headers-timeout', '0']]) {
    const r = await runServer(['--data-dir', join(t.testdir(), 'data'), ...args]);
    t.equal(r.code, 64, `${args.join(' ')}: exit 64 (stderr: ${r.stderr.trim()})`);
  }
});

/** Starts `stead server --json` and resolves its URL once it listens. */
async function startServer(t: Teardown, args: string[]): Promise<{ url: string; port: number; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [mainJs, 'server', '--port', '0', '--json', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const ev = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const e = JSON.parse(buf.slice(0, i)) as { event: string; url: string; port: number };
        buf = buf.slice(i + 1);
        if (e.event === 'listening') resolve(e);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${stderr.slice(-2000)}`)));
  });
  return {
    ...ev,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/** One complete GET on a fresh connection; resolves the status line. */
function getStatus(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let data = '';
    s.setEncoding('utf8').on('data', (d: string) => (data += d));
    s.on('error', reject);
    s.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
  });
}

t.test('--servers 1 starts; a slowloris client is cut off by --headers-timeout', async (t) => {
  const srv = await startServer(t, ['--data-dir', join(t.testdir(), 'data'), '--servers', '1', '--headers-timeout', '1']);
  t.equal(await getStatus(srv.port, '/healthz'), 'HTTP/1.1 200 OK', 'serves with --servers 1');

  // Headers trickled one line every 200 ms, never finished: only the server can end this socket.
  const sock = net.connect(srv.port, '127.0.0.1');
  let received = '';
  let closedBy: 'server' | 'test-deadline' | undefined;
  sock.setEncoding('utf8').on('data', (d: string) => (received += d));
  sock.on('error', () => undefined); // a reset by the server is also "closed by the server"
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  sock.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  let n = 0;
  const trickle = setInterval(() => {
    if (!sock.destroyed) sock.write(`X-Slow-${n++}: a\r\n`);
  }, 200);
  // Generous: the configured timeout is 1 s; the default (15 s) would not close it within 10 s.
  const deadline = setTimeout(() => {
    closedBy ??= 'test-deadline';
    sock.destroy();
  }, 10_000);
  await new Promise<void>((resolve) => sock.once('close', () => resolve()));
  closedBy ??= 'server';
  clearInterval(trickle);
  clearTimeout(deadline);
  t.equal(closedBy, 'server', 'the server closed the socket of the slow client');
  t.ok(received === '' || received.startsWith('HTTP/1.1 408'), `answered nothing or 408 (got ${JSON.stringify(received.split('\r\n')[0])})`);
  t.ok(n >= 1, 'the client was still sending headers when it was cut off');

  t.equal(await getStatus(srv.port, '/healthz'), 'HTTP/1.1 200 OK', 'other clients are still served');
  t.equal(await srv.stop(), 0, 'SIGTERM: exit 0');
});
