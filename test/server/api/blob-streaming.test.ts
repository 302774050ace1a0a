/**
 * Blobs are streamed from the store to the client (server/api/blob-response.ts): a 48 MiB blob
 * in a real SQLite store served over loopback goes out in store chunks of at most 256 KiB, and
 * the serving path never asks the store for the whole blob (get/getRange throw here). Bounded
 * memory is shown by what the store hands out (chunk count, largest chunk), not by RSS.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Koa from 'koa';
import { Router } from '@koa/router';
import t from 'tap';
import type { AppState } from '../../../server/api/app-state.js';
import { serveBlob, serveBlobLimited } from '../../../server/api/blob-response.js';
import { errorMiddleware } from '../../../server/api/error-middleware.js';
import { requestSignal } from '../../../server/api/request-signal.js';
import { TransferLimiter } from '../../../server/services/jobs/transfer-limiter.js';
import { SqliteStore } from '../../../server/store/sqlite/sqlite-store.js';
import type { BlobStore } from '../../../server/store/types.js';

const SIZE = 48 * 1024 * 1024;
const CHUNK = 256 * 1024;

/** The store, with every chunk it yields recorded and whole-blob reads forbidden. */
function watched(inner: BlobStore): { store: BlobStore; chunks: number[] } {
  const chunks: number[] = [];
  const store: BlobStore = Object.create(inner) as BlobStore;
  Object.assign(store, {
    get: () => Promise.reject(new Error('the serving path asked for the whole blob (get)')),
    getRange: () => Promise.reject(new Error('the serving path asked for a whole range (getRange)')),
    stat: (k: string) => inner.stat(k),
    read: async (k: string, o?: Parameters<BlobStore['read']>[1]) => {
      const r = await inner.read(k, o);
      if (!r) return r;
      return {
        ...r,
        chunks: (async function* () {
          for await (const c of r.chunks) {
            chunks.push(c.length);
            yield c;
          }
        })(),
      };
    },
  });
  return { store, chunks };
}

async function download(url: string, headers: Record<string, string> = {}): Promise<{ status: number; sha256: string; length: number; largestRead: number }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const h = createHash('sha256');
      let length = 0;
      let largestRead = 0;
      res.on('data', (c: Buffer) => {
        h.update(c);
        length += c.length;
        largestRead = Math.max(largestRead, c.length);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sha256: h.digest('hex'), length, largestRead }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

t.test('a blob far larger than a chunk is streamed chunk by chunk, whole and ranged, limited or not', async (t) => {
  const db = SqliteStore.open({ path: join(t.testdir(), 'store.db') });
  t.teardown(() => db.close());
  const blobs = await db.blobs('content');
  const data = Buffer.allocUnsafe(SIZE);
  for (let i = 0; i < SIZE; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
  const id = createHash('sha256').update(data).digest('hex');
  await blobs.put(id, data);
  const { store, chunks } = watched(blobs);
  const limiter = new TransferLimiter({ maxConcurrent: 2, bytesPerSecond: 0 });

  const app = new Koa<AppState>();
  app.use(errorMiddleware());
  const router = new Router<AppState>();
  router.get('/plain/:id', async (ctx) => serveBlob(ctx, store, ctx.params['id'] ?? '', requestSignal(ctx)));
  router.get('/limited/:id', async (ctx) => serveBlobLimited(ctx, limiter, store, ctx.params['id'] ?? '', requestSignal(ctx)));
  app.use(router.routes());
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  for (const route of ['plain', 'limited']) {
    chunks.length = 0;
    const whole = await download(`${base}/${route}/${id}`);
    t.same([whole.status, whole.length, whole.sha256], [200, SIZE, id], `${route}: the whole blob arrives intact`);
    t.equal(chunks.length, SIZE / CHUNK, `${route}: read from the store in ${SIZE / CHUNK} chunks`);
    t.ok(Math.max(...chunks) <= CHUNK, `${route}: no piece read from the store is over 256 KiB (largest ${Math.max(...chunks)})`);

    chunks.length = 0;
    const start = 5 * CHUNK + 17;
    const end = 9 * CHUNK + 3; // exclusive
    const part = await download(`${base}/${route}/${id}`, { range: `bytes=${start}-${end - 1}` });
    t.same([part.status, part.length, part.sha256], [206, end - start, createHash('sha256').update(data.subarray(start, end)).digest('hex')], `${route}: a range arrives intact`);
    t.equal(chunks.length, 5, `${route}: the range read only the 5 chunks that hold it`);
  }
});
