/**
 * Agent identity end to end over HTTP (in-process server): enrollment, approval, signed
 * requests, forged/replayed/stale/tampered requests, revocation, bootstrap tokens, key rotation.
 */
import t from 'tap';
import { startServer } from '../../helpers/server-fixture.js';

t.test('enroll → pending → approve → approved; pending may only ask its status', async (t) => {
  const fx = await startServer(t);
  const a = fx.agent('web-1');
  const r = await a.enroll();
  t.equal(r.status, 202);
  t.same(r.json().status, 'pending');
  const st = await a.request('GET', '/api/v1/agents/status');
  t.equal(st.status, 200);
  t.equal(st.json().status, 'pending');
  const cat = await a.request('GET', '/api/v1/hosts/web-1/catalog');
  t.equal(cat.status, 403);
  t.equal(cat.json().error.code, 'HOST_PENDING');
  const facts = await a.request('PUT', '/api/v1/hosts/web-1/facts', { os: 'debian' });
  t.equal(facts.status, 403);
  const ap = await fx.json('POST', '/api/v1/agents/web-1/approve');
  t.equal(ap.status, 200, ap.body.toString());
  t.equal(ap.json().status, 'approved');
  const st2 = await a.request('GET', '/api/v1/agents/status');
  t.equal(st2.json().status, 'approved');
  const f2 = await a.request('PUT', '/api/v1/hosts/web-1/facts', { os: 'debian' });
  t.equal(f2.status, 200, f2.body.toString());
  t.same(f2.json(), { host: 'web-1', changed: true });
  const f3 = await a.request('PUT', '/api/v1/hosts/web-1/facts', { os: 'debian' });
  t.same(f3.json(), { host: 'web-1', changed: false });
  // Re-enrolling the same key is idempotent and reports approved.
  const again = await a.enroll();
  t.equal(again.status, 201);
});

