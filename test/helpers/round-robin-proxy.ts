/**
 * A tiny HTTP load balancer for cluster tests: each request goes to the next backend in turn.
 * A backend that refuses the connection (a killed server) is skipped for that request and the
 * next one is tried: nothing reached it, so trying another cannot run a request twice. Any
 * other failure after the request was sent answers 502, as a real load balancer would, and the
 * client retries as it does against a load balancer. Bodies are buffered (bounded) so a
 * refused request can be sent again; answers are streamed (long polls pass through).
 *
 * The last `keep` requests are recorded with their headers, body and the backend that answered,
 * so a test can replay one to another backend (a signed agent request's nonce).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the proxy forwarded, and who answered it. */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** Index into the backends of the one that answered. */
  readonly backend: number;
  readonly status: number;
}

export interface RoundRobinProxy {
  readonly port: number;
  readonly url: string;
  /** Requests forwarded so far, by backend index. */
  readonly served: number[];
  /** The most recent requests answered (oldest first). */
  readonly recent: ProxiedRequest[];
  close(): Promise<void>;
}

const maxBody = 64 * 1024 * 1024;

/** Starts the proxy on 127.0.0.1 (a free port) in front of `backends` (base URLs, http only). */
export async function startRoundRobinProxy(backends: readonly string[], opts: { keep?: number } = {}): Promise<RoundRobinProxy> {
  const keep = opts.keep ?? 500;
  const targets = backends.map((b) => new URL(b));
  const served = targets.map(() => 0);
  const recent: ProxiedRequest[] = [];
  let next = 0;
  const agent = new http.Agent({ keepAlive: false });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) {
        res.writeHead(413).end('proxy: body too large');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const first = next++ % targets.length;
      const attempt = (tried: number): void => {
        if (tried >= targets.length) {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('proxy: no backend answered');
          return;
        }
        const i = (first + tried) % targets.length;
        const target = targets[i]!;
        const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent }, (upRes) => {
          served[i]!++;
          recent.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body, backend: i, status: upRes.statusCode ?? 0 });
          if (recent.length > keep) recent.shift();
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
          upRes.on('error', () => res.destroy());
        });
        up.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'ECONNREFUSED' && !res.headersSent) {
            attempt(tried + 1);
            return;
          }
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`proxy: ${err.message}`);
          else res.destroy();
        });
        // A client that goes away (a poll replaced, an agent stopped) ends the upstream request too.
        res.on('close', () => {
          if (!res.writableFinished) up.destroy();
        });
        up.end(body);
      };
      attempt(0);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    served,
    recent,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
      agent.destroy();
    }),
  };
}
