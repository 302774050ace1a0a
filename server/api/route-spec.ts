/**
 * The route table's shape. Every route states its auth, body, responses and handler in one
 * place; the router, the OpenAPI document and the census test all read the same table.
 */
import type { Services } from '../services/services.js';
import type { AppContext } from './app-state.js';
import type { AuthKind } from './auth.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface SchemaRef {
  readonly $id: string;
}

export interface RouteSpec {
  readonly method: Method;
  /** Koa-router path, e.g. "/api/v1/hosts/:host/catalog". */
  readonly path: string;
  readonly auth: AuthKind;
  readonly summary: string;
  readonly tag: string;
  /** Body accepted: media types, size limit, and the schema of the JSON form. */
  /**
   * Body accepted: media types, size limit, and the schema of the JSON form. `limit` is the
   * default (and what OpenAPI states); `configuredLimit` reads the running server's own.
   */
  readonly body?: { readonly types: readonly string[]; readonly limit: number; readonly configuredLimit?: (s: Services) => number; readonly schema?: SchemaRef & object; readonly optional?: boolean };
  readonly query?: Readonly<Record<string, { readonly description: string; readonly schema: object }>>;
  readonly responses: Readonly<Record<number, { readonly description: string; readonly schema?: SchemaRef & object; readonly type?: string }>>;
  readonly handler: (ctx: AppContext, services: Services) => Promise<void>;
  /**
   * The audit log actions a successful request records (each once per target), or `{ none }`
   * with the reason for a write route that changes nothing (a plan, a listing). Every
   * operator route that is not a GET must declare it: the router checks each successful
   * request against it (a service calls auditUnchanged() for a request that changed nothing,
   * e.g. a dry run), and the route census proves each is recorded.
   */
  readonly audit?: readonly string[] | { readonly none: string };
}

/** Largest body of an agent request without its own limit. */
export const defaultBodyLimit = 1024 * 1024;
