import t from 'tap';
import { chmodSync, existsSync, mkdirSync, writeFileSync, statSync, lstatSync, symlinkSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { directory } from '../../../agent/resources/directory.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { createMemoryBlobSource } from '../../../agent/blobs/memory-blob-source.js';
import { reconcile } from '../../../agent/engine/reconcile.js';
import type { Resource } from '../../../schemas/index.js';
import { fsRegistry, isRunReport, makeCatalog } from '../../helpers/engine-fixtures.js';
import { resourceContract } from './contract.js';

const blobs = createMemoryBlobSource();
const A = blobs.put('a\n');

await resourceContract(t, {
  impl: directory,
  registry: fsRegistry,
  cases: [
    { name: 'create with mode', desired: () => ({ type: 'directory', path: '/srv', mode: '0750' }) },
    { name: 'fix mode', desired: () => ({ type: 'directory', path: '/srv', mode: '0700' }), prepare: (root) => { mkdirSync(join(root, 'srv')); chmodSync(join(root, 'srv'), 0o755); } },
    { name: 'absent removes an empty directory', desired: () => ({ type: 'directory', path: '/srv', ensure: 'absent' }), prepare: (root) => mkdirSync(join(root, 'srv')) },
    { name: 'absent with force removes content', desired: () => ({ type: 'directory', path: '/srv', ensure: 'absent', force: true }), prepare: (root) => { mkdirSync(join(root, 'srv/a/b'), { recursive: true }); writeFileSync(join(root, 'srv/a/b/f'), 'x'); } },
    { name: 'purge removes unmanaged entries', desired: () => ({ type: 'directory', path: '/srv', recurse: true, purge: true }), prepare: (root) => { mkdirSync(join(root, 'srv/x'), { recursive: true }); writeFileSync(join(root, 'srv/x/f'), 'x'); } },
    { name: 'recurse fixes owner below', desired: () => ({ type: 'directory', path: '/srv', recurse: true, owner: 'app', group: 'app' }), prepare: (root) => {
      mkdirSync(join(root, 'etc'));
      writeFileSync(join(root, 'etc/passwd'), 'app:x:4321:4322::/home/app:/bin/sh\n');
      writeFileSync(join(root, 'etc/group'), 'app:x:4322:\n');
      mkdirSync(join(root, 'srv/x'), { recursive: true });
      writeFileSync(join(root, 'srv/x/f'), 'x');
    } },
  ],
});

const run = (root: string, state: string, resources: Resource[], noop = false) =>
  reconcile(makeCatalog(resources), { host: createNodeHost({ root }), blobs, stateDir: state, hostName: 'h', noop, signal: AbortSignal.timeout(60_000), registry: fsRegistry });

t.test('purge keeps every managed path and the directories leading to them', async (t) => {
  const d = t.testdir({
    root: { srv: { keep: 'old', junk: 'x', sub: { kept: 'x', junk2: 'y' }, app: { inside: 'archive content' }, deep: { a: { managed: 'm', junk3: 'z' } }, link: 'x' } },
    state: {},
  });
  const root = join(d, 'root');
  symlinkSync('/etc', join(root, 'srv/evil-link'));
  const resources: Resource[] = [
    { type: 'directory', path: '/srv', recurse: true, purge: true },
    { type: 'file', path: '/srv/keep', source: A },
    { type: 'directory', path: '/srv/sub' },
    { type: 'file', path: '/srv/sub/kept' },
    { type: 'directory', path: '/srv/app' },
    { type: 'file', path: '/srv/deep/a/managed' },
  ];
  const noop = await run(root, join(d, 'state'), resources, true);
  const purge = noop.resources.find((s) => s.id === 'directory:/srv')?.changes.find((c) => c.property === 'purge');
  t.same(purge?.before, ['/srv/deep/a/junk3', '/srv/evil-link', '/srv/junk', '/srv/link', '/srv/sub/junk2'].sort(), 'noop lists what would be purged');
  t.ok(existsSync(join(root, 'srv/junk')), 'noop purges nothing');
  const r = await run(root, join(d, 'state'), resources);
  t.same(isRunReport.check(r), []);
  t.equal(r.outcome, 'changed');
  for (const gone of ['srv/junk', 'srv/sub/junk2', 'srv/deep/a/junk3', 'srv/evil-link', 'srv/link']) t.notOk(existsSync(join(root, gone)) || lstatSync(join(root, 'srv')).isFile(), `${gone} purged`);
  for (const kept of ['srv/keep', 'srv/sub/kept', 'srv/app/inside', 'srv/deep/a/managed']) t.ok(existsSync(join(root, kept)), `${kept} kept`);
  t.equal(readFileSync(join(root, 'srv/app/inside'), 'utf8'), 'archive content', 'a managed leaf directory keeps its content');
  t.ok(existsSync('/etc/passwd'), 'the symlink target outside was not followed');
  const again = await run(root, join(d, 'state'), resources);
  t.equal(again.outcome, 'in-sync');
});

t.test('absent refuses a non-empty directory without force, and a file', async (t) => {
  const d = t.testdir({ root: { full: { f: 'x' }, file: 'x' }, state: {} });
  const root = join(d, 'root');
  const r = await run(root, join(d, 'state'), [{ type: 'directory', path: '/full', ensure: 'absent' }, { type: 'directory', path: '/file', ensure: 'absent' }]);
  t.equal(r.resources[0]?.error?.code, 'NOT_EMPTY');
  t.equal(r.resources[1]?.error?.code, 'WRONG_KIND');
  t.ok(existsSync(join(root, 'full/f')));
  t.ok(existsSync(join(root, 'file')));
});

t.test('validate: purge needs recurse; force needs absent', async (t) => {
  t.equal(directory.validate({ type: 'directory', path: '/x', purge: true }).length, 1);
  t.equal(directory.validate({ type: 'directory', path: '/x', force: true }).length, 1);
  t.same(directory.validate({ type: 'directory', path: '/x', purge: true, recurse: true }), []);
});

t.test('recurse applies owner and group to everything below', async (t) => {
  const d = t.testdir({ root: { etc: { passwd: 'app:x:4321:4322::/:/bin/sh\n', group: 'app:x:4322:\n' }, srv: { a: { b: 'x' } } }, state: {} });
  const root = join(d, 'root');
  const r = await run(root, join(d, 'state'), [{ type: 'directory', path: '/srv', recurse: true, owner: 'app', group: 'app', mode: '0750' }]);
  t.equal(r.outcome, 'changed');
  for (const p of ['srv', 'srv/a', 'srv/a/b']) {
    const st = statSync(join(root, p));
    t.same([st.uid, st.gid], [4321, 4322], `${p} owned by app`);
  }
  t.equal(statSync(join(root, 'srv')).mode & 0o7777, 0o750);
  t.equal(statSync(join(root, 'srv/a')).mode & 0o7777, 0o755, 'mode is not recursive');
});
