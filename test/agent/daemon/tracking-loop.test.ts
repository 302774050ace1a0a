import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { AgentClient } from '../../../agent/client/agent-client.js';
import { createJsonLogger } from '../../../agent/daemon/json-logger.js';
import { TrackingLoop } from '../../../agent/daemon/tracking-loop.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { loadOrCreateIdentity } from '../../../agent/identity/agent-identity.js';
import type { TrackingConfig } from '../../../schemas/index.js';
import { startInventoryServer } from '../../helpers/inventory-server.js';

const HOST = 'web-1';

async function setup(t: Test, config: TrackingConfig) {
  const dataDir = t.testdir();
  const identity = await loadOrCreateIdentity(dataDir);
  const server = await startInventoryServer(HOST, identity.publicKeyPem, config);
  t.teardown(() => server.close());
  const client = new AgentClient({ serverUrl: server.url, host: HOST, privateKey: identity.privateKey, timeoutMs: 10_000 });
  t.teardown(() => client.close());
  const lines: Record<string, unknown>[] = [];
  const log = createJsonLogger({ stream: { write: (s: string) => (lines.push(JSON.parse(s) as Record<string, unknown>), true) }, level: 'debug' });
  return { dataDir, identity, server, client, log, lines };
}


t.test('fetch, collect for real, PUT when changed, 304 and no PUT when not, heartbeat, restart', async (t) => {
  const marker = `stead-track-marker-${process.pid}-${Date.now()}`;
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)', marker], { detached: true, stdio: 'ignore' });
  t.teardown(() => {
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  });
  await new Promise((r) => setTimeout(r, 200));
  const config: TrackingConfig = { version: 'aaaaaaaaaaaaaaaa', intervalSeconds: 60, virtuals: false, packages: [{ name: 'bash', manager: 'dpkg' }], services: [{ name: 'marked', kind: 'process', pattern: marker }], collectors: [] };
  const { dataDir, server, client, log } = await setup(t, config);
  let now = Date.now();
  const loop = new TrackingLoop({ client, host: createNodeHost({ root: '/' }), dataDir, log, now: () => now, destination: 'd1' });
  const tmp = join(dataDir, 'inventory');
  const signal = new AbortController().signal;
  mkdirSync(tmp, { mode: 0o700 });

  let r = await loop.round(tmp, signal);
  t.same(server.requests, ['GET tracking 200', 'PUT inventory 200']);
  t.same(r.ack, { accepted: true, configVersion: config.version });
  const rep = server.reports[0]!;
  t.equal(rep.configVersion, config.version);
  t.match(rep.services, [{ name: 'marked', state: 'running', pid: child.pid, processes: 1 }], 'a real process, found through /proc');
  t.equal(rep.packages.length, 1);
  t.ok(existsSync(join(dataDir, 'tracking.json')), 'the config is cached in the data dir');

  now += 60_000;
  r = await loop.round(tmp, signal);
  t.same(server.requests.slice(2), ['GET tracking 304'], 'unchanged: a conditional GET and no PUT');
  t.equal(server.ifNoneMatch[1], `"${config.version}"`);

  // The service stops: the report changes → PUT.
  process.kill(child.pid!, 'SIGKILL');
  await new Promise((res) => child.once('exit', res));
  now += 60_000;
  await loop.round(tmp, signal);
  t.same(server.requests.slice(3), ['GET tracking 304', 'PUT inventory 200']);
  t.match(server.reports[1]!.services, [{ name: 'marked', state: 'stopped', pid: null }]);

  // Ten intervals later, unchanged: a heartbeat PUT.
  now += 5 * 60_000;
  await loop.round(tmp, signal);
  t.equal(server.reports.length, 2, 'five intervals: nothing');
  now += 6 * 60_000;
  await loop.round(tmp, signal);
  t.equal(server.reports.length, 3, 'past ten intervals: a heartbeat');

  // A new config on the server is fetched on the next round (200), and the report changes with it.
  server.config = { ...config, version: 'bbbbbbbbbbbbbbbb', services: [] };
  await loop.round(tmp, signal);
  t.same(server.requests.slice(-2), ['GET tracking 200', 'PUT inventory 200']);
  t.equal(server.reports.at(-1)!.configVersion, 'bbbbbbbbbbbbbbbb');
  t.same(server.reports.at(-1)!.services, []);

  // A restart: the cached config's ETag and the accepted digest survive; nothing is resent.
  const again = new TrackingLoop({ client, host: createNodeHost({ root: '/' }), dataDir, log, now: () => now, destination: 'd1' });
  const before = server.reports.length;
  const gets = server.ifNoneMatch.length;
  // run() loads the cache; stop it right after its first round.
  const stop = new AbortController();
  const running = again.run(stop.signal);
  await server.until(() => server.ifNoneMatch.length === gets + 1);
  await new Promise((res) => setTimeout(res, 300));
  stop.abort();
  await running;
  t.equal(server.ifNoneMatch.at(-1), '"bbbbbbbbbbbbbbbb"', 'the cached ETag is sent after a restart');
  t.equal(server.reports.length, before, 'the same report is not sent again after a restart');
  // Another destination (a re-enrollment): sent again.
  const other = new TrackingLoop({ client, host: createNodeHost({ root: '/' }), dataDir, log, now: () => now, destination: 'd2' });
  const stop2 = new AbortController();
  const running2 = other.run(stop2.signal);
  await server.until(() => server.reports.length === before + 1);
  stop2.abort();
  await running2;
  t.pass('a new destination gets the report again');
  t.ok(JSON.parse(readFileSync(join(dataDir, 'inventory-sent.json'), 'utf8')).digest);
});

