import t from 'tap';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync, statSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';

/** Separate root and state directories for one test. */
function dirs(t: Test, rootTree: Record<string, unknown> = {}): { root: string; state: string } {
  const d = t.testdir({ root: rootTree as never, state: {} });
  return { root: join(d, 'root'), state: join(d, 'state') };
}
import { file } from '../../../agent/resources/file.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { createMemoryBlobSource } from '../../../agent/blobs/memory-blob-source.js';
import { reconcile } from '../../../agent/engine/reconcile.js';
import { listBackups, restoreBackup } from '../../../agent/resources/file-backup.js';
import { fsRegistry, isRunReport, makeCatalog } from '../../helpers/engine-fixtures.js';
import { resourceContract } from './contract.js';

const blobs = createMemoryBlobSource();
const hello = blobs.put('hello\n');
const world = blobs.put('hello\nworld\n');

await resourceContract(t, {
  impl: file,
  registry: fsRegistry,
  cases: [
    { name: 'create with content and mode', blobs, desired: () => ({ type: 'file', path: '/etc/motd', source: hello, mode: '0640' }), prepare: (root) => mkdirSync(join(root, 'etc')) },
    { name: 'replace content', blobs, desired: () => ({ type: 'file', path: '/motd', source: world }), prepare: (root) => writeFileSync(join(root, 'motd'), 'old\n') },
    { name: 'fix mode only', blobs, desired: () => ({ type: 'file', path: '/motd', mode: '0600' }), prepare: (root) => { writeFileSync(join(root, 'motd'), 'x'); chmodSync(join(root, 'motd'), 0o644); } },
    { name: 'owner and group by name', blobs, desired: () => ({ type: 'file', path: '/motd', owner: 'app', group: 'app', source: hello }), prepare: (root) => {
      mkdirSync(join(root, 'etc'));
      writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:4321:4322::/home/app:/bin/sh\n');
      writeFileSync(join(root, 'etc/group'), 'root:x:0:\napp:x:4322:\n');
    } },
    { name: 'absent removes', blobs, desired: () => ({ type: 'file', path: '/gone', ensure: 'absent' }), prepare: (root) => writeFileSync(join(root, 'gone'), 'x') },
    { name: 'absent and missing is in sync', blobs, changes: false, desired: () => ({ type: 'file', path: '/gone', ensure: 'absent' }) },
    { name: 'in sync already', blobs, changes: false, desired: () => ({ type: 'file', path: '/motd', source: hello }), prepare: (root) => writeFileSync(join(root, 'motd'), 'hello\n') },
    { name: 'replaces a symlink by a file', blobs, desired: () => ({ type: 'file', path: '/motd', source: hello }), prepare: (root) => symlinkSync('/etc/passwd', join(root, 'motd')) },
  ],
});

t.test('owner is applied by uid from the root\'s passwd', async (t) => {
  const { root, state } = dirs(t, { etc: { passwd: 'app:x:4321:4322::/home/app:/bin/sh\n', group: 'app:x:4322:\n' } });
  const r = await reconcile(makeCatalog([{ type: 'file', path: '/f', owner: 'app', group: 'app', mode: '0600', source: hello }]), { host: createNodeHost({ root }), blobs, stateDir: state, hostName: 'h', noop: false, signal: AbortSignal.timeout(30_000), registry: fsRegistry });
  t.equal(r.outcome, 'changed');
  const st = statSync(join(root, 'f'));
  t.equal(st.uid, 4321);
  t.equal(st.gid, 4322);
  t.equal(st.mode & 0o7777, 0o600);
});

t.test('unknown owner fails with UNKNOWN_USER and writes nothing', async (t) => {
  const { root, state } = dirs(t, {});
  const r = await reconcile(makeCatalog([{ type: 'file', path: '/f', owner: 'nobody-here', source: hello }]), { host: createNodeHost({ root }), blobs, stateDir: state, hostName: 'h', noop: false, signal: AbortSignal.timeout(30_000), registry: fsRegistry });
  t.equal(r.resources[0]?.error?.code, 'UNKNOWN_USER');
  t.notOk(existsSync(join(root, 'f')));
});

t.test('missing parent directory fails with PARENT_MISSING', async (t) => {
  const { root, state } = dirs(t, {});
  const r = await reconcile(makeCatalog([{ type: 'file', path: '/no/such/f', source: hello }]), { host: createNodeHost({ root }), blobs, stateDir: state, hostName: 'h', noop: false, signal: AbortSignal.timeout(30_000), registry: fsRegistry });
  t.equal(r.resources[0]?.error?.code, 'PARENT_MISSING');
});

