/**
 * S1 for the server: a secret canary (plain, base64 and URL-encoded forms) used in a template
 * reaches the blob the host downloads, and nowhere else: not in API responses (catalog,
 * preview, variables YAML/flat/explain, hosts, revisions, rejected-revision errors), not in
 * the server's logs, not in the store file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { encryptSecret } from '../../../compiler/vars/secret-box.js';
import { demoSecretKey, startServer, type RawResponse } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

const canary = 'CANARY-7f3a9c1e-SECRET';
const forms = [canary, Buffer.from(canary).toString('base64'), encodeURIComponent(canary)];

function leaks(text: string): string[] {
  return forms.filter((f) => text.includes(f));
}

t.test('a secret reaches only the host\'s blob', async (t) => {
  const fx = await startServer(t);
  const cipher = encryptSecret(canary, demoSecretKey());
  const repo = {
    ...smallRepo(),
    'vars/global.yaml': `app:\n  port: 8000\n  name: shop\n  password: !secret ${cipher}\n`,
    'templates/app.conf.j2': 'port={{ app.port }}\npassword={{ app.password }}\n',
  };
  const pub = await fx.publish(repo);
  t.equal(pub.status, 201, pub.body.toString().slice(0, 500));
  const a = await fx.approvedAgent('web-1');
  const responses: RawResponse[] = [pub];
  const cat = await a.request('GET', '/api/v1/hosts/web-1/catalog');
  responses.push(cat);
  const conf = cat.json().resources.find((r: { path: string }) => r.path === '/srv/app/app.conf');
  t.equal(conf.sensitive, true, 'the resource whose content depends on a secret is marked sensitive');
  const blob = await a.request('GET', `/api/v1/blobs/${conf.source.slice(7)}`);
  t.match(blob.body.toString(), canary, 'the host gets the secret in its file');
  t.equal(blob.headers['cache-control'], 'private, no-store');
  const part = await a.request('GET', `/api/v1/blobs/${conf.source.slice(7)}`, undefined, { range: 'bytes=0-3' });
  t.equal(part.status, 206);
  t.equal(part.body.toString(), 'port');
  const other = await fx.approvedAgent('db-1'); // port 8000: another rendering
  t.equal((await other.request('GET', `/api/v1/blobs/${conf.source.slice(7)}`)).status, 404, 'another host cannot fetch it');
  for (const p of ['/api/v1/hosts/web-1/preview', '/api/v1/hosts/web-1/variables', '/api/v1/hosts/web-1/variables?view=flat', '/api/v1/hosts/web-1/variables?explain=app.password', '/api/v1/hosts', '/api/v1/hosts/web-1', '/api/v1/revisions', '/api/v1/compliance', '/api/v1/groups']) {
    const r = await fx.json('GET', p);
    t.equal(r.status, 200, p);
    responses.push(r);
  }
  const flat = responses[responses.length - 7]!.json();
  t.match(String(flat.flat['app.password']), /^\[secret sha256:[0-9a-f]{12}\]$/, 'shown as a redaction marker');
  // A rejected revision's error messages: the template fails after using the secret.
  const bad = await fx.publish({ ...repo, 'templates/app.conf.j2': 'password={{ app.password }}\n{{ app.password | no_such_filter }}\n' });
  t.equal(bad.status, 422);
  responses.push(bad);
  for (const r of responses) t.same(leaks(r.body.toString('utf8')), [], `no canary in ${r.headers['x-request-id']}`);
  t.same(leaks(fx.logs.join('\n')), [], 'no canary in the logs');
  // The store file and the revision checkouts hold only the ciphertext.
  const dataDir = fx.server.adminToken.path.replace(/\/admin-token$/, '');
  for (const f of readdirSync(dataDir)) {
    if (!f.startsWith('stead.db')) continue;
    t.same(leaks(readFileSync(join(dataDir, f)).toString('latin1')), [], `${f}: no plaintext canary`);
  }
});
