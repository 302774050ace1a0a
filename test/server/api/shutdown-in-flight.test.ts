/**
 * Shutdown waits (10 s at most) for request handlers still running before it closes the store.
 * A handler whose client went away, or a long poll that shutdown ends, still uses the store;
 * on a closed store that was an "unhandled error" (seen with three servers on MongoDB, issue 13).
 */
import http from 'node:http';
import t from 'tap';
import { startJobServer } from '../../helpers/job-fixture.js';

t.test('close() waits for a handler still reading its body, which then uses the open store', async (t) => {
  const fx = await startJobServer(t);
  const body = JSON.stringify({ host: 'late-1' });
  let finish = (): void => undefined;
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(new URL('/api/v1/bootstrap-tokens', fx.base), { method: 'POST', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.write(body.slice(0, 5)); // the handler now waits for the rest of its body
    finish = () => req.end(body.slice(5));
  });
  // Wait until the server runs the handler (no time assumed: until idle() says so).
  while (await fx.server.app.idle(0)) await new Promise((r) => setTimeout(r, 10));
  t.pass('a handler is running');
  let closed = false;
  const closing = fx.server.close().then(() => { closed = true; });
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(closed, false, 'close() waits while the handler runs');
  finish();
  const r = await answer;
  t.equal(r.status, 201, `the handler finished on the open store: ${r.text.slice(0, 200)}`);
  await closing;
  // (The fleet plan the fixture's publish started may log its abort by close(): not a request.)
  t.same(fx.logs.filter((l) => /unhandled error|CLOSED|client was closed/.test(l)), [], 'no handler failed on a closed store');
});
