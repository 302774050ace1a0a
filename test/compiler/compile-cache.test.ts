/** The compile cache: hits for equal inputs, misses for any changed input, LRU eviction. */
import t from 'tap';
import { CompileCache } from '../../compiler/cache.js';
import { compileHost } from '../../compiler/compile.js';
import { baseRepoFiles, freshDir, loadFixture } from '../helpers/compiler-repo-fixture.js';

t.test('equal inputs hit; host, facts, launch vars and revision content are part of the key', async (t) => {
  const dir = freshDir(t);
  const repo = await loadFixture(dir, baseRepoFiles());
  const cache = new CompileCache();
  const first = cache.compile(repo, 'h1', { os: 'x', n: [1, 2] });
  t.equal(first.cached, false);
  const second = cache.compile(repo, 'h1', { n: [1, 2], os: 'x' });
  t.equal(second.cached, true, 'facts compared canonically (key order does not matter)');
  t.equal(second.catalog, first.catalog, 'the stored result itself');
  t.same(cache.stats(), { hits: 1, misses: 1, entries: 1 });
  t.equal(cache.compile(repo, 'h2', { os: 'x', n: [1, 2] }).cached, false);
  t.equal(cache.compile(repo, 'h1', { os: 'y', n: [1, 2] }).cached, false);
  t.equal(cache.compile(repo, 'h1', { os: 'x', n: [1, 2] }, { level: 'job' }).cached, false);
  t.equal(cache.compile(repo, 'h1', { os: 'x', n: [1, 2] }, { level: 'job' }).cached, true);
  // A reloaded, identical repository hits; a changed one misses.
  const again = await loadFixture(dir, baseRepoFiles());
  t.equal(cache.compile(again, 'h1', { os: 'x', n: [1, 2] }).cached, true);
  const files = baseRepoFiles();
  files['vars/global.yaml'] += 'extra: 1\n';
  const changed = await loadFixture(freshDir(t), files);
  const c = cache.compile(changed, 'h1', { os: 'x', n: [1, 2] });
  t.equal(c.cached, false);
  t.equal(c.catalog?.id, compileHost(changed, 'h1', { os: 'x', n: [1, 2] }).catalog?.id, 'a miss is exactly compileHost');
});

t.test('least recently used entries are evicted beyond maxEntries', async (t) => {
  const repo = await loadFixture(freshDir(t), baseRepoFiles());
  const cache = new CompileCache({ maxEntries: 2 });
  cache.compile(repo, 'h1');
  cache.compile(repo, 'h2');
  t.equal(cache.compile(repo, 'h1').cached, true, 'h1 now most recent');
  cache.compile(repo, 'h3');
  t.equal(cache.stats().entries, 2);
  t.equal(cache.compile(repo, 'h1').cached, true);
  t.equal(cache.compile(repo, 'h2').cached, false, 'h2 was evicted');
});
