/**
 * The script library and execution accounts against the real embedded store: versions, diff,
 * search, clone, bounds, base seeding across restarts, and the shipped base scripts run for
 * real (sh and python3) in temporary directories.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import type { Test } from 'tap';
import { ManualClock } from '../../../server/domain/clock.js';
import { ApiError } from '../../../server/domain/errors.js';
import { AccountService } from '../../../server/services/scripts/account-service.js';
import { paramValues, slugOf } from '../../../server/services/scripts/script-model.js';
import { baseScriptsDir, MAX_VERSIONS, ScriptService } from '../../../server/services/scripts/script-service.js';
import { openStore } from '../../../server/store/open.js';
import type { DocumentStore } from '../../../server/store/types.js';

const run = promisify(execFile);

async function open(t: Test, dir = t.testdir()): Promise<{ store: DocumentStore; scripts: ScriptService; clock: ManualClock; dir: string }> {
  const store = await openStore({ dataDir: dir });
  t.teardown(() => store.close());
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  return { store, scripts: await ScriptService.open(store, clock), clock, dir };
}

async function rejects(t: Test, p: Promise<unknown>, code: string, what: string): Promise<void> {
  try {
    await p;
    t.fail(`${what}: resolved`);
  } catch (err) {
    t.ok(err instanceof ApiError, `${what}: an ApiError`);
    t.equal((err as ApiError).code, code, what);
  }
}

t.test('slugs, parameter values', async (t) => {
  t.equal(slugOf('Server Init!'), 'server-init');
  t.equal(slugOf('  Löschen -- alte Logs  '), 'loschen-alte-logs');
  t.equal(slugOf('x'.repeat(63) + '-y'), 'x'.repeat(63), 'at most 64, no trailing "-"');
  t.throws(() => slugOf('！？'), /no letter or digit/);
  const params = [{ name: 'DIR', required: true }, { name: 'DAYS', default: '7' }, { name: 'OPT' }];
  t.same(paramValues(params, { DIR: '/var/log' }), { DIR: '/var/log', DAYS: '7' });
  t.throws(() => paramValues(params, {}), /DIR is required/);
  t.throws(() => paramValues(params, { DIR: 'x', NOPE: '1' }), /no parameter "NOPE"/);
});

t.test('create, versions only on change, get, resolve', async (t) => {
  const { scripts, clock } = await open(t);
  const d = await scripts.create({ name: 'Rotate Logs', lang: 'shell', source: 'echo 1\n', tags: ['logs', 'ops', 'logs'], params: [{ name: 'DIR', required: true }], description: 'rotates' }, 'alice');
  t.equal(d.script.id, 'rotate-logs');
  t.same(d.script.tags, ['logs', 'ops'], 'tags unique and sorted');
  t.equal(d.script.kind, 'user');
  t.equal(d.version.version, 1);
  await rejects(t, scripts.create({ name: 'rotate  logs', lang: 'shell', source: 'x' }, 'bob'), 'CONFLICT', 'same slug');

  clock.advance(1000);
  const same = await scripts.addVersion('rotate-logs', { source: 'echo 1\n', description: 'rotates logs' }, 'bob');
  t.equal(same.created, false, 'same source and params: no version');
  t.equal(same.script.latest, 1);
  t.equal(same.script.description, 'rotates logs', 'description updated anyway');

  const v2 = await scripts.addVersion('rotate-logs', { source: 'echo 2\n', message: 'two' }, 'bob');
  t.equal(v2.created, true);
  t.equal(v2.version.version, 2);
  t.same(v2.version.params, [{ name: 'DIR', required: true }], 'params kept when absent');
  const v3 = await scripts.addVersion('rotate-logs', { source: 'echo 2\n', params: [{ name: 'DIR', required: true }, { name: 'DAYS', default: '3' }] }, 'carol');
  t.equal(v3.created, true, 'a params change alone is a version');
  t.same(v3.versions.map((v) => v.version), [3, 2, 1], 'versions newest first');
  t.equal(v3.versions[1]!.message, 'two');

  const old = await scripts.get('rotate-logs', 1);
  t.equal(old.version.source, 'echo 1\n', 'versions are immutable');
  t.equal(old.script.latest, 3);
  const r = await scripts.resolve('rotate-logs');
  t.same(r, { id: 'rotate-logs', name: 'Rotate Logs', version: 3, lang: 'shell', source: 'echo 2\n', params: [{ name: 'DIR', required: true }, { name: 'DAYS', default: '3' }] });
  t.equal((await scripts.resolve('rotate-logs', 2)).version, 2);
  await rejects(t, scripts.resolve('rotate-logs', 9), 'NOT_FOUND', 'unknown version');
  await rejects(t, scripts.resolve('nope'), 'NOT_FOUND', 'unknown script');
  await rejects(t, scripts.resolve('../etc/passwd'), 'NOT_FOUND', 'a malformed id is not found');
  await rejects(t, scripts.get('Bad_Id'), 'BAD_REQUEST', 'get checks the id');
});

t.test('bounds', async (t) => {
  const { scripts } = await open(t);
  await rejects(t, scripts.create({ name: 'big', lang: 'shell', source: 'é'.repeat(512 * 1024 + 1) }, 'a'), 'PAYLOAD_TOO_LARGE', '1 MiB of UTF-8, counted in bytes');
  t.equal((await scripts.create({ name: 'exact', lang: 'shell', source: 'x'.repeat(1024 * 1024) }, 'a')).script.id, 'exact', 'exactly 1 MiB is accepted');
  await rejects(t, scripts.create({ name: 'nul', lang: 'shell', source: 'a\u0000b' }, 'a'), 'BAD_REQUEST', 'NUL');
  await rejects(t, scripts.create({ name: 'empty', lang: 'shell', source: '' }, 'a'), 'BAD_REQUEST', 'empty');
  await rejects(t, scripts.create({ name: 'p', lang: 'shell', source: 'x', params: [{ name: 'A' }, { name: 'A' }] }, 'a'), 'BAD_REQUEST', 'duplicate param');
  await rejects(t, scripts.create({ name: 'p', lang: 'shell', source: 'x', params: [{ name: '1A' }] }, 'a'), 'BAD_REQUEST', 'bad param name');
  await rejects(t, scripts.create({ name: 'p', lang: 'shell', source: 'x', params: [{ name: 'STEAD_HOST' }] }, 'a'), 'BAD_REQUEST', 'reserved param name');
  await rejects(t, scripts.create({ name: 'p', lang: 'shell', source: 'x', params: Array.from({ length: 51 }, (_, i) => ({ name: `P${i}` })) }, 'a'), 'BAD_REQUEST', 'too many params');
  await rejects(t, scripts.create({ name: 'p', lang: 'shell', source: 'x', tags: ['Bad Tag'] }, 'a'), 'BAD_REQUEST', 'bad tag');
  await rejects(t, scripts.create({ name: 'p', lang: 'shell', source: 'x', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'a'), 'BAD_REQUEST', 'too many tags');
  await rejects(t, scripts.create({ name: 'p', lang: 'shell', source: 'x', description: 'd'.repeat(2001) }, 'a'), 'BAD_REQUEST', 'long description');
  t.equal(MAX_VERSIONS, 1000);
});

t.test('the version limit', async (t) => {
  const { store, scripts } = await open(t);
  await scripts.create({ name: 'many', lang: 'shell', source: 'v1' }, 'a');
  // Stand in for 999 earlier saves: the limit is on the version number.
  const versions = await store.collection<{ _id: string; script: string; version: number; source: string; params: never[]; sha256: string; author: string; createdAt: number }>('script_versions');
  await versions.insertOne({ _id: 'many@1000', script: 'many', version: 1000, source: 'v1000', params: [], sha256: '0'.repeat(64), author: 'a', createdAt: 0 });
  await rejects(t, scripts.addVersion('many', { source: 'v1001' }, 'a'), 'CONFLICT', 'beyond MAX_VERSIONS');
  t.equal((await scripts.get('many')).version.version, 1000, 'the newest version document wins over a lagging latest');
});

t.test('concurrent saves of the same new source make one version', async (t) => {
  const { scripts } = await open(t);
  await scripts.create({ name: 'race', lang: 'shell', source: 'a' }, 'a');
  const rs = await Promise.all([1, 2, 3, 4].map(() => scripts.addVersion('race', { source: 'b' }, 'x')));
  t.equal(rs.filter((r) => r.created).length, 1, 'one save created it; the others saw it');
  t.equal((await scripts.get('race')).script.latest, 2);
});

t.test('list: search, tag, kind, pages', async (t) => {
  const { scripts } = await open(t);
  await scripts.seedBase();
  await scripts.create({ name: 'Nginx reload', lang: 'shell', source: 'x', tags: ['web'], description: 'Reload nginx gracefully' }, 'a');
  await scripts.create({ name: 'backup db', lang: 'python', source: 'x', tags: ['db', 'backup'] }, 'a');
  await scripts.create({ name: 'Alpha', lang: 'shell', source: 'x' }, 'a');
  const all = await scripts.list();
  t.same(all.scripts.map((s) => s.id), ['disk-usage', 'log-cleanup', 'server-init', 'alpha', 'backup-db', 'nginx-reload'], 'base first, then by name');
  t.equal(all.total, 6);
  t.same((await scripts.list({ q: 'NGINX gracefully' })).scripts.map((s) => s.id), ['nginx-reload'], 'all words, any field, any case');
  t.same((await scripts.list({ q: 'backup' })).scripts.map((s) => s.id), ['backup-db'], 'tags are searched');
  t.same((await scripts.list({ q: 'nginx db' })).scripts, [], 'every word must match');
  t.same((await scripts.list({ tag: 'logs' })).scripts.map((s) => s.id), ['log-cleanup']);
  t.same((await scripts.list({ kind: 'user', limit: 2, offset: 1 })).scripts.map((s) => s.id), ['backup-db', 'nginx-reload']);
  t.equal((await scripts.list({ kind: 'user', limit: 2, offset: 1 })).total, 3, 'total counts every match');
  t.same((await scripts.list({ q: '.*(a+)+$' })).scripts, [], 'the query is text, not a pattern');
  t.same((await scripts.tags()).find((x) => x.tag === 'web'), { tag: 'web', count: 1 });
});

t.test('clone and diff', async (t) => {
  const { scripts } = await open(t);
  await scripts.seedBase();
  await rejects(t, scripts.addVersion('log-cleanup', { source: 'rm -rf /' }, 'mallory'), 'FORBIDDEN', 'base scripts are read-only');
  await rejects(t, scripts.delete('log-cleanup'), 'FORBIDDEN', 'base scripts cannot be deleted');
  const c = await scripts.clone('log-cleanup', { name: 'My cleanup', tags: ['mine'] }, 'alice');
  t.equal(c.script.kind, 'user');
  t.same(c.script.clonedFrom, { id: 'log-cleanup', version: 1 });
  t.same(c.script.tags, ['mine']);
  t.equal(c.version.source, (await scripts.get('log-cleanup')).version.source);
  t.same(c.version.params, (await scripts.get('log-cleanup')).version.params, 'parameters come along');
  t.match(c.version.message, /cloned from log-cleanup version 1/);

  const src = c.version.source;
  await scripts.addVersion('my-cleanup', { source: src.replace('DAYS=${DAYS:-7}', 'DAYS=${DAYS:-30}') }, 'alice');
  const d = await scripts.diff('my-cleanup', 1, 2);
  t.match(d.diff, /^--- my-cleanup@1\t/m);
  t.match(d.diff, /^\+\+\+ my-cleanup@2\t/m);
  t.match(d.diff, /^-DAYS=\$\{DAYS:-7\}$/m);
  t.match(d.diff, /^\+DAYS=\$\{DAYS:-30\}$/m);
  t.equal(d.paramsChanged, false);
  t.same(await scripts.diff('my-cleanup', 2, 2), { diff: '', paramsChanged: false }, 'a version against itself');
  await rejects(t, scripts.diff('my-cleanup', 1, 7), 'NOT_FOUND', 'missing side');

  const c2 = await scripts.clone('my-cleanup', { name: 'older', version: 1 }, 'bob');
  t.same(c2.script.clonedFrom, { id: 'my-cleanup', version: 1 }, 'a chosen version');
  t.equal(c2.script.description, (await scripts.get('log-cleanup')).script.description, 'description comes along by default');

  await scripts.delete('my-cleanup');
  await rejects(t, scripts.get('my-cleanup'), 'NOT_FOUND', 'deleted');
  t.equal((await scripts.create({ name: 'my cleanup', lang: 'python', source: 'print(1)' }, 'x')).version.version, 1, 'the id is free again, starting at version 1');
  await rejects(t, scripts.delete('my-cleanupx'), 'NOT_FOUND', 'delete unknown');
});

t.test('base seeding: idempotent across restarts, updates a changed file, leaves user scripts alone', async (t) => {
  const dataDir = t.testdir();
  const baseDir = join(t.testdir(), 'base');
  cpSync(baseScriptsDir, baseDir, { recursive: true });
  {
    const store = await openStore({ dataDir });
    const scripts = await ScriptService.open(store, new ManualClock(0));
    const first = await scripts.seedBase(baseDir);
    t.same(first.created.sort(), ['disk-usage', 'log-cleanup', 'server-init']);
    t.same(await scripts.seedBase(baseDir), { created: [], updated: [], skipped: [] }, 'a second seed changes nothing');
    await store.close();
  }
  // A restart on the same data directory, with one base file changed by an upgrade.
  writeFileSync(join(baseDir, 'disk-usage.py'), readFileSync(join(baseDir, 'disk-usage.py'), 'utf8') + '# v2\n');
  const store = await openStore({ dataDir });
  t.teardown(() => store.close());
  const scripts = await ScriptService.open(store, new ManualClock(0));
  const again = await scripts.seedBase(baseDir);
  t.same(again, { created: [], updated: ['disk-usage'], skipped: [] });
  t.equal((await scripts.get('disk-usage')).script.latest, 2);
  t.equal((await scripts.get('disk-usage')).version.author, 'stead');
  t.equal((await scripts.get('server-init')).script.latest, 1, 'unchanged ones keep their version');

  // A user script that took a base id before the base script shipped is left alone.
  const manifest = JSON.parse(readFileSync(join(baseDir, 'manifest.json'), 'utf8'));
  manifest.scripts.push({ name: 'user-owned', file: 'disk-usage.py', lang: 'python' });
  writeFileSync(join(baseDir, 'manifest.json'), JSON.stringify(manifest));
  await scripts.create({ name: 'user owned', lang: 'shell', source: 'mine' }, 'alice');
  t.same((await scripts.seedBase(baseDir)).skipped, ['user-owned']);
  t.equal((await scripts.get('user-owned')).version.source, 'mine');

  manifest.scripts.push({ name: 'bad', file: '../x', lang: 'shell' });
  writeFileSync(join(baseDir, 'manifest.json'), JSON.stringify(manifest));
  await t.rejects(scripts.seedBase(baseDir), /bad file name/, 'a packaging error is loud');
  manifest.scripts.splice(-1, 1, { name: 'bad', file: 'x.rb', lang: 'ruby' });
  writeFileSync(join(baseDir, 'manifest.json'), JSON.stringify(manifest));
  await t.rejects(scripts.seedBase(baseDir), /lang must be/);
});

const distBase = join(baseScriptsDir, '../../../../dist/server/services/scripts/base');
t.test('the build copies the base scripts beside the compiled service', { skip: existsSync(join(distBase, '..', 'script-service.js')) ? false : 'no build in dist/ (run `npm run build` first)' }, async (t) => {
  for (const f of ['manifest.json', 'server-init.sh', 'log-cleanup.sh', 'disk-usage.py']) t.equal(readFileSync(join(distBase, f), 'utf8'), readFileSync(join(baseScriptsDir, f), 'utf8'), `dist has ${f}`);
});

t.test('an abandoned create is reclaimed after a minute', async (t) => {
  const { store, scripts, clock } = await open(t);
  const docs = await store.collection<{ _id: string; latest: number; createdAt: number }>('scripts');
  await docs.insertOne({ _id: 'half', name: 'half', description: '', lang: 'shell', kind: 'user', tags: [], latest: 0, createdAt: clock.now(), updatedAt: clock.now(), createdBy: 'x' } as never);
  await rejects(t, scripts.get('half'), 'NOT_FOUND', 'a script without its first version does not exist');
  t.same((await scripts.list()).scripts, [], 'nor is it listed');
  await rejects(t, scripts.create({ name: 'half', lang: 'shell', source: 'x' }, 'a'), 'CONFLICT', 'a create in flight is respected');
  clock.advance(61_000);
  t.equal((await scripts.create({ name: 'half', lang: 'shell', source: 'x' }, 'a')).script.latest, 1, 'then reclaimed');
});

t.test('accounts: root seeded once, create, get, delete, bounds', async (t) => {
  const dir = t.testdir();
  const { store, clock } = await open(t, dir);
  const accounts = await AccountService.open(store, clock);
  await AccountService.open(store, clock);
  t.same((await accounts.list()).map((a) => a.name), ['root'], 'seeded once');
  t.same(await accounts.get('root'), { name: 'root', user: 'root', description: 'The superuser (built in).' });
  const a = await accounts.create({ name: 'app-deploy', user: 'deploy', description: 'deploys' }, 'admin');
  t.same(a, { name: 'app-deploy', user: 'deploy', description: 'deploys', builtin: false, createdAt: clock.now() });
  t.same(await accounts.get('app-deploy'), { name: 'app-deploy', user: 'deploy', description: 'deploys' });
  t.equal(await accounts.get('../x'), null);
  t.equal(await accounts.get('nobody'), null);
  await rejects(t, accounts.create({ name: 'app-deploy', user: 'x' }, 'a'), 'CONFLICT', 'taken');
  await rejects(t, accounts.create({ name: 'Bad Name', user: 'x' }, 'a'), 'BAD_REQUEST', 'alias');
  await rejects(t, accounts.create({ name: 'x', user: 'Root;id' }, 'a'), 'BAD_REQUEST', 'POSIX user');
  await rejects(t, accounts.create({ name: 'y', user: 'y', description: 'a\nb' }, 'a'), 'BAD_REQUEST', 'one-line description');
  await rejects(t, accounts.delete('root'), 'CONFLICT', 'root stays');
  await rejects(t, accounts.delete('nobody'), 'NOT_FOUND', 'unknown');
  await rejects(t, accounts.delete('../x'), 'NOT_FOUND', 'malformed');
  await accounts.delete('app-deploy');
  t.equal(await accounts.get('app-deploy'), null);
});

t.test('the shipped base scripts run', async (t) => {
  const { scripts } = await open(t);
  await scripts.seedBase();
  const dir = t.testdir({ 'old.log': 'o', 'new.log': 'n', 'old.txt': 't', sub: { 'deep.log': 'd' } });
  const old = new Date(Date.now() - 10 * 86_400_000);
  for (const f of ['old.log', 'old.txt', 'sub/deep.log']) utimesSync(join(dir, f), old, old);
  const cleanup = (await scripts.resolve('log-cleanup')).source;
  const sh = (env: Record<string, string>) => run('/bin/sh', ['-c', cleanup], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env } });

  const unset = await sh({}).then(() => undefined, (e: { code: number; stderr: string }) => e);
  t.ok(unset && unset.code !== 0 && /DIR is required/.test(unset.stderr), 'DIR unset: stops before find');
  const empty = await sh({ DIR: '' }).then(() => undefined, (e: { code: number }) => e);
  t.ok(empty && empty.code !== 0, 'DIR empty: stops');
  for (const bad of ['/', 'relative', '/tmp/../etc']) {
    const r = await sh({ DIR: bad }).then(() => undefined, (e: { code: number }) => e);
    t.ok(r && r.code !== 0, `DIR=${bad} refused`);
  }
  const dry = await sh({ DIR: dir, DRY_RUN: 'yes' });
  t.match(dry.stdout, /matched=1/);
  t.match(dry.stdout, /deleted=0/);
  t.ok(existsSync(join(dir, 'old.log')), 'dry run deletes nothing');
  const real = await sh({ DIR: dir, DAYS: '7' });
  t.match(real.stdout, /deleted=1/);
  t.notOk(existsSync(join(dir, 'old.log')), 'the old log is gone');
  t.ok(existsSync(join(dir, 'new.log')) && existsSync(join(dir, 'old.txt')), 'new logs and other files stay');
  t.ok(existsSync(join(dir, 'sub/deep.log')), 'DEPTH 1: subdirectories untouched');
  await sh({ DIR: dir, DEPTH: '2' });
  t.notOk(existsSync(join(dir, 'sub/deep.log')), 'DEPTH 2 reaches it');

  const du = (await scripts.resolve('disk-usage')).source;
  const py = await run('python3', ['-c', du], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', PATHS: dir, THRESHOLD: '100' } }).catch((e: { code: number; stdout: string }) => e);
  t.match((py as { stdout: string }).stdout, new RegExp(`fullest=${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  t.match((py as { stdout: string }).stdout, /^checked=1$/m);
  const bad = await run('python3', ['-c', du], { env: { PATHS: dir, THRESHOLD: 'lots' } }).then(() => undefined, (e: { code: number; stderr: string }) => e);
  t.ok(bad && bad.code === 1 && /THRESHOLD must be a number/.test(bad.stderr));

  const init = (await scripts.resolve('server-init')).source;
  const check = await run('/bin/sh', ['-c', init], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', MIN_NOFILE: '1', TIMEZONE: 'Nowhere/Nothing' } }).then(() => undefined, (e: { code: number; stdout: string; stderr: string }) => e);
  t.ok(check && check.code === 1, 'a timezone mismatch fails the check without APPLY');
  t.match(check?.stderr, /timezone: .*expected Nowhere\/Nothing/);
  t.match(check?.stdout, /^problems=1$/m);
  const tz = /^timezone=(.*)$/m.exec(check?.stdout ?? '')?.[1] ?? '';
  for (const round of [1, 2]) {
    const ok = await run('/bin/sh', ['-c', init], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', MIN_NOFILE: '1', TIMEZONE: tz } });
    t.match(ok.stdout, /^problems=0$/m, `run ${round} on a host that matches: no problem`);
    t.match(ok.stdout, /^changed=0$/m, `run ${round}: nothing changed`);
  }
  const badTz = await run('/bin/sh', ['-c', init], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TIMEZONE: '../../etc/passwd' } }).then(() => undefined, (e: { code: number; stderr: string }) => e);
  t.ok(badTz && /not an IANA zone name/.test(badTz.stderr), 'a zone name is not a path');
});
