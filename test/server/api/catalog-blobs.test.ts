/** Catalog serving (ETag/304, compile cache, per-host changes), blobs (scope, Range, ids). */
import { createHash } from 'node:crypto';
import t from 'tap';
import { rawRequest, startServer } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';
import { makeReport } from '../../helpers/server-reports.js';

t.test('catalog ETag, If-None-Match, compile cache, only changed hosts change', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const web = await fx.approvedAgent('web-1');
  const db = await fx.approvedAgent('db-1');
  const c1 = await web.request('GET', '/api/v1/hosts/web-1/catalog');
  t.equal(c1.status, 200);
  const cat = c1.json();
  t.equal(c1.headers.etag, `"${cat.id}"`);
  t.equal(cat.host, 'web-1');
  t.equal((await web.request('GET', '/api/v1/hosts/web-1/catalog', undefined, { 'if-none-match': c1.headers.etag! })).status, 304);
  t.equal((await web.request('GET', '/api/v1/hosts/web-1/catalog', undefined, { 'if-none-match': `W/${c1.headers.etag!}` })).status, 304, 'weak comparison');
  t.equal((await web.request('GET', '/api/v1/hosts/web-1/catalog', undefined, { 'if-none-match': `"other", ${c1.headers.etag!}` })).status, 304, 'list');
  t.equal((await web.request('GET', '/api/v1/hosts/web-1/catalog', undefined, { 'if-none-match': '"0000"' })).status, 200);
  const compiles = fx.server.services.catalogs.counters.compiles;
  for (let i = 0; i < 5; i++) await web.request('GET', '/api/v1/hosts/web-1/catalog', undefined, { 'if-none-match': c1.headers.etag! });
  t.equal(fx.server.services.catalogs.counters.compiles, compiles, 'unchanged polls never compile');
  const d1 = (await db.request('GET', '/api/v1/hosts/db-1/catalog')).headers.etag!;

  // A revision that changes only the web group's variable: web-1's catalog changes, db-1's does not.
  t.equal((await fx.publish(smallRepo({ webPort: 9090 }))).status, 201);
  const c2 = await web.request('GET', '/api/v1/hosts/web-1/catalog', undefined, { 'if-none-match': c1.headers.etag! });
  t.equal(c2.status, 200, 'web-1 changed');
  t.not(c2.headers.etag, c1.headers.etag);
  t.equal((await db.request('GET', '/api/v1/hosts/db-1/catalog', undefined, { 'if-none-match': d1 })).status, 304, 'db-1 unchanged: 304 across revisions');

  // Not in the inventory.
  const ghost = await fx.approvedAgent('ghost-1');
  const g = await ghost.request('GET', '/api/v1/hosts/ghost-1/catalog');
  t.equal(g.status, 404);
});

t.test('no live revision → 404 NO_LIVE_REVISION', async (t) => {
  const fx = await startServer(t);
  const a = await fx.approvedAgent('web-1');
  const r = await a.request('GET', '/api/v1/hosts/web-1/catalog');
  t.equal(r.status, 404);
  t.equal(r.json().error.code, 'NO_LIVE_REVISION');
});

