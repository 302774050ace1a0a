/**
 * A loopback HTTP server with the two agent routes of the inventory protocol (ADR 0018 §5,
 * schemas/inventory-protocol.ts) and the catalog route's X-Stead-Tracking header, for the
 * agent's tracking loop tests until the real server routes land. It checks every request's
 * signature as server/api/auth.ts does (X-Stead-* headers present, time within the skew, a
 * fresh nonce, the declared body hash equal to the body's, an Ed25519 signature over
 * schemas/protocol.ts canonicalRequest with the agent's public key, the host of the route),
 * validates the report with the schema (400 otherwise), and answers the tracking config with an
 * ETag / 304.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { agentInventoryReportSchema, compileGuard, type AgentInventoryReport, type Guard, type TrackingConfig } from '../../schemas/index.js';
import { canonicalRequest } from '../../schemas/protocol.js';

const isReport: Guard<AgentInventoryReport> = compileGuard(agentInventoryReportSchema);

export interface InventoryServer {
  readonly url: string;
  /** The config served (replace it to change the version). */
  config: TrackingConfig;
  /** Answer 404 to the inventory routes (an older server). */
  notSupported: boolean;
  /** The configVersion acks name (default: config.version). */
  ackVersion: string | undefined;
  /** Called when a report was accepted, before the ack is written (to change the config meanwhile). */
  onReport: ((r: AgentInventoryReport) => void) | undefined;
  /** "GET tracking 200", "GET tracking 304", "PUT inventory 200", "GET catalog", "REFUSED …". */
  readonly requests: string[];
  readonly reports: AgentInventoryReport[];
  /** If-None-Match of each tracking GET. */
  readonly ifNoneMatch: (string | undefined)[];
  until(pred: () => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startInventoryServer(host: string, publicKeyPem: string, config: TrackingConfig): Promise<InventoryServer> {
  const key = createPublicKey(publicKeyPem);
  const nonces = new Set<string>();
  const base = `/api/v1/hosts/${encodeURIComponent(host)}`;
  const state: Omit<InventoryServer, 'url' | 'until' | 'close'> = { config, notSupported: false, ackVersion: undefined, onReport: undefined, requests: [], reports: [], ifNoneMatch: [] };
  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const refuse = (res: http.ServerResponse, why: string): void => {
    state.requests.push(`REFUSED ${why}`);
    json(res, 401, { error: { code: 'BAD_SIGNATURE', message: why } });
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const h = (n: string): string => String(req.headers[n] ?? '');
      const [sigHost, time, nonce, signature, declared] = ['x-stead-host', 'x-stead-time', 'x-stead-nonce', 'x-stead-signature', 'x-stead-body-sha256'].map(h) as [string, string, string, string, string];
      if (!sigHost || !time || !nonce || !signature) return refuse(res, 'unsigned');
      if (sigHost !== host) return refuse(res, 'another host');
      if (Math.abs(Date.now() - Number(time)) > 5 * 60_000) return refuse(res, 'clock skew');
      if (!/^[A-Za-z0-9_+/=-]{16,128}$/.test(nonce) || nonces.has(nonce)) return refuse(res, 'nonce reused');
      const bodySha = createHash('sha256').update(body).digest('hex');
      if (declared !== '' && declared !== bodySha) return refuse(res, 'body hash');
      const signed = canonicalRequest({ method: req.method ?? '', pathWithQuery: req.url ?? '', host: sigHost, time, nonce, bodySha256: bodySha });
      if (!verify(null, Buffer.from(signed, 'utf8'), key, Buffer.from(signature, 'base64'))) return refuse(res, 'signature');
      nonces.add(nonce);
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method === 'GET' && path === `${base}/catalog`) {
        state.requests.push('GET catalog');
        res.writeHead(304, { 'x-stead-tracking': state.config.version });
        res.end();
        return;
      }
      if (state.notSupported && (path === `${base}/tracking` || path === `${base}/inventory`)) {
        state.requests.push(`404 ${req.method} ${path.slice(base.length + 1)}`);
        return json(res, 404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
      }
      if (req.method === 'GET' && path === `${base}/tracking`) {
        const inm = req.headers['if-none-match'];
        state.ifNoneMatch.push(typeof inm === 'string' ? inm : undefined);
        if (inm === `"${state.config.version}"`) {
          state.requests.push('GET tracking 304');
          res.writeHead(304, { etag: `"${state.config.version}"` });
          res.end();
          return;
        }
        state.requests.push('GET tracking 200');
        return json(res, 200, state.config, { etag: `"${state.config.version}"` });
      }
      if (req.method === 'PUT' && path === `${base}/inventory`) {
        let data: unknown;
        try {
          data = JSON.parse(body.toString('utf8'));
        } catch {
          data = undefined;
        }
        if (!isReport.is(data)) {
          state.requests.push('PUT inventory 400');
          return json(res, 400, { error: { code: 'INVALID', message: isReport.check(data).map((p) => `${p.path} ${p.message}`).join('; ') } });
        }
        state.requests.push('PUT inventory 200');
        state.reports.push(data);
        state.onReport?.(data);
        return json(res, 200, { accepted: true, configVersion: state.ackVersion ?? state.config.version });
      }
      json(res, 404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const out = state as InventoryServer & typeof state;
  Object.assign(out, {
    url,
    async until(pred: () => boolean, ms = 30_000): Promise<void> {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out; requests: ${state.requests.join(', ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  });
  return out;
}
