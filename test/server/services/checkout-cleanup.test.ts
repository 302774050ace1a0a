/**
 * Leftover revision checkouts of killed processes are removed at start, on a real data
 * directory and a real server composition: temporary directories, checkouts of revisions the
 * store never recorded, and links, without ever following a link out of the directory.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startServer } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

t.test('orphaned checkouts, temp dirs and links go; live checkouts, link targets and unknown names stay', async (t) => {
  // Not t.testdir(): startServer calls it and would empty it between the two starts.
  const dir = mkdtempSync(join(os.tmpdir(), 'stead-checkouts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  const outside = join(dir, 'outside');
  mkdirSync(join(outside, 'sub'), { recursive: true });
  writeFileSync(join(outside, 'keep.txt'), 'outside the data dir\n');
  writeFileSync(join(outside, 'sub', 'deep.txt'), 'deep\n');
  const first = await startServer(t, { dataDir });
  const pub = await first.publish(smallRepo());
  t.equal(pub.status, 201, pub.body.toString());
  const live = pub.json().id as string;
  await first.close();

  const root = join(dataDir, 'revisions');
  const orphan = 'ab'.repeat(32); // a checkout written by a publish killed during validation
  mkdirSync(join(root, orphan, 'templates'), { recursive: true });
  writeFileSync(join(root, orphan, 'stead.yaml'), 'stead: 1\n');
  symlinkSync(outside, join(root, orphan, 'templates', 'escape')); // a link inside an orphan
  const tmp = `${'cd'.repeat(32)}.tmp-4242-x1`; // killed while writing
  mkdirSync(join(root, tmp));
  symlinkSync(join(outside, 'sub'), join(root, tmp, 'sub'));
  symlinkSync(outside, join(root, 'ef'.repeat(32))); // a link named like a checkout
  symlinkSync(join(outside, 'keep.txt'), join(root, 'x.tmp-1')); // a link named like a temp dir
  writeFileSync(join(root, 'NOTES'), 'an operator left this\n');

  const second = await startServer(t, { dataDir });
  t.same(readdirSync(root).sort(), [live, 'NOTES'].sort(), 'only the live checkout and the unknown file remain');
  t.equal(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'outside the data dir\n', 'link targets are untouched');
  t.equal(readFileSync(join(outside, 'sub', 'deep.txt'), 'utf8'), 'deep\n');
  t.ok(lstatSync(join(root, live)).isDirectory());
  t.ok(second.logs.some((l) => l.includes('removed a leftover revision checkout') && l.includes(orphan)), 'the removal is logged');
  t.ok(second.logs.some((l) => l.includes('unexpected entry') && l.includes('NOTES')), 'the unknown entry is reported');
  // The live revision still serves (its checkout was kept, not rebuilt).
  t.equal((await second.json('GET', `/api/v1/revisions/${live}`)).status, 200);
  t.ok(existsSync(join(root, live, 'stead.yaml')));
});