t.test('a directory in the way is refused, not removed', async (t) => {
  const { root, state } = dirs(t, { d: { keep: 'x' } });
  const r = await reconcile(makeCatalog([{ type: 'file', path: '/d', source: hello }]), { host: createNodeHost({ root }), blobs, stateDir: state, hostName: 'h', noop: false, signal: AbortSignal.timeout(30_000), registry: fsRegistry });
  t.equal(r.resources[0]?.error?.code, 'WRONG_KIND');
  t.equal(readFileSync(join(root, 'd/keep'), 'utf8'), 'x');
});

t.test('a unified diff is reported; backups are kept and restorable', async (t) => {
  const { root, state } = dirs(t, { motd: 'hello\n' });
  const host = createNodeHost({ root });
  const noop = await reconcile(makeCatalog([{ type: 'file', path: '/motd', source: world }]), { host, blobs, stateDir: state, hostName: 'h', noop: true, signal: AbortSignal.timeout(30_000), registry: fsRegistry });
  t.match(noop.resources[0]?.diff, /\+world/);
  t.same(isRunReport.check(noop), []);
  const r = await reconcile(makeCatalog([{ type: 'file', path: '/motd', source: world }]), { host, blobs, stateDir: state, hostName: 'h', noop: false, signal: AbortSignal.timeout(30_000), registry: fsRegistry });
  t.equal(r.outcome, 'changed');
  t.same(r.resources[0]?.changes.map((c) => c.property), ['content']);
  t.equal(readFileSync(join(root, 'motd'), 'utf8'), 'hello\nworld\n');
  const list = await listBackups(state);
  t.equal(list.length, 1);
  t.equal(list[0]?.path, '/motd');
  t.equal(readFileSync(join(state, 'backups', list[0]!.sha256), 'utf8'), 'hello\n');
  t.equal(statSync(join(state, 'backups', list[0]!.sha256)).mode & 0o777, 0o600, 'backups are private');
  await restoreBackup({ stateDir: state, host, sha256: list[0]!.sha256, path: '/motd' });
  t.equal(readFileSync(join(root, 'motd'), 'utf8'), 'hello\n');
  t.equal((await listBackups(state, { path: '/motd' })).length, 2, 'the restore backed up the content it replaced');
  await t.rejects(restoreBackup({ stateDir: state, host, sha256: '../../etc/passwd', path: '/motd' }), { code: 'BACKUP_INVALID' });
});

t.test('backup: false keeps no copy; binary content gets no diff', async (t) => {
  const { root, state } = dirs(t, { bin: Buffer.from([0, 1, 2]) });
  const bin = blobs.put(Buffer.from([0, 9, 9]));
  const r = await reconcile(makeCatalog([{ type: 'file', path: '/bin', source: bin, backup: false }]), { host: createNodeHost({ root }), blobs, stateDir: state, hostName: 'h', noop: false, signal: AbortSignal.timeout(30_000), registry: fsRegistry });
  t.equal(r.outcome, 'changed');
  t.equal(r.resources[0]?.diff, undefined);
  t.same(await listBackups(state), []);
});

t.test('content that does not match its blob hash is refused', async (t) => {
  const { root, state } = dirs(t, {});
  const bad = { get: async () => Buffer.from('tampered') };
  const r = await reconcile(makeCatalog([{ type: 'file', path: '/f', source: hello }]), { host: createNodeHost({ root }), blobs: bad, stateDir: state, hostName: 'h', noop: false, signal: AbortSignal.timeout(30_000), registry: fsRegistry });
  t.equal(r.resources[0]?.error?.code, 'BLOB_INVALID');
  t.notOk(existsSync(join(root, 'f')));
});

t.test('validate refuses uncompiled content and bad sources', async (t) => {
  t.equal(file.validate({ type: 'file', path: '/f', content: 'x' }).length, 1);
  t.equal(file.validate({ type: 'file', path: '/f', template: 'x.j2' }).length, 1);
  t.equal(file.validate({ type: 'file', path: '/f', source: 'files/x' }).length, 1);
  t.equal(file.validate({ type: 'file', path: '/f', ensure: 'absent', mode: '0644' }).length, 1);
});

t.test('writing through a symlinked parent stays inside the root', async (t) => {
  const { root, state } = dirs(t, {});
  const outside = join(state, '..', 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'target'), 'outside\n');
  symlinkSync(outside, join(root, 'conf.d'));
  symlinkSync('/etc', join(root, 'etc'));
  const r = await reconcile(makeCatalog([{ type: 'file', path: '/conf.d/target', source: hello }]), { host: createNodeHost({ root }), blobs, stateDir: state, hostName: 'h', noop: false, signal: AbortSignal.timeout(30_000), registry: fsRegistry });
  t.equal(readFileSync(join(outside, 'target'), 'utf8'), 'outside\n', 'the file outside the root is untouched');
  t.not(r.outcome, 'changed');
  t.ok(lstatSync(join(root, 'conf.d')).isSymbolicLink());
  t.equal(readlinkSync(join(root, 'etc')), '/etc');
});
