/**
 * Unauthenticated bodies (issue 8 item 3), in process: a signed request that declares its
 * body's hash (X-Stead-Body-Sha256) is verified before a byte of the body is held; a request
 * without it, and any public route, holds its body within the global budget (503 SERVER_BUSY
 * with Retry-After beyond); a body that differs from the signed hash is refused.
 * The whole-process flood is test/server/e2e/body-flood.test.ts.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { ByteBudget } from '../../../server/domain/byte-budget.js';
import { rawRequest, startServer } from '../../helpers/server-fixture.js';

const facts = '/api/v1/hosts/web-1/facts';

t.test('ByteBudget takes and gives back bytes, never beyond its capacity', async (t) => {
  const b = new ByteBudget(100);
  t.ok(b.tryTake(60));
  t.notOk(b.tryTake(41), 'a take past the capacity is refused');
  t.equal(b.held, 60, 'a refused take takes nothing');
  t.ok(b.tryTake(40));
  b.release(100);
  t.equal(b.held, 0);
  t.equal(b.peak, 100);
  t.equal(b.total, 100);
  t.throws(() => new ByteBudget(0), RangeError);
});

t.test('a declared body hash: the signature is checked before the body is read', async (t) => {
  const fx = await startServer(t);
  const a = await fx.approvedAgent('web-1');
  const mallory = fx.agent('web-1'); // a key the server never enrolled
  const budget = fx.server.app.bodyBudget;
  const big = Buffer.from(JSON.stringify({ pad: 'x'.repeat(200 * 1024) }));
  const before = budget.total;

  const forged = await mallory.request('PUT', facts, big);
  t.equal(forged.status, 401);
  t.equal(forged.json().error.code, 'BAD_SIGNATURE');
  t.equal(forged.headers['connection'], 'close', 'the unread body is not drained over a kept-alive connection');
  t.equal(budget.total, before, 'no byte of the forged body was held before the signature was checked');

  const ok = await a.request('PUT', facts, big);
  t.equal(ok.status, 200, ok.body.toString());
  t.equal(budget.total, before, 'an authenticated body is not counted against the unauthenticated budget');

  // The signature covers hash A, the body sent is B: refused once the body has streamed.
  const signedFor = Buffer.from(JSON.stringify({ os: 'debian' }));
  const sent = Buffer.from(JSON.stringify({ os: 'hacked' }));
  const tampered = await rawRequest(fx.base, { method: 'PUT', path: facts, headers: { 'content-type': 'application/json', ...a.sign('PUT', facts, signedFor) }, body: sent });
  t.equal(tampered.status, 401);
  t.equal(tampered.json().error.code, 'BAD_SIGNATURE');
  t.match(tampered.json().error.message, /X-Stead-Body-Sha256/);
  t.same((await fx.json('GET', '/api/v1/hosts/web-1/facts')).json(), JSON.parse(big.toString()), 'the tampered facts were not stored');

  // A lying header: the signature verifies against the declared hash only if the agent signed it.
  const headers = a.sign('PUT', facts, sent);
  const lying = await rawRequest(fx.base, { method: 'PUT', path: facts, headers: { 'content-type': 'application/json', ...headers, 'x-stead-body-sha256': 'a'.repeat(64) }, body: sent });
  t.equal(lying.status, 401, 'a declared hash the agent did not sign does not verify');
  const malformed = await rawRequest(fx.base, { method: 'PUT', path: facts, headers: { 'content-type': 'application/json', ...a.sign('PUT', facts, sent), 'x-stead-body-sha256': 'XYZ' }, body: sent });
  t.equal(malformed.status, 401);
  t.match(malformed.json().error.message, /64 lowercase hex/);
});

t.test('without a declared hash, bodies are held within the global budget', async (t) => {
  const fx = await startServer(t, { unauthenticatedBodyBytes: 48 * 1024 });
  const a = await fx.approvedAgent('web-1');
  const budget = fx.server.app.bodyBudget;
  const legacy = (body: Buffer): Promise<Awaited<ReturnType<typeof rawRequest>>> => {
    const { ['x-stead-body-sha256']: _declared, ...headers } = a.sign('PUT', facts, body);
    return rawRequest(fx.base, { method: 'PUT', path: facts, headers: { 'content-type': 'application/json', ...headers }, body });
  };

  const small = await legacy(Buffer.from(JSON.stringify({ os: 'debian' })));
  t.equal(small.status, 200, `an older agent (no declared hash) is still served: ${small.body.toString()}`);

  const big = Buffer.from(JSON.stringify({ pad: randomBytes(40 * 1024).toString('hex') }));
  const refused = await legacy(big);
  t.equal(refused.status, 503, 'a body larger than the free budget is refused');
  t.equal(refused.json().error.code, 'SERVER_BUSY');
  t.equal(refused.headers['retry-after'], '5');

  // Public routes are budgeted as well: an enrollment body larger than the whole budget.
  const enroll = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/agents/enroll', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ host: 'x', publicKey: 'k'.repeat(70 * 1024) }) });
  t.equal(enroll.status, 413, 'the route limit (64 KiB) answers first for a body over it');
  const enroll2 = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/agents/enroll', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ host: 'x', publicKey: 'k'.repeat(50 * 1024) }) });
  t.equal(enroll2.status, 503, 'an enrollment body over the budget is refused');

  // A body whose length is not declared (chunked) is counted as it streams.
  const chunked = await new Promise<number>((resolve, reject) => {
    const { ['x-stead-body-sha256']: _d, ...headers } = a.sign('PUT', facts, big);
    import('node:http').then(({ default: http }) => {
      const url = new URL(facts, fx.base);
      const r = http.request({ host: url.hostname, port: url.port, method: 'PUT', path: facts, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...headers } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      r.on('error', reject);
      for (let i = 0; i < big.length; i += 8192) r.write(big.subarray(i, i + 8192));
      r.end();
    }, reject);
  });
  t.equal(chunked, 503, 'a chunked body is refused when it outgrows the budget');
  t.equal(budget.held, 0, 'every refused body gave its bytes back');
  t.ok(budget.peak <= 48 * 1024, `never more than the budget held (peak ${budget.peak})`);
});
