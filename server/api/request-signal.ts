import type { AppContext } from './app-state.js';

/** An AbortSignal that fires when the client goes away before the response is sent. */
export function requestSignal(ctx: AppContext): AbortSignal {
  const ac = new AbortController();
  const onClose = (): void => {
    if (!ctx.res.writableFinished) ac.abort(new Error('client closed the connection'));
  };
  ctx.res.once('close', onClose);
  return ac.signal;
}
