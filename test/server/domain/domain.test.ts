/** Pure rules: compliance states, nonce replay window, Range parsing, host names, repository paths. */
import t from 'tap';
import { parseRange } from '../../../server/api/blob-response.js';
import { hostCompliance, hourStart, percentInSync, emptyCounts, type LastRunSummary } from '../../../server/domain/compliance.js';
import { isValidHostName } from '../../../server/domain/host-name.js';
import { NonceCache } from '../../../server/domain/nonce-cache.js';
import { isSafeRepoPath, revisionId } from '../../../server/services/repository-files.js';

const run = (o: Partial<LastRunSummary> = {}): LastRunSummary => ({
  runId: 'r', atMs: 0, receivedAtMs: 1000, outcome: 'in-sync', mode: 'apply', corrective: 0, changed: 0, failed: 0, catalogId: 'c', revision: 'v', nonCompliant: [], resources: [], ...o,
});

t.test('hostCompliance', async (t) => {
  t.equal(hostCompliance(undefined, 0, 10), 'unknown');
  t.equal(hostCompliance(run(), 1000, 10), 'in-sync');
  t.equal(hostCompliance(run({ outcome: 'changed', changed: 2 }), 1000, 10), 'in-sync', 'intentional change');
  t.equal(hostCompliance(run({ outcome: 'changed', corrective: 1 }), 1000, 10), 'drifted');
  t.equal(hostCompliance(run({ outcome: 'would-change', mode: 'noop' }), 1000, 10), 'drifted');
  t.equal(hostCompliance(run({ outcome: 'failed', failed: 1, corrective: 1 }), 1000, 10), 'failing', 'failing wins over drifted');
  t.equal(hostCompliance(run(), 1010, 10), 'in-sync', 'exactly at the bound');
  t.equal(hostCompliance(run({ outcome: 'failed' }), 1011, 10), 'not-reporting', 'stale wins');
  const c = emptyCounts();
  t.equal(percentInSync(c), 100, 'empty fleet');
  c['in-sync'] = 1;
  c.failing = 2;
  t.equal(percentInSync(c), 33.33);
  t.equal(hourStart(Date.parse('2026-11-26T10:59:59.999Z')), Date.parse('2026-11-26T10:00:00Z'));
});

t.test('NonceCache: once per host within the window, forgotten after', async (t) => {
  const n = new NonceCache(1000);
  t.ok(n.claim('a', 'nonce-1', 0));
  t.notOk(n.claim('a', 'nonce-1', 500));
  t.ok(n.claim('b', 'nonce-1', 500), 'host-scoped');
  t.notOk(n.claim('a', 'nonce-1', 1999), 'kept for two windows: a request may be 1 window old and 1 window early');
  t.ok(n.claim('a', 'nonce-1', 20_000), 'expired');
});

t.test('NonceCache: the sweep drops what expired and keeps the rest; remember() refills it after a restart', async (t) => {
  const n = new NonceCache(1000);
  for (let i = 0; i < 100; i++) t.ok(n.claim('a', `nonce-${i}`, i * 10)); // expire at 2000 + i × 10
  t.equal(n.size, 100);
  t.ok(n.claim('b', 'later', 2500), 'a claim at 2500 sweeps');
  t.equal(n.size, 100 - 51 + 1, 'the 51 entries expired by 2500 are gone, the 49 others kept');
  t.notOk(n.claim('a', 'nonce-99', 2500), 'a kept entry still refuses its repeat');
  t.ok(n.claim('a', 'nonce-0', 2600), 'a swept one is free');
  t.notOk(n.claim('a', 'nonce-0', 2700), 'and taken again at once');

  const fresh = new NonceCache(1000);
  fresh.remember('web-1/abc/def+ghi', 5000); // nonces may hold '/', host names never do
  fresh.remember('nohost', 5000);
  t.notOk(fresh.claim('web-1', 'abc/def+ghi', 4000), 'a preloaded nonce is refused inside its expiry');
  t.ok(fresh.claim('web-1', 'abc/def+ghi', 5001), 'and free after it');
  t.equal(fresh.size, 1, 'a key without a host is ignored');
});

t.test('parseRange', async (t) => {
  t.same(parseRange('bytes=0-3', 10), { start: 0, end: 4 });
  t.same(parseRange('bytes=5-', 10), { start: 5, end: 10 });
  t.same(parseRange('bytes=-3', 10), { start: 7, end: 10 });
  t.same(parseRange('bytes=-30', 10), { start: 0, end: 10 });
  t.same(parseRange('bytes=2-100', 10), { start: 2, end: 10 });
  t.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
  t.equal(parseRange('bytes=-0', 10), 'unsatisfiable');
  t.equal(parseRange('bytes=5-2', 10), undefined, 'inverted: ignored');
  t.equal(parseRange('bytes=-5', 0), 'unsatisfiable', 'a suffix range of an empty blob selects nothing (RFC 9110 §14.1.1), never 206 with "bytes 0--1/0"');
  t.equal(parseRange('bytes=0-1,3-4', 10), undefined, 'several: ignored');
  t.equal(parseRange('items=0-1', 10), undefined);
  t.equal(parseRange('bytes=-', 10), undefined);
});

t.test('host names and repository paths', async (t) => {
  for (const ok of ['web-1', 'web_1.prod', 'a', 'A1.b2.c3', 'x'.repeat(63)]) t.ok(isValidHostName(ok), ok);
  for (const bad of ['', '.', '..', 'a..b', 'a/b', '../x', '-a', 'a.-b', 'x'.repeat(64), `${'a.'.repeat(127)}ab`, 'a b', 'a\nb', 'é', 'a%2fb', 7]) t.notOk(isValidHostName(bad), JSON.stringify(bad));
  for (const ok of ['stead.yaml', 'roles/web/role.yaml', 'files/.hidden', 'a..b/c']) t.ok(isSafeRepoPath(ok), ok);
  for (const bad of ['', '/abs', '../x', 'a/../b', 'a/./b', 'a//b', 'a\\b', '.git/config', 'x/.GIT/hooks', 'a\u0000b', 'a\u001bb', 'a/']) t.notOk(isSafeRepoPath(bad), JSON.stringify(bad));
  const a = revisionId(new Map([['b', Buffer.from('2')], ['a', Buffer.from('1')]]));
  const b = revisionId(new Map([['a', Buffer.from('1')], ['b', Buffer.from('2')]]));
  t.equal(a.id, b.id, 'the revision id does not depend on upload order');
  t.not(revisionId(new Map([['a', Buffer.from('1')]])).id, a.id);
});