t.test('forged, replayed, stale, tampered and unsigned requests are refused', async (t) => {
  const fx = await startServer(t);
  const a = await fx.approvedAgent('web-1');
  const mallory = fx.agent('web-1'); // another key claiming the same host, never enrolled
  const forged = await mallory.request('GET', '/api/v1/agents/status');
  t.equal(forged.status, 401);
  t.equal(forged.json().error.code, 'BAD_SIGNATURE');

  const nonce = 'fixed-nonce-0123456789';
  const first = await a.request('GET', '/api/v1/agents/status', undefined, {}, { nonce });
  t.equal(first.status, 200);
  const replay = await a.request('GET', '/api/v1/agents/status', undefined, {}, { nonce });
  t.equal(replay.status, 401);
  t.equal(replay.json().error.code, 'NONCE_REUSED');

  const stale = await a.request('GET', '/api/v1/agents/status', undefined, {}, { time: fx.clock.now() - 5 * 60_000 - 1 });
  t.equal(stale.status, 401);
  t.equal(stale.json().error.code, 'CLOCK_SKEW');
  const future = await a.request('GET', '/api/v1/agents/status', undefined, {}, { time: fx.clock.now() + 5 * 60_000 + 1 });
  t.equal(future.json().error.code, 'CLOCK_SKEW');
  const edge = await a.request('GET', '/api/v1/agents/status', undefined, {}, { time: fx.clock.now() - 5 * 60_000 });
  t.equal(edge.status, 200, 'exactly 5 minutes is accepted');

  // Signature over one body, another body sent.
  const body = Buffer.from(JSON.stringify({ os: 'debian' }));
  const headers = a.sign('PUT', '/api/v1/hosts/web-1/facts', body);
  const { rawRequest } = await import('../../helpers/server-fixture.js');
  const tampered = await rawRequest(fx.base, { method: 'PUT', path: '/api/v1/hosts/web-1/facts', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ os: 'evil' }) });
  t.equal(tampered.status, 401);
  // Signature for another path.
  const otherPath = await rawRequest(fx.base, { method: 'GET', path: '/api/v1/agents/status?x=1', headers: a.sign('GET', '/api/v1/agents/status') });
  t.equal(otherPath.status, 401);
  // Signature for another method.
  const otherMethod = await rawRequest(fx.base, { method: 'GET', path: '/api/v1/agents/status', headers: a.sign('POST', '/api/v1/agents/status') });
  t.equal(otherMethod.status, 401);

  // Two hosts enrolled with the same key: a request signed as web-1 cannot be re-labelled as
  // web-2, because the claimed host is part of the signed string (schemas/protocol.ts).
  const tok2 = await fx.json('POST', '/api/v1/bootstrap-tokens', { host: 'web-2' });
  const enrolled2 = await fx.json('POST', '/api/v1/agents/enroll', { host: 'web-2', publicKey: a.publicKeyPem, bootstrapToken: tok2.json().token });
  t.equal(enrolled2.status, 201, 'web-2 enrolled with the same public key');
  const asWeb2 = await a.request('GET', '/api/v1/agents/status', undefined, {}, { host: 'web-2' });
  t.equal(asWeb2.status, 200, 'the key holder may sign as web-2 itself');
  const relabelled = await rawRequest(fx.base, { method: 'GET', path: '/api/v1/agents/status', headers: { ...a.sign('GET', '/api/v1/agents/status'), 'x-stead-host': 'web-2' } });
  t.equal(relabelled.status, 401, 'a signature made for web-1 does not verify as web-2');

  const unsigned = await rawRequest(fx.base, { method: 'GET', path: '/api/v1/agents/status' });
  t.equal(unsigned.status, 401);
  t.equal(unsigned.json().error.code, 'UNAUTHENTICATED');
  t.ok(unsigned.json().error.requestId, 'errors carry the request id');
  t.equal(unsigned.headers['x-request-id'], unsigned.json().error.requestId);

  // Operator token on an agent route: wrong principal type.
  const op = await fx.json('GET', '/api/v1/agents/status');
  t.equal(op.status, 401);
  // Agent signature on an operator route.
  const ag = await a.request('GET', '/api/v1/hosts');
  t.equal(ag.status, 401);
});

t.test('identity comes from the signature only (A3)', async (t) => {
  const fx = await startServer(t);
  await fx.approvedAgent('host-a');
  const b = await fx.approvedAgent('host-b');
  // B signs with its key but names A: the signature does not verify with A's key.
  const asA = await b.request('PUT', '/api/v1/hosts/host-a/facts', { role: 'db' }, {}, { host: 'host-a' });
  t.equal(asA.status, 401);
  // B, as itself, on A's paths: 403.
  for (const [m, p, body] of [
    ['GET', '/api/v1/hosts/host-a/catalog', undefined],
    ['PUT', '/api/v1/hosts/host-a/facts', { hostname: 'host-a' }],
    ['POST', '/api/v1/hosts/host-a/reports', { runId: 'r1' }],
  ] as const) {
    const r = await b.request(m, p, body, { 'x-forwarded-for': '127.0.0.1', 'x-remote-user': 'host-a', 'x-stead-agent': 'host-a', 'x-client-cert': 'CN=host-a' });
    t.equal(r.status, 403, `${m} ${p}`);
  }
  t.equal((await fx.json('GET', '/api/v1/hosts/host-a/facts')).status, 404, 'A has no facts: nothing was written for A');
});

