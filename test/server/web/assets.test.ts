/** The console's asset route (ADR 0019): an allow-list, cached, and a CSP that admits only same-origin scripts. */
import t from 'tap';
import { assetNames } from '../../../server/web/assets.js';
import { rawRequest, startServer } from '../../helpers/server-fixture.js';

t.test('assets are served by name from the allow-list only', async (t) => {
  const s = await startServer(t);
  for (const name of assetNames) {
    const r = await rawRequest(s.base, { method: 'GET', path: `/assets/${name}` });
    t.equal(r.status, 200, `${name} is served`);
    t.ok(r.body.length > 0, `${name} has content`);
    t.match(String(r.headers['content-type']), name.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
    t.equal(r.headers['x-content-type-options'], 'nosniff');
    const again = await rawRequest(s.base, { method: 'GET', path: `/assets/${name}`, headers: { 'if-none-match': String(r.headers['etag']) } });
    t.equal(again.status, 304, `${name}: a matching ETag answers 304`);
  }
  const uplot = await rawRequest(s.base, { method: 'GET', path: '/assets/uplot.iife.min.js' });
  t.match(uplot.body.toString('utf8'), /uPlot/, 'uPlot is the vendored library');
  for (const path of ['/assets/..%2Fpackage.json', '/assets/%2e%2e%2fcompose.js', '/assets/assets.js', '/assets/constructor', '/assets/__proto__', '/assets/']) {
    const r = await rawRequest(s.base, { method: 'GET', path });
    t.equal(r.status, 404, `${path} is not an asset`);
  }
});

t.test('console pages allow scripts from this origin only', async (t) => {
  const s = await startServer(t);
  const r = await rawRequest(s.base, { method: 'GET', path: '/login' });
  const csp = String(r.headers['content-security-policy']);
  t.match(csp, /default-src 'none'/);
  t.match(csp, /script-src 'self'(;|$)/, 'scripts: same origin, nothing else');
  t.notMatch(csp, /unsafe-eval|unsafe-inline'[^;]*;?\s*$|script-src[^;]*unsafe/, 'no inline or eval script');
  t.match(r.body.toString('utf8'), /<script src="\/assets\/console.js" defer><\/script>/, 'the layout loads the shared script');
  t.notMatch(r.body.toString('utf8'), /<script>/, 'no inline script');
});
