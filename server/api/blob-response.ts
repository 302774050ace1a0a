/**
 * Sending a blob with single-range support (RFC 9110 §14): "bytes=a-b", "bytes=a-" and
 * "bytes=-n"; several ranges or an unparsable header get the whole blob; a range starting past
 * the end gets 416 with Content-Range "bytes * /size".
 */
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
  try {
    await serveBlob(ctx, source, id, signal);
  } catch (err) {
    slot.release();
    throw err;
  }
  const data = ctx.body as Buffer;
  ctx.body = limiter.stream(data, slot, signal);
  ctx.length = data.length;
}

/** Serves blob `id` from the store, or from memory when given its bytes (sensitive blobs). */
export async function serveBlob(ctx: AppContext, source: BlobStore | Buffer, id: string, signal: AbortSignal): Promise<void> {
  const blobs: BlobStore | undefined = Buffer.isBuffer(source) ? undefined : source;
  const mem = Buffer.isBuffer(source) ? source : undefined;
  const st = mem ? { size: mem.length } : await blobs!.stat(id);
  if (!st) throw new ApiError('NOT_FOUND', `blob ${id} is not stored`);
  ctx.set('Accept-Ranges', 'bytes');
  ctx.set('ETag', `"${id}"`);
  ctx.set('Cache-Control', mem ? 'private, no-store' : 'private, max-age=31536000, immutable');
  ctx.type = 'application/octet-stream';
  const rangeHeader = ctx.get('range');
  const range = rangeHeader ? parseRange(rangeHeader, st.size) : undefined;
  if (range === 'unsatisfiable') {
    ctx.set('Content-Range', `bytes */${st.size}`);
    throw new ApiError('RANGE_NOT_SATISFIABLE', `range ${rangeHeader.slice(0, 100)} is outside the ${st.size}-byte blob`);
  }
  if (range) {
    const data = mem ? mem.subarray(range.start, range.end) : await blobs!.getRange(id, range.start, range.end, { signal });
    if (!data) throw new ApiError('NOT_FOUND', `blob ${id} is not stored`);
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${range.start}-${range.end - 1}/${st.size}`);
    ctx.body = data;
    return;
  }
  const data = mem ?? (await blobs!.get(id, { signal }));
  if (!data) throw new ApiError('NOT_FOUND', `blob ${id} is not stored`);
  ctx.body = data;
}
