/** ensurePrivateDir sets 0700 through an O_NOFOLLOW descriptor: a symlink in its place is refused, its target untouched (ADR 0007). */
import t from 'tap';
import { chmodSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from '../../../agent/spool/atomic-file.js';

t.test('a directory is made or tightened to 0700', async (t) => {
  const d = t.testdir({ loose: {} });
  chmodSync(join(d, 'loose'), 0o755);
  await ensurePrivateDir(join(d, 'loose'));
  await ensurePrivateDir(join(d, 'new/deeper'));
  t.equal(statSync(join(d, 'loose')).mode & 0o7777, 0o700);
  t.equal(statSync(join(d, 'new/deeper')).mode & 0o7777, 0o700);
});

t.test('a symlink where the directory should be is refused, never followed', async (t) => {
  const d = t.testdir({ victim: {} });
  chmodSync(join(d, 'victim'), 0o755);
  symlinkSync(join(d, 'victim'), join(d, 'spool'));
  await t.rejects(ensurePrivateDir(join(d, 'spool')), /refusing directory .*spool: it is not a directory/);
  t.equal(statSync(join(d, 'victim')).mode & 0o7777, 0o755, 'the link target keeps its mode');
  mkdirSync(join(d, 'x'));
});
