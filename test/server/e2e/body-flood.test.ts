/**
 * Issue 8 item 3: unauthenticated bodies. A real `stead server` process takes a flood of
 * concurrent requests declaring 8 MiB bodies (the largest report limit) that name an enrolled host but carry bad
 * signatures, some declaring X-Stead-Body-Sha256 (as agents do) and some without it (older
 * agents). Each client sends 6 MiB of its body and then holds the connection open until a
 * legitimate agent has been served. The server's peak resident memory (VmHWM from /proc) must
 * stay within a bound far below what holding the bodies would take (576 MiB), every flood
 * request is refused, and the agent is served while the flood is in flight. Nothing here
 * depends on how fast the machine is: every step waits for the one before it.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { newNonce, signRequest } from '../../../agent/identity/request-signature.js';
import { buildOnce, freePort, ServerProcess } from '../../helpers/e2e-fleet.js';
import { makeReport } from '../../helpers/server-reports.js';

const MiB = 1024 * 1024;
const bodyBytes = 8 * MiB;
const sentBytes = 6 * MiB;
const floodConnections = 96;
/** Growth of the server's peak RSS the flood may cause (holding what was sent would be 576 MiB). */
const peakGrowthBound = 128 * MiB;

/** Resident and peak resident memory of a process, in bytes (from /proc/<pid>/status). */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

interface FloodResult {
  readonly status: number;
  readonly written: number;
}

const chunk = Buffer.alloc(MiB, 0x20);

/**
 * One flood request on a raw socket: headers naming `host` with a bad signature and a
 * `bodyBytes` body, of which `sentBytes` are written as the socket accepts them (unless the
 * server closes first); then the connection is held until `hold` resolves. Resolves the answer's
 * status (0 when the server closed without one) and the bytes written. `onChunk` is called
 * after each chunk the socket took.
 */
function flood(port: number, host: string, declareHash: boolean, onChunk: () => void, hold: Promise<void>): Promise<FloodResult> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    let written = 0;
    let closed = false;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      if (response.length < 4096) response += d;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(response);
      resolve({ status: m ? Number(m[1]) : 0, written });
    });
    const headers = [
      'POST /api/v1/hosts/' + host + '/reports HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      'Content-Type: application/json',
      `Content-Length: ${bodyBytes}`,
      `X-Stead-Host: ${host}`,
      `X-Stead-Time: ${Date.now()}`,
      `X-Stead-Nonce: ${newNonce()}`,
      `X-Stead-Signature: ${randomBytes(64).toString('base64')}`,
      ...(declareHash ? [`X-Stead-Body-Sha256: ${createHash('sha256').update(randomBytes(8)).digest('hex')}`] : []),
      'Connection: close',
      '',
      '',
    ].join('\r\n');
    socket.write(headers);
    let taken = 0;
    const writeMore = (): void => {
      while (!closed && written < sentBytes) {
        written += chunk.length;
        const more = socket.write(chunk, () => {
          onChunk();
          if (++taken === sentBytes / chunk.length) void hold.then(() => socket.destroy());
        });
        if (!more) {
          socket.once('drain', writeMore);
          return;
        }
      }
    };
    writeMore();
  });
}

const skip = process.platform !== 'linux' ? 'reads the server\'s memory from /proc (Linux only)' : false;

t.test('a flood of large bad-signature bodies: memory stays flat, a real agent is served', { skip }, async (t) => {
  await buildOnce();
  const dir = t.testdir();
  const server = new ServerProcess(join(dir, 'data'), await freePort());
  // The largest report limit the server allows: the body is what must not be held.
  server.extraArgs.push('--report-max-bytes', String(bodyBytes));
  await server.start(t);
  const pid = server.child!.pid!;

  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const bt = await server.api('POST', '/api/v1/bootstrap-tokens', { host: 'web-1' });
  t.equal(bt.status, 201);
  const enroll = await server.fetch('POST', '/api/v1/agents/enroll', { 'content-type': 'application/json' }, JSON.stringify({ host: 'web-1', publicKey: publicKey.export({ type: 'spki', format: 'pem' }), bootstrapToken: bt.body.token }));
  t.equal(enroll.status, 201, enroll.text);
  const signed = (method: string, path: string, body: string): Promise<{ status: number; text: string }> =>
    server.fetch(method, path, { 'content-type': 'application/json', ...signRequest({ method, pathWithQuery: path, body, host: 'web-1', timeMs: Date.now(), nonce: newNonce() }, privateKey) }, body);

  // Warm up every path the flood and the agent take, so their one-time costs are in the baseline.
  t.equal((await signed('PUT', '/api/v1/hosts/web-1/facts', JSON.stringify({ warm: true }))).status, 200);
  t.equal((await signed('POST', '/api/v1/hosts/web-1/reports', JSON.stringify(makeReport('web-1', 'warm-1')))).status, 200);
  await flood(server.port, 'web-1', true, () => undefined, Promise.resolve());
  await flood(server.port, 'web-1', false, () => undefined, Promise.resolve());
  const before = memoryOf(pid);
  t.comment(`before the flood: rss ${Math.round(before.rss / MiB)} MiB, peak ${Math.round(before.hwm / MiB)} MiB`);

  // The legitimate agent runs once the flood has pushed a chunk on every connection.
  let chunks = 0;
  let startAgent!: () => void;
  const floodUnderway = new Promise<void>((r) => (startAgent = r));
  const onChunk = (): void => {
    if (++chunks === floodConnections) startAgent();
  };
  let release!: () => void;
  const hold = new Promise<void>((r) => (release = r));
  const floods = Array.from({ length: floodConnections }, (_, i) => flood(server.port, 'web-1', i % 2 === 0, onChunk, hold));
  const agent = (async () => {
    await Promise.race([floodUnderway, Promise.all(floods)]);
    const facts = await signed('PUT', '/api/v1/hosts/web-1/facts', JSON.stringify({ during: 'flood' }));
    const report = await signed('POST', '/api/v1/hosts/web-1/reports', JSON.stringify(makeReport('web-1', 'during-flood')));
    // The server has had every turn it needed to read what the flood sent: let the flood go.
    for (let i = 0; i < 3; i++) await server.fetch('GET', '/healthz');
    release();
    return { facts, report };
  })();
  const results = await Promise.all(floods);
  const served = await agent;
  const after = memoryOf(pid);
  const growth = after.hwm - before.hwm;
  t.comment(`after the flood: rss ${Math.round(after.rss / MiB)} MiB, peak ${Math.round(after.hwm / MiB)} MiB (peak grew ${Math.round(growth / MiB)} MiB); statuses ${JSON.stringify(results.map((r) => r.status))}`);

  t.ok(growth < peakGrowthBound, `the server's peak RSS grew ${Math.round(growth / MiB)} MiB, under ${peakGrowthBound / MiB} MiB, for ${floodConnections} × ${bodyBytes / MiB} MiB bodies`);
  for (const r of results) t.ok(r.status === 0 || r.status === 401 || r.status === 503, `a flood request is refused (status ${r.status})`);
  t.ok(results.some((r) => r.status === 401 || r.status === 503), 'the server answered flood requests with a refusal');
  t.equal(served.facts.status, 200, `facts of the real agent during the flood: ${served.facts.text.slice(0, 200)}`);
  t.equal(served.report.status, 200, `report of the real agent during the flood: ${served.report.text.slice(0, 200)}`);
  t.equal((await server.fetch('GET', '/healthz')).status, 200, 'healthy after the flood');
  const stored = await server.reports('web-1');
  t.ok(stored.some((r) => r.runId === 'during-flood'), 'the real agent\'s report was stored');
});
