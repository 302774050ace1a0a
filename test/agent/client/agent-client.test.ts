import { createHash, createPublicKey } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { AgentClient, checkCatalog } from '../../../agent/client/agent-client.js';
import { ApiError } from '../../../agent/client/api-error.js';
import { TransportError } from '../../../agent/client/http-transport.js';
import { loadOrCreateIdentity } from '../../../agent/identity/agent-identity.js';
import { bodyDigest, canonicalRequest, verifyRequestSignature } from '../../../agent/identity/request-signature.js';
import type { RunReport } from '../../../schemas/index.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

type Handler = (req: Seen, res: http.ServerResponse) => void;

/** A real HTTP server on loopback whose answers each test sets. */
async function testServer(t: Test): Promise<{ url: string; seen: Seen[]; handle: (h: Handler) => void }> {
  const seen: Seen[] = [];
  let handler: Handler = (_q, res) => {
    res.statusCode = 500;
    res.end();
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  server.unref();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, handle: (h) => (handler = h) };
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const catalog = {
  id: 'a'.repeat(64),
  host: 'web-1',
  revision: 'r1',
  resources: [{ type: 'file', path: '/etc/motd', content: 'hello\n' }],
};

async function setup(t: Test, clock = () => 1_700_000_000_000) {
  const srv = await testServer(t);
  const identity = await loadOrCreateIdentity(t.testdir());
  const client = new AgentClient({ serverUrl: srv.url, host: 'web-1', privateKey: identity.privateKey, now: clock });
  t.teardown(() => client.close());
  return { ...srv, identity, client, publicKey: createPublicKey(identity.publicKeyPem) };
}

t.test('every request is signed over method, path, time, nonce and body digest', async (t) => {
  const { client, seen, handle, publicKey } = await setup(t);
  handle((_q, res) => json(res, 200, { host: 'web-1', changed: true }));
  const ac = new AbortController();
  await client.putFacts({ hostname: 'web-1' }, ac.signal);
  const req = seen[0]!;
  t.equal(req.method, 'PUT');
  t.equal(req.url, '/api/v1/hosts/web-1/facts');
  t.equal(req.headers['x-stead-host'], 'web-1');
  t.equal(req.headers['x-stead-time'], '1700000000000');
  const nonce = String(req.headers['x-stead-nonce']);
  t.ok(nonce.length >= 16, 'nonce of at least 16 characters');
  t.match(nonce, /^[A-Za-z0-9_-]+$/);
  const sig = String(req.headers['x-stead-signature']);
  const input = { method: 'PUT', pathWithQuery: req.url, body: req.body, host: 'web-1', timeMs: 1_700_000_000_000, nonce };
  t.ok(verifyRequestSignature(input, sig, publicKey), 'signature verifies with the enrolled public key');
  t.equal(canonicalRequest(input).split('\n')[5], createHash('sha256').update(req.body).digest('hex'));
  t.notOk(verifyRequestSignature({ ...input, body: Buffer.from('{"hostname":"evil"}') }, sig, publicKey), 'a changed body breaks the signature');
  t.notOk(verifyRequestSignature({ ...input, pathWithQuery: '/api/v1/hosts/web-2/facts' }, sig, publicKey), 'a changed path breaks the signature');
  t.notOk(verifyRequestSignature({ ...input, timeMs: input.timeMs + 1 }, sig, publicKey), 'a changed time breaks the signature');
  t.notOk(verifyRequestSignature({ ...input, host: 'web-2' }, sig, publicKey), 'another claimed host breaks the signature');
  const other = await loadOrCreateIdentity(t.testdir());
  t.notOk(verifyRequestSignature(input, sig, createPublicKey(other.publicKeyPem)), 'another key does not verify it');

  await client.putFacts({ hostname: 'web-1' }, ac.signal);
  t.not(seen[1]!.headers['x-stead-nonce'], nonce, 'a fresh nonce per request');
  t.equal(bodyDigest(undefined), createHash('sha256').update('').digest('hex'), 'no body: digest of the empty string');
});

t.test('a server URL with a path prefix is signed with the full path', async (t) => {
  const srv = await testServer(t);
  const identity = await loadOrCreateIdentity(t.testdir());
  const client = new AgentClient({ serverUrl: `${srv.url}/stead/`, host: 'web-1', privateKey: identity.privateKey });
  t.teardown(() => client.close());
  srv.handle((_q, res) => res.writeHead(304).end());
  await client.fetchCatalog('a'.repeat(64), new AbortController().signal);
  t.equal(srv.seen[0]!.url, '/stead/api/v1/hosts/web-1/catalog');
});

t.test('enroll sends the host and public key and reads the status', async (t) => {
  const { client, seen, handle, identity } = await setup(t);
  handle((_q, res) => json(res, 202, { host: 'web-1', status: 'pending' }));
  const ac = new AbortController();
  t.equal(await client.enroll({ publicKey: identity.publicKeyPem, bootstrapToken: 'x'.repeat(20) }, ac.signal), 'pending');
  const body = JSON.parse(seen[0]!.body.toString()) as Record<string, unknown>;
  t.same(body, { host: 'web-1', publicKey: identity.publicKeyPem, bootstrapToken: 'x'.repeat(20) });
  handle((_q, res) => json(res, 201, { host: 'web-1', status: 'approved' }));
  t.equal(await client.enroll({ publicKey: identity.publicKeyPem }, ac.signal), 'approved');
  handle((_q, res) => json(res, 200, { host: 'web-1', status: 'revoked' }));
  const revoked = await client.enrollmentStatus(ac.signal).catch((e: unknown) => e);
  t.ok(revoked instanceof ApiError && revoked.identityRefused, 'a revoked status is an identity refusal');
  handle((_q, res) => json(res, 403, { error: { code: 'BOOTSTRAP_TOKEN_INVALID', message: 'bootstrap token expired', requestId: 'req-1' } }));
  const err = await client.enroll({ publicKey: identity.publicKeyPem }, ac.signal).catch((e: unknown) => e);
  t.ok(err instanceof ApiError);
  if (err instanceof ApiError) {
    t.equal(err.code, 'BOOTSTRAP_TOKEN_INVALID');
    t.equal(err.requestId, 'req-1');
    t.match(err.message, /bootstrap token expired/);
    t.notOk(err.retryable);
  }
  handle((_q, res) => json(res, 202, { host: 'web-1', status: 'maybe' }));
  t.rejects(client.enroll({ publicKey: identity.publicKeyPem }, ac.signal), { code: 'BAD_RESPONSE' });
});

t.test('catalog: conditional GET, validation, host and ETag checks', async (t) => {
  const { client, seen, handle } = await setup(t);
  const ac = new AbortController();
  handle((_q, res) => json(res, 200, catalog, { etag: `"${catalog.id}"` }));
  const got = await client.fetchCatalog(undefined, ac.signal);
  t.equal(got.kind, 'catalog');
  t.equal(seen[0]!.headers['if-none-match'], undefined, 'no If-None-Match without a cached catalog');

  handle((_q, res) => res.writeHead(304).end());
  t.same(await client.fetchCatalog(catalog.id, ac.signal), { kind: 'not-modified' });
  t.equal(seen[1]!.headers['if-none-match'], `"${catalog.id}"`);

  handle((_q, res) => json(res, 200, { ...catalog, host: 'web-2' }));
  await t.rejects(client.fetchCatalog(undefined, ac.signal), { code: 'CATALOG_WRONG_HOST' });
  handle((_q, res) => json(res, 200, catalog, { etag: `"${'b'.repeat(64)}"` }));
  await t.rejects(client.fetchCatalog(undefined, ac.signal), { code: 'CATALOG_ETAG_MISMATCH' });
  handle((_q, res) => json(res, 200, { ...catalog, resources: [{ type: 'file', path: 'relative' }] }));
  await t.rejects(client.fetchCatalog(undefined, ac.signal), { code: 'CATALOG_INVALID' });
  handle((_q, res) => json(res, 200, { ...catalog, resources: [{ type: 'rootkit' }] }));
  await t.rejects(client.fetchCatalog(undefined, ac.signal), { code: 'CATALOG_INVALID', message: /unknown resource type/ });
  handle((_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{not json'));
  await t.rejects(client.fetchCatalog(undefined, ac.signal), { code: 'BAD_RESPONSE' });
  handle((_q, res) => json(res, 403, { error: { code: 'FORBIDDEN', message: 'not your catalog', requestId: 'r' } }));
  const e = await client.fetchCatalog(undefined, ac.signal).catch((x: unknown) => x);
  t.ok(e instanceof ApiError && e.identityRefused && e.code === 'FORBIDDEN');
  handle((_q, res) => json(res, 503, { error: { code: 'UNAVAILABLE', message: 'store down', requestId: 'r' } }));
  const e5 = await client.fetchCatalog(undefined, ac.signal).catch((x: unknown) => x);
  t.ok(e5 instanceof ApiError && e5.retryable, '5xx is retryable');
});

t.test('checkCatalog reports every problem with its path', async (t) => {
  t.same(checkCatalog(catalog), []);
  const problems = checkCatalog({ ...catalog, resources: [{ type: 'file', path: '/ok' }, { type: 'file', path: '/x', mode: 644 }] });
  t.ok(problems.some((p) => p.startsWith('/resources/1/mode')), problems.join('\n'));
  t.ok(checkCatalog({ id: 'short', host: 'h', revision: 'r', resources: [] }).some((p) => p.startsWith('/id')));
});

t.test('blobs are verified against their sha256', async (t) => {
  const { client, handle } = await setup(t);
  const ac = new AbortController();
  const data = Buffer.from('blob content');
  const sha = createHash('sha256').update(data).digest('hex');
  handle((_q, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(data));
  t.same(await client.fetchBlob(sha, ac.signal), data);
  handle((_q, res) => res.writeHead(200).end(Buffer.from('tampered')));
  await t.rejects(client.fetchBlob(sha, ac.signal), { code: 'BLOB_CORRUPT' });
  await t.rejects(client.fetchBlob('../etc/passwd', ac.signal), TypeError);
});

t.test('reports: acknowledged, duplicate (409) is delivered, invalid is refused locally', async (t) => {
  const { client, handle, seen } = await setup(t);
  const ac = new AbortController();
  const report: RunReport = {
    runId: 'run-1', host: 'web-1', catalogId: catalog.id, revision: 'r1', mode: 'apply', startedAt: '2026-11-26T00:00:00.000Z',
    durationMs: 3, outcome: 'in-sync', counts: { total: 0, inSync: 0, changed: 0, wouldChange: 0, failed: 0, skipped: 0, corrective: 0 }, resources: [],
  };
  handle((_q, res) => json(res, 201, { runId: 'run-1', duplicate: false }));
  await client.sendReport(report, ac.signal);
  t.same(JSON.parse(seen[0]!.body.toString()), report);
  t.equal(seen[0]!.url, '/api/v1/hosts/web-1/reports');
  handle((_q, res) => json(res, 409, { error: { code: 'DUPLICATE', message: 'dup', requestId: 'r' } }));
  await client.sendReport(report, ac.signal);
  handle((_q, res) => json(res, 500, { error: { code: 'INTERNAL', message: 'x', requestId: 'r' } }));
  await t.rejects(client.sendReport(report, ac.signal), ApiError);
  const before = seen.length;
  await t.rejects(client.sendReport({ ...report, runId: '../x' }, ac.signal), { code: 'SCHEMA_INVALID' });
  t.equal(seen.length, before, 'an invalid report is never sent');
});

t.test('network failures and aborts are TransportErrors', async (t) => {
  const identity = await loadOrCreateIdentity(t.testdir());
  const srv = await testServer(t);
  const port = new URL(srv.url).port;
  // A port nobody listens on: bind, note, close.
  const tmp = http.createServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  const deadPort = (tmp.address() as AddressInfo).port;
  await new Promise<void>((r) => tmp.close(() => r()));
  const dead = new AgentClient({ serverUrl: `http://127.0.0.1:${deadPort}`, host: 'web-1', privateKey: identity.privateKey });
  t.teardown(() => dead.close());
  await t.rejects(dead.fetchCatalog(undefined, new AbortController().signal), { code: 'NETWORK' });

  const live = new AgentClient({ serverUrl: `http://127.0.0.1:${port}`, host: 'web-1', privateKey: identity.privateKey });
  t.teardown(() => live.close());
  srv.handle(() => {
    /* never answers */
  });
  const ac = new AbortController();
  const p = live.fetchCatalog(undefined, ac.signal);
  ac.abort();
  const err = await p.catch((e: unknown) => e);
  t.ok(err instanceof TransportError && err.code === 'ABORTED', 'abort rejects with ABORTED');
});
