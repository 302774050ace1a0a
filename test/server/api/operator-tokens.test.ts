/** Operator tokens: list (admin only, never the token), revoke by name (the token stops working at once on this server). */
import t from 'tap';
import { startServer } from '../../helpers/server-fixture.js';

t.test('list and revoke operator tokens', async (t) => {
  const fx = await startServer(t);
  const ci = await fx.token('admin', 'ci');
  const viewer = await fx.token('readonly', 'viewer');
  t.equal((await fx.json('GET', '/api/v1/hosts', undefined, ci)).status, 200, 'the new token works');

  const list = await fx.json('GET', '/api/v1/operator-tokens');
  t.equal(list.status, 200);
  t.same(list.json().tokens.map((x: { name: string; role: string; revoked: boolean }) => [x.name, x.role, x.revoked]).sort(), [['admin', 'admin', false], ['ci', 'admin', false], ['viewer', 'viewer', false]]);
  t.notOk(list.body.toString().includes(ci) || list.body.toString().includes(fx.adminToken), 'no token value is listed');
  t.equal((await fx.json('GET', '/api/v1/operator-tokens', undefined, viewer)).status, 403, 'readonly may not list tokens');

  const rv = await fx.json('POST', '/api/v1/operator-tokens/ci/revoke', undefined, ci);
  t.equal(rv.status, 200);
  t.same(rv.json(), { name: 'ci', revoked: 1 });
  t.equal((await fx.json('GET', '/api/v1/hosts', undefined, ci)).status, 401, 'a revoked token authenticates nothing');
  t.same((await fx.json('POST', '/api/v1/operator-tokens/ci/revoke')).json(), { name: 'ci', revoked: 0 }, 'revoking again is a no-op');
  const unknown = await fx.json('POST', '/api/v1/operator-tokens/nobody/revoke');
  t.equal(unknown.status, 404);
  t.equal(unknown.json().error.code, 'NOT_FOUND');
  t.equal((await fx.json('POST', '/api/v1/operator-tokens/admin/revoke', undefined, viewer)).status, 403, 'readonly may not revoke');

  // Names are unique, revoked ones included: one name never means two holders.
  for (const [name, role] of [['viewer', 'readonly'], ['ci', 'admin'], ['admin', 'admin'], ['viewer', 'admin']] as const) {
    const dup = await fx.json('POST', '/api/v1/operator-tokens', { name, role });
    t.equal(dup.status, 409, `a second token named ${name} is refused`);
    t.equal(dup.json().error.code, 'CONFLICT');
    t.match(dup.json().error.message, new RegExp(`an operator token named "${name}" already exists.*choose another name`));
  }
  const racing = await Promise.all(Array.from({ length: 8 }, () => fx.json('POST', '/api/v1/operator-tokens', { name: 'racer', role: 'readonly' })));
  t.same(racing.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409], 'concurrent creations of one name: exactly one wins');
  t.equal((await fx.json('GET', '/api/v1/operator-tokens')).json().tokens.filter((x: { name: string }) => x.name === 'racer').length, 1);

  // Rotating the admin token: a new admin token first, then the old one revoked by name.
  const next = await fx.token('admin', 'admin-2');
  t.equal((await fx.json('POST', '/api/v1/operator-tokens/admin/revoke', undefined, next)).status, 200);
  t.equal((await fx.json('GET', '/api/v1/hosts')).status, 401, 'the admin-token file token is revoked');
  t.equal((await fx.json('GET', '/api/v1/hosts', undefined, next)).status, 200, 'the new admin token works');
  // A restart registers the file token again only if it is new: a revoked one stays revoked.
  await fx.server.services.operators.ensureToken(fx.adminToken, 'admin', 'admin');
  t.equal((await fx.json('GET', '/api/v1/hosts')).status, 401, 'ensureToken never un-revokes');
});
