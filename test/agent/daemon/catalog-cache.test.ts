/**
 * The catalog cache keeps the parsed, validated catalog in memory between polls while the file
 * on disk is unchanged; any change to the file is read and validated in full. Real files in a
 * temporary directory; reads and validations are counted by the cache itself.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import t from 'tap';
import { CatalogCache } from '../../../agent/daemon/catalog-cache.js';
import type { Catalog } from '../../../schemas/index.js';

function catalogFor(revision: string, host = 'web-1'): Catalog {
  const body = { host, revision, resources: [{ type: 'directory', path: `/srv/${revision}` }], blobs: {} };
  return { id: createHash('sha256').update(JSON.stringify(body)).digest('hex'), ...body } as Catalog;
}

const receivedAt = '2026-11-26T02:00:00.000Z';

t.test('loads after a save are served from memory: no read, no parse, no validation', async (t) => {
  const cache = new CatalogCache(t.testdir(), { racyWindowMs: 0 });
  const catalog = catalogFor('one');
  await cache.save({ catalog, receivedAt });
  for (let i = 0; i < 3; i++) {
    const got = await cache.load('web-1');
    t.equal(got?.catalog, catalog, 'the same object is returned');
  }
  t.same(cache.counters, { reads: 0, validations: 0 });
  t.equal(await cache.load('web-2'), undefined, 'another host name never gets it, even from memory');
});

t.test('a fresh cache (a restarted agent) reads and validates once, then keeps it', async (t) => {
  const dir = t.testdir();
  await new CatalogCache(dir).save({ catalog: catalogFor('one'), receivedAt });
  const cache = new CatalogCache(dir, { racyWindowMs: 0 });
  t.equal((await cache.load('web-1'))?.catalog.revision, 'one');
  t.equal((await cache.load('web-1'))?.catalog.revision, 'one');
  t.same(cache.counters, { reads: 1, validations: 1 });
});

t.test('a file changed on disk is always read and validated in full', async (t) => {
  const dir = t.testdir();
  const cache = new CatalogCache(dir, { racyWindowMs: 0 });
  await cache.save({ catalog: catalogFor('one'), receivedAt });
  t.equal((await cache.load('web-1'))?.catalog.revision, 'one');
  t.same(cache.counters, { reads: 0, validations: 0 });

  // Another valid catalog written in place (another size): read, validated, then kept.
  await fsp.writeFile(cache.path, JSON.stringify({ catalog: catalogFor('second'), receivedAt }));
  t.equal((await cache.load('web-1'))?.catalog.revision, 'second', 'the new content, not the copy in memory');
  t.same(cache.counters, { reads: 1, validations: 1 });
  t.equal((await cache.load('web-1'))?.catalog.revision, 'second');
  t.same(cache.counters, { reads: 1, validations: 1 }, 'kept after the read');

  // Corrupted: the copy in memory is not used; the file is ignored as if absent, on every load.
  await fsp.writeFile(cache.path, '{"catalog": {"host": "web-1"');
  t.equal(await cache.load('web-1'), undefined);
  t.equal(await cache.load('web-1'), undefined);
  t.same(cache.counters, { reads: 3, validations: 1 }, 'unparseable: read each time, never kept');

  // Parseable but failing the schemas (a resource without a path): rejected by full validation.
  const bad = catalogFor('bad') as unknown as { resources: Record<string, unknown>[] };
  bad.resources[0] = { type: 'directory' };
  await fsp.writeFile(cache.path, JSON.stringify({ catalog: bad, receivedAt }));
  t.equal(await cache.load('web-1'), undefined);
  t.same(cache.counters, { reads: 4, validations: 2 });

  // Replaced by rename (a new inode, same bytes as before): read again.
  await cache.save({ catalog: catalogFor('one'), receivedAt });
  const tmp = `${cache.path}.new`;
  await fsp.copyFile(cache.path, tmp);
  await fsp.rename(tmp, cache.path);
  t.equal((await cache.load('web-1'))?.catalog.revision, 'one');
  t.same(cache.counters, { reads: 5, validations: 3 });

  // Removed: nothing cached, and the memory copy is dropped.
  await fsp.rm(cache.path);
  t.equal(await cache.load('web-1'), undefined);
  t.same(cache.counters, { reads: 5, validations: 3 });
});

t.test('a file changed within the racy window of its stamp is read again on the next load', async (t) => {
  // A window far larger than any test run: every stamp is racy, so nothing is served from memory.
  const cache = new CatalogCache(t.testdir(), { racyWindowMs: 24 * 3600 * 1000 });
  await cache.save({ catalog: catalogFor('one'), receivedAt });
  t.equal((await cache.load('web-1'))?.catalog.revision, 'one');
  t.equal((await cache.load('web-1'))?.catalog.revision, 'one');
  t.same(cache.counters, { reads: 2, validations: 2 });
});

t.test('a stamp older than the window is trusted (file times set back with utimes)', async (t) => {
  const cache = new CatalogCache(t.testdir(), { racyWindowMs: 24 * 3600 * 1000 });
  await cache.save({ catalog: catalogFor('one'), receivedAt });
  // utimes sets mtime but ctime becomes "now": still racy, so this shows the ctime is checked too.
  const past = new Date(Date.now() - 7 * 24 * 3600 * 1000);
  await fsp.utimes(cache.path, past, past);
  await cache.load('web-1');
  await cache.load('web-1');
  t.same(cache.counters, { reads: 2, validations: 2 }, 'a recent ctime keeps the stamp racy');
});
