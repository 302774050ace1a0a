/**
 * One agent run and the pull loop, with the real engine on a real root directory, against a
 * small loopback HTTP server that speaks the agent protocol (the real server is exercised in
 * test/e2e/). The server's answers are set per test; it records what the agent sent.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { AgentClient } from '../../../agent/client/agent-client.js';
import { agentRun, type AgentRunDeps } from '../../../agent/daemon/agent-run.js';
import { BlobCache } from '../../../agent/daemon/blob-cache.js';
import { CatalogCache, catalogSealKey } from '../../../agent/daemon/catalog-cache.js';
import { FactsReporter } from '../../../agent/daemon/facts-reporter.js';
import { createJsonLogger } from '../../../agent/daemon/json-logger.js';
import { collectFacts } from '../../../agent/facts/collect-facts.js';
import { runPullLoop } from '../../../agent/daemon/pull-loop.js';
import { reconcile } from '../../../agent/engine/reconcile.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { loadOrCreateIdentity } from '../../../agent/identity/agent-identity.js';
import { ReportSpool } from '../../../agent/spool/report-spool.js';
import type { RunReport } from '../../../schemas/index.js';

const blob = Buffer.from('served from a blob\n');
const blobSha = createHash('sha256').update(blob).digest('hex');
/** Every blob the test server can serve, by sha256. */
const blobStore = new Map<string, Buffer>([[blobSha, blob]]);
function addBlob(content: string): string {
  const data = Buffer.from(content);
  const sha = createHash('sha256').update(data).digest('hex');
  blobStore.set(sha, data);
  return sha;
}

function catalogFor(motd: string) {
  const motdSha = addBlob(motd);
  const body = {
    host: 'web-1',
    revision: `rev-${motd.trim()}`,
    resources: [
      { type: 'directory', path: '/etc' },
      { type: 'file', path: '/etc/motd', source: `sha256:${motdSha}`, mode: '0644' },
      { type: 'file', path: '/etc/blob.txt', source: `sha256:${blobSha}` },
    ],
    blobs: { [`sha256:${blobSha}`]: blob.length, [`sha256:${motdSha}`]: Buffer.byteLength(motd) },
  };
  return { id: createHash('sha256').update(JSON.stringify(body)).digest('hex'), ...body };
}

interface ProtocolServer {
  url: string;
  catalog: ReturnType<typeof catalogFor> | undefined;
  refuse: boolean;
  reports: RunReport[];
  blobGets: number;
  catalogGets: number;
  factsPuts: Record<string, unknown>[];
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function protocolServer(t: Test): Promise<ProtocolServer> {
  let server: http.Server | undefined;
  let port = 0;
  const state: ProtocolServer = {
    url: '',
    catalog: undefined,
    refuse: false,
    reports: [],
    blobGets: 0,
    catalogGets: 0,
    factsPuts: [],
    async start() {
      server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const send = (status: number, body?: unknown, headers: Record<string, string> = {}): void => {
            res.writeHead(status, { 'content-type': 'application/json', ...headers });
            res.end(body === undefined ? undefined : JSON.stringify(body));
          };
          if (!req.headers['x-stead-signature']) return send(401, { error: { code: 'UNSIGNED', message: 'unsigned', requestId: 'x' } });
          if (state.refuse) return send(403, { error: { code: 'REVOKED', message: 'agent revoked', requestId: 'x' } });
          if (req.url === '/api/v1/hosts/web-1/catalog') {
            state.catalogGets++;
            if (!state.catalog) return send(404, { error: { code: 'NOT_FOUND', message: 'no catalog', requestId: 'x' } });
            if (req.headers['if-none-match'] === `"${state.catalog.id}"`) return send(304);
            return send(200, state.catalog, { etag: `"${state.catalog.id}"` });
          }
          const blobMatch = /^\/api\/v1\/blobs\/([0-9a-f]{64})$/.exec(req.url ?? '');
          if (blobMatch) {
            const data = blobStore.get(blobMatch[1]!);
            if (!data) return send(404, { error: { code: 'NOT_FOUND', message: 'no such blob', requestId: 'x' } });
            state.blobGets++;
            res.writeHead(200, { 'content-type': 'application/octet-stream' });
            return res.end(data);
          }
          if (req.url === '/api/v1/hosts/web-1/reports' && req.method === 'POST') {
            const r = JSON.parse(Buffer.concat(chunks).toString()) as RunReport;
            // As the real server (report-service.ts): a report for another host than the signer is 403.
            if (r.host !== 'web-1') return send(403, { error: { code: 'FORBIDDEN', message: `report is for host "${r.host}" but was signed by web-1`, requestId: 'x' } });
            const duplicate = state.reports.some((x) => x.runId === r.runId);
            if (!duplicate) state.reports.push(r);
            return send(duplicate ? 200 : 201, { runId: r.runId, duplicate });
          }
          if (req.url === '/api/v1/hosts/web-1/facts' && req.method === 'PUT') {
            state.factsPuts.push(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>);
            return send(200, { host: 'web-1', changed: true });
          }
          return send(404, { error: { code: 'NOT_FOUND', message: req.url ?? '', requestId: 'x' } });
        });
      });
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
      state.url = `http://127.0.0.1:${port}`;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
  await state.start();
  t.teardown(() => state.stop());
  return state;
}

