/**
 * /api/v1/scripts and /api/v1/accounts over real HTTP: JSON and upload creation, versions,
 * diff, clone, delete, search, roles, bounds, and the answers checked against their schemas.
 */
import t from 'tap';
import { accountListSchema, scriptDiffSchema, scriptListSchema, scriptViewSchema } from '../../../schemas/api/scripts.js';
import { compileGuard } from '../../../schemas/validate.js';
import { rawRequest, startServer } from '../../helpers/server-fixture.js';

const viewGuard = compileGuard(scriptViewSchema);
const listGuard = compileGuard(scriptListSchema);
const diffGuard = compileGuard(scriptDiffSchema);
const accountsGuard = compileGuard(accountListSchema);

t.test('scripts API', async (t) => {
  const fx = await startServer(t);
  const readonly = await fx.token('readonly', 'viewer');

  const list0 = await fx.json('GET', '/api/v1/scripts', undefined, readonly);
  t.equal(list0.status, 200);
  t.same(listGuard.check(list0.json()), []);
  t.same(list0.json().scripts.map((s: { id: string }) => s.id), ['disk-usage', 'log-cleanup', 'server-init'], 'base scripts seeded at start');
  t.ok(list0.json().scripts.every((s: { kind: string }) => s.kind === 'base'));

  const created = await fx.json('POST', '/api/v1/scripts', { name: 'Say Hello', lang: 'shell', source: 'echo "hello $WHO"\n', tags: ['demo'], params: [{ name: 'WHO', default: 'world' }], description: 'greets', message: 'first' });
  t.equal(created.status, 201, created.body.toString());
  t.same(viewGuard.check(created.json()), []);
  t.equal(created.headers.location, '/api/v1/scripts/say-hello');
  t.equal(created.json().version.version, 1);
  t.equal(created.json().version.author, 'admin');

  t.equal((await fx.json('POST', '/api/v1/scripts', { name: 'say hello!', lang: 'shell', source: 'x' })).status, 409, 'same slug');
  t.equal((await fx.json('POST', '/api/v1/scripts', { name: 'x', lang: 'ruby', source: 'x' })).status, 400, 'schema');
  t.equal((await fx.json('POST', '/api/v1/scripts', { name: 'x', lang: 'shell', source: 'x', params: [{ name: 'a b' }] })).status, 400, 'param name');
  t.equal((await fx.json('POST', '/api/v1/scripts', { name: 'x', lang: 'shell', source: 'x', $where: '1' })).status, 400, 'unknown keys refused');
  t.equal((await fx.json('POST', '/api/v1/scripts', { name: 'x', lang: 'shell', source: 'x' }, readonly)).status, 403, 'readonly cannot create');
  const big = await fx.json('POST', '/api/v1/scripts', { name: 'big', lang: 'shell', source: 'é'.repeat(600 * 1024) });
  t.equal(big.status, 413, 'over 1 MiB of UTF-8');

  // Uploads.
  const up = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/scripts?name=Uploaded%20One&tags=up,ops&description=from%20a%20file', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'text/x-python' }, body: 'print("hi")\n' });
  t.equal(up.status, 201, up.body.toString());
  t.equal(up.json().lang, 'python');
  t.same(up.json().tags, ['ops', 'up']);
  const plain = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/scripts?name=plain', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'text/plain; charset=utf-8' }, body: '#!/bin/bash\necho\n' });
  t.equal(plain.json().lang, 'shell', 'text/plain: the shebang says');
  const noLang = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/scripts?name=plain2', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'text/plain' }, body: 'echo\n' });
  t.equal(noLang.status, 400, 'text/plain without a shebang needs ?lang=');
  const withLang = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/scripts?name=plain2&lang=shell', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'text/plain' }, body: 'echo\n' });
  t.equal(withLang.status, 201);
  const shellType = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/scripts?name=sh3', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'text/x-shellscript' }, body: 'echo\n' });
  t.equal(shellType.json().lang, 'shell');
  const noName = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/scripts', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'text/x-shellscript' }, body: 'echo\n' });
  t.equal(noName.status, 400, 'an upload needs ?name=');
  const badUtf8 = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/scripts?name=bin', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'text/x-shellscript' }, body: Buffer.from([0xff, 0xfe, 0x00]) });
  t.equal(badUtf8.status, 400, 'not UTF-8');
  const bigUpload = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/scripts?name=bigup', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'text/x-shellscript' }, body: Buffer.alloc(1024 * 1024 + 1, 0x61) });
  t.equal(bigUpload.status, 413);
  const yaml = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/scripts?name=y', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/yaml' }, body: 'a: 1' });
  t.equal(yaml.status, 415);

  // Versions.
  const same = await fx.json('POST', '/api/v1/scripts/say-hello/versions', { source: 'echo "hello $WHO"\n', tags: ['demo', 'greet'] });
  t.equal(same.status, 200, 'nothing versioned changed');
  t.equal(same.json().created, false);
  t.same(same.json().tags, ['demo', 'greet']);
  const v2 = await fx.json('POST', '/api/v1/scripts/say-hello/versions', { source: 'echo "hi $WHO"\n', message: 'shorter' });
  t.equal(v2.status, 201);
  t.equal(v2.json().created, true);
  t.equal(v2.json().version.version, 2);
  t.same(viewGuard.check(v2.json()), []);
  t.equal((await fx.json('POST', '/api/v1/scripts/say-hello/versions', { source: 'x' }, readonly)).status, 403);
  t.equal((await fx.json('POST', '/api/v1/scripts/log-cleanup/versions', { source: 'rm -rf /' })).status, 403, 'base scripts are read-only');
  t.equal((await fx.json('POST', '/api/v1/scripts/nope/versions', { source: 'x' })).status, 404);

  const v1 = await fx.json('GET', '/api/v1/scripts/say-hello?version=1', undefined, readonly);
  t.equal(v1.json().source, 'echo "hello $WHO"\n');
  t.same(v1.json().versions.map((v: { version: number }) => v.version), [2, 1]);
  t.equal((await fx.json('GET', '/api/v1/scripts/say-hello?version=0')).status, 400);
  t.equal((await fx.json('GET', '/api/v1/scripts/say-hello?version=x')).status, 400);
  t.equal((await fx.json('GET', '/api/v1/scripts/say-hello?version=5')).status, 404);
  t.equal((await fx.json('GET', '/api/v1/scripts/Say_Hello')).status, 400, 'a malformed id');
  t.equal((await fx.json('GET', '/api/v1/scripts/%2e%2e%2fetc')).status, 400);

  // Diff.
  const diff = await fx.json('GET', '/api/v1/scripts/say-hello/diff', undefined, readonly);
  t.equal(diff.status, 200);
  t.same(diffGuard.check(diff.json()), []);
  t.match(diff.json(), { id: 'say-hello', from: 1, to: 2, paramsChanged: false });
  t.match(diff.json().diff, /^-echo "hello \$WHO"$/m);
  t.match(diff.json().diff, /^\+echo "hi \$WHO"$/m);
  t.equal((await fx.json('GET', '/api/v1/scripts/say-hello/diff?from=2&to=1')).json().diff.includes('+echo "hello'), true, 'either direction');
  t.equal((await fx.json('GET', '/api/v1/scripts/say-hello/diff?from=1&to=9')).status, 404);

  // Clone.
  const clone = await fx.json('POST', '/api/v1/scripts/log-cleanup/clone', { name: 'Clean app logs' });
  t.equal(clone.status, 201);
  t.equal(clone.json().kind, 'user');
  t.same(clone.json().clonedFrom, { id: 'log-cleanup', version: 1 });
  t.equal((await fx.json('POST', '/api/v1/scripts/say-hello/clone', { name: 'old hello', version: 1 })).json().source, 'echo "hello $WHO"\n');
  t.equal((await fx.json('POST', '/api/v1/scripts/say-hello/clone', { name: 'x' }, readonly)).status, 403);
  t.equal((await fx.json('POST', '/api/v1/scripts/nope/clone', { name: 'x2' })).status, 404);

  // Search and pages.
  const search = await fx.json('GET', '/api/v1/scripts?q=hello', undefined, readonly);
  t.same(search.json().scripts.map((s: { id: string }) => s.id), ['old-hello', 'say-hello']);
  t.same((await fx.json('GET', '/api/v1/scripts?tag=greet')).json().scripts.map((s: { id: string }) => s.id), ['old-hello', 'say-hello'], 'a clone keeps the tags');
  const page = (await fx.json('GET', '/api/v1/scripts?kind=user&limit=2&offset=2')).json();
  t.equal(page.scripts.length, 2);
  t.equal(page.total, 7);
  t.match(page, { limit: 2, offset: 2 });
  for (const bad of ['limit=0', 'limit=501', 'offset=-1', 'kind=admin', 'tag=Bad%20Tag', 'q=%00']) t.equal((await fx.json('GET', `/api/v1/scripts?${bad}`)).status, 400, bad);

  // Delete.
  t.equal((await fx.json('DELETE', '/api/v1/scripts/say-hello', undefined, readonly)).status, 403);
  t.equal((await fx.json('DELETE', '/api/v1/scripts/log-cleanup')).status, 403, 'a base script stays');
  t.equal((await fx.json('DELETE', '/api/v1/scripts/say-hello')).status, 204);
  t.equal((await fx.json('GET', '/api/v1/scripts/say-hello')).status, 404);
  t.equal((await fx.json('DELETE', '/api/v1/scripts/say-hello')).status, 404);

  // The services' resolve for the job service.
  const resolved = await fx.server.services.scripts.resolve('old-hello');
  t.same(resolved, { id: 'old-hello', name: 'old hello', version: 1, lang: 'shell', source: 'echo "hello $WHO"\n', params: [{ name: 'WHO', default: 'world' }] });
});