t.test('revocation', async (t) => {
  const fx = await startServer(t);
  const a = await fx.approvedAgent('web-1');
  t.equal((await a.request('GET', '/api/v1/agents/status')).status, 200);
  const rv = await fx.json('POST', '/api/v1/agents/web-1/revoke');
  t.equal(rv.status, 200);
  const r = await a.request('PUT', '/api/v1/hosts/web-1/facts', { a: 1 });
  t.equal(r.status, 403);
  t.equal(r.json().error.code, 'HOST_REVOKED');
  t.equal((await a.request('GET', '/api/v1/agents/status')).status, 403);
  // A bootstrap token cannot bring a revoked host back.
  const tok = (await fx.json('POST', '/api/v1/bootstrap-tokens', {})).json().token;
  const other = fx.agent('web-1');
  const en = await other.enroll(tok);
  t.equal(en.status, 202, 'new key of a revoked host is only pending');
  const pendingStatus = await other.request('GET', '/api/v1/agents/status');
  t.equal(pendingStatus.status, 200, 'a key enrolled after the revocation may ask its status (ADR 0009)');
  t.equal(pendingStatus.json().status, 'pending');
  t.equal((await other.request('PUT', '/api/v1/hosts/web-1/facts', { a: 1 })).status, 403, 'and nothing else');
  t.equal((await a.request('GET', '/api/v1/agents/status')).status, 403, 'the revoked key stays refused');
  // The operator may approve the original key again.
  const ap = await fx.json('POST', '/api/v1/agents/web-1/approve', { fingerprint: (await fx.json('GET', '/api/v1/agents/web-1')).json().keys[0].fingerprint });
  t.equal(ap.status, 200, ap.body.toString());
  t.equal((await a.request('GET', '/api/v1/agents/status')).status, 200);
});

t.test('a server with the store to itself caches identities long, yet sees every change at once', async (t) => {
  // identityTtlMs left to compose: 10 minutes on the embedded store (only this server writes it).
  const fx = await startServer(t, { identityTtlMs: undefined, pendingKeyTtlMs: 60_000 });
  const a = await fx.approvedAgent('web-1');
  t.equal((await a.request('GET', '/api/v1/agents/status')).status, 200, 'identity now cached');
  t.equal((await fx.json('POST', '/api/v1/agents/web-1/revoke')).status, 200);
  const refused = await a.request('PUT', '/api/v1/hosts/web-1/facts', { a: 1 });
  t.equal(refused.status, 403, 'the revocation counts on the very next request');
  t.equal(refused.json().error.code, 'HOST_REVOKED');
  const fp = (await fx.json('GET', '/api/v1/agents/web-1')).json().keys[0].fingerprint;
  t.equal((await fx.json('POST', '/api/v1/agents/web-1/approve', { fingerprint: fp })).status, 200);
  t.equal((await a.request('PUT', '/api/v1/hosts/web-1/facts', { a: 1 })).status, 200, 'and so does the approval');
  // A pending key is cached no longer than it lives.
  const p = fx.agent('web-2');
  t.equal((await p.enroll()).status, 202);
  t.equal((await p.request('GET', '/api/v1/agents/status')).status, 200, 'pending key cached');
  fx.clock.advance(61_000);
  const expired = await p.request('GET', '/api/v1/agents/status');
  t.equal(expired.status, 401, 'the expired pending key is refused although the cache entry is young');
  t.equal(expired.json().error.code, 'BAD_SIGNATURE');
});

