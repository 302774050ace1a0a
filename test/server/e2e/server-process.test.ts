/**
 * A real `stead server` process on loopback: HTTPS end to end with a self-signed certificate,
 * --repo published at start, a signed agent poll with 304, the console login, SIGTERM → exit 0;
 * and an invalid --repo refused with located errors (exit 1).
 */
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { dirname, join } from 'node:path';
import t from 'tap';
import { newNonce, signRequest } from '../../../agent/identity/request-signature.js';
import { buildOnce, mainJs, repoRoot } from '../../helpers/e2e-fleet.js';
import { runStead } from '../../helpers/cli.js';
import { smallRepo } from '../../helpers/server-repo.js';

function writeRepo(dir: string, files: Record<string, string>): void {
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
}

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function req(url: string, ca: Buffer, method: string, headers: Record<string, string>, body?: string): Promise<Res> {
  return new Promise((resolve, reject) => {
    const r = https.request(url, { method, headers: { ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) }, ca, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8').on('data', (d: string) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

t.test('https server process: --repo, signed polls, console, graceful SIGTERM', async (t) => {
  await buildOnce();
  const dir = t.testdir();
  writeRepo(join(dir, 'repo'), smallRepo());
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const ca = readFileSync(join(dir, 'cert.pem'));
  const child = spawn(process.execPath, [mainJs, 'server', '--port', '0', '--data-dir', join(dir, 'data'), '--repo', join(dir, 'repo'), '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'), '--json'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const events: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const listening = await new Promise<{ url: string }>((resolve, reject) => {
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const ev = JSON.parse(line) as { event: string; url: string };
        events.push(ev);
        if (ev.event === 'listening') resolve(ev);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${stderr.slice(-2000)}`)));
  });
  t.match(listening.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  t.ok(events.some((e) => e['event'] === 'published'), 'the --repo revision was published');
  const tokenPath = join(dir, 'data', 'admin-token');
  t.equal(statSync(tokenPath).mode & 0o777, 0o600, 'admin-token is 0600');
  t.ok(events.some((e) => e['event'] === 'admin-token' && e['path'] === tokenPath), 'prints where the admin token is');
  const admin = readFileSync(tokenPath, 'utf8').trim();
  t.notOk(JSON.stringify(events).includes(admin), 'the token itself is never printed');

  const op = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
  t.equal((await req(`${listening.url}/healthz`, ca, 'GET', {})).status, 200);
  const bt = JSON.parse((await req(`${listening.url}/api/v1/bootstrap-tokens`, ca, 'POST', op, '{}')).body).token as string;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const enroll = await req(`${listening.url}/api/v1/agents/enroll`, ca, 'POST', { 'content-type': 'application/json' }, JSON.stringify({ host: 'web-1', publicKey: publicKey.export({ type: 'spki', format: 'pem' }), bootstrapToken: bt }));
  t.equal(enroll.status, 201, enroll.body);
  const path = '/api/v1/hosts/web-1/catalog';
  const signed = (): Record<string, string> => signRequest({ method: 'GET', pathWithQuery: path, host: 'web-1', timeMs: Date.now(), nonce: newNonce() }, privateKey);
  const c1 = await req(`${listening.url}${path}`, ca, 'GET', signed());
  t.equal(c1.status, 200, c1.body.slice(0, 300));
  const etag = String(c1.headers['etag']);
  t.equal((await req(`${listening.url}${path}`, ca, 'GET', { ...signed(), 'if-none-match': etag })).status, 304);

  // Console: login sets an HttpOnly, SameSite=Strict, Secure cookie; the page lists the host.
  const origin = listening.url;
  const login = await req(`${origin}/login`, ca, 'POST', { 'content-type': 'application/x-www-form-urlencoded', origin }, `token=${encodeURIComponent(admin)}`);
  t.equal(login.status, 302);
  const cookie = String((login.headers['set-cookie'] as string[])[0]);
  t.match(cookie, /HttpOnly/i);
  t.match(cookie, /SameSite=Strict/i);
  t.match(cookie, /Secure/i);
  const page = await req(`${origin}/`, ca, 'GET', { cookie: cookie.split(';')[0]! });
  t.equal(page.status, 200);
  t.match(page.body, /web-1/);
  t.match(page.body, /http-equiv="refresh"/);
  const cross = await req(`${origin}/login`, ca, 'POST', { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, `token=${encodeURIComponent(admin)}`);
  t.equal(cross.status, 403, 'cross-origin login post refused');

  const metrics = await req(`${origin}/metrics`, ca, 'GET', { authorization: `Bearer ${admin}` });
  t.equal(metrics.status, 200);
  t.match(metrics.body, /stead_http_requests_total/);
  t.match(metrics.body, /stead_catalog_cache_hits_total 1/);
  t.equal((await req(`${origin}/metrics`, ca, 'GET', {})).status, 401, '/metrics needs operator auth');

  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  t.equal(code, 0, 'SIGTERM: graceful exit 0');
  t.ok(events.some((e) => e['event'] === 'stopped'));
  // Every log line on stderr is JSON.
  for (const line of stderr.split('\n').filter(Boolean)) t.doesNotThrow(() => JSON.parse(line), line.slice(0, 100));
});

t.test('an invalid --repo is refused with located errors', async (t) => {
  await buildOnce();
  const dir = t.testdir();
  writeRepo(join(dir, 'repo'), smallRepo({ templateError: true }));
  const r = await runStead(['server', '--port', '0', '--data-dir', join(dir, 'data'), '--repo', join(dir, 'repo')], { timeoutMs: 60_000 });
  t.equal(r.code, 1);
  t.match(r.stderr, /templates\/app\.conf\.j2/);
  const usage = await runStead(['server', '--port', '0'], { timeoutMs: 30_000 });
  t.equal(usage.code, 64, 'missing --data-dir is a usage error');
});
