/** O3: the console renders data inert (autoescape), and only with a session. */
import t from 'tap';
import { hostsView, loginView } from '../../../server/web/views.js';
import { rawRequest, startServer } from '../../helpers/server-fixture.js';

t.test('views escape everything they are given', async (t) => {
  const evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>{{ 7*7 }}\u001b[2J';
  const html = hostsView({
    title: evil,
    operator: evil,
    refresh: 5,
    now: 'now',
    revision: evil,
    fleet: { percent: 50, total: 2, counts: { 'in-sync': 1, failing: 1 } },
    hosts: [{ host: evil, state: 'failing', groups: [evil], enrollment: evil, lastRunAt: evil, outcome: evil, corrective: 1, changed: 0, failed: 1 }],
  });
  t.notMatch(html, /<script>alert/);
  t.notMatch(html, /<img src=x/);
  t.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  t.match(html, /\{\{ 7\*7 \}\}/, 'data is never template source');
  t.notMatch(html, /\b49\b/);
  t.match(loginView({ error: evil }), /&lt;script&gt;/);
});

t.test('console session: login, page, logout; bad token; cross-origin', async (t) => {
  const fx = await startServer(t);
  const origin = fx.base;
  const bad = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=nope-nope-nope-nope' });
  t.equal(bad.status, 401);
  t.notOk(bad.headers['set-cookie']);
  const login = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(fx.adminToken)}` });
  t.equal(login.status, 302);
  const cookie = String(login.headers['set-cookie']![0]);
  t.match(cookie, /httponly/i);
  t.match(cookie, /samesite=strict/i);
  const session = cookie.split(';')[0]!;
  const page = await rawRequest(fx.base, { method: 'GET', path: '/', headers: { cookie: session } });
  t.equal(page.status, 200);
  t.match(String(page.headers['content-security-policy']), /default-src 'none'/);
  t.match(page.body.toString(), /Fleet compliance/);
  // The session cookie is not an API credential.
  t.equal((await rawRequest(fx.base, { method: 'GET', path: '/api/v1/hosts', headers: { cookie: session } })).status, 401);
  const noOrigin = await rawRequest(fx.base, { method: 'POST', path: '/logout', headers: { cookie: session } });
  t.equal(noOrigin.status, 403, 'a form post without Origin/Referer is refused');
  const out = await rawRequest(fx.base, { method: 'POST', path: '/logout', headers: { cookie: session, origin } });
  t.equal(out.status, 302);
  t.equal((await rawRequest(fx.base, { method: 'GET', path: '/', headers: { cookie: session } })).status, 302, 'void after logout');
  // Rate limit: 10 failures a minute, then refused even with a good token.
  for (let i = 0; i < 10; i++) await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=wrong-wrong-wrong-wrong' });
  const limited = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(fx.adminToken)}` });
  t.equal(limited.status, 403);
  fx.clock.advance(61_000);
  const again = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(fx.adminToken)}` });
  t.equal(again.status, 302, 'allowed again after a minute');
});
