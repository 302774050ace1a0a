/** Backup retention (agent/resources/backup-retention.ts) on a real state directory. */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { backupContent, listBackups, readBackup } from '../../../agent/resources/file-backup.js';
import { chooseEntries, pruneBackups, type BackupRetention } from '../../../agent/resources/backup-retention.js';

const hex = (s: string): string => createHash('sha256').update(s).digest('hex');
const day = 86_400_000;
const now = new Date('2026-12-07T12:00:00Z');
const ago = (days: number): Date => new Date(now.getTime() - days * day);
const loose: BackupRetention = { keepPerPath: 100, maxAgeDays: 0, maxTotalBytes: 0 };

t.test('keepPerPath keeps the newest N of each path and removes the rest, content too', async (t) => {
  const state = t.testdir();
  for (let i = 0; i < 5; i++) await backupContent(state, '/etc/a', Buffer.from(`a${i}`), ago(5 - i));
  await backupContent(state, '/etc/b', Buffer.from('b0'), ago(9));
  const r = await pruneBackups(state, { ...loose, keepPerPath: 2 }, now);
  t.same([r.entries, r.files, r.bytes], [3, 3, 6]);
  t.same((await listBackups(state)).map((e) => `${e.path}:${e.sha256}`), [`/etc/a:${hex('a4')}`, `/etc/a:${hex('a3')}`, `/etc/b:${hex('b0')}`]);
  for (const gone of ['a0', 'a1', 'a2']) t.notOk(existsSync(join(state, 'backups', hex(gone))), `${gone} content removed`);
  t.equal((await readBackup(state, hex('a3'))).toString(), 'a3');
  const again = await pruneBackups(state, { ...loose, keepPerPath: 2 }, now);
  t.same([again.entries, again.files], [0, 0], 'a second pass has nothing to do');
});

t.test('maxAgeDays removes old backups but never the newest of a path', async (t) => {
  const state = t.testdir();
  await backupContent(state, '/etc/a', Buffer.from('old a'), ago(200));
  await backupContent(state, '/etc/a', Buffer.from('older a'), ago(300));
  await backupContent(state, '/etc/b', Buffer.from('fresh b'), ago(1));
  await backupContent(state, '/etc/b', Buffer.from('old b'), ago(100));
  const r = await pruneBackups(state, { ...loose, maxAgeDays: 90 }, now);
  t.equal(r.entries, 2);
  t.same((await listBackups(state)).map((e) => e.path + ':' + e.sha256).sort(), [`/etc/a:${hex('old a')}`, `/etc/b:${hex('fresh b')}`].sort(),
    'the 200-day-old backup stays: it is the newest of /etc/a, the one a restore would use');
});

t.test('maxTotalBytes removes the oldest removable backups until under the cap', async (t) => {
  const state = t.testdir();
  const kb = (c: string): Buffer => Buffer.alloc(1000, c);
  await backupContent(state, '/a', kb('1'), ago(10));
  await backupContent(state, '/a', kb('2'), ago(8));
  await backupContent(state, '/a', kb('3'), ago(6));
  await backupContent(state, '/b', kb('4'), ago(9));
  await backupContent(state, '/b', kb('5'), ago(1));
  const r = await pruneBackups(state, { ...loose, maxTotalBytes: 3500 }, now);
  t.equal(r.entries, 2, 'the two oldest non-newest backups went (/a 1 then /b 4)');
  t.equal(r.keptBytes, 3000);
  t.same((await listBackups(state)).map((e) => e.sha256[0]).length, 3);
  t.notOk(existsSync(join(state, 'backups', createHash('sha256').update(kb('1')).digest('hex'))));
  t.notOk(existsSync(join(state, 'backups', createHash('sha256').update(kb('4')).digest('hex'))));
  const tiny = await pruneBackups(state, { ...loose, maxTotalBytes: 1 }, now);
  t.equal(tiny.keptEntries, 2, 'under a cap too small for them, the newest of each path still stays');
});

t.test('content shared by two paths stays while any kept entry names it', async (t) => {
  const state = t.testdir();
  await backupContent(state, '/x', Buffer.from('same'), ago(50));
  await backupContent(state, '/x', Buffer.from('x new'), ago(1));
  await backupContent(state, '/y', Buffer.from('same'), ago(2));
  const r = await pruneBackups(state, { ...loose, keepPerPath: 1 }, now);
  t.same([r.entries, r.files], [1, 0]);
  t.equal((await readBackup(state, hex('same'))).toString(), 'same');
});

