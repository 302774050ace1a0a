import t from 'tap';
import { mkdirSync, writeFileSync, readlinkSync, symlinkSync, lstatSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { link } from '../../../agent/resources/link.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { createMemoryBlobSource } from '../../../agent/blobs/memory-blob-source.js';
import { reconcile } from '../../../agent/engine/reconcile.js';
import type { Resource } from '../../../schemas/index.js';
import { fsRegistry, makeCatalog } from '../../helpers/engine-fixtures.js';
import { resourceContract } from './contract.js';

await resourceContract(t, {
  impl: link,
  registry: fsRegistry,
  cases: [
    { name: 'create relative link', desired: () => ({ type: 'link', path: '/current', target: 'releases/42' }) },
    { name: 'create absolute link, written as given', desired: () => ({ type: 'link', path: '/current', target: '/srv/app/releases/42' }) },
    { name: 'retarget', desired: () => ({ type: 'link', path: '/current', target: 'releases/43' }), prepare: (root) => symlinkSync('releases/42', join(root, 'current')) },
    { name: 'force replaces a file', desired: () => ({ type: 'link', path: '/current', target: 'x', force: true }), prepare: (root) => writeFileSync(join(root, 'current'), 'x') },
    { name: 'force replaces an empty directory', desired: () => ({ type: 'link', path: '/current', target: 'x', force: true }), prepare: (root) => mkdirSync(join(root, 'current')) },
    { name: 'absent removes a link', desired: () => ({ type: 'link', path: '/current', ensure: 'absent' }), prepare: (root) => symlinkSync('x', join(root, 'current')) },
    { name: 'absent leaves a file alone', changes: false, desired: () => ({ type: 'link', path: '/current', ensure: 'absent' }), prepare: (root) => writeFileSync(join(root, 'current'), 'x') },
  ],
});

const run = (root: string, state: string, resources: Resource[]) =>
  reconcile(makeCatalog(resources), { host: createNodeHost({ root }), blobs: createMemoryBlobSource(), stateDir: state, hostName: 'h', noop: false, signal: AbortSignal.timeout(60_000), registry: fsRegistry });

t.test('without force, a file or directory in the way is refused', async (t) => {
  const d = t.testdir({ root: { f: 'keep', dir: { x: 'keep' } }, state: {} });
  const root = join(d, 'root');
  const r = await run(root, join(d, 'state'), [{ type: 'link', path: '/f', target: 'x' }, { type: 'link', path: '/dir', target: 'x', force: true }]);
  t.equal(r.resources[0]?.error?.code, 'WRONG_KIND');
  t.equal(r.resources[1]?.error?.code, 'NOT_EMPTY');
  t.equal(readFileSync(join(root, 'f'), 'utf8'), 'keep');
  t.ok(existsSync(join(root, 'dir/x')));
});

t.test('a retarget is atomic and leaves no temp link', async (t) => {
  const d = t.testdir({ root: {}, state: {} });
  const root = join(d, 'root');
  symlinkSync('old', join(root, 'cur'));
  const r = await run(root, join(d, 'state'), [{ type: 'link', path: '/cur', target: 'new' }]);
  t.equal(r.outcome, 'changed');
  t.equal(readlinkSync(join(root, 'cur')), 'new');
  t.ok(lstatSync(join(root, 'cur')).isSymbolicLink());
  t.same((await import('node:fs')).readdirSync(root), ['cur']);
});

t.test('validate: target needed unless absent', async (t) => {
  t.equal(link.validate({ type: 'link', path: '/x' }).length, 1);
  t.same(link.validate({ type: 'link', path: '/x', ensure: 'absent' }), []);
});
