/**
 * Issue 8 item 8: nonces outlive a restart. A signed request captured on the wire is replayed,
 * inside the freshness window, after the real server process was stopped (SIGTERM) and after
 * it crashed (SIGKILL): both replays are refused (401 NONCE_REUSED), nothing of the replayed
 * body is stored, and a fresh request from the same agent is served.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { newNonce, signRequest } from '../../../agent/identity/request-signature.js';
import { buildOnce, freePort, ServerProcess } from '../../helpers/e2e-fleet.js';

interface Captured {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function capture(key: KeyObject, method: string, path: string, body: string): Captured {
  return { method, path, body, headers: { 'content-type': 'application/json', ...signRequest({ method, pathWithQuery: path, body, host: 'web-1', timeMs: Date.now(), nonce: newNonce() }, key) } };
}

async function send(server: ServerProcess, c: Captured): Promise<{ status: number; code?: string }> {
  const r = await server.fetch(c.method, c.path, c.headers, c.body);
  let code: string | undefined;
  try {
    code = (JSON.parse(r.text) as { error?: { code?: string } }).error?.code;
  } catch {
    // not JSON
  }
  return { status: r.status, ...(code !== undefined ? { code } : {}) };
}

t.test('a captured signed request does not replay after a restart or a crash', async (t) => {
  await buildOnce();
  const dir = t.testdir();
  const dataDir = join(dir, 'data');
  const port = await freePort();
  let server = new ServerProcess(dataDir, port);
  await server.start(t);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const bt = await server.api('POST', '/api/v1/bootstrap-tokens', { host: 'web-1' });
  const enroll = await server.fetch('POST', '/api/v1/agents/enroll', { 'content-type': 'application/json' }, JSON.stringify({ host: 'web-1', publicKey: publicKey.export({ type: 'spki', format: 'pem' }), bootstrapToken: bt.body.token }));
  t.equal(enroll.status, 201, enroll.text);

  const facts = '/api/v1/hosts/web-1/facts';
  const first = capture(privateKey, 'PUT', facts, JSON.stringify({ os: 'first' }));
  const second = capture(privateKey, 'PUT', facts, JSON.stringify({ os: 'second' }));
  const status = capture(privateKey, 'GET', '/api/v1/agents/status', '');
  t.equal((await send(server, first)).status, 200, 'the captured request is served once');
  t.equal((await send(server, second)).status, 200);
  t.equal((await send(server, status)).status, 200);
  t.same(await send(server, first), { status: 401, code: 'NONCE_REUSED' }, 'a replay to the running server is refused');

  // A graceful restart.
  t.equal(await server.stop(), 0);
  server = new ServerProcess(dataDir, port);
  await server.start(t);
  t.same(await send(server, first), { status: 401, code: 'NONCE_REUSED' }, 'replayed after a restart: refused');
  t.same(await send(server, status), { status: 401, code: 'NONCE_REUSED' }, 'a GET replayed after a restart: refused');
  t.same((await server.api('GET', facts)).body, { os: 'second' }, 'the replayed body was not stored');

  // A crash right after serving: the nonce was durable before the answer.
  const third = capture(privateKey, 'PUT', facts, JSON.stringify({ os: 'third' }));
  t.equal((await send(server, third)).status, 200);
  await server.kill();
  server = new ServerProcess(dataDir, port);
  await server.start(t);
  t.same(await send(server, third), { status: 401, code: 'NONCE_REUSED' }, 'replayed after kill -9: refused');
  t.same(await send(server, second), { status: 401, code: 'NONCE_REUSED' }, 'an older capture is still refused');
  t.equal((await send(server, capture(privateKey, 'PUT', facts, JSON.stringify({ os: 'fourth' })))).status, 200, 'a fresh request is served');
  t.same((await server.api('GET', facts)).body, { os: 'fourth' });
  t.equal(await server.stop(), 0);
});