async function agentDeps(t: Test, srv: ProtocolServer): Promise<AgentRunDeps & { root: string; dataDir: string; logs: string[]; setOsVersion: (v: string) => void }> {
  const dir = t.testdir({ root: {}, data: {} });
  const root = join(dir, 'root');
  const dataDir = join(dir, 'data');
  const identity = await loadOrCreateIdentity(dataDir);
  const client = new AgentClient({ serverUrl: srv.url, host: 'web-1', privateKey: identity.privateKey, timeoutMs: 5000 });
  t.teardown(() => client.close());
  const spool = new ReportSpool({ dir: join(dataDir, 'spool') });
  await spool.open();
  const blobs = new BlobCache(join(dataDir, 'blobs'));
  await blobs.open();
  const logs: string[] = [];
  const log = createJsonLogger({ stream: { write: (s: string) => logs.push(s) }, level: 'debug' });
  const host = createNodeHost({ root });
  const stateDir = join(dataDir, 'state');
  let osVersion = '12';
  const facts = new FactsReporter({ client, dataDir, log, collect: async () => {
    const f = await collectFacts();
    return { ...f, os: { ...f.os, versionId: osVersion } };
  } });
  return {
    setOsVersion: (v: string) => (osVersion = v),
    facts,
    root,
    dataDir,
    logs,
    client,
    spool,
    blobs,
    // racyWindowMs 0: these runs follow each other within milliseconds; trust every file stamp.
    catalogs: new CatalogCache(dataDir, { sealKey: catalogSealKey(identity.privateKey), racyWindowMs: 0 }),
    log,
    reconcile: (catalog, o) => reconcile(catalog, { host, blobs, stateDir, hostName: 'web-1', noop: o.noop, signal: o.signal, runId: o.runId }),
  };
}

t.test('a run fetches the catalog and missing blobs, converges, reports; the next run is conditional', async (t) => {
  const srv = await protocolServer(t);
  srv.catalog = catalogFor('hello\n');
  const deps = await agentDeps(t, srv);
  const ac = new AbortController();
  const r1 = await agentRun(deps, false, ac.signal);
  t.equal(r1.catalogSource, 'fresh');
  t.equal(r1.report?.outcome, 'changed', JSON.stringify(r1.report?.error ?? r1.report?.resources.filter((s) => s.error)));
  t.equal(await fsp.readFile(join(deps.root, 'etc/motd'), 'utf8'), 'hello\n');
  t.equal(await fsp.readFile(join(deps.root, 'etc/blob.txt'), 'utf8'), blob.toString());
  t.equal(srv.blobGets, 2, 'both blobs fetched');
  t.same(srv.reports.map((r) => r.runId), [r1.runId], 'report delivered');
  t.equal(r1.pendingReports, 0);
  t.same(await deps.spool.list(), [], 'spool empty after acknowledgement');

  t.equal(srv.factsPuts.length, 1, 'facts sent on the first run');
  t.equal(srv.factsPuts[0]?.['hostname'], (await collectFacts()).hostname);

  const r2 = await agentRun(deps, false, ac.signal);
  t.equal(r2.catalogSource, 'unchanged', '304 on the second poll');
  t.same(deps.catalogs.counters, { reads: 0, validations: 0 }, 'the unchanged catalog is enforced from memory: not read, parsed or validated again');
  t.equal(srv.factsPuts.length, 1, 'unchanged facts are not sent again');
  deps.setOsVersion('13');
  await agentRun(deps, false, ac.signal);
  t.equal(srv.factsPuts.length, 2, 'changed facts are sent');
  t.same(srv.factsPuts[1]?.['os'], { ...(srv.factsPuts[0]?.['os'] as object), versionId: '13' });
  t.equal(r2.report?.outcome, 'in-sync');
  t.equal(srv.blobGets, 2, 'blobs it holds are not fetched again');

  // Drift by hand: the next run repairs it and reports it as corrective.
  await fsp.writeFile(join(deps.root, 'etc/motd'), 'edited by hand\n');
  const r3 = await agentRun(deps, false, ac.signal);
  t.equal(r3.report?.outcome, 'changed');
  t.equal(r3.report?.counts.corrective, 1, 'the repair is corrective');
  t.equal(await fsp.readFile(join(deps.root, 'etc/motd'), 'utf8'), 'hello\n');

  // noop: reports the drift and changes nothing.
  await fsp.writeFile(join(deps.root, 'etc/motd'), 'edited again\n');
  const r4 = await agentRun(deps, true, ac.signal);
  t.equal(r4.report?.outcome, 'would-change');
  t.equal(r4.report?.mode, 'noop');
  t.equal(await fsp.readFile(join(deps.root, 'etc/motd'), 'utf8'), 'edited again\n');
  const ids = srv.reports.map((r) => r.runId);
  t.equal(ids.length, 5, 'one report per run');
  t.same([ids[0], ids[1], ids[3], ids[4]], [r1.runId, r2.runId, r3.runId, r4.runId], 'in run order');
});

