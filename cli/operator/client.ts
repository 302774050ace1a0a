/**
 * The operator API client of the `stead` commands: JSON requests under /api/v1 with the bearer
 * token, a per-request timeout, a bounded response, and every failure turned into an
 * OperatorError (a stable code, a one-line message, the exit code). Redirects are not followed,
 * so the token never goes to another origin.
 */
import { HttpTransport, TransportError, type HttpResponse } from '../../agent/client/http-transport.js';
import { errorBodySchema, type ErrorBody } from '../../schemas/api/error.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import type { Connection } from './connection.js';
import { OperatorError, operatorExitCodes } from './errors.js';

/** Largest answer accepted: a job view with the output of every host of a big fleet. */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

let errorGuard: Guard<ErrorBody> | undefined;

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export class OperatorClient {
  readonly #conn: Connection;
  readonly #transport: HttpTransport;

  constructor(conn: Connection, opts: { maxResponseBytes?: number } = {}) {
    this.#conn = conn;
    this.#transport = new HttpTransport({ ca: conn.ca, timeoutMs: conn.timeoutMs, maxBodyBytes: opts.maxResponseBytes ?? MAX_RESPONSE_BYTES });
  }

  get server(): URL {
    return this.#conn.server;
  }

  /** The URL of an API path ("/jobs/x" → <server>/api/v1/jobs/x), keeping a path prefix of --server. */
  url(path: string): URL {
    const url = new URL(this.#conn.server.href);
    const q = path.indexOf('?');
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1${q < 0 ? path : path.slice(0, q)}`;
    url.search = q < 0 ? '' : path.slice(q);
    return url;
  }

  /** Sends a JSON request; resolves the parsed JSON answer (undefined for an empty one). */
  async request<T = unknown>(method: Method, path: string, body?: unknown, signal: AbortSignal = new AbortController().signal): Promise<T> {
    return body === undefined ? this.send<T>(method, path, undefined, undefined, signal) : this.send<T>(method, path, Buffer.from(JSON.stringify(body)), 'application/json', signal);
  }

  /** Sends a request with a raw body of `contentType` (a file upload); resolves the parsed JSON answer. */
  async send<T = unknown>(method: Method, path: string, raw: Buffer | undefined, contentType: string | undefined, signal: AbortSignal = new AbortController().signal): Promise<T> {
    const url = this.url(path);
    const headers: Record<string, string> = { accept: 'application/json', ...(this.#conn.token !== '' ? { authorization: `Bearer ${this.#conn.token}` } : {}) };
    if (raw !== undefined && contentType !== undefined) headers['content-type'] = contentType;
    let res: HttpResponse;
    try {
      res = await this.#transport.request(url, { method, headers, body: raw, signal });
    } catch (err) {
      throw transportFailure(err, method, path, this.#conn);
    }
    if (res.status >= 200 && res.status < 300) return parseJson(res, method, path) as T;
    throw errorFromResponse(res, method, path, this.#conn);
  }

  close(): void {
    this.#transport.close();
  }
}

function parseJson(res: HttpResponse, method: string, path: string): unknown {
  if (res.body.length === 0) return undefined;
  const type = String(res.headers['content-type'] ?? '');
  try {
    if (!/\bjson\b/.test(type)) throw new Error(`content-type ${type || 'missing'}`);
    return JSON.parse(res.body.toString('utf8')) as unknown;
  } catch (err) {
    throw new OperatorError('BAD_RESPONSE', `${method} ${path}: the server's answer is not JSON (${(err as Error).message})`, operatorExitCodes.unavailable, res.status);
  }
}

function transportFailure(err: unknown, method: string, path: string, conn: Connection): OperatorError {
  if (!(err instanceof TransportError)) return new OperatorError('NETWORK', `cannot reach the server at ${conn.server.origin}: ${(err as Error).message}`, operatorExitCodes.unavailable);
  switch (err.code) {
    case 'TIMEOUT':
      return new OperatorError('TIMEOUT', `the server at ${conn.server.origin} did not answer ${method} ${path} within ${conn.timeoutMs / 1000} s (--request-timeout)`, operatorExitCodes.unavailable);
    case 'TOO_LARGE':
      return new OperatorError('TOO_LARGE', `${method} ${path}: the answer is larger than ${MAX_RESPONSE_BYTES / 1024 / 1024} MiB`, operatorExitCodes.unavailable);
    case 'ABORTED':
      return new OperatorError('ABORTED', `${method} ${path}: interrupted`, operatorExitCodes.interrupted);
    default: {
      const cause = err.cause as NodeJS.ErrnoException | undefined;
      const why = cause?.code ?? cause?.message ?? err.message;
      const hint = typeof why === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(why) ? ' (a private CA? give it with --ca FILE)' : '';
      return new OperatorError('NETWORK', `cannot reach the server at ${conn.server.origin}: ${why}${hint}`, operatorExitCodes.unavailable);
    }
  }
}

/** The OperatorError for a non-2xx answer: the server's error body when it is one, else the status. */
export function errorFromResponse(res: HttpResponse, method: string, path: string, conn: Pick<Connection, 'server' | 'tokenSource'>): OperatorError {
  let body: ErrorBody | undefined;
  try {
    const parsed: unknown = JSON.parse(res.body.toString('utf8'));
    errorGuard ??= compileGuard<ErrorBody>(errorBodySchema);
    if (errorGuard.is(parsed)) body = parsed;
  } catch {
    body = undefined;
  }
  const status = res.status;
  const code = body?.error.code ?? `HTTP_${status}`;
  const message = oneLine(body?.error.message ?? `HTTP ${status}`);
  const requestId = body?.error.requestId;
  const details = body?.error.details;
  const finding = status === 400 ? auditFinding(code, details) : undefined;
  if (finding) {
    const line = finding.line !== undefined ? ` at line ${finding.line}` : '';
    return new OperatorError(code, `refused by the safety audit: rule ${finding.rule}${line}: ${oneLine(finding.message ?? message)}`, operatorExitCodes.refused, status, details, requestId);
  }
  if (status === 401) return new OperatorError(code, `the server refused the token from ${conn.tokenSource}: ${message}`, operatorExitCodes.auth, status, details, requestId);
  if (status === 403) return new OperatorError(code, `not allowed: ${message}`, operatorExitCodes.auth, status, details, requestId);
  if (status === 404 && /^no route for /.test(message)) {
    return new OperatorError(code, `the server at ${conn.server.origin} has no ${method} /api/v1${path.replace(/\?.*$/, '')}: is it an older Stead?`, operatorExitCodes.refused, status, details, requestId);
  }
  if (status >= 500) return new OperatorError(code, `the server failed on ${method} ${path.replace(/\?.*$/, '')}: ${code}: ${message}${requestId ? ` (request ${requestId})` : ''}`, operatorExitCodes.unavailable, status, details, requestId);
  return new OperatorError(code, `${code}: ${message}`, operatorExitCodes.refused, status, details, requestId);
}

interface Finding {
  readonly rule: string;
  readonly line?: number;
  readonly message?: string;
}

/**
 * The first blocking finding (`mode: "block"`, else the first finding) in an audit refusal's
 * details, wherever the server put it (`details.findings[]`, `details.audit[].findings[]`): an
 * object with a string `rule`, and a `line` number when it has one. Searched 5 levels deep.
 */
export function auditFinding(code: string, details: unknown): Finding | undefined {
  const found: (Finding & { block: boolean })[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 5 || v === null || typeof v !== 'object' || found.length >= 100) return;
    if (Array.isArray(v)) {
      for (const x of v.slice(0, 1000)) walk(x, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    if (typeof o['rule'] === 'string') {
      const line = typeof o['line'] === 'number' ? o['line'] : undefined;
      const message = typeof o['message'] === 'string' ? o['message'] : undefined;
      found.push({ rule: o['rule'], block: o['mode'] === 'block' || o['severity'] === 'block', ...(line !== undefined ? { line } : {}), ...(message !== undefined ? { message } : {}) });
      return;
    }
    for (const x of Object.values(o)) walk(x, depth + 1);
  };
  walk(details, 0);
  const first = found.find((f) => f.block) ?? found[0];
  if (first) {
    const { block: _block, ...finding } = first;
    return finding;
  }
  return /AUDIT/.test(code) ? { rule: code } : undefined;
}

/** One line, control characters escaped, at most 500 characters. */
export function oneLine(s: string): string {
  const flat = s.replace(/\r?\n/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return flat.length > 500 ? `${flat.slice(0, 497)}...` : flat;
}
