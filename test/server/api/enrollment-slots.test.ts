/**
 * Enrollment slots (ADR 0009) over HTTP, in-process server with a manual clock: anonymous
 * enrollments cannot squat a host name (a bootstrap token wins, rejected and expired keys free
 * their slot), operators delete keys, and a revoked agent's new key waits for approval.
 */
import t from 'tap';
import { keyFingerprint } from '../../../schemas/key-fingerprint.js';
import { startServer, type ServerFixture, type TestAgent } from '../../helpers/server-fixture.js';

const ttlMs = 3600_000;

async function squat(fx: ServerFixture, host: string, n = 16): Promise<TestAgent[]> {
  const squatters: TestAgent[] = [];
  for (let i = 0; i < n; i++) {
    const s = fx.agent(host);
    const r = await s.enroll();
    if (r.status !== 202) throw new Error(`squatter ${i}: ${r.status} ${r.body.toString()}`);
    squatters.push(s);
  }
  return squatters;
}

t.test('16 anonymous keys fill the slots; a bound bootstrap token still enrols the real agent', async (t) => {
  const fx = await startServer(t, { pendingKeyTtlMs: ttlMs });
  const squatters = await squat(fx, 'web-1');
  const late = await fx.agent('web-1').enroll();
  t.equal(late.status, 409, 'a 17th anonymous key is refused');
  t.equal(late.json().error.code, 'ENROLLMENT_SLOTS_FULL');
  t.match(late.json().error.message, /approve, reject or delete one/);

  const token = (await fx.json('POST', '/api/v1/bootstrap-tokens', { host: 'web-1' })).json().token as string;
  const real = fx.agent('web-1');
  const en = await real.enroll(token);
  t.equal(en.status, 201, en.body.toString());
  t.equal(en.json().fingerprint, keyFingerprint(real.publicKeyPem), 'the answer carries the same fingerprint the agent computes');
  t.equal((await real.request('GET', '/api/v1/agents/status')).json().status, 'approved');
  t.equal((await real.request('PUT', '/api/v1/hosts/web-1/facts', { os: 'debian' })).status, 200, 'the real agent works');

  const view = (await fx.json('GET', '/api/v1/agents/web-1')).json();
  t.equal(view.status, 'approved');
  t.same(view.keys.filter((k: { status: string }) => k.status === 'approved').map((k: { fingerprint: string }) => k.fingerprint), [keyFingerprint(real.publicKeyPem)]);
  t.equal(view.keys.filter((k: { status: string }) => k.status === 'rejected').length, 16, 'the competing pending keys were rejected');
  t.equal((await squatters[0]!.request('GET', '/api/v1/agents/status')).status, 401, 'a rejected squatter cannot sign');
  t.equal((await squatters[0]!.enroll()).status, 403, 'nor enroll its key again');
  // Rejected keys hold no slot: rotation requests of the approved host are possible again.
  t.equal((await fx.agent('web-1').enroll()).status, 202);
});

t.test('an unbound token wins too; an invalid token does not pass the full slots', async (t) => {
  const fx = await startServer(t, { pendingKeyTtlMs: ttlMs });
  await squat(fx, 'db-1');
  const used = (await fx.json('POST', '/api/v1/bootstrap-tokens', {})).json().token as string;
  t.equal((await fx.agent('other').enroll(used)).status, 201);
  const refused = await fx.agent('db-1').enroll(used);
  t.equal(refused.status, 403, 'a used token is refused');
  t.equal(refused.json().error.code, 'TOKEN_INVALID');
  const unbound = (await fx.json('POST', '/api/v1/bootstrap-tokens', {})).json().token as string;
  t.equal((await fx.agent('db-1').enroll(unbound)).status, 201);
});

t.test('rejected keys free their slot and stay refused', async (t) => {
  const fx = await startServer(t, { pendingKeyTtlMs: ttlMs });
  const squatters = await squat(fx, 'web-1');
  t.equal((await fx.agent('web-1').enroll()).status, 409);
  const fp = keyFingerprint(squatters[3]!.publicKeyPem);
  t.equal((await fx.json('POST', '/api/v1/agents/web-1/reject', { fingerprint: fp })).status, 200);
  const next = fx.agent('web-1');
  t.equal((await next.enroll()).status, 202, 'the rejected key freed its slot');
  t.equal((await fx.agent('web-1').enroll()).status, 409, 'one slot only');
  const again = await squatters[3]!.enroll();
  t.equal(again.status, 403, 'a rejected key cannot enroll again');
  t.match(again.json().error.message, /rejected/);
});

t.test('pending keys expire and free their slot; the agent enrols the same key again', async (t) => {
  const fx = await startServer(t, { pendingKeyTtlMs: ttlMs });
  const squatters = await squat(fx, 'web-1');
  const listed = (await fx.json('GET', '/api/v1/agents/web-1')).json();
  t.equal(listed.keys[0].expiresAt, new Date(fx.clock.now() + ttlMs).toISOString(), 'the API says when a pending key expires');
  fx.clock.advance(ttlMs - 1);
  t.equal((await fx.agent('web-1').enroll()).status, 409, 'not expired yet');
  fx.clock.advance(1);
  t.equal((await fx.json('GET', '/api/v1/agents/web-1')).status, 404, 'a host whose only keys expired is not listed');
  t.notOk((await fx.json('GET', '/api/v1/agents')).json().agents.some((a: { host: string }) => a.host === 'web-1'));
  t.equal((await squatters[0]!.request('GET', '/api/v1/agents/status')).status, 401, 'an expired key cannot sign');
  const fresh = fx.agent('web-1');
  t.equal((await fresh.enroll()).status, 202, 'expired keys freed their slots');
  t.equal((await squatters[1]!.enroll()).status, 202, 'an expired key may ask again (a new request, a new expiry)');
  const keys = (await fx.json('GET', '/api/v1/agents/web-1')).json().keys as { fingerprint: string; status: string }[];
  t.same(keys.map((k) => k.fingerprint), [keyFingerprint(fresh.publicKeyPem), keyFingerprint(squatters[1]!.publicKeyPem)]);
  t.equal((await fx.json('POST', '/api/v1/agents/web-1/approve', { fingerprint: keyFingerprint(squatters[2]!.publicKeyPem) })).status, 404, 'an expired key cannot be approved');
});

