/**
 * A server without the `git` client (ADR 0017, consequences): /git/manifests.git answers 503
 * with a clear message, and uploads, the history and activation work as before (no commits).
 * The test runs the server with a PATH where no `git` exists.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { rawRequest, startServer } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

const empty = mkdtempSync(join(tmpdir(), 'stead-no-git-'));
const path = process.env['PATH'];
process.env['PATH'] = empty;
t.teardown(() => {
  process.env['PATH'] = path;
  rmSync(empty, { recursive: true, force: true });
});

t.test('no git: 503 on /git, the API works without commits', async (t) => {
  const fx = await startServer(t);
  const r1 = await fx.publish(smallRepo());
  t.equal(r1.status, 201, r1.body.toString());
  t.equal(r1.json().commit, undefined);
  t.equal(r1.json().live, true);
  const r2 = (await fx.publish(smallRepo({ webPort: 1 }))).json();
  const res = await rawRequest(fx.base, { method: 'GET', path: '/git/manifests.git/info/refs?service=git-upload-pack', headers: { authorization: `Basic ${Buffer.from(`x:${fx.adminToken}`).toString('base64')}` } });
  t.equal(res.status, 503);
  t.match(res.body.toString(), /git is not installed on this server/);
  const noAuth = await rawRequest(fx.base, { method: 'GET', path: '/git/manifests.git/info/refs?service=git-upload-pack' });
  t.equal(noAuth.status, 401, 'authentication still comes first');
  const act = await fx.json('POST', `/api/v1/revisions/${r1.json().id}/activate`);
  t.equal(act.status, 200);
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, r1.json().id);
  const list = (await fx.json('GET', '/api/v1/revisions')).json().revisions;
  t.same(list.map((e: { id: string }) => e.id).sort(), [r1.json().id, r2.id].sort());
  const d = await fx.json('GET', `/api/v1/revisions/${r1.json().id}/diff/${r2.id}`);
  t.equal(d.status, 200);
  t.equal(d.json().files.length, 1);
});
