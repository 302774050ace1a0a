/**
 * Blob retention through the composed server and its housekeeping (ManualClock): a catalog's file
 * content an agent is served stays however long the grace period runs out, because the server
 * re-marks what it serves; revision files stay because revisions reference them; blobs nothing
 * references go once the grace period has passed since they were first seen. GET /api/v1/blobs
 * reports the buckets.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { createLogger } from '../../../server/log.js';
import { Housekeeping } from '../../../server/scheduler/housekeeping.js';
import { startServer } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

t.test('served catalog blobs and revision files stay; orphans go after the grace period', async (t) => {
  const fx = await startServer(t, { blobRetentionMs: 2 * DAY });
  t.equal((await fx.publish(smallRepo())).status, 201);
  const web = await fx.approvedAgent('web-1');
  const cat = await web.request('GET', '/api/v1/hosts/web-1/catalog');
  t.equal(cat.status, 200);
  const contentKeys = await (await fx.server.store.blobs('content')).keys();
  t.ok(contentKeys.length > 0, `the catalog's contents are stored (${contentKeys.length})`);
  const repoKeys = await (await fx.server.store.blobs('repo')).keys();
  const orphanRepo = Buffer.from('no revision lists me');
  const orphanContent = Buffer.from('no catalog names me');
  await (await fx.server.store.blobs('repo')).put(hex(orphanRepo), orphanRepo);
  await (await fx.server.store.blobs('content')).put(hex(orphanContent), orphanContent);

  const hk = new Housekeeping(fx.server.services, createLogger({ write: () => undefined }));
  let deleted = 0;
  // five days of hourly passes: the grace (2 days) runs out twice over
  for (let h = 0; h < 5 * 24; h++) {
    fx.clock.advance(HOUR);
    deleted += (await hk.tick()).blobsDeleted;
  }
  t.equal(deleted, 2, 'the two orphans went');
  const contentNow = await (await fx.server.store.blobs('content')).keys();
  t.same(contentNow, contentKeys, 'every blob of the served catalog is still there');
  t.notOk(contentNow.includes(hex(orphanContent)));
  t.same(await (await fx.server.store.blobs('repo')).keys(), repoKeys, 'revision files stay, the orphan went');
  for (const id of contentKeys) t.equal((await web.request('GET', `/api/v1/blobs/${id}`)).status, 200, `the agent can still fetch ${id.slice(0, 12)}`);

  const stats = await fx.json('GET', '/api/v1/blobs');
  t.equal(stats.status, 200);
  const body = stats.json() as { retentionDays: number; buckets: { bucket: string; blobs: number; referenced: number; bytes: number; referencedBytes: number }[] };
  t.equal(body.retentionDays, 2);
  t.same(body.buckets.map((b) => [b.bucket, b.blobs, b.referenced]), [['repo', repoKeys.length, repoKeys.length], ['content', contentKeys.length, 0], ['job_blobs', 0, 0]]);
  const repoBytes = (await Promise.all(repoKeys.map(async (k) => (await (await fx.server.store.blobs('repo')).stat(k))!.size))).reduce((a, b) => a + b, 0);
  t.same([body.buckets[0]!.bytes, body.buckets[0]!.referencedBytes], [repoBytes, repoBytes], 'every repo byte is referenced');
  t.equal(body.buckets.find((b) => b.bucket === 'content')?.referencedBytes, 0, 'content: none by documents');
});
