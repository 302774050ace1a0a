import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../log.js';
import type { AppState } from './app-state.js';

const acceptable = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Sets ctx.state.requestId (a well-formed incoming X-Request-Id is kept, anything else is
 * replaced) and the X-Request-Id response header, binds a child logger, and writes one
 * access-log line per request.
 */
export function requestId(log: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const id = acceptable.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.state.log = log.child({ requestId: id });
    ctx.set('X-Request-Id', id);
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const p = ctx.state.principal;
      ctx.state.log.info('request', {
        method: ctx.method,
        route: ctx.state.routeName ?? ctx.path.slice(0, 200),
        status: ctx.status,
        ms: Math.round(ms * 100) / 100,
        ...(p ? { principal: p.kind === 'agent' ? `agent:${p.host}` : `operator:${p.name}` } : {}),
      });
    }
  };
}