t.test('server down: the cached catalog is enforced, reports wait and arrive later in order, once', async (t) => {
  const srv = await protocolServer(t);
  srv.catalog = catalogFor('hello\n');
  const deps = await agentDeps(t, srv);
  const ac = new AbortController();
  await agentRun(deps, false, ac.signal);
  await srv.stop();

  await fsp.writeFile(join(deps.root, 'etc/motd'), 'drift while the server is down\n');
  const down1 = await agentRun(deps, false, ac.signal);
  t.equal(down1.catalogSource, 'cached');
  t.equal(down1.serverReachable, false);
  t.equal(down1.report?.counts.corrective, 1);
  t.equal(await fsp.readFile(join(deps.root, 'etc/motd'), 'utf8'), 'hello\n', 'repaired from the cached catalog');
  const down2 = await agentRun(deps, false, ac.signal);
  t.equal(down2.pendingReports, 2);
  t.same((await deps.spool.list()).map((e) => e.runId), [down1.runId, down2.runId]);

  // Simulate a crash between the server's acknowledgement and the local delete: the resend is harmless.
  await srv.start();
  const pending = await deps.spool.list();
  await deps.client.sendReport(await deps.spool.read(pending[0]!), ac.signal);
  const up = await agentRun(deps, false, ac.signal);
  t.equal(up.catalogSource, 'unchanged');
  t.equal(up.pendingReports, 0);
  const ids = srv.reports.map((r) => r.runId);
  t.equal(ids.length, 4, 'every report arrived');
  t.equal(new Set(ids).size, 4, 'none duplicated');
  t.same(ids.slice(1), [down1.runId, down2.runId, up.runId], 'in order');
});

t.test('no catalog anywhere: no run; a refused identity stops', async (t) => {
  const srv = await protocolServer(t);
  const deps = await agentDeps(t, srv);
  const ac = new AbortController();
  const none = await agentRun(deps, false, ac.signal);
  t.equal(none.catalogSource, 'none');
  t.equal(none.report, undefined);
  t.match(none.error, /no catalog/);
  t.equal(none.serverReachable, true, 'a 404 is an answer, not an outage');
  srv.refuse = true;
  const refused = await agentRun(deps, false, ac.signal);
  t.equal(refused.identityRefused?.code, 'REVOKED');
});

t.test('a catalog whose blob cannot be fetched is not adopted', async (t) => {
  const srv = await protocolServer(t);
  srv.catalog = catalogFor('one\n');
  const deps = await agentDeps(t, srv);
  const ac = new AbortController();
  await agentRun(deps, false, ac.signal);
  const damaged = catalogFor('two\n');
  const missing = 'f'.repeat(64);
  srv.catalog = { ...damaged, resources: [...damaged.resources, { type: 'file', path: '/etc/missing', source: `sha256:${missing}` }], blobs: { ...damaged.blobs, [`sha256:${missing}`]: 1 } } as typeof damaged;
  const r = await agentRun(deps, false, ac.signal);
  t.equal(r.catalogSource, 'cached', 'falls back to the last complete catalog');
  t.equal(await fsp.readFile(join(deps.root, 'etc/motd'), 'utf8'), 'one\n');
  t.equal((await deps.catalogs.load('web-1'))?.catalog.revision, 'rev-one');
});

