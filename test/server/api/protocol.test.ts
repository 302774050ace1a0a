/**
 * security.md A6 (downgrade): a missing X-Stead-Protocol is protocol 1; an explicit older or
 * unknown version is refused with 400 UNSUPPORTED_PROTOCOL on every agent route, before the
 * signature, nonce or body is looked at; the answer names the version used.
 */
import t from 'tap';
import { startServer } from '../../helpers/server-fixture.js';
import { makeReport } from '../../helpers/server-reports.js';
import { smallRepo } from '../../helpers/server-repo.js';

const refused = ['0', '2', '999', '1.0', '01', 'v1', '1, 1', 'abc', '-1'];

t.test('no header is protocol 1; explicit "1" is accepted', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const a = await fx.approvedAgent('web-1');
  const plain = await a.request('GET', '/api/v1/hosts/web-1/catalog');
  t.equal(plain.status, 200, plain.body.toString());
  t.equal(plain.headers['x-stead-protocol'], '1', 'the answer names protocol 1');
  const one = await a.request('GET', '/api/v1/hosts/web-1/catalog', undefined, { 'x-stead-protocol': '1' });
  t.equal(one.status, 200);
  const rep = await a.request('POST', '/api/v1/hosts/web-1/reports', makeReport('web-1', 'p1'), { 'x-stead-protocol': '1' });
  t.equal(rep.status, 200);
  const enroll = await fx.json('POST', '/api/v1/agents/enroll', { host: 'new-1', publicKey: fx.agent('new-1').publicKeyPem }, null, { 'x-stead-protocol': '1' });
  t.equal(enroll.status, 202);
});

t.test('an explicit older or unknown version is refused with 400 on every agent route', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const a = await fx.approvedAgent('web-1');
  const routes: [string, string, unknown?][] = [
    ['GET', '/api/v1/agents/status'],
    ['GET', '/api/v1/hosts/web-1/catalog'],
    ['GET', `/api/v1/blobs/${'a'.repeat(64)}`],
    ['POST', '/api/v1/hosts/web-1/reports', makeReport('web-1', 'old-1')],
    ['PUT', '/api/v1/hosts/web-1/facts', { os: 'linux' }],
  ];
  for (const v of refused) {
    for (const [method, path, body] of routes) {
      const r = await a.request(method, path, body, { 'x-stead-protocol': v });
      t.equal(r.status, 400, `${method} ${path} with protocol ${JSON.stringify(v)}: 400`);
      t.equal(r.json().error.code, 'UNSUPPORTED_PROTOCOL');
      t.match(r.json().error.message, /speaks protocol 1/);
    }
    const e = await fx.json('POST', '/api/v1/agents/enroll', { host: 'new-2', publicKey: fx.agent('new-2').publicKeyPem }, null, { 'x-stead-protocol': v });
    t.equal(e.status, 400, `enroll with protocol ${JSON.stringify(v)}: 400`);
    t.equal(e.json().error.code, 'UNSUPPORTED_PROTOCOL');
  }
  t.equal(await fx.server.services.reports.count('web-1'), 0, 'no refused report was stored');
  t.equal((await fx.json('GET', '/api/v1/agents/new-2')).status, 404, 'no refused enrollment was recorded');
  // A refused request does not burn its nonce: the same signed request without the header still works.
  const sig = a.sign('GET', '/api/v1/hosts/web-1/catalog');
  const { rawRequest } = await import('../../helpers/server-fixture.js');
  t.equal((await rawRequest(fx.base, { method: 'GET', path: '/api/v1/hosts/web-1/catalog', headers: { ...sig, 'x-stead-protocol': '0' } })).status, 400);
  t.equal((await rawRequest(fx.base, { method: 'GET', path: '/api/v1/hosts/web-1/catalog', headers: sig })).status, 200);
});

t.test('operator routes ignore the agent protocol header', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.json('GET', '/api/v1/hosts', undefined, undefined, { 'x-stead-protocol': '0' })).status, 200);
});

t.test('the OpenAPI document declares the header on agent routes', async (t) => {
  const fx = await startServer(t);
  const doc = (await fx.json('GET', '/api/v1/openapi.json')).json();
  const params = (op: { parameters?: { name: string; in: string }[] }): string[] => (op.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);
  t.ok(params(doc.paths['/api/v1/hosts/{host}/catalog'].get).includes('X-Stead-Protocol'));
  t.ok(params(doc.paths['/api/v1/agents/enroll'].post).includes('X-Stead-Protocol'));
  t.notOk(params(doc.paths['/api/v1/hosts'].get).includes('X-Stead-Protocol'));
});
