/** Sends a job or plan page through the console kit: the layout's frame, then the view, then the HTML answer. */
import type { AppContext } from '../../api/app-state.js';
import type { Operator } from '../../services/operator-auth-service.js';
import type { ConsoleKit } from '../console-kit.js';

export type SendPage = (ctx: AppContext, op: Operator, opts: { nav: string; refreshable: boolean; status?: number }, render: (frame: Record<string, unknown>) => string) => Promise<void>;

export function sendPage(kit: ConsoleKit): SendPage {
  return async (ctx, op, opts, render) => kit.html(ctx, render(await kit.frame(ctx, op, opts.nav, opts.refreshable)), opts.status);
}