t.test('a blob lost from the local cache is fetched again while the catalog is unchanged (304)', async (t) => {
  const srv = await protocolServer(t);
  srv.catalog = catalogFor('kept\n');
  const deps = await agentDeps(t, srv);
  const ac = new AbortController();
  const r1 = await agentRun(deps, false, ac.signal);
  t.equal(r1.report?.outcome, 'changed');
  const motdSha = createHash('sha256').update('kept\n').digest('hex');
  // The cached blob disappears (a damaged copy is removed on read; an operator cleaned the
  // data directory), and the managed file drifts, so the engine needs the blob again.
  await fsp.rm(join(deps.dataDir, 'blobs', motdSha));
  await fsp.writeFile(join(deps.root, 'etc/motd'), 'drifted\n');
  const gets = srv.blobGets;
  const r2 = await agentRun(deps, false, ac.signal);
  t.equal(r2.catalogSource, 'unchanged', 'the catalog is answered 304');
  t.equal(r2.report?.outcome, 'changed', JSON.stringify(r2.report?.resources.filter((s) => s.error)));
  t.equal(await fsp.readFile(join(deps.root, 'etc/motd'), 'utf8'), 'kept\n', 'repaired from the refetched blob');
  t.equal(srv.blobGets, gets + 1, 'only the missing blob is fetched');
  const r3 = await agentRun(deps, false, ac.signal);
  t.equal(r3.report?.outcome, 'in-sync');
  t.equal(srv.blobGets, gets + 1, 'nothing fetched when every blob is present');
});

t.test('a queued report of a former host name is set aside, not taken for a refused identity', async (t) => {
  const srv = await protocolServer(t);
  srv.catalog = catalogFor('renamed\n');
  const deps = await agentDeps(t, srv);
  const ac = new AbortController();
  const first = await agentRun(deps, false, ac.signal);
  t.ok(first.report);
  // The same data directory was used under another --host before: its report is still queued.
  await deps.spool.enqueue({ ...first.report!, runId: 'old-name-run', host: 'old-name' }, 1);
  const r = await agentRun(deps, false, ac.signal);
  t.equal(r.identityRefused, undefined, 'the agent is not stopped as refused');
  t.equal(r.report?.outcome, 'in-sync');
  t.equal(r.pendingReports, 0, 'the queue is not blocked');
  t.same(srv.reports.map((x) => x.runId), [first.runId, r.runId], 'the current reports arrive');
  const names = await fsp.readdir(join(deps.dataDir, 'spool'));
  t.ok(names.some((n) => n.endsWith('-old-name-run.json.rejected')), `kept aside for inspection: ${names.join(', ')}`);
});

t.test('the pull loop runs at the interval, retries the server with backoff, and stops on abort', async (t) => {
  const srv = await protocolServer(t);
  srv.catalog = catalogFor('loop\n');
  const deps = await agentDeps(t, srv);
  const ac = new AbortController();
  const runs: string[] = [];
  let resolveThird: () => void = () => {};
  const third = new Promise<void>((r) => (resolveThird = r));
  const loop = runPullLoop(
    {
      ...deps,
      random: () => 0,
      onRun: (r) => {
        runs.push(r.catalogSource);
        if (runs.length === 3) resolveThird();
      },
    },
    { intervalMs: 50, splayMs: 0, noop: false, minBackoffMs: 10, maxBackoffMs: 40 },
    ac.signal,
  );
  await third;
  t.same(runs.slice(0, 3), ['fresh', 'unchanged', 'unchanged']);
  ac.abort();
  t.same(await loop, { reason: 'stopped' });

  // Revocation ends the loop with a reason.
  srv.refuse = true;
  const exit = await runPullLoop(deps, { intervalMs: 50, splayMs: 0, noop: false }, new AbortController().signal);
  t.equal(exit.reason, 'refused');
});

t.test('between runs the loop retries the server with backoff: queued reports and a new catalog do not wait for the interval', async (t) => {
  const srv = await protocolServer(t);
  srv.catalog = catalogFor('before\n');
  const deps = await agentDeps(t, srv);
  await agentRun(deps, false, new AbortController().signal);
  await srv.stop();
  srv.catalog = catalogFor('after\n');
  const ac = new AbortController();
  const runs: string[] = [];
  const loop = runPullLoop(
    { ...deps, random: () => 0.5, onRun: (r) => runs.push(`${r.catalogSource}:${r.report?.outcome ?? 'none'}`) },
    // An hour between runs: anything that happens within this test happens through the retry path.
    { intervalMs: 3_600_000, splayMs: 0, noop: false, minBackoffMs: 10, maxBackoffMs: 50 },
    ac.signal,
  );
  const until = async (what: string, cond: () => boolean): Promise<void> => {
    const deadline = Date.now() + 60_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await until('the first run (server down)', () => runs.length === 1);
  t.same(runs, ['cached:in-sync'], 'the first run enforced the cached catalog');
  t.equal(srv.reports.length, 1, 'its report is queued, not delivered');
  await srv.start();
  await until('the second run', () => runs.length === 2);
  t.same(runs[1], 'fresh:changed', 'the new catalog was applied at once, not an hour later');
  await until('reports delivered', () => srv.reports.length === 3);
  t.equal(await fsp.readFile(join(deps.root, 'etc/motd'), 'utf8'), 'after\n');
  ac.abort();
  t.same(await loop, { reason: 'stopped' });
  t.same(await deps.spool.list(), []);
});
