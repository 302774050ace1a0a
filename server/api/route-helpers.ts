/** Small pieces every route table uses: the error response of OpenAPI, and the calling operator. */
import { errorBodySchema } from '../../schemas/api/error.js';
import { ApiError } from '../domain/errors.js';
import type { AppContext, OperatorPrincipal } from './app-state.js';

/** An error response of the route table (OpenAPI): its description, with the error body schema. */
export const errorResponse = (description: string) => ({ description, schema: errorBodySchema });

/** The operator behind the request; UNAUTHENTICATED when it is not an operator's. */
export function operatorOf(ctx: AppContext): OperatorPrincipal {
  const p = ctx.state.principal;
  if (!p || p.kind !== 'operator') throw new ApiError('UNAUTHENTICATED', 'an operator token is required');
  return p;
}
