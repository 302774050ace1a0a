/**
 * Reading request bodies at the edge: a Content-Type check (415 for anything but the route's
 * accepted types), a byte limit enforced while streaming (413), then JSON parsing and schema
 * validation (400 with located problems). Nothing here trusts Content-Length alone. Bodies of
 * senders not yet authenticated are held within a global byte budget (503 beyond it).
 */
import { createHash } from 'node:crypto';
import type { Guard } from '../../schemas/validate.js';
import { ApiError } from '../domain/errors.js';
import type { AppContext } from './app-state.js';

/** Seconds a client refused for a full unauthenticated-body budget is asked to wait. */
export const busyRetryAfterSeconds = 5;

/**
 * Reads the raw body once (cached on ctx.state.rawBody), refusing more than `limit` bytes (413).
 *
 * Before the sender is known (no ctx.state.principal), every byte held counts against the app's
 * global budget of unauthenticated body bytes (ctx.state.bodyBudget): a body that does not fit
 * is refused with 503 SERVER_BUSY and Retry-After, so a flood of bodies naming an enrolled host
 * holds at most that budget. The bytes are given back once the body is read (the caller checks
 * the signature at once, synchronously).
 *
 * With ctx.state.expectedBodySha256 (a signed request whose body hash was verified before the
 * body was read: auth.ts), the body is hashed as it streams and a mismatch is 401 BAD_SIGNATURE.
 */
export async function readRawBody(ctx: AppContext, limit: number): Promise<Buffer> {
  if (ctx.state.rawBody) return ctx.state.rawBody;
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limit) throw new ApiError('PAYLOAD_TOO_LARGE', `request body is larger than the ${limit}-byte limit of this route`);
  const budget = ctx.state.principal === undefined ? ctx.state.bodyBudget : undefined;
  // A declared length that cannot fit is refused before a byte is read.
  if (budget && declared > 0 && declared > budget.capacity - budget.held) throw busy();
  const expected = ctx.state.expectedBodySha256;
  const hash = expected !== undefined ? createHash('sha256') : undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const req = ctx.req;
      const fail = (err: ApiError): void => {
        cleanup();
        req.resume();
        reject(err);
      };
      const onData = (chunk: Buffer): void => {
        if (size + chunk.length > limit) return fail(new ApiError('PAYLOAD_TOO_LARGE', `request body is larger than the ${limit}-byte limit of this route`));
        if (budget && !budget.tryTake(chunk.length)) return fail(busy());
        size += chunk.length;
        hash?.update(chunk);
        chunks.push(chunk);
      };
      const onEnd = (): void => {
        cleanup();
        resolve();
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(new ApiError('BAD_REQUEST', `request body could not be read: ${err.message}`));
      };
      const cleanup = (): void => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('aborted', onAborted);
      };
      const onAborted = (): void => {
        cleanup();
        reject(new ApiError('BAD_REQUEST', 'request aborted by the client'));
      };
      if (req.readableEnded) {
        resolve();
        return;
      }
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('aborted', onAborted);
    });
  } catch (err) {
    chunks.length = 0;
    throw err;
  } finally {
    budget?.release(size);
  }
  if (hash && hash.digest('hex') !== expected) throw new ApiError('BAD_SIGNATURE', 'the body does not match X-Stead-Body-Sha256 (the signed body hash)');
  const body = Buffer.concat(chunks, size);
  ctx.state.rawBody = body;
  return body;
}

function busy(): ApiError {
  return new ApiError('SERVER_BUSY', 'the server holds too many unauthenticated request bodies right now; retry later').retryAfter(busyRetryAfterSeconds);
}

/** The media type of the request without parameters, lower-cased ("" when absent). */
export function mediaType(ctx: AppContext): string {
  return (ctx.get('content-type').split(';')[0] ?? '').trim().toLowerCase();
}

/** 415 unless the request's media type is one of `accepted`. */
export function requireMediaType(ctx: AppContext, accepted: readonly string[]): string {
  const type = mediaType(ctx);
  if (!accepted.includes(type)) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be ${accepted.join(' or ')}${type ? `, not ${type.slice(0, 100)}` : ''}`);
  }
  return type;
}

const maxDepth = 64;

/**
 * Parses a JSON body: strict UTF-8 (invalid byte sequences are refused), no depth beyond 64,
 * no keys "__proto__", "constructor" or "prototype" anywhere (they are refused rather than
 * stored, so no later merge can turn them into prototype pollution).
 */
export function parseJson(raw: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new ApiError('INVALID_JSON', 'request body is not valid UTF-8');
  }
  if (text.trim() === '') throw new ApiError('INVALID_JSON', 'request body is empty; a JSON document is required');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ApiError('INVALID_JSON', `request body is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  checkShape(value);
  return value;
}

const forbiddenKeys = new Set(['__proto__', 'constructor', 'prototype']);

/** Iterative walk (no recursion, so deep nesting cannot overflow the stack). */
function checkShape(root: unknown): void {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: root, depth: 0, path: '' }];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= maxDepth) throw new ApiError('INVALID_JSON', `request body nests deeper than ${maxDepth} levels at ${path.slice(0, 200) || '/'}`);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], depth: depth + 1, path: `${path}/${i}` });
    } else {
      for (const k of Object.keys(v)) {
        if (forbiddenKeys.has(k)) throw new ApiError('INVALID_JSON', `key "${k}" is not allowed (at ${path || '/'})`, { path: `${path}/${k}` });
        stack.push({ v: (v as Record<string, unknown>)[k], depth: depth + 1, path: `${path}/${k}` });
      }
    }
  }
}

/** Reads, parses and validates a JSON body against `guard`; 400 SCHEMA_INVALID lists every problem. */
export async function jsonBody<T>(ctx: AppContext, guard: Guard<T>, limit: number): Promise<T> {
  requireMediaType(ctx, ['application/json']);
  const value = parseJson(await readRawBody(ctx, limit));
  const problems = guard.check(value);
  if (problems.length > 0) {
    throw new ApiError('SCHEMA_INVALID', `request body is invalid: ${problems.map((p) => `${p.path || '/'} ${p.message}`).join('; ').slice(0, 1000)}`, { problems });
  }
  return value as T;
}
