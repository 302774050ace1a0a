import type { Middleware } from 'koa';
import { SchemaError } from '../../schemas/validate.js';
import { ApiError } from '../domain/errors.js';
import { redactDeep } from '../domain/redact-paths.js';
import type { AppState } from './app-state.js';

/**
 * Turns every thrown error into the JSON error body `{ error: { code, message, requestId, details? } }`.
 * ApiError and SchemaError keep their code and message; Koa's own client errors (4xx with
 * `expose`) map to BAD_REQUEST; anything else is a 500 whose message is hidden and logged.
 * A 404 with no body (no route matched) becomes NOT_FOUND.
 */
export function errorMiddleware(): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError('NOT_FOUND', `no route for ${ctx.method} ${ctx.path.slice(0, 200)}`);
      }
      if (ctx.status === 405 && ctx.body === undefined) {
        throw new ApiError('METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path.slice(0, 200)}`);
      }
    } catch (err) {
      let status: number;
      let code: string;
      let message: string;
      let details: unknown;
      if (err instanceof ApiError) {
        ({ status, code, message, details } = err);
        if (err.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(err.retryAfterSeconds));
      } else if (err instanceof SchemaError) {
        status = 400;
        code = 'SCHEMA_INVALID';
        message = err.message;
        details = { problems: err.problems };
      } else if (isHttpError(err) && err.status >= 400 && err.status < 500) {
        status = err.status;
        code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'BAD_REQUEST';
        message = err.expose ? err.message : 'bad request';
      } else {
        status = 500;
        code = 'INTERNAL';
        message = 'internal error; the request id locates it in the server log';
        ctx.state.log?.error('unhandled error', { err });
      }
      // Messages from deep inside (a compiler problem naming a checkout folder) never show where
      // the server keeps its data.
      const redact = ctx.state.redactPaths;
      if (redact) {
        message = redact(message);
        if (details !== undefined) details = redactDeep(details, redact);
      }
      ctx.status = status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: { code, message, requestId: ctx.state.requestId ?? '', ...(details !== undefined ? { details } : {}) } };
      if (status === 401) ctx.set('WWW-Authenticate', ctx.path.startsWith('/api/v1/') ? 'Bearer realm="stead"' : 'Bearer');
      // A body the server refused without reading it is not drained over a kept-alive
      // connection: the connection is closed after this answer (body.ts).
      if (!ctx.req.complete) ctx.set('Connection', 'close');
    }
  };
}

function isHttpError(err: unknown): err is { status: number; expose?: boolean; message: string } {
  return typeof err === 'object' && err !== null && typeof (err as { status?: unknown }).status === 'number';
}
