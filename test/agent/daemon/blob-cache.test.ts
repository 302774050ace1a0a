/**
 * BlobCache.ensure: fetches only missing blobs; a poll with the same catalog and an unchanged
 * cache directory fetches nothing; a blob removed from the cache (by a person, a damaged read)
 * is fetched again at the next ensure.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { BlobCache, catalogBlobRefs } from '../../../agent/daemon/blob-cache.js';
import type { Catalog } from '../../../schemas/index.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

t.test('missing blobs are fetched, present ones are not, a removed one is fetched again', async (t) => {
  const dir = join(t.testdir(), 'blobs');
  const cache = new BlobCache(dir);
  await cache.open();
  const contents = ['a\n', 'b\n', 'c\n'];
  const served = new Map(contents.map((c) => [sha(c), Buffer.from(c)]));
  const catalog = { id: 'x'.repeat(64), host: 'h', revision: 'r', resources: contents.map((c, i) => ({ type: 'file', path: `/f${i}`, source: `sha256:${sha(c)}` })) } as unknown as Catalog;
  const refs = catalogBlobRefs(catalog);
  t.equal(catalogBlobRefs(catalog), refs, 'the same list for the same catalog object');
  const fetches: string[] = [];
  const fetch = async (s: string) => {
    fetches.push(s);
    return served.get(s)!;
  };
  const signal = new AbortController().signal;
  t.equal(await cache.ensure(refs, fetch, signal), 3);
  t.equal(await cache.ensure(refs, fetch, signal), 0, 'nothing missing');
  t.equal(await cache.ensure(refs, fetch, signal), 0, 'nothing missing, and the directory unchanged');
  await fsp.rm(join(dir, sha('b\n')));
  t.equal(await cache.ensure(refs, fetch, signal), 1, 'a blob removed since is fetched again');
  t.same(fetches.slice(3), [sha('b\n')]);
  t.same(await cache.read(sha('b\n')), Buffer.from('b\n'));
  await fsp.writeFile(join(dir, sha('c\n')), 'damaged');
  t.equal(await cache.read(sha('c\n')), undefined, 'a damaged blob is not used (and is removed)');
  t.equal(await cache.ensure(refs, fetch, signal), 1, 'and fetched again at the next ensure');
  const other = catalogBlobRefs({ ...catalog, resources: [...catalog.resources, { type: 'file', path: '/g', source: `sha256:${sha('d\n')}` }] } as unknown as Catalog);
  served.set(sha('d\n'), Buffer.from('d\n'));
  t.equal(await cache.ensure(other, fetch, signal), 1, 'another catalog is checked in full');
});

t.test('missing blobs are fetched a few at a time, with progress; the first failure stops the rest', async (t) => {
  const dir = join(t.testdir(), 'blobs');
  const cache = new BlobCache(dir);
  await cache.open();
  const contents = Array.from({ length: 40 }, (_, i) => `blob ${i}\n`);
  const served = new Map(contents.map((c) => [sha(c), Buffer.from(c)]));
  const refs = contents.map((c) => `sha256:${sha(c)}`).sort();
  let inFlight = 0;
  let most = 0;
  const fetch = async (s: string, signal: AbortSignal) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setImmediate(r)); // let the others start
    inFlight--;
    signal.throwIfAborted();
    return served.get(s)!;
  };
  const progress: number[] = [];
  t.equal(await cache.ensure(refs, fetch, new AbortController().signal, { concurrency: 4, onProgress: (done, missing) => { progress.push(done); t.equal(missing, 40); } }), 40);
  t.equal(most, 4, 'four fetches at a time, never more');
  t.same(progress, Array.from({ length: 40 }, (_, i) => i + 1), 'progress after each blob');
  for (const c of contents) t.same(await cache.read(sha(c)), Buffer.from(c));

  // A second cache: the 5th fetch fails; no fetch starts after it, the error is the one thrown.
  const dir2 = join(t.testdir(), 'blobs2');
  const other = new BlobCache(dir2);
  await other.open();
  let started = 0;
  const failing = async (s: string, signal: AbortSignal) => {
    const n = ++started;
    await new Promise((r) => setImmediate(r));
    if (n === 5) throw new Error('server gone');
    signal.throwIfAborted();
    return served.get(s)!;
  };
  await t.rejects(other.ensure(refs, failing, new AbortController().signal, { concurrency: 4 }), /server gone/);
  t.ok(started <= 8, `fetching stopped soon after the failure (${started} started of 40)`);
  const kept = (await fsp.readdir(dir2)).filter((f) => !f.startsWith('.'));
  for (const f of kept) t.same(await other.read(f), served.get(f), `${f.slice(0, 8)} written whole and verified`);
  const wrong = async () => Buffer.from('not what was asked');
  await t.rejects(new BlobCache(dir2).ensure(refs, wrong, new AbortController().signal), { code: 'BLOB_CORRUPT' }, 'a blob that does not match its hash is refused');
});
