/**
 * A1/O1 route census: every route declares its auth; for every non-public route, requests
 * without credentials, with a revoked agent key, with the wrong principal type, and (for
 * mutating routes) with a readonly token are refused with 401/403 — never 2xx or 5xx.
 * The role matrix (ADR 0020): a viewer is refused on every write, fleet and admin route; a
 * scoped operator on every fleet and admin route; an unscoped operator on every admin route.
 */
import t from 'tap';
import { rawRequest, startServer, type RawResponse, type TestAgent } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

const publicAllowlist = ['GET /healthz', 'GET /api/v1/openapi.json', 'POST /api/v1/agents/enroll', 'POST /api/v1/login'];

function concrete(path: string, host: string): string {
  return path
    .replace(':host', host)
    .replace(':sha256', 'a'.repeat(64))
    .replace(':id', 'b'.repeat(64))
    .replace(':runId', 'run-1');
}

t.test('route census', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const routes = fx.server.app.routes;
  t.ok(routes.length >= 25, `${routes.length} routes`);
  const kinds = new Set(['public', 'agent', 'agent-any', 'read', 'write', 'fleet', 'admin']);
  for (const r of routes) t.ok(kinds.has(r.auth), `${r.method} ${r.path} declares auth ${r.auth}`);
  t.same(routes.filter((r) => r.auth === 'public').map((r) => `${r.method} ${r.path}`).sort(), [...publicAllowlist].sort(), 'the public allowlist');
  t.same(routes.filter((r) => r.auth === 'agent' || r.auth === 'agent-any').map((r) => `${r.method} ${r.path}`).sort(), [
    'GET /api/v1/agents/status',
    'GET /api/v1/blobs/:sha256',
    'GET /api/v1/hosts/:host/catalog',
    'GET /api/v1/hosts/:host/jobs',
    'POST /api/v1/hosts/:host/jobs/:id/result',
    'POST /api/v1/hosts/:host/jobs/:id/start',
    'POST /api/v1/hosts/:host/reports',
    'PUT /api/v1/hosts/:host/facts',
    'GET /api/v1/hosts/:host/tracking',
    'PUT /api/v1/hosts/:host/inventory',
  ].sort(), 'agent routes');

  const revoked = await fx.approvedAgent('web-2');
  t.equal((await fx.json('POST', '/api/v1/agents/web-2/revoke')).status, 200);
  const agent = await fx.approvedAgent('web-1');
  const pending = fx.agent('db-1');
  t.equal((await pending.enroll()).status, 202);
  const readonly = await fx.token('readonly', 'viewer');
  const scoped = await fx.token('operator', 'pay-operator', { business: ['pay'] });
  const unscoped = await fx.token('operator', 'any-operator');

  const send = (a: TestAgent | undefined, method: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> =>
    a ? a.request(method, path, method === 'GET' ? undefined : {}, headers) : rawRequest(fx.base, { method, path, headers: { 'content-type': 'application/json', ...headers }, ...(method === 'GET' ? {} : { body: '{}' }) });

  let checked = 0;
  for (const r of routes) {
    if (r.auth === 'public') continue;
    const name = `${r.method} ${r.path}`;
    const isAgent = r.auth === 'agent' || r.auth === 'agent-any';
    const none = await send(undefined, r.method, concrete(r.path, 'web-1'));
    t.equal(none.status, 401, `${name}: no credentials → 401`);
    const rv = await send(revoked, r.method, concrete(r.path, 'web-2'));
    t.ok(rv.status === 401 || rv.status === 403, `${name}: revoked agent → ${rv.status}`);
    if (isAgent) {
      const op = await send(undefined, r.method, concrete(r.path, 'web-1'), { authorization: `Bearer ${fx.adminToken}` });
      t.equal(op.status, 401, `${name}: operator token on an agent route → 401`);
      if (r.auth === 'agent') {
        const pend = await send(pending, r.method, concrete(r.path, 'db-1'));
        t.equal(pend.status, 403, `${name}: pending agent → 403`);
      }
    } else {
      const ag = await send(agent, r.method, concrete(r.path, 'web-1'));
      t.equal(ag.status, 401, `${name}: agent signature on an operator route → 401`);
      const ro = await send(undefined, r.method, concrete(r.path, 'web-1'), { authorization: `Bearer ${readonly}` });
      if (r.auth === 'write' || r.auth === 'fleet' || r.auth === 'admin') t.equal(ro.status, 403, `${name}: readonly → 403`);
      else t.ok(ro.status !== 401 && ro.status !== 403 && ro.status < 500, `${name}: readonly may read (${ro.status})`);
      if (r.auth === 'fleet' || r.auth === 'admin') {
        const so = await send(undefined, r.method, concrete(r.path, 'web-1'), { authorization: `Bearer ${scoped}` });
        t.equal(so.status, 403, `${name}: scoped operator → 403`);
      }
      if (r.auth === 'admin') {
        const uo = await send(undefined, r.method, concrete(r.path, 'web-1'), { authorization: `Bearer ${unscoped}` });
        t.equal(uo.status, 403, `${name}: unscoped operator on an admin route → 403`);
      }
    }
    checked++;
  }
  t.ok(checked >= 22, `${checked} protected routes checked`);

  const bogus = await rawRequest(fx.base, { method: 'GET', path: '/api/v1/hosts', headers: { authorization: 'Bearer sat_notavalidtokenatall1234567890' } });
  t.equal(bogus.status, 401);
  const basic = await rawRequest(fx.base, { method: 'GET', path: '/api/v1/hosts', headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
  t.equal(basic.status, 401);
  const page = await rawRequest(fx.base, { method: 'GET', path: '/' });
  t.equal(page.status, 302, 'console without a session → login');
  t.equal(page.headers.location, '/login');
  const unknown = await rawRequest(fx.base, { method: 'GET', path: '/api/v1/nope' });
  t.equal(unknown.status, 404);
  t.equal(unknown.json().error.code, 'NOT_FOUND');
});

t.test('OpenAPI document lists every route with its auth', async (t) => {
  const fx = await startServer(t);
  const r = await rawRequest(fx.base, { method: 'GET', path: '/api/v1/openapi.json' });
  t.equal(r.status, 200);
  const doc = r.json();
  t.equal(doc.openapi, '3.1.0');
  for (const route of fx.server.app.routes) {
    const p = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const op = doc.paths[p]?.[route.method.toLowerCase()];
    t.ok(op, `${route.method} ${p} documented`);
    t.equal(op?.['x-stead-auth'], route.auth);
  }
  t.ok(doc.paths['/api/v1/hosts/{host}/reports'].post.requestBody.content['application/json'].schema.properties.runId, 'request schemas come from schemas/');
});
