import t, { type Test } from 'tap';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from '../../../agent/resources/exec.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { createMemoryBlobSource } from '../../../agent/blobs/memory-blob-source.js';
import { reconcile } from '../../../agent/engine/reconcile.js';
import type { Resource, RunReport } from '../../../schemas/index.js';
import { fsRegistry, isRunReport, makeCatalog } from '../../helpers/engine-fixtures.js';
import { resourceContract } from './contract.js';
import { worldDir, type FixtureTree } from '../../helpers/world-dir.js';

await resourceContract(t, {
  impl: exec,
  registry: fsRegistry,
  cases: [
    { name: 'creates', desired: () => ({ type: 'exec', command: 'touch "$STEAD_ROOT/done"', creates: '/done' }) },
    { name: 'unless', desired: () => ({ type: 'exec', name: 'flag', command: 'echo x > "$STEAD_ROOT/flag"', unless: 'test -f "$STEAD_ROOT/flag"' }) },
    { name: 'onlyif false is in sync', changes: false, desired: () => ({ type: 'exec', name: 'never', command: 'touch "$STEAD_ROOT/never"', onlyif: 'false' }) },
    { name: 'refreshonly is in sync without a notification', changes: false, desired: () => ({ type: 'exec', name: 'r', command: 'touch "$STEAD_ROOT/r"', refreshonly: true }) },
    { name: 'creates already there', changes: false, desired: () => ({ type: 'exec', command: 'touch "$STEAD_ROOT/done"', creates: '/done' }), prepare: (root) => writeFileSync(join(root, 'done'), '') },
  ],
});

async function run(t: Test, resources: Resource[], tree: Record<string, unknown> = {}, prepare?: (root: string) => void): Promise<{ report: RunReport; root: string }> {
  const d = worldDir(t, { root: tree as FixtureTree, state: {} }); // reachable by a run-as user wherever the checkout is
  const root = join(d, 'root');
  prepare?.(root);
  const report = await reconcile(makeCatalog(resources), { host: createNodeHost({ root }), blobs: createMemoryBlobSource(), stateDir: join(d, 'state'), hostName: 'h', noop: false, signal: AbortSignal.timeout(60_000), registry: fsRegistry });
  t.same(isRunReport.check(report), [], 'report validates');
  return { report, root };
}

t.test('returns, output, environment, cwd', async (t) => {
  const { report, root } = await run(t, [
    { type: 'exec', name: 'two', command: 'echo out; echo err >&2; exit 2', returns: [0, 2] },
    { type: 'exec', name: 'one', command: 'exit 1' },
    { type: 'exec', name: 'env', command: 'echo "$GREETING" > "$STEAD_ROOT/env"; pwd > "$STEAD_ROOT/cwd"', environment: { GREETING: 'hi $(touch /tmp/stead-pwn-exec) `x`' }, cwd: '/work' },
    { type: 'exec', name: 'big', command: 'head -c 300000 /dev/zero | tr "\\0" a' },
  ], { work: {} });
  const s = (id: string) => report.resources.find((r) => r.id === id)!;
  t.equal(s('exec:two').state, 'changed');
  t.equal(s('exec:two').output, 'out\nerr\n');
  t.same(s('exec:two').changes, [{ property: 'returns', before: 'notrun', after: [0, 2], corrective: false, routine: true }]);
  t.equal(s('exec:one').error?.code, 'EXEC_FAILED');
  t.match(s('exec:one').error?.message, /exited 1 \(expected 0\)/);
  t.equal(readFileSync(join(root, 'env'), 'utf8'), 'hi $(touch /tmp/stead-pwn-exec) `x`\n', 'values stay data');
  t.notOk(existsSync('/tmp/stead-pwn-exec'));
  t.equal(readFileSync(join(root, 'cwd'), 'utf8'), `${join(root, 'work')}\n`, 'cwd is mapped under the root');
  t.ok(Buffer.byteLength(s('exec:big').output ?? '') <= 64 * 1024 + 100, 'output is capped');
  t.match(s('exec:big').output, /more bytes dropped|truncated/);
});

t.test('run as a user: uid, primary gid, no supplementary groups', { skip: process.getuid?.() === 0 ? false : 'needs root to switch users' }, async (t) => {
  const { report, root } = await run(
    t,
    [{ type: 'exec', name: 'id', command: 'id -u > "$STEAD_ROOT/out/uid"; id -g > "$STEAD_ROOT/out/gid"; id -G > "$STEAD_ROOT/out/groups"; echo "$HOME" > "$STEAD_ROOT/out/home"', user: 'app', cwd: '/out' }],
    { etc: { passwd: 'root:x:0:0::/root:/bin/sh\napp:x:4321:4322::/home/app:/bin/sh\n', group: 'app:x:4322:\n' }, out: {} },
    (root) => chmodSync(join(root, 'out'), 0o777),
  );
  t.equal(report.outcome, 'changed', JSON.stringify(report.resources[0]?.error));
  t.equal(readFileSync(join(root, 'out/uid'), 'utf8'), '4321\n');
  t.equal(readFileSync(join(root, 'out/gid'), 'utf8'), '4322\n');
  t.equal(readFileSync(join(root, 'out/groups'), 'utf8'), '4322\n');
  t.equal(readFileSync(join(root, 'out/home'), 'utf8'), '/home/app\n');
});

t.test('unknown user fails without running', async (t) => {
  const { report, root } = await run(t, [{ type: 'exec', name: 'x', command: 'touch "$STEAD_ROOT/ran"', user: 'ghost' }]);
  t.equal(report.resources[0]?.error?.code, 'UNKNOWN_USER');
  t.notOk(existsSync(join(root, 'ran')));
});

t.test('a command that does not create its `creates` path does not converge', async (t) => {
  const { report } = await run(t, [{ type: 'exec', name: 'liar', command: 'true', creates: '/never' }]);
  t.equal(report.resources[0]?.error?.code, 'NOT_CONVERGED');
});

t.test('a notified exec runs once even when it also ran on its own', async (t) => {
  const { report, root } = await run(t, [
    { type: 'exec', name: 'src', command: 'touch "$STEAD_ROOT/src"', creates: '/src', notify: ['exec:count'] },
    { type: 'exec', name: 'count', command: 'echo x >> "$STEAD_ROOT/count"', unless: 'test -f "$STEAD_ROOT/count"' },
  ]);
  t.equal(report.outcome, 'changed');
  t.equal(readFileSync(join(root, 'count'), 'utf8'), 'x\n');
});

t.test('validate: environment names', async (t) => {
  t.equal(exec.validate({ type: 'exec', command: 'x', environment: { 'A-B': '1' } }).length, 1);
  t.same(exec.validate({ type: 'exec', command: 'x', environment: { A_B: '1' } }), []);
});
