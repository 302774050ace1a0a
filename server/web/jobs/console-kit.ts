/**
 * What the console router lends to its feature pages: the session check, the guarded form
 * reader (same origin, form media type, bounded) and the page sender (frame: nav, operator,
 * refresh; CSP and no-store headers). console-routes.ts builds it; feature folders use it.
 */
import type { AppContext } from '../../api/app-state.js';
import type { Operator } from '../../services/operator-auth-service.js';

export interface ConsoleKit {
  /** The session's operator; a GET without a session is redirected to /login (undefined), any other method is 401. */
  operator(ctx: AppContext): Operator | undefined;
  /** A same-origin, form-encoded body of at most `limit` bytes (403 / 415 / 413 otherwise). */
  readForm(ctx: AppContext, limit?: number): Promise<URLSearchParams>;
  /**
   * Sends an HTML page: `render` gets the shared frame (operator, role, nav, refresh, …).
   * `refreshable` pages reload themselves every few seconds unless `?refresh=0`.
   */
  send(ctx: AppContext, op: Operator, opts: { nav: string; refreshable: boolean; status?: number }, render: (frame: Record<string, unknown>) => string): Promise<void>;
}
