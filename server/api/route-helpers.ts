/** Small pieces every route table uses: the error response of OpenAPI, and the calling operator. */
import { errorBodySchema } from '../../schemas/api/error.js';
import { ApiError } from '../domain/errors.js';
import type { AuditActor } from '../services/audit-log.js';
import type { AppContext, OperatorPrincipal } from './app-state.js';

/** An error response of the route table (OpenAPI): its description, with the error body schema. */
export const errorResponse = (description: string) => ({ description, schema: errorBodySchema });

/** The operator behind the request; UNAUTHENTICATED when it is not an operator's. */
export function operatorOf(ctx: AppContext): OperatorPrincipal {
  const p = ctx.state.principal;
  if (!p || p.kind !== 'operator') throw new ApiError('UNAUTHENTICATED', 'an operator token is required');
  return p;
}

/** The calling operator and the client address, for the audit log. */
export function auditActorOf(ctx: AppContext): AuditActor {
  return { name: operatorOf(ctx).name, address: ctx.ip };
}

/**
 * Sets a strong ETag (and private, no-cache) and answers 304 when If-None-Match names it (or *).
 * Returns true when the 304 is set: the handler writes no body.
 */
export function answerNotModified(ctx: AppContext, tag: string): boolean {
  const etag = `"${tag}"`;
  ctx.set('ETag', etag);
  ctx.set('Cache-Control', 'private, no-cache');
  const inm = ctx.get('if-none-match');
  if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')) {
    ctx.status = 304;
    return true;
  }
  return false;
}
