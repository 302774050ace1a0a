/**
 * Users and sessions (ADR 0020): argon2id hash and verify with bounds, unknown users cost a
 * verification like a wrong password, lockout per user name, stored sessions that survive a
 * reopen of the store and are seen by a second server on the same data directory, and changes
 * to a user reaching its sessions within the cache TTL.
 */
import t, { type Test } from 'tap';
import { ManualClock } from '../../../../server/domain/clock.js';
import { openStore } from '../../../../server/store/open.js';
import { AuditLog } from '../../../../server/services/audit-log.js';
import { OperatorAuthService } from '../../../../server/services/operator-auth-service.js';
import { UserService } from '../../../../server/services/users/user-service.js';
import { dummyHash, hashPassword, verifyPassword } from '../../../../server/services/users/passwords.js';
import { businessMatches, scopeTest } from '../../../../server/domain/scope.js';

const pw = 'correct horse battery';

/** One server's services on a store (a second call with `shared` is a second server on the same store, with its own caches). */
async function server(dataDir: string, clock: ManualClock, t: Test, shared?: Awaited<ReturnType<typeof openStore>>) {
  const store = shared ?? (await openStore({ dataDir }));
  const auditLog = await AuditLog.open(store, clock);
  const users = await UserService.open(store, clock, auditLog, { failuresPerUser: 3, failureWindowMs: 60_000 });
  const operators = await OperatorAuthService.open(store, clock, { users, auditLog }, { cacheTtlMs: 5000 });
  let closed = false;
  const close = async (): Promise<void> => {
    if (!closed && !shared) await store.close();
    closed = true;
  };
  t.teardown(close);
  return { store, auditLog, users, operators, close };
}

t.test('passwords: argon2id, bounds, dummy verification', async (t) => {
  const h = await hashPassword(pw);
  t.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'argon2id with OWASP parameters');
  t.ok(await verifyPassword(h, pw));
  t.notOk(await verifyPassword(h, `${pw}!`));
  t.notOk(await verifyPassword(undefined, pw), 'no stored hash: false (after verifying a dummy)');
  await t.rejects(hashPassword('short'), { code: 'BAD_REQUEST' }, 'fewer than 12 bytes refused');
  await t.rejects(hashPassword('x'.repeat(1025)), { code: 'BAD_REQUEST' }, 'more than 1024 bytes refused before hashing');
  t.notOk(await verifyPassword(h, 'x'.repeat(100_000)), 'a huge password is false at once');
  // An unknown user costs what a wrong password costs: it is verified against a dummy hash of
  // the same algorithm and parameters (compared by construction, not by a clock).
  const params = (x: string): string => x.split('$').slice(1, 4).join('$');
  t.equal(params(await dummyHash()), params(h), 'the dummy hash has the parameters of a real one');
});

t.test('scope patterns', async (t) => {
  t.ok(businessMatches('pay', 'pay'));
  t.ok(businessMatches('pay', 'pay/api'), 'a bare product covers its modules');
  t.notOk(businessMatches('pay', 'payroll'));
  t.ok(businessMatches('pay/*', 'pay/api'));
  t.notOk(businessMatches('pay/*', 'pay'));
  t.notOk(businessMatches('pay/api', 'pay/web'));
  t.notOk(businessMatches('pay', undefined), 'no business: outside');
  const test = scopeTest({ business: ['pay'], idc: ['sz'] });
  t.ok(test({ business: 'pay/api', idc: 'sz' }));
  t.notOk(test({ business: 'pay/api', idc: 'bj' }));
  t.notOk(test({ business: 'shop', idc: 'sz' }));
  t.ok(scopeTest(undefined)({}), 'no scope: everything');
});

t.test('users: create, verify, lockout, audit', async (t) => {
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  const s = await server(t.testdir(), clock, t);
  const admin = { name: 'root', address: '10.0.0.1' };
  await s.users.create({ name: 'alice', role: 'operator', password: pw, scope: { business: ['pay'] } }, admin);
  await t.rejects(s.users.create({ name: 'alice', role: 'viewer', password: pw }, admin), { code: 'CONFLICT' });
  await t.rejects(s.users.create({ name: 'bob', role: 'root', password: pw }, admin), { code: 'BAD_REQUEST' });
  await t.rejects(s.users.create({ name: 'bob', role: 'viewer', password: 'short' }, admin), { code: 'BAD_REQUEST' });
  await t.rejects(s.users.create({ name: '../x', role: 'viewer', password: pw }, admin), { code: 'BAD_REQUEST' });
  const listed = await s.users.list();
  t.same(listed.map((u) => [u.name, u.role, u.scope]), [['alice', 'operator', { business: ['pay'] }]]);
  t.notOk(JSON.stringify(listed).includes('argon2'), 'no hash is listed');

  t.match(await s.users.verify('alice', pw, '10.0.0.2'), { name: 'alice', role: 'operator', scope: { business: ['pay'] } });
  t.equal(await s.users.verify('alice', 'wrong password!', '10.0.0.2'), undefined);
  t.equal(await s.users.verify('nobody', pw, '10.0.0.2'), undefined, 'unknown user');
  // Lockout: 3 failures per window (this test's setting); then even the right password fails.
  await s.users.verify('alice', 'wrong password!', '10.0.0.2');
  await s.users.verify('alice', 'wrong password!', '10.0.0.2');
  t.equal(await s.users.verify('alice', pw, '10.0.0.2'), undefined, 'locked after repeated failures');
  clock.advance(61_000);
  t.ok(await s.users.verify('alice', pw, '10.0.0.2'), 'the lock ends with the window');

  const events = await s.auditLog.list({ limit: 50 });
  t.ok(events.some((e) => e.action === 'user.create' && e.actor === 'root' && e.address === '10.0.0.1'), 'user.create recorded with the address');
  t.ok(events.some((e) => e.action === 'login.failure' && e.target === 'user:nobody' && e.address === '10.0.0.2'), 'a failed login is recorded');

  await t.rejects(s.users.update('root', { role: 'viewer' }, admin), { code: 'NOT_FOUND' });
  await s.users.create({ name: 'root', role: 'admin', password: pw }, { name: 'system' });
  await t.rejects(s.users.update('root', { role: 'viewer' }, admin), { code: 'CONFLICT' }, 'an admin cannot demote itself');
  await t.rejects(s.users.remove('root', admin), { code: 'CONFLICT' }, 'nor delete itself');
  await s.users.setPassword('alice', 'another good password', { name: 'alice' }, { current: pw });
  await t.rejects(s.users.setPassword('alice', 'a third good password', { name: 'alice' }, { current: pw }), { code: 'FORBIDDEN' }, 'the old password no longer counts');
});