t.test('an ack naming another config, and a catalog answer\'s X-Stead-Tracking, refetch at once', async (t) => {
  const config: TrackingConfig = { version: 'cccccccccccccccc', intervalSeconds: 3600, virtuals: false, packages: [], services: [], collectors: [] };
  const { dataDir, server, client, log } = await setup(t, config);
  const loop = new TrackingLoop({ client, host: createNodeHost({ root: '/' }), dataDir, log });
  client.onTrackingHint = (v) => loop.hint(v);
  const stop = new AbortController();
  t.teardown(() => stop.abort());
  // The config changes on the server between the agent's GET and its PUT: the ack names the new one.
  server.onReport = () => {
    server.config = { ...config, version: 'dddddddddddddddd' };
    server.onReport = undefined;
  };
  const running = loop.run(stop.signal);
  await server.until(() => server.requests.filter((r) => r === 'GET tracking 200').length === 2, 10_000);
  await server.until(() => server.reports.length === 2);
  t.equal(server.reports[1]!.configVersion, 'dddddddddddddddd', 'refetched at once (the interval is an hour), and reported under the new version');

  // A catalog poll names a newer config: the loop wakes and fetches it.
  server.config = { ...config, version: 'eeeeeeeeeeeeeeee' };
  await client.fetchCatalog('x', stop.signal);
  await server.until(() => server.requests.filter((r) => r === 'GET tracking 200').length === 3, 10_000);
  await server.until(() => server.reports.at(-1)?.configVersion === 'eeeeeeeeeeeeeeee');
  t.equal(loop.config?.version, 'eeeeeeeeeeeeeeee');
  stop.abort();
  await running;
  t.notOk(server.requests.some((r) => r.startsWith('REFUSED')), 'every request was signed as the server checks it');
});

t.test('an older server (404) is left alone quietly', async (t) => {
  const config: TrackingConfig = { version: 'ffffffffffffffff', intervalSeconds: 10, virtuals: false, packages: [], services: [], collectors: [] };
  const { dataDir, server, client, log, lines } = await setup(t, config);
  server.notSupported = true;
  const loop = new TrackingLoop({ client, host: createNodeHost({ root: '/' }), dataDir, log, notSupportedWaitMs: 60_000 });
  const stop = new AbortController();
  const running = loop.run(stop.signal);
  await server.until(() => server.requests.length === 1);
  await new Promise((r) => setTimeout(r, 500));
  stop.abort();
  await running;
  t.same(server.requests, ['404 GET tracking'], 'asked once, then waits');
  t.same(lines.filter((l) => l.level === 'warn' || l.level === 'error'), [], 'no warning');
  t.equal(lines.filter((l) => /does not take inventory/.test(String(l.msg ?? l.message))).length, 1);
});

t.test('a server that fails is retried with backoff; the loop never throws', async (t) => {
  const config: TrackingConfig = { version: 'abababababababab', intervalSeconds: 10, virtuals: false, packages: [], services: [], collectors: [] };
  const { dataDir, server, client, log, lines } = await setup(t, config);
  await server.close();
  const loop = new TrackingLoop({ client, host: createNodeHost({ root: '/' }), dataDir, log, backoffMinMs: 50, backoffMaxMs: 100 });
  const stop = new AbortController();
  const running = loop.run(stop.signal);
  const end = Date.now() + 20_000;
  while (lines.filter((l) => l.level === 'warn').length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  stop.abort();
  await running;
  t.ok(lines.filter((l) => l.level === 'warn').length >= 3, 'retried, with a warning each time');
});
