/**
 * What a feature's console pages (scripts, jobs, ...) get from the console router: the session's
 * operator, same-origin form reading, the HTML answer with the console's headers, and the page
 * frame the layout needs. Built by console-routes.ts; pages register their own routes with it.
 */
import type { AppContext } from '../api/app-state.js';
import type { Operator } from '../services/operator-auth-service.js';
import type { Services } from '../services/services.js';

export interface ConsoleKit {
  readonly services: Services;
  /** The session's operator; for a GET without a session it redirects to /login and returns undefined, otherwise throws UNAUTHENTICATED. */
  operator(ctx: AppContext): Operator | undefined;
  /** A same-origin application/x-www-form-urlencoded body (FORBIDDEN cross-origin, 415 other types, 413 beyond `limit`, default 8 KiB). */
  readForm(ctx: AppContext, limit?: number): Promise<URLSearchParams>;
  /** Whether a post comes from this origin (Origin, else Referer); forms read another way than readForm must check it. */
  sameOrigin(ctx: AppContext): boolean;
  /** Answers HTML with the console's CSP and cache headers. */
  html(ctx: AppContext, body: string, status?: number): void;
  /** The layout's context (operator, nav, pending count, now); a `refreshable` page reloads itself every few seconds unless `?refresh=0`. */
  frame(ctx: AppContext, op: Operator, nav: string, refreshable?: boolean): Promise<Record<string, unknown>>;
}
