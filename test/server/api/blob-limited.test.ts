/**
 * serveBlobLimited (server/api/blob-response.ts) over real HTTP on loopback: the whole blob and
 * a range come out intact under the limiter, a full limiter answers 503 with Retry-After before
 * any byte, a refused range frees its slot, and a client that goes away mid-transfer frees its
 * slot too.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { Router } from '@koa/router';
import t from 'tap';
import type { AppState } from '../../../server/api/app-state.js';
import { serveBlobLimited } from '../../../server/api/blob-response.js';
import { errorMiddleware } from '../../../server/api/error-middleware.js';
import { requestSignal } from '../../../server/api/request-signal.js';
import { TransferLimiter } from '../../../server/services/jobs/transfer-limiter.js';
import { rawRequest } from '../../helpers/server-fixture.js';

const data = Buffer.alloc(300 * 1024);
for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
const id = createHash('sha256').update(data).digest('hex');

async function serve(t: Tap, limiter: TransferLimiter): Promise<string> {
  const app = new Koa<AppState>();
  // As the real app (server/app.ts): a client that leaves mid-download is not a server error to print.
  app.silent = true;
  app.use(errorMiddleware());
  const router = new Router<AppState>();
  router.get('/blobs/:id', async (ctx) => {
    await serveBlobLimited(ctx, limiter, data, ctx.params['id'] ?? '', requestSignal(ctx));
  });
  app.use(router.routes());
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
type Tap = { teardown(fn: () => unknown): void };

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

t.test('whole blobs and ranges are served intact through the limiter', async (t) => {
  const limiter = new TransferLimiter({ maxConcurrent: 2, bytesPerSecond: 0 });
  const base = await serve(t, limiter);
  const whole = await rawRequest(base, { method: 'GET', path: `/blobs/${id}` });
  t.equal(whole.status, 200);
  t.equal(whole.headers['content-length'], String(data.length));
  t.ok(whole.body.equals(data));
  const part = await rawRequest(base, { method: 'GET', path: `/blobs/${id}`, headers: { range: 'bytes=10-19' } });
  t.equal(part.status, 206);
  t.equal(part.headers['content-range'], `bytes 10-19/${data.length}`);
  t.ok(part.body.equals(data.subarray(10, 20)));
  await until(() => limiter.counters.active === 0);
  t.equal(limiter.counters.active, 0);
  t.equal(limiter.counters.bytes, data.length + 10);
});

t.test('a full limiter answers 503 with Retry-After; errors and departures free the slot', async (t) => {
  const limiter = new TransferLimiter({ maxConcurrent: 1, bytesPerSecond: 0, maxQueued: 0 });
  const base = await serve(t, limiter);
  const held = limiter.tryAcquire()!;
  const busy = await rawRequest(base, { method: 'GET', path: `/blobs/${id}` });
  t.equal(busy.status, 503);
  t.equal(busy.headers['retry-after'], '5');
  t.equal(JSON.parse(busy.body.toString()).error.code, 'SERVER_BUSY');
  held.release();

  const outside = await rawRequest(base, { method: 'GET', path: `/blobs/${id}`, headers: { range: 'bytes=999999999-' } });
  t.equal(outside.status, 416);
  t.equal(limiter.counters.active, 0, 'the slot of a refused request is free');

  // A slow transfer (1 KiB/s) the client abandons.
  const slow = new TransferLimiter({ maxConcurrent: 1, bytesPerSecond: 1024 });
  const slowBase = await serve(t, slow);
  await new Promise<void>((resolve) => {
    const req = http.get(`${slowBase}/blobs/${id}`, { agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => resolve());
  });
  await until(() => slow.counters.active === 0);
  t.equal(slow.counters.active, 0, 'the abandoned transfer freed its slot');
  t.ok(slow.counters.bytes < data.length, 'and stopped sending');
});