t.test('operators delete keys', async (t) => {
  const fx = await startServer(t, { pendingKeyTtlMs: ttlMs });
  const real = await fx.approvedAgent('web-1');
  const squatters = await squat(fx, 'web-1', 2);
  const fpOf = (a: TestAgent): string => keyFingerprint(a.publicKeyPem);
  const reader = await fx.token('readonly');
  t.equal((await fx.json('DELETE', `/api/v1/agents/web-1/keys/${fpOf(squatters[0]!)}`, undefined, reader)).status, 403, 'readonly may not delete');
  t.equal((await fx.json('DELETE', '/api/v1/agents/web-1/keys/not-a-fingerprint')).status, 400);
  t.equal((await fx.json('DELETE', `/api/v1/agents/web-1/keys/${'0'.repeat(64)}`)).status, 404);
  t.equal((await fx.json('DELETE', `/api/v1/agents/nobody/keys/${fpOf(real)}`)).status, 404);

  const del = await fx.json('DELETE', `/api/v1/agents/web-1/keys/${fpOf(squatters[0]!)}`);
  t.equal(del.status, 200, del.body.toString());
  t.same(del.json().keys.map((k: { fingerprint: string }) => k.fingerprint), [fpOf(real), fpOf(squatters[1]!)]);
  t.equal((await squatters[0]!.request('GET', '/api/v1/agents/status')).status, 401, 'a deleted key cannot sign');

  const approved = await fx.json('DELETE', `/api/v1/agents/web-1/keys/${fpOf(real)}`);
  t.equal(approved.status, 409, 'the approved key of an approved host is kept');
  t.match(approved.json().error.message, /revoke the host first/);
  t.equal((await real.request('GET', '/api/v1/agents/status')).json().status, 'approved');

  t.equal((await fx.json('POST', '/api/v1/agents/web-1/revoke')).status, 200);
  t.equal((await fx.json('DELETE', `/api/v1/agents/web-1/keys/${fpOf(real)}`)).status, 200, 'a revoked host\'s key may go');
  t.equal((await fx.json('DELETE', `/api/v1/agents/web-1/keys/${fpOf(squatters[1]!)}`)).status, 204, 'the last key: the host is forgotten');
  t.equal((await fx.json('GET', '/api/v1/agents/web-1')).status, 404);
  // Forgotten: a bootstrap token may enrol the host name again.
  const again = await fx.approvedAgent('web-1');
  t.equal((await again.request('GET', '/api/v1/agents/status')).json().status, 'approved');
});

t.test('a revoked host: its new key is pending, asks its status, and approving it retires the old key', async (t) => {
  const fx = await startServer(t, { pendingKeyTtlMs: ttlMs });
  const old = await fx.approvedAgent('web-1');
  t.equal((await fx.json('POST', '/api/v1/agents/web-1/revoke')).status, 200);
  const renewed = fx.agent('web-1');
  t.equal((await renewed.enroll()).status, 202);
  const st = await renewed.request('GET', '/api/v1/agents/status');
  t.equal(st.status, 200);
  t.same(st.json(), { host: 'web-1', status: 'pending', fingerprint: keyFingerprint(renewed.publicKeyPem) });
  t.equal((await renewed.request('GET', '/api/v1/hosts/web-1/catalog')).status, 403, 'pending: no catalog');
  const ap = await fx.json('POST', '/api/v1/agents/web-1/approve');
  t.equal(ap.status, 200, `the one new key of a revoked host needs no fingerprint: ${ap.body.toString()}`);
  t.same(ap.json().keys.map((k: { status: string }) => k.status), ['retired', 'approved']);
  t.equal(ap.json().status, 'approved');
  t.equal((await renewed.request('GET', '/api/v1/agents/status')).json().status, 'approved');
  t.equal((await old.request('GET', '/api/v1/agents/status')).status, 401, 'the revoked key stays unusable');
});

t.test('a token enrolment racing anonymous ones is not wasted', async (t) => {
  const fx = await startServer(t, { pendingKeyTtlMs: ttlMs });
  const token = (await fx.json('POST', '/api/v1/bootstrap-tokens', { host: 'web-1' })).json().token as string;
  const real = fx.agent('web-1');
  const crowd = Array.from({ length: 12 }, () => fx.agent('web-1'));
  const answers = await Promise.all([...crowd.map((a) => a.enroll()), real.enroll(token)]);
  t.equal(answers.at(-1)!.status, 201, `the token enrolment wins: ${answers.at(-1)!.body.toString()}`);
  for (const a of answers.slice(0, -1)) t.ok([202, 409].includes(a.status), `an anonymous one is pending or refused (${a.status})`);
  const view = (await fx.json('GET', '/api/v1/agents/web-1')).json();
  t.same(view.keys.filter((k: { status: string }) => k.status === 'approved').map((k: { fingerprint: string }) => k.fingerprint), [keyFingerprint(real.publicKeyPem)]);
});
