/**
 * The real `stead agent` process refuses a data dir another user could write (docs/adr/0011):
 * one owned by a throwaway user (useradd), one under a parent that user owns, a group-writable
 * data dir or parent; a sticky world-writable parent (/tmp's kind) is fine. A cached catalog the
 * agent did not seal (planted or tampered) is refused and never enforced; the agent's own cached
 * catalog is enforced offline by --once. No server runs: every agent points at a closed port and
 * gives up after 1 s (asserted by exit code and message, never by time).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { CatalogCache, catalogSealKey } from '../../agent/daemon/catalog-cache.js';
import { loadOrCreateIdentity } from '../../agent/identity/agent-identity.js';
import type { Catalog } from '../../schemas/index.js';
import { buildOnce, freePort, mainJs, repoRoot } from '../helpers/e2e-fleet.js';

await buildOnce();

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function agent(dataDir: string, port: number, extra: string[] = []): Promise<Done> {
  const child = spawn(process.execPath, [mainJs, 'agent', '--server', `http://127.0.0.1:${port}`, '--data-dir', dataDir, '--host', 'web-1', '--once', '--give-up-after', '1', ...extra], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** A world-traversable temporary directory (0755 under os.tmpdir(), itself sticky 1777). */
async function tempBase(t: Test): Promise<string> {
  const base = await fsp.mkdtemp(join(os.tmpdir(), 'stead-datadir-'));
  await fsp.chmod(base, 0o755);
  t.teardown(() => fsp.rm(base, { recursive: true, force: true }));
  return base;
}

const root = process.geteuid?.() === 0;
const hasUseradd = spawnSync('useradd', ['--help']).status === 0;
const noUser = !root ? 'needs root to create a throwaway user' : !hasUseradd ? 'needs useradd (the shadow tools)' : undefined;
if (noUser) t.comment(`the other-user cases are skipped: ${noUser}`);

t.test('a data dir, or a parent, owned by another user is refused before anything is read or written', { skip: noUser ?? false }, async (t) => {
  const name = `stead-dd-${randomBytes(3).toString('hex')}`;
  const add = spawnSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', name], { encoding: 'utf8' });
  t.equal(add.status, 0, add.stderr);
  t.teardown(() => void spawnSync('userdel', [name]));
  const uid = Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
  const base = await tempBase(t);
  const port = await freePort();

  // The attack: a data dir the other user made, with a catalog.json planted in it.
  const planted = join(base, 'planted');
  await fsp.mkdir(planted, { mode: 0o700 });
  await fsp.writeFile(join(planted, 'catalog.json'), '{"catalog":{}}');
  await fsp.chown(planted, uid, uid);
  const r1 = await agent(planted, port);
  t.equal(r1.code, 6, r1.stderr);
  t.match(r1.stderr, `refusing data dir ${planted}: it is owned by uid ${uid} (${name})`);
  t.match(r1.stderr, `Fix: chown root: ${planted}; chmod 0700 ${planted}`);
  t.same((await fsp.readdir(planted)).sort(), ['catalog.json'], 'nothing created in it (no key, no lock)');

  // A root-owned 0700 data dir under a directory that user owns: they could swap it.
  const parent = join(base, 'theirs');
  await fsp.mkdir(join(parent, 'data'), { recursive: true, mode: 0o700 });
  await fsp.chown(parent, uid, uid);
  const r2 = await agent(join(parent, 'data'), port);
  t.equal(r2.code, 6, r2.stderr);
  t.match(r2.stderr, `refusing data dir parent ${parent}: it is owned by uid ${uid} (${name})`);
  t.match(r2.stderr, `Fix: chown root: ${parent}; chmod go-w ${parent}`);

  // A data dir that does not exist yet under that parent is not created.
  const r3 = await agent(join(parent, 'new'), port);
  t.equal(r3.code, 6, r3.stderr);
  await t.rejects(fsp.access(join(parent, 'new')), 'not created');
});