t.test('sessions: stored, survive a reopen, seen by a second server, follow user changes', async (t) => {
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  const dir = t.testdir();
  const a = await server(dir, clock, t);
  await a.users.create({ name: 'carol', role: 'operator', password: pw }, { name: 'root' });
  await t.rejects(a.operators.loginPassword('carol', 'not her password', '10.0.0.3'), { code: 'UNAUTHENTICATED' });
  await t.rejects(a.operators.loginPassword('nobody', pw, '10.0.0.3'), { code: 'UNAUTHENTICATED', message: 'the user name or password is not right' });
  const s = await a.operators.loginPassword('carol', pw, '10.0.0.3');
  t.match(s.sessionId, /^sst_/);
  t.match(await a.operators.authenticate(s.sessionId), { name: 'carol', role: 'operator', kind: 'user' }, 'a session token works as a bearer token');

  // A second server on the same store (its own caches) sees it. (SQLite allows one server per
  // data directory; several servers share a MongoDB store, where the same documents are read.)
  const b0 = await server(dir, clock, t, a.store);
  t.match(await b0.operators.session(s.sessionId), { name: 'carol', role: 'operator' }, 'seen by a second server');

  // Restart: close and reopen the store.
  await a.close();
  const a2 = await server(dir, clock, t);
  t.match(await a2.operators.session(s.sessionId), { name: 'carol' }, 'survives a restart');
  const b = await server(dir, clock, t, a2.store);
  t.match(await b.operators.session(s.sessionId), { name: 'carol' }, 'the second server after the restart');

  // A change to the user reaches the session within the cache TTL (5 s here).
  await a2.users.update('carol', { role: 'viewer', scope: { idc: ['sz'] } }, { name: 'root' });
  clock.advance(5001);
  t.match(await b.operators.session(s.sessionId), { role: 'viewer', scope: { idc: ['sz'] } }, 'role and scope follow the user');
  await a2.users.update('carol', { disabled: true }, { name: 'root' });
  clock.advance(5001);
  t.equal(await b.operators.session(s.sessionId), undefined, 'a disabled user has no session');
  await t.rejects(b.operators.loginPassword('carol', pw), { code: 'UNAUTHENTICATED' }, 'nor a new login');
  await a2.users.update('carol', { disabled: false }, { name: 'root' });
  clock.advance(5001);
  t.ok(await b.operators.session(s.sessionId), 'enabled again');

  // Logout on one server: the other sees it once its cache expires.
  await a2.operators.logout(s.sessionId, '10.0.0.3');
  t.equal(await a2.operators.session(s.sessionId), undefined, 'logged out here at once');
  clock.advance(5001);
  t.equal(await b.operators.session(s.sessionId), undefined, 'and on the other server within the TTL');

  // Expiry: 8 hours.
  const s2 = await a2.operators.loginPassword('carol', pw);
  clock.advance(8 * 3600_000 + 1);
  t.equal(await a2.operators.session(s2.sessionId), undefined, 'an expired session is gone');

  // Token sessions and token roles: stored readonly reads as viewer; scopes carry over.
  const tok = await a2.operators.createToken('ci', 'readonly');
  t.match(tok, /^srt_/);
  t.match(await a2.operators.authenticate(tok), { name: 'ci', role: 'viewer', kind: 'token' });
  const op = await a2.operators.createToken('pay-ci', 'operator', { business: ['pay'] });
  const ts = await a2.operators.login(op, '10.0.0.4');
  t.match(await b.operators.session(ts.sessionId), { name: 'pay-ci', role: 'operator', scope: { business: ['pay'] }, kind: 'token' });
  await a2.operators.revokeByName('pay-ci');
  clock.advance(5001);
  t.equal(await b.operators.session(ts.sessionId), undefined, 'a revoked token ends its sessions');

  const events = await a2.auditLog.list({ limit: 100 });
  for (const action of ['login.success', 'login.failure', 'logout', 'user.update']) t.ok(events.some((e) => e.action === action), `${action} recorded`);
  t.ok(events.some((e) => e.action === 'logout' && e.address === '10.0.0.3'), 'logout with the address');
});