t.test('accounts API', async (t) => {
  const fx = await startServer(t);
  const readonly = await fx.token('readonly', 'viewer');
  const l = await fx.json('GET', '/api/v1/accounts', undefined, readonly);
  t.equal(l.status, 200);
  t.same(accountsGuard.check(l.json()), []);
  t.same(l.json().accounts.map((a: { name: string }) => a.name), ['root']);
  const c = await fx.json('POST', '/api/v1/accounts', { name: 'deploy', user: 'deploy', description: 'app deploys' });
  t.equal(c.status, 201);
  t.match(c.json(), { name: 'deploy', user: 'deploy', builtin: false });
  t.equal((await fx.json('POST', '/api/v1/accounts', { name: 'deploy', user: 'x' })).status, 409);
  t.equal((await fx.json('POST', '/api/v1/accounts', { name: 'x', user: '$(id)' })).status, 400, 'a POSIX name');
  t.equal((await fx.json('POST', '/api/v1/accounts', { name: 'x', user: 'x' }, readonly)).status, 403);
  t.equal((await fx.json('DELETE', '/api/v1/accounts/deploy', undefined, readonly)).status, 403);
  t.equal((await fx.json('DELETE', '/api/v1/accounts/root')).status, 409, 'root is built in');
  t.equal((await fx.json('DELETE', '/api/v1/accounts/deploy')).status, 204);
  t.equal((await fx.json('DELETE', '/api/v1/accounts/deploy')).status, 404);
  t.same(await fx.server.services.accounts.get('deploy'), null);
  t.same(await fx.server.services.accounts.get('root'), { name: 'root', user: 'root', description: 'The superuser (built in).' });
});

t.test('OpenAPI lists the script routes', async (t) => {
  const fx = await startServer(t);
  const doc = (await fx.json('GET', '/api/v1/openapi.json', undefined, null)).json();
  for (const p of ['/api/v1/scripts', '/api/v1/scripts/{id}', '/api/v1/scripts/{id}/versions', '/api/v1/scripts/{id}/diff', '/api/v1/scripts/{id}/clone', '/api/v1/accounts', '/api/v1/accounts/{name}']) t.ok(doc.paths[p], p);
});

t.test('a missing base-script folder is logged and the server still starts', async (t) => {
  const fx = await startServer(t, { baseScriptsDir: '/nonexistent/stead-base' });
  t.equal((await fx.json('GET', '/api/v1/scripts')).json().total, 0, 'no base scripts');
  t.ok(fx.logs.some((l) => /"level":"error".*the base scripts could not be seeded/.test(l)), 'the packaging error is logged');
  t.equal((await fx.json('POST', '/api/v1/scripts', { name: 'still works', lang: 'shell', source: 'true' })).status, 201);
});
