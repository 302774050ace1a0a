/**
 * What the middleware chain puts on ctx.state, and the context type handlers receive.
 */
import type { RouterContext } from '@koa/router';
import type { ByteBudget } from '../domain/byte-budget.js';
import type { PathRedactor } from '../domain/redact-paths.js';
import type { Logger } from '../log.js';
import type { Role, Scope } from '../domain/roles.js';

/** An agent proven by a signed request (identity from the signature only, never from the body). */
export interface AgentPrincipal {
  readonly kind: 'agent';
  readonly host: string;
  readonly fingerprint: string;
  /** approved: may use agent routes; pending: may only ask for its status. */
  readonly status: 'approved' | 'pending';
}

export type OperatorRole = Role;

export interface OperatorPrincipal {
  readonly kind: 'operator';
  readonly name: string;
  readonly role: OperatorRole;
  /** Business lines and IDCs the operator may act on (absent: all). */
  readonly scope?: Scope;
  /** How the operator authenticated: a bearer token or a console session cookie. */
  readonly via: 'token' | 'session';
}

export type Principal = AgentPrincipal | OperatorPrincipal;

export interface AppState {
  requestId: string;
  log: Logger;
  /** The raw request body, read once with the route's size limit (signed requests hash it). */
  rawBody?: Buffer;
  /** The global budget of body bytes held before the sender is authenticated (body.ts). */
  bodyBudget?: ByteBudget;
  /** Replaces the server's data directory in text a client will see (error middleware, preview). */
  redactPaths?: PathRedactor;
  /** The body hash a verified signature covers; readRawBody checks the body against it. */
  expectedBodySha256?: string;
  principal?: Principal;
  /** The route template matched ("/api/v1/hosts/:host/catalog"), for metrics and logs. */
  routeName?: string;
}

export type AppContext = RouterContext<AppState>;
