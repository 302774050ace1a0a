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