t.test('blobs: only the caller\'s catalog, Range, strict ids (F1, F2)', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const a = await fx.approvedAgent('web-1');
  const b = await fx.approvedAgent('web-2');
  const catA = (await a.request('GET', '/api/v1/hosts/web-1/catalog')).json();
  const catB = (await b.request('GET', '/api/v1/hosts/web-2/catalog')).json();
  const confA = catA.resources.find((r: { path: string }) => r.path === '/srv/app/app.conf').source.slice(7);
  const confB = catB.resources.find((r: { path: string }) => r.path === '/srv/app/app.conf').source.slice(7);
  t.not(confA, confB, 'the template renders the host name, so the blobs differ');

  const got = await a.request('GET', `/api/v1/blobs/${confA}`);
  t.equal(got.status, 200);
  t.equal(createHash('sha256').update(got.body).digest('hex'), confA, 'served bytes hash to the id');
  t.equal(got.body.toString(), 'port=8080\nhost=web-1\n');
  t.equal(got.headers['accept-ranges'], 'bytes');

  t.equal((await b.request('GET', `/api/v1/blobs/${confA}`)).status, 404, 'B cannot read a blob only A\'s catalog references');
  t.equal((await a.request('GET', `/api/v1/blobs/${'0'.repeat(64)}`)).status, 404, 'unknown id');

  const r1 = await a.request('GET', `/api/v1/blobs/${confA}`, undefined, { range: 'bytes=0-3' });
  t.equal(r1.status, 206);
  t.equal(r1.body.toString(), 'port');
  t.equal(r1.headers['content-range'], `bytes 0-3/${got.body.length}`);
  const r2 = await a.request('GET', `/api/v1/blobs/${confA}`, undefined, { range: 'bytes=-6' });
  t.equal(r2.body.toString(), 'web-1\n');
  const r3 = await a.request('GET', `/api/v1/blobs/${confA}`, undefined, { range: 'bytes=5-' });
  t.equal(r3.body.toString(), '8080\nhost=web-1\n');
  const r4 = await a.request('GET', `/api/v1/blobs/${confA}`, undefined, { range: `bytes=${got.body.length}-` });
  t.equal(r4.status, 416);
  t.equal(r4.headers['content-range'], `bytes */${got.body.length}`);
  const r5 = await a.request('GET', `/api/v1/blobs/${confA}`, undefined, { range: 'bytes=0-1,4-5' });
  t.equal(r5.status, 200, 'several ranges: the whole blob');

  for (const bad of [confA.toUpperCase(), '..%2fetc%2fpasswd', '%2e%2e%2f', '%252e%252e', confA.slice(1), `${confA}0`, '%00', '..%5c..%5cwin', '%EF%BC%8E%EF%BC%8E']) {
    const r = await a.request('GET', `/api/v1/blobs/${bad}`);
    t.ok(r.status === 400 || r.status === 404, `${bad}: ${r.status}`);
    t.not(r.status, 200);
  }
  t.equal((await a.request('GET', `/api/v1/blobs/${confA.toUpperCase()}`)).status, 400, 'uppercase hex is 400');
  const unsigned = await rawRequest(fx.base, { method: 'GET', path: `/api/v1/blobs/${confA}` });
  t.equal(unsigned.status, 401);
});

t.test('a compile shared by concurrent polls survives the first caller giving up', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const catalogs = fx.server.services.catalogs;
  const first = new AbortController();
  const p1 = catalogs.forHost('web-1', first.signal);
  const p2 = catalogs.forHost('web-1', new AbortController().signal);
  first.abort(new Error('client went away'));
  await t.rejects(p1, { message: 'client went away' }, 'the caller that gave up is answered at once');
  const served = await p2;
  t.equal((JSON.parse(served.body.toString('utf8')) as { host: string }).host, 'web-1', 'the other caller still gets the catalog');
  t.equal(catalogs.counters.compiles, 1, 'one compile served both');
});

t.test('a catalog unchanged by a new revision is sent again until the host reports a run of that revision', async (t) => {
  // Otherwise the agent keeps a copy naming the old revision, and a revision rollout's batch
  // waits forever for a run of the new one from a host whose resources it did not touch.
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const db = await fx.approvedAgent('db-1');
  const first = await db.request('GET', '/api/v1/hosts/db-1/catalog');
  const c1 = first.json();
  const report = (runId: string, revision: string): Record<string, unknown> => ({ ...makeReport('db-1', runId, { catalogId: c1.id }), revision });
  t.equal((await db.request('POST', '/api/v1/hosts/db-1/reports', report('run-1', c1.revision))).status, 200);
  t.equal((await db.request('GET', '/api/v1/hosts/db-1/catalog', undefined, { 'if-none-match': first.headers.etag! })).status, 304, 'a host that ran the served revision gets 304');

  t.equal((await fx.publish(smallRepo({ webPort: 9090 }))).status, 201);
  const again = await db.request('GET', '/api/v1/hosts/db-1/catalog', undefined, { 'if-none-match': first.headers.etag! });
  t.equal(again.status, 200, 'its newest run names the old revision: the catalog is sent again');
  t.equal(again.headers.etag, first.headers.etag, 'the same catalog (same id)');
  const c2 = again.json();
  t.not(c2.revision, c1.revision, 'now naming the new revision');
  t.equal((await db.request('POST', '/api/v1/hosts/db-1/reports', report('run-2', c2.revision))).status, 200);
  t.equal((await db.request('GET', '/api/v1/hosts/db-1/catalog', undefined, { 'if-none-match': first.headers.etag! })).status, 304, 'once it ran the new revision, 304 again');
});
