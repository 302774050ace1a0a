/**
 * createHttpServer: the node:http(s) server in front of the Koa callback, with the timeouts
 * that cut slow clients off (security.md A8, slowloris): a client must finish its request
 * headers within `headersTimeoutMs` and its whole request within `requestTimeoutMs`, or the
 * server closes the socket. Idle keep-alive connections are kept `keepAliveTimeoutMs`, long
 * enough for an agent's poll interval behind most load balancers.
 */
import http from 'node:http';
import https from 'node:https';

/** Timeouts of the listening socket (milliseconds). */
export interface HttpTimeouts {
  /** Time a client has to send the complete request headers. Default 15 s. */
  readonly headersTimeoutMs?: number;
  /** Time a client has to send the complete request (headers and body). Default 120 s. */
  readonly requestTimeoutMs?: number;
  /** Idle time of a keep-alive connection before the server closes it. Default 75 s. */
  readonly keepAliveTimeoutMs?: number;
}

export const defaultHttpTimeouts = { headersTimeoutMs: 15_000, requestTimeoutMs: 120_000, keepAliveTimeoutMs: 75_000 } as const;

export type RequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * Creates (does not start) an HTTP server, or HTTPS when `tls` is given. Throws RangeError for a
 * timeout that is not a positive integer, or a request timeout shorter than the headers timeout.
 */
export function createHttpServer(callback: RequestListener, timeouts: HttpTimeouts = {}, tls?: { readonly cert: Buffer; readonly key: Buffer }): http.Server {
  const headersTimeout = timeouts.headersTimeoutMs ?? defaultHttpTimeouts.headersTimeoutMs;
  const requestTimeout = timeouts.requestTimeoutMs ?? Math.max(defaultHttpTimeouts.requestTimeoutMs, headersTimeout);
  const keepAliveTimeout = timeouts.keepAliveTimeoutMs ?? defaultHttpTimeouts.keepAliveTimeoutMs;
  for (const [name, v] of [['headersTimeoutMs', headersTimeout], ['requestTimeoutMs', requestTimeout], ['keepAliveTimeoutMs', keepAliveTimeout]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer of milliseconds`);
  }
  if (requestTimeout < headersTimeout) throw new RangeError('requestTimeoutMs must not be shorter than headersTimeoutMs');
  // Node checks the headers and request timeouts on an interval (30 s by default): check often
  // enough that a short timeout is enforced close to its value.
  const connectionsCheckingInterval = Math.max(100, Math.min(30_000, Math.floor(headersTimeout / 4)));
  const options = { headersTimeout, requestTimeout, keepAliveTimeout, connectionsCheckingInterval };
  return tls ? https.createServer({ ...options, cert: tls.cert, key: tls.key }, callback) : http.createServer(options, callback);
}
