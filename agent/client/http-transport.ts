/**
 * A small HTTP(S) transport on node:http/node:https: keep-alive agents, an optional CA bundle
 * for TLS (--ca), an AbortSignal per request, a per-request timeout and a cap on the response
 * size. Returns the whole response body; streaming is not needed for catalogs and blobs of the
 * sizes the agent fetches today (the cap is configurable).
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface TransportOptions {
  /** PEM CA certificates trusted for https:// servers (replaces the system CAs when set). */
  readonly ca?: string | Buffer | undefined;
  /** Per-request timeout (no bytes for this long aborts the request). Default 30 s. */
  readonly timeoutMs?: number;
  /** Largest response body accepted. Default 512 MiB. */
  readonly maxBodyBytes?: number;
  /** Connections kept per server. Default 4 (one agent); a fleet simulator shares one transport. */
  readonly maxSockets?: number;
}

export interface RequestOptions {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer | undefined;
  readonly signal: AbortSignal;
  /** Overrides the transport's timeout for this request (long-polls). */
  readonly timeoutMs?: number;
}

/** A network-level failure (connection refused, reset, timeout, TLS). Always retryable. */
export class TransportError extends Error {
  constructor(
    readonly code: 'NETWORK' | 'TIMEOUT' | 'TOO_LARGE' | 'ABORTED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

export class HttpTransport {
  readonly #http: http.Agent;
  readonly #https: https.Agent;
  readonly #timeoutMs: number;
  readonly #maxBody: number;

  constructor(opts: TransportOptions = {}) {
    const maxSockets = opts.maxSockets ?? 4;
    this.#http = new http.Agent({ keepAlive: true, maxSockets });
    this.#https = new https.Agent({ keepAlive: true, maxSockets, ...(opts.ca !== undefined ? { ca: opts.ca } : {}) });
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#maxBody = opts.maxBodyBytes ?? 512 * 1024 * 1024;
  }

  request(url: URL, opts: RequestOptions): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      if (opts.signal.aborted) {
        reject(new TransportError('ABORTED', 'request aborted', { cause: opts.signal.reason }));
        return;
      }
      const isHttps = url.protocol === 'https:';
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.body) headers['content-length'] = String(opts.body.length);
      const req = (isHttps ? https : http).request(url, {
        method: opts.method,
        headers,
        agent: isHttps ? this.#https : this.#http,
        signal: opts.signal,
        timeout: opts.timeoutMs ?? this.#timeoutMs,
      });
      let settled = false;
      const fail = (err: TransportError): void => {
        if (settled) return;
        settled = true;
        req.destroy();
        reject(err);
      };
      req.on('timeout', () => fail(new TransportError('TIMEOUT', `${opts.method} ${url.pathname}: no response within ${opts.timeoutMs ?? this.#timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (opts.signal.aborted) fail(new TransportError('ABORTED', 'request aborted', { cause: err }));
        else fail(new TransportError('NETWORK', `${opts.method} ${url.origin}${url.pathname}: ${err.code ?? err.message}`, { cause: err }));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.#maxBody) {
            res.destroy();
            fail(new TransportError('TOO_LARGE', `${opts.method} ${url.pathname}: response larger than ${this.#maxBody} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) => fail(new TransportError('NETWORK', `${opts.method} ${url.pathname}: ${err.message}`, { cause: err })));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      req.end(opts.body);
    });
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
