/**
 * Test fixture for the server: composeServer on a temporary data dir with a ManualClock,
 * served in-process on 127.0.0.1 (app.callback()), plus a raw HTTP client (exact bytes and
 * headers) and test agents that sign requests with the agent's own signing code.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newNonce, signRequest } from '../../agent/identity/request-signature.js';
import { composeServer, type ComposedServer, type ServerConfig } from '../../server/compose.js';
import { ManualClock } from '../../server/domain/clock.js';
import { createLogger } from '../../server/log.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/dist\/$/, '/');
export const demoDir = join(repoRoot, 'manifests', 'demo');

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  json(): any;
}

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
}

/** An HTTP request with exactly these headers and body (keep-alive off). */
export function rawRequest(base: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(req.path, base);
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    const r = http.request(
      { host: url.hostname, port: url.port, method: req.method, path: req.path, headers: { connection: 'close', ...(body ? { 'content-length': String(body.length) } : {}), ...req.headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, json: () => JSON.parse(b.toString('utf8')) });
        });
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

/** Every file of a directory as path → UTF-8 content (the JSON upload form). */
export function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out[relative(dir, full)] = readFileSync(full, 'utf8');
    }
  };
  walk(dir);
  return out;
}

export function demoSecretKey(): Buffer {
  return Buffer.from(readFileSync(join(repoRoot, 'manifests', 'demo-secret.key'), 'utf8').trim(), 'hex');
}

export class TestAgent {
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
  constructor(
    readonly fx: ServerFixture,
    readonly host: string,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.privateKey = privateKey;
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  enroll(bootstrapToken?: string, host = this.host): Promise<RawResponse> {
    return this.fx.json('POST', '/api/v1/agents/enroll', { host, publicKey: this.publicKeyPem, ...(bootstrapToken ? { bootstrapToken } : {}) });
  }

  /** The signature headers for a request (override any part to forge). */
  sign(method: string, path: string, body?: Buffer, o: { time?: number; nonce?: string; host?: string } = {}): Record<string, string> {
    return signRequest({ method, pathWithQuery: path, body, host: o.host ?? this.host, timeMs: o.time ?? this.fx.clock.now(), nonce: o.nonce ?? newNonce() }, this.privateKey);
  }

  /** A signed request; a JSON value body is serialised. */
  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, o: { time?: number; nonce?: string; host?: string } = {}): Promise<RawResponse> {
    const raw = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    return rawRequest(this.fx.base, {
      method,
      path,
      headers: { ...(raw ? { 'content-type': 'application/json' } : {}), ...this.sign(method, path, raw, o), ...headers },
      ...(raw ? { body: raw } : {}),
    });
  }
}

export interface ServerFixture {
  readonly base: string;
  readonly clock: ManualClock;
  readonly server: ComposedServer;
  readonly adminToken: string;
  readonly logs: string[];
  /** An operator request with the admin token (or `token`). */
  json(method: string, path: string, body?: unknown, token?: string | null, headers?: Record<string, string>): Promise<RawResponse>;
  agent(host: string): TestAgent;
  /** Creates a token of `role` and returns it. */
  token(role: 'admin' | 'readonly' | 'operator' | 'viewer', name?: string, scope?: { business?: string[]; idc?: string[] }): Promise<string>;
  /** Publishes a repository given as path → content; resolves the response. */
  publish(files: Record<string, string>): Promise<RawResponse>;
  /** Enrolls `host` with a bootstrap token: an approved agent. */
  approvedAgent(host: string): Promise<TestAgent>;
  close(): Promise<void>;
}

interface TapLike {
  testdir(): string;
  teardown(fn: () => unknown): void;
}

export async function startServer(t: TapLike, config: Partial<ServerConfig> = {}): Promise<ServerFixture> {
  const dataDir = t.testdir();
  // A test that drives time itself passes its ManualClock; the fixture's agents sign with it too.
  const clock = config.clock instanceof ManualClock ? config.clock : new ManualClock(Date.parse('2026-11-26T10:00:00Z'));
  const logs: string[] = [];
  const server = await composeServer({
    dataDir,
    clock,
    log: createLogger({ write: (l) => void logs.push(l), level: 'debug' }),
    secretKey: demoSecretKey(),
    identityTtlMs: 0,
    liveTtlMs: 0,
    defaultMetrics: false,
    // A change route that succeeds without recording its declared audit actions answers 500.
    strictAudit: true,
    ...config,
  });
  const httpServer = http.createServer(server.app.app.callback());
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  let closed = false;
  const fx: ServerFixture = {
    base,
    clock,
    server,
    adminToken: server.adminToken.token,
    logs,
    json(method, path, body, token, headers = {}) {
      const raw = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const tok = token === undefined ? server.adminToken.token : token;
      return rawRequest(base, {
        method,
        path,
        headers: { ...(raw ? { 'content-type': 'application/json' } : {}), ...(tok ? { authorization: `Bearer ${tok}` } : {}), ...headers },
        ...(raw ? { body: raw } : {}),
      });
    },
    agent: (host) => new TestAgent(fx, host),
    async token(role, name = `${role}-user`, scope) {
      const r = await fx.json('POST', '/api/v1/operator-tokens', { name, role, ...(scope ? { scope } : {}) });
      if (r.status !== 201) throw new Error(`token: ${r.status} ${r.body.toString()}`);
      return r.json().token as string;
    },
    publish: (files) => fx.json('POST', '/api/v1/revisions', { files, message: 'test' }),
    async approvedAgent(host) {
      const tok = await fx.json('POST', '/api/v1/bootstrap-tokens', { host });
      const a = fx.agent(host);
      const r = await a.enroll(tok.json().token);
      if (r.status !== 201) throw new Error(`enroll ${host}: ${r.status} ${r.body.toString()}`);
      return a;
    },
    async close() {
      if (closed) return;
      closed = true;
      httpServer.closeAllConnections();
      await new Promise<void>((r) => httpServer.close(() => r()));
      await server.close();
    },
  };
  t.teardown(() => fx.close());
  return fx;
}