t.test('bootstrap tokens: single use, expiring, bound, never replace an approved key (A5)', async (t) => {
  const fx = await startServer(t);
  const tok = (await fx.json('POST', '/api/v1/bootstrap-tokens', { ttlSeconds: 600 })).json().token as string;
  const a = fx.agent('web-1');
  t.equal((await a.enroll(tok)).status, 201);
  const b = fx.agent('web-2');
  const reuse = await b.enroll(tok);
  t.equal(reuse.status, 403);
  t.equal(reuse.json().error.code, 'TOKEN_INVALID');
  t.equal((await fx.json('GET', '/api/v1/agents/web-2')).status, 404, 'a refused token enrolls nothing');

  const expiring = (await fx.json('POST', '/api/v1/bootstrap-tokens', { ttlSeconds: 60 })).json().token as string;
  fx.clock.advance(61_000);
  t.equal((await fx.agent('web-3').enroll(expiring)).status, 403, 'expired');

  const bound = (await fx.json('POST', '/api/v1/bootstrap-tokens', { host: 'db-1' })).json().token as string;
  t.equal((await fx.agent('db-2').enroll(bound)).status, 403, 'bound to another host');
  t.equal((await fx.agent('db-1').enroll(bound)).status, 201);

  // A token for an approved host: the new key goes pending, the first key keeps working.
  const fresh = (await fx.json('POST', '/api/v1/bootstrap-tokens', {})).json().token as string;
  const thief = fx.agent('web-1');
  const stolen = await thief.enroll(fresh);
  t.equal(stolen.status, 202);
  t.equal((await thief.request('GET', '/api/v1/agents/status')).json().status, 'pending');
  t.equal((await thief.request('PUT', '/api/v1/hosts/web-1/facts', { x: 1 })).status, 403);
  t.equal((await a.request('GET', '/api/v1/agents/status')).json().status, 'approved');
  t.equal((await fx.agent('web-9').enroll(fresh)).status, 201, 'the token was not consumed by the refused use');

  // Approving without a fingerprint is ambiguous when an approved key exists.
  const amb = await fx.json('POST', '/api/v1/agents/web-1/approve');
  t.equal(amb.status, 409, 'a pending key next to an approved one must be named');
  t.equal(amb.json().error.code, 'CONFLICT');
  const view = (await fx.json('GET', '/api/v1/agents/web-1')).json();
  t.equal(view.keys.length, 2);
  t.same(view.keys.map((k: { status: string }) => k.status), ['approved', 'pending']);
  // Explicit rotation: the new key approved, the old one retired.
  const rot = await fx.json('POST', '/api/v1/agents/web-1/approve', { fingerprint: view.keys[1].fingerprint });
  t.same(rot.json().keys.map((k: { status: string }) => k.status), ['retired', 'approved']);
  t.equal((await a.request('GET', '/api/v1/agents/status')).status, 401, 'the retired key no longer signs');
  t.equal((await thief.request('GET', '/api/v1/agents/status')).json().status, 'approved');
});

t.test('host names are validated (A5d)', async (t) => {
  const fx = await startServer(t);
  for (const host of ['../etc', 'a/b', 'x\u001b[2J', 'a\r\nb', 'a..b', '-lead', 'a'.repeat(254), 'a b', '', '%2e%2e']) {
    const r = await fx.agent('x').enroll(undefined, host);
    t.equal(r.status, 400, JSON.stringify(host));
  }
  const ok = await fx.agent('x').enroll(undefined, 'web-1.prod.example.com');
  t.equal(ok.status, 202);
});

t.test('bad keys are refused', async (t) => {
  const fx = await startServer(t);
  const { generateKeyPairSync } = await import('node:crypto');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const r = await fx.json('POST', '/api/v1/agents/enroll', { host: 'web-1', publicKey: rsa });
  t.equal(r.status, 400);
  const junk = await fx.json('POST', '/api/v1/agents/enroll', { host: 'web-1', publicKey: '-----BEGIN PUBLIC KEY-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PUBLIC KEY-----\n' });
  t.equal(junk.status, 400);
  t.equal(junk.json().error.code, 'INVALID_KEY');
});

t.test('enrollment without a token is rate-limited per address', async (t) => {
  const fx = await startServer(t, { enrollPerMinute: 3 });
  for (let i = 0; i < 3; i++) t.equal((await fx.agent(`h-${i}`).enroll()).status, 202);
  const limited = await fx.agent('h-9').enroll();
  t.equal(limited.status, 429);
  t.equal(limited.json().error.code, 'RATE_LIMITED');
  const tok = (await fx.json('POST', '/api/v1/bootstrap-tokens', {})).json().token as string;
  t.equal((await fx.agent('h-10').enroll(tok)).status, 201, 'a bootstrap token is not limited');
  fx.clock.advance(60_000);
  t.equal((await fx.agent('h-9').enroll()).status, 202, 'a new window');
});
