/** `stead backup list|show|restore` over the backups a real `stead apply` made. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import t from 'tap';
import { runStead } from '../helpers/cli.js';

const hex = (s: string): string => createHash('sha256').update(s).digest('hex');

t.test('a replaced file can be listed, shown and restored', async (t) => {
  const dir = t.testdir({
    'v1.yaml': 'resources:\n  - type: file\n    path: /etc/app.conf\n    content: "version one\\n"\n',
    'v2.yaml': 'resources:\n  - type: file\n    path: /etc/app.conf\n    content: "version two\\n"\n',
    root: { etc: {} },
  });
  const root = join(dir, 'root');
  t.equal((await runStead(['apply', 'v1.yaml', '--root', root], { cwd: dir })).code, 0);
  t.equal((await runStead(['apply', 'v2.yaml', '--root', root], { cwd: dir })).code, 0);
  t.equal(readFileSync(join(root, 'etc/app.conf'), 'utf8'), 'version two\n');

  const list = await runStead(['backup', 'list', '--root', root]);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, new RegExp(`^${hex('version one\n').slice(0, 12)}  \\S+\\s+12  /etc/app.conf$`, 'm'));
  const json = await runStead(['backup', 'list', '--root', root, '--json']);
  const entries = JSON.parse(json.stdout) as { sha256: string; path: string }[];
  t.same(entries.map((e) => [e.sha256, e.path]), [[hex('version one\n'), '/etc/app.conf']]);

  const show = await runStead(['backup', 'show', hex('version one\n').slice(0, 8), '--root', root]);
  t.equal(show.code, 0);
  t.equal(show.stdout, 'version one\n');

  const restore = await runStead(['backup', 'restore', `sha256:${hex('version one\n')}`, '--root', root]);
  t.equal(restore.code, 0, restore.stderr);
  t.match(restore.stdout, /^Restored \/etc\/app.conf from backup/);
  t.equal(readFileSync(join(root, 'etc/app.conf'), 'utf8'), 'version one\n');
  const after = JSON.parse((await runStead(['backup', 'list', '--root', root, '--json'])).stdout) as { sha256: string }[];
  t.ok(after.some((e) => e.sha256 === hex('version two\n')), 'the content the restore replaced is backed up too');

  // the next apply puts the managed content back: drift, corrected
  const reapply = await runStead(['apply', 'v2.yaml', '--root', root, '--detailed-exitcodes'], { cwd: dir });
  t.equal(reapply.code, 2);
});

t.test('mistakes are reported, not thrown', async (t) => {
  const dir = t.testdir({ root: {}, state: {} });
  const none = await runStead(['backup', 'list', '--root', join(dir, 'root')]);
  t.equal(none.code, 1);
  t.match(none.stderr, /no state directory/);
  const empty = await runStead(['backup', 'list', '--state-dir', join(dir, 'state')]);
  t.equal(empty.code, 0);
  t.match(empty.stdout, /No backups/);
  const badSha = await runStead(['backup', 'show', 'xyz', '--state-dir', join(dir, 'state')]);
  t.equal(badSha.code, 64);
  const unknown = await runStead(['backup', 'show', 'abcdef12', '--state-dir', join(dir, 'state')]);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /no backup abcdef12/);
  const noAction = await runStead(['backup', '--state-dir', join(dir, 'state')]);
  t.equal(noAction.code, 64);
});
