/** Enrollment against a loopback server speaking the enrollment protocol. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { AgentClient } from '../../../agent/client/agent-client.js';
import { EnrollmentRefusedError, ensureEnrolled, renewKey } from '../../../agent/daemon/enrollment.js';
import { keyFingerprint } from '../../../schemas/key-fingerprint.js';
import { createJsonLogger } from '../../../agent/daemon/json-logger.js';
import { loadOrCreateIdentity, readEnrollment } from '../../../agent/identity/agent-identity.js';

interface Calls {
  enroll: Record<string, unknown>[];
  status: number;
}

/** `script` answers each request: [status, body]. */
async function server(t: Test, script: (path: string, calls: Calls) => [number, unknown]) {
  const calls: Calls = { enroll: [], status: 0 };
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/api/v1/agents/enroll') calls.enroll.push(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>);
      else if (req.url === '/api/v1/agents/status') calls.status++;
      const [status, body] = script(req.url ?? '', calls);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, calls };
}

async function deps(t: Test, url: string, bootstrapToken?: string) {
  const identity = await loadOrCreateIdentity(t.testdir());
  const client = new AgentClient({ serverUrl: url, host: 'web-1', privateKey: identity.privateKey });
  t.teardown(() => client.close());
  const logs: string[] = [];
  return { client, identity, bootstrapToken, log: createJsonLogger({ stream: { write: (s: string) => logs.push(s) } }), pollMinMs: 5, pollMaxMs: 20, random: () => 0, logs };
}

t.test('pending, polled until approved, then remembered', async (t) => {
  const srv = await server(t, (path, calls) => (path.endsWith('/enroll') ? [202, { host: 'web-1', status: 'pending' }] : [200, { host: 'web-1', status: calls.status >= 3 ? 'approved' : 'pending' }]));
  const d = await deps(t, srv.url);
  t.equal(await ensureEnrolled(d, new AbortController().signal), 'approved');
  t.equal(srv.calls.enroll.length, 1, 'one enrollment');
  t.equal(srv.calls.status, 3, 'status polled until approved');
  t.same(srv.calls.enroll[0], { host: 'web-1', publicKey: d.identity.publicKeyPem });
  t.equal(d.logs.filter((l) => l.includes('enrollment pending')).length, 1, 'pending announced once');
  const pending = JSON.parse(d.logs.find((l) => l.includes('enrollment pending'))!) as { fingerprint: string; msg: string };
  t.equal(pending.fingerprint, keyFingerprint(d.identity.publicKeyPem), 'the pending line carries the key fingerprint the server lists');
  t.match(pending.msg, pending.fingerprint);
  t.equal((await readEnrollment(d.identity.dir, d.client.server, 'web-1'))?.status, 'approved');
  t.equal(await ensureEnrolled(d, new AbortController().signal), 'approved');
  t.equal(srv.calls.enroll.length + srv.calls.status, 4, 'a remembered approval needs no request');
});

t.test('a bootstrap token approves at once', async (t) => {
  const srv = await server(t, () => [201, { host: 'web-1', status: 'approved' }]);
  const d = await deps(t, srv.url, 'tok_abcdefghijklmnop');
  t.equal(await ensureEnrolled(d, new AbortController().signal), 'approved');
  t.equal(srv.calls.enroll[0]?.['bootstrapToken'], 'tok_abcdefghijklmnop');
  t.equal(srv.calls.status, 0);
});

t.test('a refused token or a revoked key stops enrollment', async (t) => {
  const srv = await server(t, () => [403, { error: { code: 'BOOTSTRAP_TOKEN_INVALID', message: 'expired', requestId: 'r' } }]);
  const d = await deps(t, srv.url, 'tok_abcdefghijklmnop');
  await t.rejects(ensureEnrolled(d, new AbortController().signal), EnrollmentRefusedError);
  const revoked = await server(t, (path) => (path.endsWith('/enroll') ? [202, { host: 'web-1', status: 'pending' }] : [200, { host: 'web-1', status: 'revoked' }]));
  await t.rejects(ensureEnrolled(await deps(t, revoked.url), new AbortController().signal), { code: 'ENROLLMENT_REFUSED', serverCode: 'REVOKED' });
});

