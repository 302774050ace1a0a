/**
 * The job loop against a PROTOCOL STUB of the server (test/helpers/job-protocol-stub.ts: the
 * three agent routes per ADR 0014 on a real loopback HTTP server), with the real AgentClient,
 * the real ledger on disk and real scripts.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { AgentClient } from '../../../agent/client/agent-client.js';
import { createJsonLogger, type Logger } from '../../../agent/daemon/json-logger.js';
import { JobLedger } from '../../../agent/jobs/job-ledger.js';
import { JOB_LIB_DIR, runJobAgent } from '../../../agent/jobs/job-agent.js';
import { BlobCache } from '../../../agent/daemon/blob-cache.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { runJobLoop, type JobLoopConfig } from '../../../agent/jobs/job-loop.js';
import { startJobProtocolStub, type JobProtocolStub } from '../../helpers/job-protocol-stub.js';
import { jobCtx, scriptWork, tempDir } from './job-fixtures.js';
import { Writable } from 'node:stream';

interface Rig {
  readonly stub: JobProtocolStub;
  readonly ledger: JobLedger;
  readonly dir: string;
  readonly lines: string[];
  start(config?: JobLoopConfig): { stop: () => Promise<void>; done: Promise<void> };
}

async function rig(t: Test, prepare?: (ledger: JobLedger) => Promise<void>): Promise<Rig> {
  const stub = await startJobProtocolStub('web-1');
  t.teardown(() => stub.close());
  const dir = tempDir(t);
  const client = new AgentClient({ serverUrl: stub.url, host: 'web-1', privateKey: generateKeyPairSync('ed25519').privateKey });
  t.teardown(() => client.close());
  const ledger = new JobLedger({ dir: join(dir, 'ledger') });
  await ledger.open();
  await prepare?.(ledger);
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)); cb(); } });
  const log: Logger = createJsonLogger({ stream, level: 'debug', bindings: {} });
  const ctx = await jobCtx(t, dir);
  return {
    stub,
    ledger,
    dir,
    lines,
    start(config = {}) {
      const ac = new AbortController();
      const done = runJobLoop({ client, ledger, ctx, log, random: () => 0 }, { waitSeconds: 5, minBackoffMs: 50, maxBackoffMs: 200, ...config }, ac.signal);
      return { done, stop: async () => { ac.abort(); await done; } };
    },
  };
}

t.test('long-poll: work created while the poll waits runs at once; its result is delivered and recorded', async (t) => {
  const r = await rig(t);
  const loop = r.start({ waitSeconds: 30 });
  await r.stub.until(() => r.stub.requests.includes('GET /jobs?wait=30'));
  const w = scriptWork('. "$STEAD_LIB/stead.sh"; echo hello; stead_result answer 42');
  r.stub.add(w);
  await r.stub.until(() => r.stub.dispatches.get(w.id)?.state === 'done', 120_000);
  const d = r.stub.dispatches.get(w.id)!;
  t.equal(d.startAcks, 1);
  t.equal(d.results.length, 1);
  t.equal(d.results[0]?.state, 'succeeded');
  t.equal(d.results[0]?.stdout, 'hello\n');
  t.same(d.results[0]?.results, { answer: '42' });
  await r.stub.until(() => r.ledger.state(w.id) === 'delivered');
  // Offered again (a server that lost track): the ledger knows it, it is not run again.
  d.state = 'dispatched';
  await r.stub.until(() => r.lines.some((l) => l.includes('offered again')));
  d.state = 'done';
  await loop.stop();
  t.equal(d.startAcks, 1, 'never started twice');
  t.equal(d.results.length, 1);
  const order = r.stub.requests.filter((q) => q.includes(w.id));
  t.same(order, ['POST start ' + w.id, 'POST result ' + w.id]);
});

t.test('cancel: the running script is killed and answered cancelled; a claimed one is never spawned', async (t) => {
  const r = await rig(t);
  const loop = r.start();
  const marker = join(r.dir, 'started');
  const w = scriptWork(`touch ${marker}; sleep 300`);
  r.stub.add(w);
  await r.stub.until(() => existsSync(marker), 120_000);
  r.stub.cancel(w.id);
  await r.stub.until(() => r.stub.dispatches.get(w.id)?.state === 'done', 120_000);
  t.equal(r.stub.dispatches.get(w.id)?.results[0]?.state, 'cancelled');
  // A cancel for a dispatch this agent never saw: answered cancelled, nothing runs.
  const ghost = scriptWork('touch /tmp/never');
  r.stub.dispatches.set(ghost.id, { work: ghost, state: 'cancelling', startAcks: 1, results: [] });
  r.stub.add(scriptWork('true')); // wakes the poll
  await r.stub.until(() => r.stub.dispatches.get(ghost.id)?.results.length === 1, 120_000);
  t.equal(r.stub.dispatches.get(ghost.id)?.results[0]?.state, 'cancelled');
  t.match(r.stub.dispatches.get(ghost.id)?.results[0]?.message, /not running on this host/);
  await loop.stop();
});

t.test('errors back off and recover; a lost start answer is asked again; a result that fails to send stays spooled', async (t) => {
  const r = await rig(t);
  r.stub.failNext(3);
  const loop = r.start();
  await r.stub.until(() => r.stub.requests.filter((q) => q.startsWith('FAIL')).length === 3 && r.stub.requests.some((q) => q.startsWith('GET')));
  t.equal(r.lines.filter((l) => l.includes('job poll failed; retrying')).length, 3, 'each failure logged with its backoff');
  t.match(r.lines.find((l) => l.includes('job poll failed')), /"retryInMs":25/, 'backoff with jitter (random fixed at 0: half the delay)');

  r.stub.loseStartAnswers(1);
  const w = scriptWork('echo once >> "$0.count"; echo ran');
  r.stub.add(w);
  await r.stub.until(() => r.stub.dispatches.get(w.id)?.state === 'done', 120_000);
  const d = r.stub.dispatches.get(w.id)!;
  t.equal(d.startAcks, 2, 'the start was retried after the answer was lost');
  t.equal(d.results.length, 1);
  t.equal(d.results[0]?.stdout, 'ran\n', 'and the script ran once');

  // The result POST fails: the result stays in the ledger and is delivered later.
  const w2 = scriptWork('echo two');
  const before = r.stub.requests.length;
  r.stub.add(w2);
  await r.stub.until(() => r.stub.requests.slice(before).some((q) => q === `POST start ${w2.id}`));
  r.stub.failNext(1);
  await r.stub.until(() => r.stub.requests.slice(before).includes(`FAIL POST /api/v1/hosts/web-1/jobs/${w2.id}/result`) || r.stub.dispatches.get(w2.id)?.state === 'done', 120_000);
  await r.stub.until(() => r.stub.dispatches.get(w2.id)?.state === 'done', 120_000);
  t.equal(r.stub.dispatches.get(w2.id)?.results[0]?.stdout, 'two\n');
  await r.stub.until(() => r.ledger.state(w2.id) === 'delivered');
  await loop.stop();
});

t.test('at most maxConcurrent dispatches run at once; the rest wait for a slot', async (t) => {
  const r = await rig(t);
  const loop = r.start({ maxConcurrent: 2, saturatedWaitMs: 100 });
  const go = join(r.dir, 'go');
  const works = Array.from({ length: 5 }, (_, i) => scriptWork(`touch ${r.dir}/running-${i}; while [ ! -e ${go} ]; do sleep 0.05; done; rm ${r.dir}/running-${i}`));
  for (const w of works) r.stub.add(w);
  await r.stub.until(() => readdirSync(r.dir).filter((n) => n.startsWith('running-')).length === 2, 120_000);
  await new Promise((res) => setTimeout(res, 500));
  t.equal(readdirSync(r.dir).filter((n) => n.startsWith('running-')).length, 2, 'two run, three wait');
  t.equal([...r.stub.dispatches.values()].filter((d) => d.state === 'dispatched').length, 3, 'the others are not even started');
  writeFileSync(go, '');
  await r.stub.until(() => works.every((w) => r.stub.dispatches.get(w.id)?.state === 'done'), 20_000);
  t.ok(works.every((w) => r.stub.dispatches.get(w.id)?.results[0]?.state === 'succeeded'));
  await loop.stop();
});

t.test('stop: the loop ends promptly; a running script is killed and its interrupted result stays spooled', async (t) => {
  const r = await rig(t);
  const loop = r.start({ waitSeconds: 55 });
  const marker = join(r.dir, 'up');
  const w = scriptWork(`touch ${marker}; sleep 300`);
  r.stub.add(w);
  await r.stub.until(() => existsSync(marker), 120_000);
  await loop.stop();
  const e = await r.ledger.get(w.id);
  t.equal(e?.state, 'finished', 'spooled, delivered by the next start');
  t.equal(e?.result?.state, 'interrupted');
  t.equal(r.stub.dispatches.get(w.id)?.results.length, 0);
});

t.test('restart: started → interrupted (never spawned), claimed → start retried, finished → delivered', async (t) => {
  const marker = join(tempDir(t), 'ran');
  const started = scriptWork(`touch ${marker}`);
  const claimed = scriptWork('echo claimed-ran');
  const finished = scriptWork('echo x');
  const refused = scriptWork('echo y');
  const r = await rig(t, async (ledger) => {
    for (const w of [started, claimed, finished, refused]) await ledger.claim(w);
    await ledger.markStarted(started.id);
    await ledger.markStarted(finished.id);
    await ledger.finish(finished.id, { state: 'succeeded', exitCode: 0, stdout: 'from before\n', stderr: '', startedAt: '2026-12-06T00:00:00.000Z', finishedAt: '2026-12-06T00:00:01.000Z' });
  });
  for (const w of [started, claimed, finished]) r.stub.dispatches.set(w.id, { work: w, state: 'running', startAcks: 1, results: [] });
  r.stub.dispatches.set(refused.id, { work: refused, state: 'cancelled', startAcks: 0, results: [] });
  const loop = r.start();
  await r.stub.until(() => [started, claimed, finished].every((w) => r.stub.dispatches.get(w.id)?.state === 'done'), 120_000);
  t.equal(r.stub.dispatches.get(started.id)?.results[0]?.state, 'interrupted');
  t.notOk(existsSync(marker), 'a dispatch marked started is never spawned again');
  t.equal(r.stub.dispatches.get(claimed.id)?.results[0]?.stdout, 'claimed-ran\n');
  t.equal(r.stub.dispatches.get(claimed.id)?.startAcks, 2);
  t.equal(r.stub.dispatches.get(finished.id)?.results[0]?.stdout, 'from before\n');
  await r.stub.until(() => r.ledger.state(refused.id) === undefined);
  t.pass('a claimed dispatch the server says not to run is forgotten');
  await loop.stop();
});

t.test('an agent-wide dry run (stead agent --noop) runs no script', async (t) => {
  const r = await rig(t);
  const loop = r.start({ noop: true });
  const marker = join(r.dir, 'ran');
  const w = scriptWork(`touch ${marker}`);
  r.stub.add(w);
  await r.stub.until(() => r.stub.dispatches.get(w.id)?.state === 'done', 120_000);
  t.equal(r.stub.dispatches.get(w.id)?.results[0]?.state, 'would-run');
  t.notOk(existsSync(marker));
  await loop.stop();
});

t.test('runJobAgent wires ledger, script dir and loop in the data dir; a server without the channel is asked again quietly', async (t) => {
  const stub = await startJobProtocolStub('web-1');
  t.teardown(() => stub.close());
  const dataDir = tempDir(t);
  mkdirSync(join(dataDir, 'jobs', 'tmp'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, 'jobs', 'tmp', 'script-leftover'), 'echo old');
  const client = new AgentClient({ serverUrl: stub.url, host: 'web-1', privateKey: generateKeyPairSync('ed25519').privateKey });
  t.teardown(() => client.close());
  const blobs = new BlobCache(join(dataDir, 'blobs'));
  await blobs.open();
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)); cb(); } });
  const ac = new AbortController();
  const done = runJobAgent({ client, dataDir, host: createNodeHost({ root: '/' }), blobs, stateDir: join(dataDir, 'state'), log: createJsonLogger({ stream, level: 'debug', bindings: {} }), waitSeconds: 1, minBackoffMs: 50, maxBackoffMs: 100 }, ac.signal);
  const w = scriptWork('python3 -c "import stead" && echo "$STEAD_LIB"');
  stub.add(w);
  await stub.until(() => stub.dispatches.get(w.id)?.state === 'done', 120_000);
  t.equal(stub.dispatches.get(w.id)?.results[0]?.stdout, `${JOB_LIB_DIR}\n`, 'the shipped helper libraries are on PYTHONPATH');
  t.same(readdirSync(join(dataDir, 'jobs', 'tmp')), [], 'leftover script files are removed at start');
  t.equal(statSync(join(dataDir, 'jobs', 'ledger')).mode & 0o777, 0o700);
  // The entry may be mid-rewrite (delivered) while this reads: an atomic write's temp file is not an entry.
  t.equal(readdirSync(join(dataDir, 'jobs', 'ledger')).filter((n) => !(n.startsWith('.') && n.endsWith('.tmp'))).length, 1);
  ac.abort();
  await done;
  t.ok(lines.some((l) => l.includes('job channel started')));
  t.ok(lines.some((l) => l.includes('job channel stopped')));

  // A server that has no job routes (404): one info line, then quiet retries at the longest backoff.
  const old = http.createServer((_req, res) => {
    res.statusCode = 404;
    res.end('{"error":{"code":"NOT_FOUND","message":"no such route"}}');
  });
  await new Promise<void>((r) => old.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { old.closeAllConnections(); old.close(() => r()); }));
  const oldClient = new AgentClient({ serverUrl: `http://127.0.0.1:${(old.address() as AddressInfo).port}`, host: 'web-1', privateKey: generateKeyPairSync('ed25519').privateKey });
  t.teardown(() => oldClient.close());
  lines.length = 0;
  const ac2 = new AbortController();
  const done2 = runJobAgent({ client: oldClient, dataDir, host: createNodeHost({ root: '/' }), blobs, stateDir: join(dataDir, 'state'), log: createJsonLogger({ stream, level: 'debug', bindings: {} }), waitSeconds: 1, minBackoffMs: 10, maxBackoffMs: 100 }, ac2.signal);
  await new Promise((r) => setTimeout(r, 700));
  ac2.abort();
  await done2;
  t.equal(lines.filter((l) => l.includes('no job channel')).length, 1, 'said once');
  t.equal(lines.filter((l) => l.includes('job poll failed')).length, 0, 'no warning per retry');
});
