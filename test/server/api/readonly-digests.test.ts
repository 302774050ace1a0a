/**
 * Issue 8 item 10: a readonly operator gets no digest of secret-bearing content. A template
 * renders a secret; the resource is `sensitive`. In the catalog preview a readonly operator
 * sees "sha256:[hidden]" instead of the content's sha256 (and no blob entry for it), and in a
 * run report (API and console) "[redacted]" instead of "[redacted sha256:…]". An admin still
 * sees both (to tell whether the file changed).
 */
import t from 'tap';
import { encryptSecret } from '../../../compiler/vars/secret-box.js';
import { hideSensitiveDigests } from '../../../server/domain/secret-digests.js';
import { demoSecretKey, rawRequest, startServer } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';
import { makeReport } from '../../helpers/server-reports.js';

t.test('readonly operators see no digest of secret-bearing content', async (t) => {
  const fx = await startServer(t);
  const cipher = encryptSecret('hunter2', demoSecretKey());
  const pub = await fx.publish({
    ...smallRepo(),
    'vars/global.yaml': `app:\n  port: 8000\n  name: shop\n  password: !secret ${cipher}\n`,
    'templates/app.conf.j2': 'port={{ app.port }}\npassword={{ app.password }}\n',
  });
  t.equal(pub.status, 201, pub.body.toString().slice(0, 300));
  const readonly = await fx.token('readonly', 'viewer');

  const adminPreview = (await fx.json('GET', '/api/v1/hosts/web-1/preview')).json();
  const conf = adminPreview.catalog.resources.find((r: { path: string }) => r.path === '/srv/app/app.conf');
  t.equal(conf.sensitive, true);
  t.match(conf.source, /^sha256:[0-9a-f]{64}$/, 'an admin sees the digest');
  const digest = conf.source as string;
  const viewer = await fx.json('GET', '/api/v1/hosts/web-1/preview', undefined, readonly);
  t.equal(viewer.status, 200);
  t.notOk(viewer.body.toString().includes(digest.slice(7)), 'the digest is nowhere in the readonly preview');
  const vconf = viewer.json().catalog.resources.find((r: { path: string }) => r.path === '/srv/app/app.conf');
  t.equal(vconf.source, 'sha256:[hidden]');
  const plain = viewer.json().catalog.resources.find((r: { path: string }) => r.path === '/srv/app/robots.txt');
  t.match(plain.source, /^sha256:[0-9a-f]{64}$/, 'content that is not secret keeps its digest');

  // A report whose sensitive values the engine redacted with a short digest.
  const a = await fx.approvedAgent('web-1');
  const report = makeReport('web-1', 'run-1', { outcome: 'changed' }) as { resources: { changes: { before: unknown; after: unknown }[] }[] };
  report.resources[0]!.changes[0]!.before = '[redacted sha256:0123456789ab]';
  report.resources[0]!.changes[0]!.after = '[redacted sha256:ba9876543210]';
  t.equal((await a.request('POST', '/api/v1/hosts/web-1/reports', report)).status, 200);
  const adminReport = await fx.json('GET', '/api/v1/hosts/web-1/reports/run-1');
  t.match(adminReport.body.toString(), /\[redacted sha256:0123456789ab\]/, 'an admin sees the redaction digest');
  for (const path of ['/api/v1/hosts/web-1/reports/run-1', '/api/v1/hosts/web-1/reports/run-1?limit=10']) {
    const r = await fx.json('GET', path, undefined, readonly);
    t.equal(r.status, 200);
    t.notMatch(r.body.toString(), /0123456789ab|ba9876543210/, `no digest for readonly: ${path}`);
    t.match(r.body.toString(), /"\[redacted\]"/);
  }
  // The console, logged in as the readonly operator.
  const login = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: fx.base }, body: `token=${encodeURIComponent(readonly)}` });
  const cookie = String((login.headers['set-cookie'] as string[])[0]).split(';')[0]!;
  const page = await rawRequest(fx.base, { method: 'GET', path: '/hosts/web-1/runs/run-1', headers: { cookie } });
  t.equal(page.status, 200);
  t.notMatch(page.body.toString(), /0123456789ab|ba9876543210/, 'no digest on the readonly console page');
  t.match(page.body.toString(), /\[redacted\]/);
});

t.test('hideSensitiveDigests leaves other resources and the input alone', async (t) => {
  const d = `sha256:${'a'.repeat(64)}`;
  const e = `sha256:${'b'.repeat(64)}`;
  const catalog = { resources: [{ type: 'file', path: '/a', source: d, sensitive: true }, { type: 'file', path: '/b', source: e }], blobs: { [d]: 10, [e]: 20 } };
  const out = hideSensitiveDigests(catalog);
  t.same(out.resources, [{ type: 'file', path: '/a', source: 'sha256:[hidden]', sensitive: true }, { type: 'file', path: '/b', source: e }]);
  t.same(out.blobs, { [e]: 20 });
  t.equal(catalog.resources[0]!.source, d, 'the input is unchanged');
});