t.test('a server that forgot the key (401 on status) gets a new enrollment', async (t) => {
  const srv = await server(t, (path, calls) => {
    if (path.endsWith('/enroll')) return calls.enroll.length === 1 ? [202, { host: 'web-1', status: 'pending' }] : [201, { host: 'web-1', status: 'approved' }];
    return [401, { error: { code: 'UNAUTHENTICATED', message: 'unknown key', requestId: 'r' } }];
  });
  const d = await deps(t, srv.url);
  t.equal(await ensureEnrolled(d, new AbortController().signal), 'approved');
  t.equal(srv.calls.enroll.length, 2);
});

t.test('an unreachable server is retried until aborted', async (t) => {
  const d = await deps(t, 'http://127.0.0.1:1');
  const ac = new AbortController();
  const p = ensureEnrolled(d, ac.signal);
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (d.logs.filter((l) => l.includes('server not reachable')).length >= 2) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
  ac.abort();
  t.equal(await p, 'aborted');
  t.equal(await readEnrollment(d.identity.dir, d.client.server, 'web-1'), undefined);
});

t.test('no free slot for the host name: the agent says so once and keeps trying', async (t) => {
  const srv = await server(t, (path, calls) => {
    if (path.endsWith('/enroll')) return calls.enroll.length < 3 ? [409, { error: { code: 'ENROLLMENT_SLOTS_FULL', message: 'host web-1 already has 16 keys waiting', requestId: 'r' } }] : [202, { host: 'web-1', status: 'pending' }];
    return [200, { host: 'web-1', status: 'approved' }];
  });
  const d = await deps(t, srv.url);
  t.equal(await ensureEnrolled(d, new AbortController().signal), 'approved');
  t.equal(srv.calls.enroll.length, 3, 'enrollment retried until a slot was free');
  t.equal(d.logs.filter((l) => l.includes('no free slot')).length, 1, 'said once');
});

t.test('renewKey: a revoked key is replaced by a new one that waits for approval', async (t) => {
  const srv = await server(t, (path, calls) => (path.endsWith('/enroll') ? [202, { host: 'web-1', status: 'pending' }] : [200, { host: 'web-1', status: calls.status >= 2 ? 'approved' : 'pending' }]));
  const d = await deps(t, srv.url);
  const dataDir = d.identity.dir.replace(/\/identity$/, '');
  const oldPem = d.identity.publicKeyPem;
  t.equal(await renewKey({ ...d, dataDir }, { code: 'HOST_REVOKED', message: 'revoked' }, new AbortController().signal), 'approved');
  t.equal(srv.calls.enroll.length, 1);
  const sent = srv.calls.enroll[0]!['publicKey'] as string;
  t.not(sent, oldPem, 'a new key was enrolled');
  t.notOk('bootstrapToken' in srv.calls.enroll[0]!, 'without a bootstrap token');
  const { readFile } = await import('node:fs/promises');
  t.equal(await readFile(`${d.identity.dir}/key.pub.pem`, 'utf8'), sent, 'the new key replaced the old one on disk');
  const pending = d.logs.map((l) => JSON.parse(l) as { msg: string; fingerprint?: string }).find((l) => l.msg.startsWith('enrollment pending'));
  t.equal(pending?.fingerprint, keyFingerprint(sent), 'the new key\'s fingerprint is logged while pending');
  t.equal((await readEnrollment(d.identity.dir, d.client.server, 'web-1'))?.status, 'approved');
});

t.test('renewKey: an unknown key is asked about again first, and kept when the server knows it after all', async (t) => {
  const srv = await server(t, () => [200, { host: 'web-1', status: 'approved' }]);
  const d = await deps(t, srv.url);
  const dataDir = d.identity.dir.replace(/\/identity$/, '');
  t.equal(await renewKey({ ...d, dataDir, confirmMs: 1 }, { code: 'BAD_SIGNATURE', message: 'unknown key' }, new AbortController().signal), 'approved');
  t.equal(srv.calls.enroll.length, 0, 'no new enrollment');
  const { readFile } = await import('node:fs/promises');
  t.equal(await readFile(`${d.identity.dir}/key.pub.pem`, 'utf8'), d.identity.publicKeyPem, 'the key was kept');
});