t.test('content no entry names is removed only at the second pass that finds it so', async (t) => {
  const state = t.testdir();
  await backupContent(state, '/x', Buffer.from('named'), ago(1));
  writeFileSync(join(state, 'backups', hex('orphan')), 'orphan', { mode: 0o600 });
  const first = await pruneBackups(state, loose, now);
  t.equal(first.files, 0, 'maybe a write in progress in another process: kept once');
  t.ok(existsSync(join(state, 'backups', hex('orphan'))));
  const second = await pruneBackups(state, loose, now);
  t.same([second.files, second.bytes], [1, 6]);
  t.notOk(existsSync(join(state, 'backups', hex('orphan'))));
  t.ok(existsSync(join(state, 'backups', hex('named'))));
});

t.test('symlinks in the backup area are never followed nor removed; nothing outside is touched', async (t) => {
  const dir = t.testdir({ outside: { 'victim.txt': 'keep me', index: {} }, state: {} });
  const state = join(dir, 'state');
  await backupContent(state, '/x', Buffer.from('x1'), ago(3));
  await backupContent(state, '/x', Buffer.from('x2'), ago(1));
  // a link named like content, pointing outside; and a foreign index entry linking outside
  symlinkSync(join(dir, 'outside', 'victim.txt'), join(state, 'backups', hex('victim')));
  writeFileSync(join(dir, 'outside', 'index', '1-00000000.json'), JSON.stringify({ sha256: hex('victim'), path: '/v', at: ago(500).toISOString(), size: 7 }));
  symlinkSync(join(dir, 'outside', 'index', '1-00000000.json'), join(state, 'backups', 'index', '1-00000001.json'));
  for (let i = 0; i < 2; i++) await pruneBackups(state, { keepPerPath: 1, maxAgeDays: 1, maxTotalBytes: 1 }, now);
  t.equal(readFileSync(join(dir, 'outside', 'victim.txt'), 'utf8'), 'keep me');
  t.ok(lstatSync(join(state, 'backups', hex('victim'))).isSymbolicLink(), 'the link is left as it is');
  t.ok(lstatSync(join(state, 'backups', 'index', '1-00000001.json')).isSymbolicLink());
  t.ok(existsSync(join(dir, 'outside', 'index', '1-00000000.json')));
  t.same((await listBackups(state, { path: '/x' })).map((e) => e.sha256), [hex('x2')]);
});

t.test('a backup area that is itself a symlink is not entered', async (t) => {
  const dir = t.testdir({ outside: { [hex('a')]: 'a', index: { '1-00000000.json': JSON.stringify({ sha256: hex('a'), path: '/a', at: ago(999).toISOString(), size: 1 }), '2-00000000.json': JSON.stringify({ sha256: hex('a'), path: '/a', at: ago(998).toISOString(), size: 1 }) } }, state: {} });
  const state = join(dir, 'state');
  symlinkSync(join(dir, 'outside'), join(state, 'backups'));
  const r = await pruneBackups(state, { keepPerPath: 1, maxAgeDays: 1, maxTotalBytes: 1 }, now);
  t.same([r.entries, r.files], [0, 0]);
  t.same(readdirSync(join(dir, 'outside', 'index')).sort(), ['1-00000000.json', '2-00000000.json']);
});

t.test('a missing backup area is empty; a bad policy is refused', async (t) => {
  const state = t.testdir();
  t.same(await pruneBackups(state, loose, now), { entries: 0, files: 0, bytes: 0, keptBytes: 0, keptEntries: 0 });
  await t.rejects(pruneBackups(state, { ...loose, keepPerPath: 0 }, now), RangeError);
  mkdirSync(join(state, 'backups'), { recursive: true });
  t.equal((await pruneBackups(state, loose, now)).entries, 0);
});

t.test('chooseEntries: the newest of each path is never chosen', async (t) => {
  const entries = Array.from({ length: 20 }, (_, i) => ({ name: `${i}-00000000.json`, sha256: hex(String(i)), path: `/p${i % 3}`, at: ago(i * 30).toISOString(), size: 10 }));
  const sizes = new Map(entries.map((e) => [e.sha256, 10]));
  const removed = chooseEntries(entries, sizes, { keepPerPath: 1, maxAgeDays: 1, maxTotalBytes: 1 }, now);
  t.equal(removed.size, 17);
  for (const p of ['/p0', '/p1', '/p2']) t.notOk([...removed].some((e) => e.path === p && e.name === `${['/p0', '/p1', '/p2'].indexOf(p)}-00000000.json`), `newest of ${p} kept`);
});
