/**
 * The `stead agent` process itself, without a server: usage errors, --once giving up on an
 * unreachable server (exit 5, at enrollment or at the catalog), --once with a server that has no
 * catalog (exit 4), a clean SIGTERM while it waits for the server, one agent per data dir, JSON
 * logs. Data dirs live in a world-traversable temporary directory (the agent refuses one whose
 * parents another user could write: docs/adr/0011).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fsp } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { buildOnce, freePort, mainJs, repoRoot, waitFor } from '../helpers/e2e-fleet.js';

await buildOnce();

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

function stead(args: string[]): { child: ReturnType<typeof spawn>; done: Promise<Done>; stderr: () => string } {
  const child = spawn(process.execPath, [mainJs, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { child, done, stderr: () => stderr };
}

/** A fresh data dir path in a 0755 temporary directory under os.tmpdir(). */
async function dataDirFor(t: Test): Promise<string> {
  const base = await fsp.mkdtemp(join(os.tmpdir(), 'stead-agent-cli-'));
  await fsp.chmod(base, 0o755);
  t.teardown(() => fsp.rm(base, { recursive: true, force: true }));
  return join(base, 'data');
}

t.test('usage errors exit 64 with a message', async (t) => {
  const missing = await stead(['agent']).done;
  t.equal(missing.code, 64);
  t.match(missing.stderr, /--server URL is required/);
  const bad = await stead(['agent', '--server', 'ftp://x', '--data-dir', t.testdir()]).done;
  t.equal(bad.code, 64);
  const host = await stead(['agent', '--server', 'http://127.0.0.1:1', '--data-dir', t.testdir(), '--host', '../etc']).done;
  t.equal(host.code, 64);
  t.match(host.stderr, /not a valid host name/);
  const help = await stead(['agent', '--help']).done;
  t.equal(help.code, 0);
  t.match(help.stdout, /--bootstrap-token-file/);
  t.match(help.stdout, /--give-up-after SECONDS/);
  t.match(help.stdout, /Exit codes:\n  0 [^]* 5 [^]* 6 [^]* 64 /);
  const giveUp = await stead(['agent', '--server', 'http://127.0.0.1:1', '--data-dir', t.testdir(), '--give-up-after', '5']).done;
  t.equal(giveUp.code, 64);
  t.match(giveUp.stderr, /--give-up-after applies to --once only/);
});

t.test('--once on a first start with the server unreachable gives up after --give-up-after: exit 5', async (t) => {
  const dir = await dataDirFor(t);
  const port = await freePort();
  const r = await stead(['agent', '--server', `http://127.0.0.1:${port}`, '--data-dir', dir, '--host', 'web-1', '--once', '--give-up-after', '1']).done;
  t.equal(r.code, 5, r.stderr);
  t.match(r.stderr, `"msg":"gave up after 1 s (--give-up-after): the server at http://127.0.0.1:${port} could not be reached to enroll"`);
  t.match(r.stderr, /enrollment: server not reachable; retrying/, 'it did retry within the time');
});

t.test('--once with a server that answers but has no catalog for the host: exit 4 at once', async (t) => {
  const dir = await dataDirFor(t);
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no catalog for this host' } }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  await fsp.mkdir(join(dir, 'identity'), { recursive: true, mode: 0o700 });
  await fsp.writeFile(join(dir, 'identity/enrollment.json'), JSON.stringify({ server: `http://127.0.0.1:${port}`, host: 'web-1', status: 'approved', updatedAt: new Date().toISOString() }));
  // A give-up time far beyond the test's: exit 4 must not wait for it.
  const r = await stead(['agent', '--server', `http://127.0.0.1:${port}`, '--data-dir', dir, '--host', 'web-1', '--once', '--give-up-after', '3600']).done;
  t.equal(r.code, 4, r.stderr);
  t.match(r.stderr, /catalog fetch failed and no catalog is cached/);
  t.notMatch(r.stderr, /gave up/);
});

t.test('an approved agent with no server and no catalog: --once gives up, exit 5; JSON logs on stderr', async (t) => {
  const dir = await dataDirFor(t);
  const port = await freePort();
  const server = `http://127.0.0.1:${port}/`;
  // Remember an approval as a previous start would have.
  await fsp.mkdir(join(dir, 'identity'), { recursive: true, mode: 0o700 });
  await fsp.writeFile(join(dir, 'identity/enrollment.json'), JSON.stringify({ server: `http://127.0.0.1:${port}`, host: 'web-1', status: 'approved', updatedAt: new Date().toISOString() }));
  const r = await stead(['agent', '--server', server, '--data-dir', dir, '--host', 'web-1', '--once', '--give-up-after', '1']).done;
  t.equal(r.code, 5, r.stderr);
  t.match(r.stdout, /^web-1 run \S+: no run \(/);
  const logs = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; host: string });
  t.ok(logs.length > 0 && logs.every((l) => l.host === 'web-1' && typeof l.msg === 'string'), 'every stderr line is a JSON log event');
  t.ok(logs.some((l) => l.msg === 'catalog fetch failed and no catalog is cached'));
  t.ok(logs.some((l) => l.msg === `gave up after 1 s (--give-up-after): the server at http://127.0.0.1:${port} could not be reached and no catalog is cached`));
  t.equal((await fsp.stat(join(dir, 'identity/key.pem'))).mode & 0o777, 0o600, 'the private key is 0600');
  t.notMatch(r.stderr, /PRIVATE KEY/, 'the key never reaches the logs');
  t.same(await fsp.readdir(join(dir, 'spool')), [], 'no report without a run');
});

t.test('SIGTERM while waiting for the server exits 0 at once; one agent per data dir', async (t) => {
  const dir = await dataDirFor(t);
  const port = await freePort();
  const a = stead(['agent', '--server', `http://127.0.0.1:${port}`, '--data-dir', dir, '--host', 'web-1', '--interval', '60']);
  t.teardown(() => {
    if (a.child.exitCode === null) a.child.kill('SIGKILL');
  });
  await waitFor('the agent to retry enrollment', () => a.stderr().includes('enrollment: server not reachable'));
  const b = await stead(['agent', '--server', `http://127.0.0.1:${port}`, '--data-dir', dir, '--host', 'web-1']).done;
  t.equal(b.code, 1);
  t.match(b.stderr, /DATA_DIR_LOCKED/);
  a.child.kill('SIGTERM');
  const r = await a.done;
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /"msg":"stopping","component":"agent","host":"web-1","signal":"SIGTERM"/);
  await t.rejects(fsp.access(join(dir, 'agent.pid')), 'lock released');
});
