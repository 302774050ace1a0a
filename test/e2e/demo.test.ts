/**
 * `stead demo` as a newcomer runs it: a host converges, hand-made drift is repaired, Ctrl-C
 * (SIGINT) stops the server and the agent cleanly.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { buildOnce, freePort, hasCommand, mainJs, repoRoot, WaitAborted, waitFor } from '../helpers/e2e-fleet.js';

await buildOnce();
const skip = (await hasCommand('server')) ? false : 'the build has no `stead server` command yet (cli/commands/server.ts)';

t.test('stead demo converges demo-1, repairs drift, and stops on Ctrl-C', { skip }, async (t) => {
  const dir = join(t.testdir(), 'demo');
  const port = await freePort();
  const child = spawn(process.execPath, [mainJs, 'demo', '--dir', dir, '--port', String(port), '--interval', '1'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const out: string[] = [];
  const err: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => out.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => err.push(l));
  const exited = once(child, 'exit');
  const failed = (): string => `stdout:\n${out.join('\n')}\nstderr:\n${err.join('\n')}`;
  t.teardown(async () => {
    if (t.counts.fail === 0) return;
    for (const log of ['agent.log', 'server.log']) {
      const text = await fsp.readFile(join(dir, log), 'utf8').catch(() => '');
      t.comment(`${log} (last 20 lines):\n${text.trim().split('\n').slice(-20).join('\n')}`);
    }
    t.comment(failed());
  });

  await waitFor('the demo banner', () => {
    if (child.exitCode !== null) throw new WaitAborted(`demo exited ${child.exitCode}: ${failed()}`);
    return out.some((l) => l.startsWith('Stead demo is running.'));
  });
  t.ok(out.some((l) => l.includes(`http://127.0.0.1:${port}/`)), 'prints the console URL');
  t.ok(out.some((l) => l.includes('admin token in')), 'prints where the admin token is');
  t.ok(out.some((l) => /Console login: +user demo, password \S{12,}/.test(l)), 'prints a console login (user demo and a random password)');
  t.ok(out.some((l) => l.includes('Sandbox root')), 'prints the sandbox root');
  t.ok(out.some((l) => l.startsWith('  echo tampered > ')), 'suggests drift to try');

  await waitFor('demo-1 converged', () => out.some((l) => /^\[agent\] demo-1 run \S+: in-sync/.test(l)), 120_000);
  const appIni = join(dir, 'root/srv/shop/etc/app.ini');
  const good = await fsp.readFile(appIni, 'utf8');
  t.ok(good.length > 0, 'the sandbox holds the shop configuration');

  const mark = out.length;
  await fsp.writeFile(appIni, 'tampered\n');
  const repaired = await waitFor('the drift repaired', () => out.slice(mark).find((l) => /^\[agent\] demo-1 run \S+: changed .*[1-9]\d* corrective/.test(l)));
  t.ok(repaired, repaired);
  t.equal(await fsp.readFile(appIni, 'utf8'), good, 'the file is back');

  child.kill('SIGINT');
  const [code] = (await exited) as [number | null];
  t.equal(code, 0, failed());
  t.ok(out.includes('Stopped.'), 'says it stopped');
  const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
  t.equal(res, undefined, 'the server is gone');
  await t.rejects(fsp.access(join(dir, 'agent/agent.pid')), 'the agent released its data dir');
});
