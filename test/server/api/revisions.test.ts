/** Revision upload: validated as a whole, located errors, live unchanged on failure, tar.gz, unsafe paths. */
import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { create as tarCreate } from 'tar';
import { rawRequest, startServer } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

async function targz(dir: string, entries: string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = tarCreate({ gzip: true, cwd: dir, portable: true }, entries);
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

t.test('a template error is rejected with located errors and the live revision stays', async (t) => {
  const fx = await startServer(t);
  const good = await fx.publish(smallRepo());
  t.equal(good.status, 201);
  const liveId = good.json().id;
  const a = await fx.approvedAgent('web-1');
  const before = await a.request('GET', '/api/v1/hosts/web-1/catalog');

  const bad = await fx.publish(smallRepo({ templateError: true, webPort: 1 }));
  t.equal(bad.status, 422);
  const e = bad.json().error;
  t.equal(e.code, 'REVISION_INVALID');
  t.ok(e.details.problems.length >= 1);
  const p = e.details.problems[0];
  t.equal(p.file, 'templates/app.conf.j2');
  t.ok(p.message.length > 0);
  t.match(e.message, /templates\/app\.conf\.j2/);
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, liveId, 'live revision unchanged');
  const after = await a.request('GET', '/api/v1/hosts/web-1/catalog', undefined, { 'if-none-match': before.headers.etag! });
  t.equal(after.status, 304, 'hosts untouched');

  const yamlErr = await fx.publish({ ...smallRepo(), 'groups/web.yaml': 'kind: custom\nmatch: [\n' });
  t.equal(yamlErr.status, 422);
  const yp = yamlErr.json().error.details.problems[0];
  t.equal(yp.file, 'groups/web.yaml');
  t.type(yp.line, 'number');

  // Re-publishing the same content is the same revision.
  const same = await fx.publish(smallRepo());
  t.equal(same.json().id, liveId);
  const list = (await fx.json('GET', '/api/v1/revisions')).json();
  t.equal(list.revisions.length, 1, 'rejected uploads leave no revision');
});

t.test('rollback with activate', async (t) => {
  const fx = await startServer(t);
  const r1 = (await fx.publish(smallRepo())).json().id;
  const r2 = (await fx.publish(smallRepo({ webPort: 1234 }))).json().id;
  t.not(r1, r2);
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, r2);
  t.equal((await fx.json('POST', `/api/v1/revisions/${r1}/activate`)).status, 200);
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, r1);
});

t.test('tar.gz upload, and archives with links or unsafe paths are refused', async (t) => {
  const fx = await startServer(t);
  const dir = t.testdir();
  for (const [p, c] of Object.entries(smallRepo())) {
    mkdirSync(dirname(join(dir, 'repo', p)), { recursive: true });
    writeFileSync(join(dir, 'repo', p), c);
  }
  const gz = await targz(join(dir, 'repo'), ['.']);
  const up = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/revisions', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/gzip' }, body: gz });
  t.equal(up.status, 201, up.body.toString());
  t.equal(up.json().fileCount, 8);

  symlinkSync('/etc', join(dir, 'repo', 'roles', 'evil'));
  const withLink = await targz(join(dir, 'repo'), ['.']);
  const r = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/revisions', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/gzip' }, body: withLink });
  t.equal(r.status, 400);
  t.match(r.json().error.message, /SymbolicLink|only regular files/);

  const notGz = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/revisions', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/gzip' }, body: 'hello' });
  t.equal(notGz.status, 400);

  for (const evil of ['../x.yaml', '/etc/passwd', 'a/../../b', 'a\\b', '.git/config', 'a//b', 'x\u0000y']) {
    const j = await fx.publish({ ...smallRepo(), [evil]: 'x' });
    t.equal(j.status, 400, JSON.stringify(evil));
  }
  const yaml = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/revisions', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/yaml' }, body: 'files: {}' });
  t.equal(yaml.status, 415);
});
