import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '../../../schemas/index.js';
import { reconcile } from '../../../agent/engine/reconcile.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { createMemoryBlobSource } from '../../../agent/blobs/memory-blob-source.js';
import { fsRegistry, makeCatalog } from '../../helpers/engine-fixtures.js';

t.test('thousands of in-sync files finish synchronously without deep recursion, and drift is still seen', async (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(join(root, 'd'), { recursive: true });
  const blobs = createMemoryBlobSource();
  const ref = blobs.put('same\n');
  const n = 5000;
  const resources: Resource[] = [{ type: 'directory', path: '/d' }];
  for (let i = 0; i < n; i++) resources.push({ type: 'file', path: `/d/f${i}`, source: ref, mode: '0644' });
  resources.push({ type: 'file', path: '/d/owned', source: ref, owner: 'root' }); // needs a lookup: the async read
  const host = createNodeHost({ root });
  const run = () => reconcile(makeCatalog(resources), { host, blobs, stateDir: join(dir, 'state'), hostName: 'h', noop: false, signal: new AbortController().signal, registry: fsRegistry });
  const first = await run();
  t.equal(first.outcome, first.counts.failed === 0 ? 'changed' : 'failed');
  t.equal(first.counts.changed, n + (first.resources.find((s) => s.id === 'file:/d/owned')?.state === 'changed' ? 1 : 0));
  const second = await run();
  t.equal(second.counts.inSync, n + 1 + (second.resources.find((s) => s.id === 'file:/d/owned')?.state === 'in-sync' ? 1 : 0));
  t.same(second.resources.slice(0, 3).map((s) => s.state), ['in-sync', 'in-sync', 'in-sync']);
  writeFileSync(join(root, 'd/f4321'), 'edited\n');
  const third = await run();
  const edited = third.resources.find((s) => s.id === 'file:/d/f4321');
  t.equal(edited?.state, 'changed', 'a drifted file among in-sync ones is corrected');
  t.same(edited?.changes.map((c) => [c.property, c.corrective]), [['content', true]]);
  t.equal(third.counts.changed, 1);
});

t.test('a read right after an lstat is bounded by the size the lstat saw', async (t) => {
  const dir = t.testdir({ root: { f: '12345' } });
  const host = createNodeHost({ root: join(dir, 'root') });
  t.equal(host.lstatNow('/f')?.size, 5);
  writeFileSync(join(dir, 'root/f'), '1234567890'); // grows in between (same turn)
  t.equal(host.readFileNow('/f').toString(), '12345', 'at most the size announced');
  t.equal(host.readFileNow('/f').toString(), '1234567890', 'without a preceding lstat: fstat decides');
  t.throws(() => host.readFileNow('/'), 'the root is no regular file');
});

t.test('sha256Now hashes what readFileNow reads, for any size, without following links', async (t) => {
  const { hash } = await import('node:crypto');
  const { symlinkSync } = await import('node:fs');
  const sizes = [0, 1, 1024, 65535, 65536, 65537, 3 * 65536 + 17];
  const files: Record<string, string> = {};
  for (const n of sizes) files[`f${n}`] = Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join('');
  const dir = t.testdir({ root: files });
  const host = createNodeHost({ root: join(dir, 'root') });
  for (const n of sizes) {
    t.equal(host.sha256Now(`/f${n}`), hash('sha256', files[`f${n}`]!, 'hex'), `${n} bytes`);
    t.equal(host.lstatNow(`/f${n}`)?.size, n);
    t.equal(host.sha256Now(`/f${n}`), hash('sha256', host.readFileNow(`/f${n}`), 'hex'), `${n} bytes after an lstat`);
  }
  writeFileSync(join(dir, 'root/grows'), '12345');
  t.equal(host.lstatNow('/grows')?.size, 5);
  writeFileSync(join(dir, 'root/grows'), '1234567890');
  t.equal(host.sha256Now('/grows'), hash('sha256', '12345', 'hex'), 'bounded by the size the lstat saw');
  symlinkSync('f1', join(dir, 'root/link'));
  t.throws(() => host.sha256Now('/link'), 'a final symlink is not followed');
  t.throws(() => host.sha256Now('/'), 'the root is no regular file');
});
