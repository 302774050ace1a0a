/**
 * `stead apply --root DIR` (issue 8 item 13): a missing DIR is created (0755 whatever the umask,
 * parents too) so the README's first try works on a fresh machine; --noop creates nothing; a DIR
 * that is a symbolic link (even to a directory) or not a directory is refused with exit 64 and
 * nothing under its target changes.
 */
import t from 'tap';
import { chmodSync, existsSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSandboxRoot } from '../../cli/sandbox-root.js';
import { repoRoot, runStead, snapshotTree } from '../helpers/cli.js';

const demo = join(repoRoot, 'manifests/examples/demo.yaml');
const mode = (p: string): number => statSync(p).mode & 0o7777;

t.test('a missing root is created, 0755, with its parents; the apply converges', async (t) => {
  const dir = t.testdir();
  const root = join(dir, 'fresh/sb');
  const r = await runStead(['apply', demo, '--root', root]);
  t.equal(r.code, 0, r.stderr);
  t.equal(mode(root), 0o755);
  t.equal(mode(join(dir, 'fresh')), 0o755);
  t.ok(existsSync(join(root, 'etc/motd')), 'managed files are under the new root');
  const again = await runStead(['apply', demo, '--root', root, '--detailed-exitcodes']);
  t.equal(again.code, 0, 'an existing root is used as is; the second run has nothing to do');
});

t.test('--noop creates nothing: a missing root reads as empty', async (t) => {
  const dir = t.testdir();
  const r = await runStead(['apply', demo, '--root', join(dir, 'sb'), '--noop', '--detailed-exitcodes']);
  t.equal(r.code, 2, r.stderr);
  t.same(readdirSync(dir), []);
});

t.test('the created mode does not depend on the umask', async (t) => {
  const dir = t.testdir();
  const old = process.umask(0o077);
  try {
    t.same(await ensureSandboxRoot(join(dir, 'a/b'), '--root a/b'), { created: true });
  } finally {
    process.umask(old);
  }
  t.equal(mode(join(dir, 'a/b')), 0o755);
  t.same(await ensureSandboxRoot(join(dir, 'a/b'), '--root a/b'), { created: false });
});

t.test('an existing directory keeps its mode', async (t) => {
  const dir = t.testdir({ sb: {} });
  chmodSync(join(dir, 'sb'), 0o711);
  t.same(await ensureSandboxRoot(join(dir, 'sb'), '--root sb'), { created: false });
  t.equal(mode(join(dir, 'sb')), 0o711);
});

t.test('a symbolic link or a file at the root path is refused (exit 64), nothing changes', async (t) => {
  const dir = t.testdir({ target: { etc: {} }, file: 'x' });
  symlinkSync(join(dir, 'target'), join(dir, 'link'));
  symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
  const before = snapshotTree(dir);
  for (const [name, kind] of [['link', 'a symbolic link'], ['dangling', 'a symbolic link'], ['file', 'a regular file']] as const) {
    for (const extra of [[], ['--noop']]) {
      const r = await runStead(['apply', demo, '--root', join(dir, name), ...extra]);
      t.equal(r.code, 64, `${name} ${extra.join(' ')}`);
      t.match(r.stderr, `--root ${join(dir, name)}: ${join(dir, name)} is ${kind}`);
    }
  }
  t.same(snapshotTree(dir), before, 'the link target, the dangling target and the file are untouched');
  t.notOk(existsSync(join(dir, 'nowhere')), 'a dangling link is not followed to create its target');
});

t.test('a root whose parent is a file cannot be created: a clear usage error', async (t) => {
  const dir = t.testdir({ f: 'x' });
  const r = await runStead(['apply', demo, '--root', join(dir, 'f/sb')]);
  t.equal(r.code, 64);
  t.match(r.stderr, `cannot create ${join(dir, 'f/sb')}: a parent of it is not a directory`);
});
