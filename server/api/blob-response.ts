/**
 * Sending a blob with single-range support (RFC 9110 §14): "bytes=a-b", "bytes=a-" and
 * "bytes=-n"; several ranges or an unparsable header get the whole blob; a range starting past
 * the end gets 416 with Content-Range "bytes * /size".
 */
import { Readable } from 'node:stream';
import type { BlobStore } from '../store/types.js';
import { ApiError } from '../domain/errors.js';
import type { TransferLimiter } from '../services/jobs/transfer-limiter.js';
import type { AppContext } from './app-state.js';

export function parseRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  if (!Number.isSafeInteger(start) || start >= size) return 'unsatisfiable';
  if (end <= start) return undefined;
  return { start, end };
}

/**
 * Serves blob `id` like serveBlob, under the job transfer limits: a slot is taken first (503
 * SERVER_BUSY with Retry-After when none comes, before any header is set) and the bytes go out
 * paced by the shared bandwidth bucket; the slot is freed when the response ends or the client
 * goes away.
 */
export async function serveBlobLimited(ctx: AppContext, limiter: TransferLimiter, source: BlobStore | Buffer, id: string, signal: AbortSignal): Promise<void> {
  const slot = await limiter.acquire(signal);
  let bytes: Uint8Array | AsyncIterable<Uint8Array>;
  try {
    bytes = await openBlob(ctx, source, id, signal);
  } catch (err) {
    slot.release();
    throw err;
  }
  const length = ctx.length;
  ctx.body = limiter.stream(bytes, slot, signal);
  ctx.length = length;
}

/**
 * Serves blob `id` from the store, or from memory when given its bytes (sensitive blobs). A
 * stored blob is streamed chunk by chunk from the store (BlobStore.read): the server never holds
 * a whole blob in memory to send it.
 */
export async function serveBlob(ctx: AppContext, source: BlobStore | Buffer, id: string, signal: AbortSignal): Promise<void> {
  const bytes = await openBlob(ctx, source, id, signal);
  const length = ctx.length;
  ctx.body = Buffer.isBuffer(bytes) ? bytes : Readable.from(bytes, { objectMode: false });
  ctx.length = length;
}

/** Sets status and headers for blob `id` (and the requested range) and returns its bytes to send. */
async function openBlob(ctx: AppContext, source: BlobStore | Buffer, id: string, signal: AbortSignal): Promise<Buffer | AsyncIterable<Buffer>> {
  const mem = Buffer.isBuffer(source) ? source : undefined;
  const blobs: BlobStore | undefined = mem ? undefined : (source as BlobStore);
  const size = mem ? mem.length : (await blobs!.stat(id))?.size;
  if (size === undefined) throw new ApiError('NOT_FOUND', `blob ${id} is not stored`);
  ctx.set('Accept-Ranges', 'bytes');
  ctx.set('ETag', `"${id}"`);
  ctx.set('Cache-Control', mem ? 'private, no-store' : 'private, max-age=31536000, immutable');
  ctx.type = 'application/octet-stream';
  const rangeHeader = ctx.get('range');
  const range = rangeHeader ? parseRange(rangeHeader, size) : undefined;
  if (range === 'unsatisfiable') {
    ctx.set('Content-Range', `bytes */${size}`);
    throw new ApiError('RANGE_NOT_SATISFIABLE', `range ${rangeHeader.slice(0, 100)} is outside the ${size}-byte blob`);
  }
  const { start, end } = range ?? { start: 0, end: size };
  let bytes: Buffer | AsyncIterable<Buffer>;
  if (mem) {
    bytes = mem.subarray(start, end);
  } else {
    const reader = await blobs!.read(id, { start, end, signal });
    if (!reader) throw new ApiError('NOT_FOUND', `blob ${id} is not stored`);
    bytes = reader.chunks;
  }
  if (range) {
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${start}-${end - 1}/${size}`);
  }
  ctx.length = end - start;
  return bytes;
}
