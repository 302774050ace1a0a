import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { AgentClient } from '../../../agent/client/agent-client.js';
import { formatBytes, OutputCapture } from '../../../agent/jobs/output-capture.js';
import { parseResults } from '../../../agent/jobs/job-results.js';
import { scriptWork } from './job-fixtures.js';

async function server(t: Test, answer: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ client: AgentClient; urls: string[] }> {
  const urls: string[] = [];
  const s = http.createServer((req, res) => {
    urls.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => answer(req, res));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); }));
  const client = new AgentClient({ serverUrl: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, host: 'web-1', privateKey: generateKeyPairSync('ed25519').privateKey, timeoutMs: 300 });
  t.teardown(() => client.close());
  return { client, urls };
}

const send = (res: http.ServerResponse, status: number, body: unknown): void => {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

t.test('client calls: paths, validation of answers, errors', async (t) => {
  let next: (res: http.ServerResponse) => void = (res) => send(res, 200, { work: [scriptWork('true', { id: 'a.0.web-1' })], cancel: ['b.1.web-1'] });
  const { client, urls } = await server(t, (_req, res) => next(res));
  const signal = AbortSignal.timeout(120_000);
  const poll = await client.pollJobs(99.7, signal);
  t.equal(poll.work[0]?.id, 'a.0.web-1');
  t.same(poll.cancel, ['b.1.web-1']);
  t.equal(urls.at(-1), 'GET /api/v1/hosts/web-1/jobs?wait=55', 'the wait is clamped to the contract\'s 55 s');

  // The long-poll's timeout exceeds the wait (the client's own default here is 300 ms).
  next = (res) => setTimeout(() => send(res, 200, { work: [], cancel: [] }), 1000);
  t.same(await client.pollJobs(1, signal), { work: [], cancel: [] });

  next = (res) => send(res, 200, { work: [{ id: '../x' }], cancel: [] });
  await t.rejects(client.pollJobs(0, signal), { code: 'BAD_RESPONSE', message: /jobs poll: unexpected answer: \/work\/0/ });
  next = (res) => send(res, 200, 'nope');
  await t.rejects(client.pollJobs(0, signal), { code: 'BAD_RESPONSE', message: /not JSON/ });
  next = (res) => send(res, 403, { error: { code: 'FORBIDDEN', message: 'not yours' } });
  await t.rejects(client.pollJobs(0, signal), { code: 'FORBIDDEN', status: 403 });

  next = (res) => send(res, 200, { run: false, reason: 'cancelled' });
  t.same(await client.startJob('j.0.web-1', signal), { run: false, reason: 'cancelled' });
  t.equal(urls.at(-1), 'POST /api/v1/hosts/web-1/jobs/j.0.web-1/start');
  next = (res) => send(res, 200, { run: 'yes' });
  await t.rejects(client.startJob('j.0.web-1', signal), { code: 'BAD_RESPONSE' });
  next = (res) => send(res, 404, { error: { code: 'NOT_FOUND', message: 'no such dispatch' } });
  await t.rejects(client.startJob('j.0.web-1', signal), { code: 'NOT_FOUND', status: 404 });

  const result = { state: 'succeeded' as const, exitCode: 0, stdout: '', stderr: '', startedAt: '2026-12-06T00:00:00.000Z', finishedAt: '2026-12-06T00:00:00.000Z' };
  next = (res) => send(res, 200, { stored: false, duplicate: true });
  t.same(await client.sendJobResult('j.0.web-1', result, signal), { stored: false, duplicate: true });
  t.equal(urls.at(-1), 'POST /api/v1/hosts/web-1/jobs/j.0.web-1/result');
  next = (res) => send(res, 200, {});
  await t.rejects(client.sendJobResult('j.0.web-1', result, signal), { code: 'BAD_RESPONSE' });
  next = (res) => send(res, 400, { error: { code: 'BAD_REQUEST', message: 'bad' } });
  await t.rejects(client.sendJobResult('j.0.web-1', result, signal), { code: 'BAD_REQUEST', status: 400 });
});

t.test('output capture keeps head and tail across chunk boundaries', async (t) => {
  const c = new OutputCapture(4, 6);
  for (const s of ['ab', 'cdef', 'ghij', 'k', 'lmnopq', 'rs']) c.push(Buffer.from(s));
  const r = c.result();
  t.equal(r.totalBytes, 19);
  t.ok(r.truncated);
  t.equal(r.text, 'abcd\n…[stead: 9 bytes of output cut]…\nnopqrs');
  const whole = new OutputCapture(4, 6);
  whole.push(Buffer.from('abcdefghij'));
  t.same(whole.result(), { text: 'abcdefghij', truncated: false, totalBytes: 10 });
  const noTail = new OutputCapture(2, 0);
  noTail.push(Buffer.from('line\n'));
  t.equal(noTail.result().text, 'li\n…[stead: 3 bytes of output cut]…\n');
  t.equal(formatBytes(4_200_000), '4.2 MB');
  t.equal(formatBytes(1500), '1.5 kB');
  t.equal(formatBytes(3e9), '3.0 GB');
});

t.test('results parser: records, bounds, malformed input', async (t) => {
  const rec = (kind: string, key: string, v: string): string => `${kind} ${key} ${Buffer.byteLength(v)}\n${v}\n`;
  t.same(parseResults(Buffer.from(rec('result', 'a', 'x\ny') + rec('fail', '-', 'why'))), { results: { a: 'x\ny' }, failMessage: 'why', problems: [] });
  t.same(parseResults(Buffer.from(rec('result', '__proto__', 'p'))).results, { ['__proto__']: 'p' }, 'no prototype games');
  t.equal(({} as Record<string, unknown>).p, undefined);
  t.match(parseResults(Buffer.from('result a 5\nabc\n')).problems, [/malformed/], 'a length past the end');
  t.match(parseResults(Buffer.from(`${'x'.repeat(300)}\n`)).problems, [/malformed/]);
  t.match(parseResults(Buffer.from('no newline')).problems, [/malformed/]);
  const cut = parseResults(Buffer.from(rec('result', 'a', '1') + 'result b 10\nabc'), true);
  t.same(cut.results, { a: '1' });
  t.same(cut.problems, ['the results channel exceeded its size limit; the rest was dropped'], 'a record cut by the limit is not reported as malformed');
  t.equal(parseResults(Buffer.from(rec('fail', '-', 'm'.repeat(5000)))).failMessage?.length, 4096);
});
