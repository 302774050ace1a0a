/**
 * The `stead agent` process itself, without a server: usage errors, --once with nothing to
 * enforce, a clean SIGTERM while it waits for the server, one agent per data dir, JSON logs.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
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
});

t.test('an approved agent with no server and no catalog: --once exits 4; JSON logs on stderr', async (t) => {
  const dir = t.testdir();
  const port = await freePort();
  const server = `http://127.0.0.1:${port}/`;
  // Remember an approval as a previous start would have.
  await fsp.mkdir(join(dir, 'identity'), { recursive: true });
  await fsp.writeFile(join(dir, 'identity/enrollment.json'), JSON.stringify({ server: `http://127.0.0.1:${port}`, host: 'web-1', status: 'approved', updatedAt: new Date().toISOString() }));
  const r = await stead(['agent', '--server', server, '--data-dir', dir, '--host', 'web-1', '--once']).done;
  t.equal(r.code, 4, r.stderr);
  t.match(r.stdout, /^web-1 run \S+: no run \(/);
  const logs = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; host: string });
  t.ok(logs.length > 0 && logs.every((l) => l.host === 'web-1' && typeof l.msg === 'string'), 'every stderr line is a JSON log event');
  t.ok(logs.some((l) => l.msg === 'catalog fetch failed and no catalog is cached'));
  t.equal((await fsp.stat(join(dir, 'identity/key.pem'))).mode & 0o777, 0o600, 'the private key is 0600');
  t.notMatch(r.stderr, /PRIVATE KEY/, 'the key never reaches the logs');
  t.same(await fsp.readdir(join(dir, 'spool')), [], 'no report without a run');
});

t.test('SIGTERM while waiting for the server exits 0 at once; one agent per data dir', async (t) => {
  const dir = t.testdir();
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
