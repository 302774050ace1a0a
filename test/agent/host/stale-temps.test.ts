/** writeFileAtomic removes the temp files that killed writes of the same file left behind. */
import t from 'tap';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeHost } from '../../../agent/host/node-host.js';

t.test('old temp files of the same file are removed; recent ones and other files are kept', async (t) => {
  const root = t.testdir();
  const dir = join(root, 'etc');
  mkdirSync(dir);
  const hourAgo = new Date(Date.now() - 3_600_000);
  const stale = '.app.conf.stead-0123456789ab.tmp';
  const recent = '.app.conf.stead-ba9876543210.tmp';
  const otherFile = '.other.conf.stead-0123456789ab.tmp';
  const notOurs = '.app.conf.stead-backup.tmp';
  for (const n of [stale, recent, otherFile, notOurs]) writeFileSync(join(dir, n), 'partial');
  for (const n of [stale, otherFile, notOurs]) utimesSync(join(dir, n), hourAgo, hourAgo);

  const host = createNodeHost({ root });
  await host.writeFileAtomic('/etc/app.conf', 'complete\n');

  t.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), 'complete\n');
  t.same(readdirSync(dir).sort(), [recent, notOurs, otherFile, 'app.conf'].sort(), 'only the stale temp of app.conf is gone');
});
