/**
 * The catalog cache keeps the parsed, validated catalog in memory between polls while the file
 * on disk is unchanged; any change to the file is read and validated in full. The file is sealed
 * (HMAC under a key derived from the agent's key): a file this agent did not write, a changed
 * one, a link or one another user owns or can write is refused and moved aside. Real files in a
 * temporary directory; reads and validations are counted by the cache itself.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CatalogCache, catalogSealKey, type CatalogCacheOptions } from '../../../agent/daemon/catalog-cache.js';
import type { Catalog } from '../../../schemas/index.js';

function catalogFor(revision: string, host = 'web-1'): Catalog {
  const body = { host, revision, resources: [{ type: 'directory', path: `/srv/${revision}` }], blobs: {} };
  return { id: createHash('sha256').update(JSON.stringify(body)).digest('hex'), ...body } as Catalog;
}

const sealKey = catalogSealKey(generateKeyPairSync('ed25519').privateKey);

function cacheIn(dir: string, opts: Partial<CatalogCacheOptions> = {}): CatalogCache & { rejections: string[] } {
  const rejections: string[] = [];
  const cache = new CatalogCache(dir, { sealKey, onReject: (_p, reason) => rejections.push(reason), ...opts });
  return Object.assign(cache, { rejections });
}

const receivedAt = '2026-11-26T02:00:00.000Z';

t.test('loads after a save are served from memory: no read, no parse, no validation', async (t) => {
  const cache = cacheIn(t.testdir(), { racyWindowMs: 0 });
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
  await cacheIn(dir).save({ catalog: catalogFor('one'), receivedAt });
  const cache = cacheIn(dir, { racyWindowMs: 0 });
  t.equal((await cache.load('web-1'))?.catalog.revision, 'one');
  t.equal((await cache.load('web-1'))?.catalog.revision, 'one');
  t.same(cache.counters, { reads: 1, validations: 1 });
});

t.test('a file changed on disk is always read and validated in full', async (t) => {
  const dir = t.testdir();
  const cache = cacheIn(dir, { racyWindowMs: 0 });
  await cache.save({ catalog: catalogFor('one'), receivedAt });
  t.equal((await cache.load('web-1'))?.catalog.revision, 'one');
  t.same(cache.counters, { reads: 0, validations: 0 });

  // Another catalog written by the agent (another cache on the same key): read, validated, then kept.
  await cacheIn(dir).save({ catalog: catalogFor('second'), receivedAt });
  t.equal((await cache.load('web-1'))?.catalog.revision, 'second', 'the new content, not the copy in memory');
  t.same(cache.counters, { reads: 1, validations: 1 });
  t.equal((await cache.load('web-1'))?.catalog.revision, 'second');
  t.same(cache.counters, { reads: 1, validations: 1 }, 'kept after the read');

  // Replaced by rename (a new inode, same bytes as before): read again.
  const tmp = `${cache.path}.new`;
  await fsp.copyFile(cache.path, tmp);
  await fsp.rename(tmp, cache.path);
  t.equal((await cache.load('web-1'))?.catalog.revision, 'second');
  t.same(cache.counters, { reads: 2, validations: 2 });

  // Removed: nothing cached, and the memory copy is dropped.
  await fsp.rm(cache.path);
  t.equal(await cache.load('web-1'), undefined);
  t.same(cache.counters, { reads: 2, validations: 2 });
  t.same(cache.rejections, []);
});

t.test('a cached catalog the agent did not write, or that changed since, is refused and moved aside', async (t) => {
  const top = t.testdir({ cache: {}, good: {}, other: {} });
  const dir = join(top, 'cache');
  const good = await fsp.readFile(await (async () => {
    const c = cacheIn(join(top, 'good'));
    await c.save({ catalog: catalogFor('one'), receivedAt });
    return c.path;
  })());
  const body = good.subarray(good.indexOf(10) + 1).toString();
  const evil = catalogFor('evil');
  const cases: [string, string | Buffer, RegExp][] = [
    // What the attack planted: a plain catalog, valid against the schemas.
    ['a planted unsealed catalog', JSON.stringify({ catalog: evil, receivedAt }), /seal does not verify.*no seal line/],
    // The seal line copied from a real file onto other content.
    ['a sealed file with its body changed', Buffer.concat([good.subarray(0, good.indexOf(10) + 1), Buffer.from(body.replace('/srv/one', '/srv/owned'))]), /seal does not verify.*wrong HMAC/],
    ['a file sealed under another key', await (async () => {
      const other = new CatalogCache(join(top, 'other'), { sealKey: catalogSealKey(generateKeyPairSync('ed25519').privateKey) });
      await other.save({ catalog: evil, receivedAt });
      return fsp.readFile(other.path);
    })(), /wrong HMAC/],
    ['garbage', '{"catalog": {"host": "web-1"', /no seal line/],
  ];
  for (const [name, bytes, reason] of cases) {
    const cache = cacheIn(dir, { racyWindowMs: 0 });
    await fsp.writeFile(cache.path, bytes, { mode: 0o600 });
    t.equal(await cache.load('web-1'), undefined, `${name}: not used`);
    t.equal(cache.rejections.length, 1, `${name}: reported once`);
    t.match(cache.rejections[0], reason, name);
    t.match(cache.rejections[0], `refused the cached catalog ${cache.path} (moved to ${cache.path}.rejected)`);
    t.same(await fsp.readFile(`${cache.path}.rejected`), Buffer.from(bytes), `${name}: kept aside for inspection`);
    t.equal(await cache.load('web-1'), undefined, `${name}: gone from its place`);
    t.equal(cache.rejections.length, 1, `${name}: not reported again`);
  }
  // A sealed file whose content no longer passes the schemas is refused too (written with the key).
  const bad = catalogFor('bad') as unknown as { resources: Record<string, unknown>[] };
  bad.resources[0] = { type: 'directory' };
  const cache = cacheIn(dir, { racyWindowMs: 0 });
  await cache.save({ catalog: bad as unknown as ReturnType<typeof catalogFor>, receivedAt });
  cache.forget();
  t.equal(await cache.load('web-1'), undefined);
  t.match(cache.rejections[0], /does not pass the catalog schemas/);
});

t.test('a cached catalog that is a link, owned by another user or writable by others is refused', async (t) => {
  const dir = t.testdir({ elsewhere: {}, linked: {}, owned: {}, writable: {} });
  const source = cacheIn(join(dir, 'elsewhere'));
  await source.save({ catalog: catalogFor('linked'), receivedAt });

  const linked = cacheIn(join(dir, 'linked'));
  await fsp.symlink(source.path, linked.path);
  t.equal(await linked.load('web-1'), undefined, 'a link is not followed');
  t.match(linked.rejections[0], /is a symbolic link/);
  t.ok((await fsp.lstat(`${linked.path}.rejected`)).isSymbolicLink(), 'the link itself was moved aside');
  t.ok((await fsp.stat(source.path)).isFile(), 'its target is untouched');

  if (process.geteuid?.() === 0) {
    const owned = cacheIn(join(dir, 'owned'));
    await owned.save({ catalog: catalogFor('one'), receivedAt });
    owned.forget();
    await fsp.chown(owned.path, 65534, 65534);
    t.equal(await owned.load('web-1'), undefined, 'another owner: refused even with a good seal');
    t.match(owned.rejections[0], /owned by uid 65534.*Fix: chown root: /);
  } else {
    t.comment('skipped the other-owner case: chown to another user needs root');
  }

  const writable = cacheIn(join(dir, 'writable'));
  await writable.save({ catalog: catalogFor('one'), receivedAt });
  writable.forget();
  await fsp.chmod(writable.path, 0o620);
  t.equal(await writable.load('web-1'), undefined, 'group-writable: refused even with a good seal');
  t.match(writable.rejections[0], /writable by its group \(mode 0620/);
});

t.test('a file changed within the racy window of its stamp is read again on the next load', async (t) => {
  // A window far larger than any test run: every stamp is racy, so nothing is served from memory.
  const cache = cacheIn(t.testdir(), { racyWindowMs: 24 * 3600 * 1000 });
  await cache.save({ catalog: catalogFor('one'), receivedAt });
  t.equal((await cache.load('web-1'))?.catalog.revision, 'one');
  t.equal((await cache.load('web-1'))?.catalog.revision, 'one');
  t.same(cache.counters, { reads: 2, validations: 2 });
});

t.test('a stamp older than the window is trusted (file times set back with utimes)', async (t) => {
  const cache = cacheIn(t.testdir(), { racyWindowMs: 24 * 3600 * 1000 });
  await cache.save({ catalog: catalogFor('one'), receivedAt });
  // utimes sets mtime but ctime becomes "now": still racy, so this shows the ctime is checked too.
  const past = new Date(Date.now() - 7 * 24 * 3600 * 1000);
  await fsp.utimes(cache.path, past, past);
  await cache.load('web-1');
  await cache.load('web-1');
  t.same(cache.counters, { reads: 2, validations: 2 }, 'a recent ctime keeps the stamp racy');
});
