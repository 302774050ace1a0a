/**
 * cli/stead, the `stead` command package.json installs: it runs dist/cli/main.js with the node
 * on PATH, passes every argument through unchanged, and gives `agent` and `apply` (only) two
 * glibc malloc arenas unless MALLOC_ARENA_MAX is set (docs/adr/0006).
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { buildOnce, repoRoot, waitFor } from '../helpers/e2e-fleet.js';

const wrapper = join(repoRoot, 'cli/stead');
const run = promisify(execFile);

t.test('package.json installs the wrapper as `stead`', async (t) => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  t.equal(pkg.bin['stead'], 'cli/stead');
});

t.test('arguments pass through unchanged; agent and apply get MALLOC_ARENA_MAX=2, other commands nothing, an explicit value wins', async (t) => {
  // A stand-in `node` first on PATH that prints what it was given.
  const bin = t.testdir();
  writeFileSync(join(bin, 'node'), '#!/bin/sh\nprintf "%s\\n" "ARENA=${MALLOC_ARENA_MAX-unset}" "$@"\n');
  chmodSync(join(bin, 'node'), 0o755);
  const env = { PATH: `${bin}:/usr/bin:/bin` };
  const lines = async (args: string[], extra: Record<string, string> = {}) => (await run(wrapper, args, { env: { ...env, ...extra } })).stdout.trim().split('\n');
  const main = `${realpathSync(repoRoot)}/cli/../dist/cli/main.js`;
  t.same(await lines(['agent', '--server', 'http://x', 'a b', '$HOME', '*']), ['ARENA=2', main, 'agent', '--server', 'http://x', 'a b', '$HOME', '*']);
  t.same((await lines(['apply', 'm.yaml']))[0], 'ARENA=2');
  t.same((await lines(['server', '--port', '1']))[0], 'ARENA=unset');
  t.same((await lines(['--version']))[0], 'ARENA=unset');
  t.same((await lines(['agent'], { MALLOC_ARENA_MAX: '4' }))[0], 'ARENA=4');
  // Through a symbolic link, as npm installs it in node_modules/.bin.
  mkdirSync(join(bin, 'links'));
  const link = join(bin, 'links/stead');
  symlinkSync(wrapper, link);
  t.same((await run(link, ['apply'], { env })).stdout.trim().split('\n').slice(0, 2), ['ARENA=2', main]);
});

t.test('a real `stead agent` started through the wrapper is node itself, with the setting in its environment', async (t) => {
  await buildOnce();
  const child = spawn(wrapper, ['agent', '--server', 'http://127.0.0.1:9', '--data-dir', join(t.testdir(), 'data'), '--host', 'wrapper-test'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } });
  t.teardown(() => child.kill('SIGKILL'));
  const pid = child.pid!;
  const cmdline = await waitFor('the agent process', () => {
    const c = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return c.some((a) => a.endsWith('dist/cli/main.js')) ? c : undefined;
  }, 30_000);
  t.ok(cmdline[0]!.endsWith('node'), `no shell left: ${cmdline[0]}`);
  t.ok(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes('MALLOC_ARENA_MAX=2'));
  child.kill('SIGTERM');
  await once(child, 'exit');
});