t.test('group/other-writable data dirs and parents are refused; a sticky parent is fine', async (t) => {
  const base = await tempBase(t);
  const port = await freePort();

  const groupWritable = join(base, 'gw');
  await fsp.mkdir(groupWritable);
  await fsp.chmod(groupWritable, 0o770);
  const r1 = await agent(groupWritable, port);
  t.equal(r1.code, 6, r1.stderr);
  t.match(r1.stderr, `refusing data dir ${groupWritable}: it is writable by its group (mode 0770`);
  t.match(r1.stderr, `chmod 0700 ${groupWritable}`);

  // Sticky does not excuse the data dir itself.
  const stickyData = join(base, 'sticky-data');
  await fsp.mkdir(stickyData);
  await fsp.chmod(stickyData, 0o1777);
  const r2 = await agent(stickyData, port);
  t.equal(r2.code, 6, r2.stderr);
  t.match(r2.stderr, /writable by its group and others \(mode 1777/);

  const openParent = join(base, 'open');
  await fsp.mkdir(join(openParent, 'data'), { recursive: true, mode: 0o700 });
  await fsp.chmod(openParent, 0o777);
  const r3 = await agent(join(openParent, 'data'), port);
  t.equal(r3.code, 6, r3.stderr);
  t.match(r3.stderr, `refusing data dir parent ${openParent}: it is writable by its group and others (mode 0777`);

  // /tmp's kind of directory: world-writable with the sticky bit, owned by the agent's user.
  const stickyParent = join(base, 'tmp-like');
  await fsp.mkdir(stickyParent);
  await fsp.chmod(stickyParent, 0o1777);
  const r4 = await agent(join(stickyParent, 'data'), port);
  t.equal(r4.code, 5, `accepted, then gave up on the closed port: ${r4.stderr}`);
  t.equal((await fsp.stat(join(stickyParent, 'data'))).mode & 0o7777, 0o700, 'created 0700');

  // A link as the data dir is followed once and its target checked: a good target is used.
  await fsp.symlink(join(stickyParent, 'data'), join(base, 'link'));
  const r5 = await agent(join(base, 'link'), port);
  t.equal(r5.code, 5, r5.stderr);
  t.notMatch(r5.stderr, /refusing/);
});

const catalogBody = (dir: string) => ({ host: 'web-1', revision: 'r1', resources: [{ type: 'directory', path: dir, mode: '0755' }], blobs: {} });

t.test('--once enforces its own cached catalog offline; a planted or tampered one is refused, never enforced', async (t) => {
  const base = await tempBase(t);
  const port = await freePort();
  const dataDir = join(base, 'data');
  const hostRoot = join(base, 'root');
  await fsp.mkdir(join(hostRoot, 'srv'), { recursive: true });
  await fsp.mkdir(dataDir, { mode: 0o700 });
  // What a previous run left: an approved identity and the catalog it sealed.
  const identity = await loadOrCreateIdentity(dataDir);
  await fsp.writeFile(join(dataDir, 'identity/enrollment.json'), JSON.stringify({ server: `http://127.0.0.1:${port}`, host: 'web-1', status: 'approved', updatedAt: new Date().toISOString() }), { mode: 0o600 });
  const cache = new CatalogCache(dataDir, { sealKey: catalogSealKey(identity.privateKey) });
  const good = { id: 'a'.repeat(64), ...catalogBody('/srv/good') } as Catalog;
  await cache.save({ catalog: good, receivedAt: new Date().toISOString() });

  const r1 = await agent(dataDir, port, ['--root', hostRoot]);
  t.equal(r1.code, 0, r1.stderr);
  t.match(r1.stdout, /server unreachable: cached catalog/);
  t.ok((await fsp.stat(join(hostRoot, 'srv/good'))).isDirectory(), 'the cached catalog was enforced offline');
  t.equal((await fsp.readdir(join(dataDir, 'spool'))).filter((f) => f.endsWith('.json')).length, 1, 'its report waits in the spool');

  // Tampered in place: the seal line kept, the content changed (valid JSON, valid catalog).
  const sealed = await fsp.readFile(cache.path, 'utf8');
  await fsp.writeFile(cache.path, sealed.replace('/srv/good', '/srv/evil'));
  const r2 = await agent(dataDir, port, ['--root', hostRoot]);
  t.equal(r2.code, 5, r2.stderr);
  t.match(r2.stderr, `refused the cached catalog ${cache.path} (moved to ${cache.path}.rejected): its seal does not verify`);
  t.match(r2.stderr, /gave up after 1 s \(--give-up-after\): the server at http:\/\/127\.0\.0\.1:\d+ could not be reached and no catalog is cached/);
  await t.rejects(fsp.access(join(hostRoot, 'srv/evil')), 'the tampered catalog was not enforced');

  // The original attack: a plain, schema-valid catalog.json planted in the data dir.
  await fsp.writeFile(cache.path, JSON.stringify({ catalog: { id: 'b'.repeat(64), ...catalogBody('/srv/planted') }, receivedAt: new Date().toISOString() }), { mode: 0o600 });
  const r3 = await agent(dataDir, port, ['--root', hostRoot]);
  t.equal(r3.code, 5, r3.stderr);
  t.match(r3.stderr, /refused the cached catalog .*its seal does not verify.*no seal line/);
  await t.rejects(fsp.access(join(hostRoot, 'srv/planted')), 'the planted catalog was not enforced');

  // A private key made group-writable stops the agent with the fix (the identity is checked too).
  await fsp.chmod(join(dataDir, 'identity/key.pem'), 0o620);
  const r4 = await agent(dataDir, port, ['--root', hostRoot]);
  t.equal(r4.code, 6, r4.stderr);
  t.match(r4.stderr, `refusing file ${join(dataDir, 'identity/key.pem')}: it is writable by its group (mode 0620`);
});
