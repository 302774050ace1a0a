/**
 * Cluster mode: nonces claimed in the shared store, so a signed request replayed to a different
 * server inside the window is refused (security.md A6). Two apps over one store stand for two
 * servers; the store is the real embedded one (the same contract as MongoDB's).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { createApp } from '../../../server/app.js';
import { NonceCache } from '../../../server/domain/nonce-cache.js';
import { createLogger } from '../../../server/log.js';
import { SharedNonceStore } from '../../../server/services/shared-nonce-store.js';
import { rawRequest, startServer, type ServerFixture } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

t.test('SharedNonceStore: claim once, expired claims reusable, prune', async (t) => {
  const fx = await startServer(t);
  const s = await SharedNonceStore.open(fx.server.store);
  t.equal(await s.claim('web-1/n1', 1000, 0), true);
  t.equal(await s.claim('web-1/n1', 1500, 500), false, 'taken while unexpired');
  t.equal(await s.claim('web-2/n1', 1500, 500), true, 'host-scoped');
  t.equal(await s.claim('web-1/n1', 3000, 1000), true, 'an expired claim is taken over');
  t.equal(await s.claim('web-1/n1', 3000, 1001), false);
  t.equal(await s.claim('web-1/n2', 900, 0), true);
  t.equal(await s.prune(1499), 1, 'only claims expired by then are deleted');
  t.equal(await s.claim('web-1/n2', 5000, 1600), true, 'a pruned claim is free again');
  t.equal(await s.claim('web-1/n1', 5000, 1600), false, 'an unexpired one is kept');
});

/** A second "server": another app over the same services and store, with its own nonce cache. */
async function peer(t: { teardown(fn: () => unknown): void }, fx: ServerFixture, nonces: NonceCache): Promise<string> {
  const { app } = createApp({ services: { ...fx.server.services, nonces }, log: createLogger({ write: () => undefined }), defaultMetrics: false });
  const srv = http.createServer(app.callback());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

t.test('a request replayed to another server is refused only with shared nonces', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const a = await fx.approvedAgent('web-1');
  const shared = await SharedNonceStore.open(fx.server.store);
  const window = 5 * 60_000;
  const claim = (key: string, exp: number, now: number): Promise<boolean> => shared.claim(key, exp, now);
  const [s1, s2] = [await peer(t, fx, new NonceCache(window, claim)), await peer(t, fx, new NonceCache(window, claim))];
  const path = '/api/v1/hosts/web-1/catalog';
  const sig = a.sign('GET', path);
  t.equal((await rawRequest(s1, { method: 'GET', path, headers: sig })).status, 200, 'server 1 serves the request');
  const replay = await rawRequest(s2, { method: 'GET', path, headers: sig });
  t.equal(replay.status, 401, 'server 2 refuses the replay');
  t.equal(replay.json().error.code, 'NONCE_REUSED');
  t.equal((await rawRequest(s2, { method: 'GET', path, headers: a.sign('GET', path) })).status, 200, 'a fresh nonce is served');

  // Without the shared claim (one process's memory only) the replay would pass: the known limit this closes.
  const [m1, m2] = [await peer(t, fx, new NonceCache(window)), await peer(t, fx, new NonceCache(window))];
  const sig2 = a.sign('GET', path);
  t.equal((await rawRequest(m1, { method: 'GET', path, headers: sig2 })).status, 200);
  t.equal((await rawRequest(m2, { method: 'GET', path, headers: sig2 })).status, 200, 'memory-only nonce sets do not see each other');

  // Housekeeping deletes expired claims (cluster mode wires sharedNonces into the services).
  fx.clock.advance(2 * window + 1);
  t.ok((await shared.prune(fx.clock.now())) >= 2, 'expired claims are pruned');
});
