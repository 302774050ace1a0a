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

t.test('rollback and lookup by the short id the console shows; short, unknown and ambiguous prefixes are clear errors', async (t) => {
  const fx = await startServer(t);
  const r1 = (await fx.publish(smallRepo())).json().id as string;
  const r2 = (await fx.publish(smallRepo({ webPort: 1234 }))).json().id as string;
  const short = r1.slice(0, 12);
  const act = await fx.json('POST', `/api/v1/revisions/${short}/activate`);
  t.equal(act.status, 200, act.body.toString());
  t.equal(act.json().id, r1, 'the 12-character prefix names r1');
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, r1);
  t.equal((await fx.json('GET', `/api/v1/revisions/${r2.slice(0, 20)}`)).json().id, r2, 'any unique prefix of 12 or more');
  t.equal((await fx.json('GET', `/api/v1/revisions/${r2}`)).json().id, r2, 'the full id');

  const tooShort = await fx.json('POST', `/api/v1/revisions/${r2.slice(0, 11)}/activate`);
  t.equal(tooShort.status, 400);
  t.match(tooShort.json().error.message, /unique prefix of at least 12/);
  const upper = await fx.json('POST', `/api/v1/revisions/${r2.slice(0, 12).toUpperCase()}/activate`);
  t.equal(upper.status, r2.slice(0, 12).toUpperCase() === r2.slice(0, 12) ? 200 : 400, 'ids are lowercase hex');
  const unknown = 'f'.repeat(12) === short ? 'e'.repeat(12) : 'f'.repeat(12);
  const none = await fx.json('POST', `/api/v1/revisions/${unknown}/activate`);
  t.equal(none.status, 404);
  t.match(none.json().error.message, `no revision starts with ${unknown}`);
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, r1, 'failed rollbacks change nothing');

  // Two revisions sharing the shown prefix (improbable with sha256, so planted in the store).
  const twin = `${short}${'0'.repeat(52)}` === r1 ? `${short}${'1'.repeat(52)}` : `${short}${'0'.repeat(52)}`;
  const coll = await fx.server.store.collection<{ _id: string; createdAt: number; createdBy: string; files: unknown[] }>('revisions');
  await coll.insertOne({ _id: twin, createdAt: 1, createdBy: 'test', files: [] });
  const amb = await fx.json('POST', `/api/v1/revisions/${short}/activate`);
  t.equal(amb.status, 409);
  t.equal(amb.json().error.code, 'AMBIGUOUS_REVISION');
  t.match(amb.json().error.message, /more than one revision .*give more characters/);
  t.equal((await fx.json('POST', `/api/v1/revisions/${r1.slice(0, 20)}/activate`)).status, 200, 'more characters disambiguate');
});
