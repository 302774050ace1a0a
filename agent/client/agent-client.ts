/**
 * The agent's typed HTTP client for the agent API (docs/api.md). Every request except the
 * first enrollment is signed with the agent's key (the enrollment is signed too, which proves
 * possession of the key it registers). Every response the agent acts on is checked against a
 * schema from schemas/ before use.
 *
 * All endpoint methods go through `request()`, so adding the jobs long-poll is one more
 * method with a longer `timeoutMs`.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { agentStatusSchema, enrollResponseSchema, reportAckSchema, type AgentStatus, type EnrollRequest as EnrollBody, type EnrollResponse } from '../../schemas/api/index.js';
import { catalogSchema, compileGuard, inventoryAckSchema, trackingConfigSchema, type AgentInventoryReport, type TrackingConfig, isResourceType, jobPollResponseSchema, jobProtocolSchemas, jobResultAckSchema, jobStartResponseSchema, registerSchemas, resourceSchemas, runReportSchema, type Catalog, type Guard, type JobPollResponse, type JobResult, type JobResultAck, type JobStartResponse, type RunReport } from '../../schemas/index.js';
import { newNonce, signRequest } from '../identity/request-signature.js';
import { ApiError, apiErrorFrom } from './api-error.js';
import { HttpTransport, type HttpResponse, type TransportOptions } from './http-transport.js';

export interface AgentClientOptions extends TransportOptions {
  /** Base URL of the server: "https://stead.example.com:8140". */
  readonly serverUrl: string;
  readonly host: string;
  readonly privateKey: KeyObject;
  /** Clock for X-Stead-Time (unix ms). Default Date.now. */
  readonly now?: () => number;
  /**
   * The connections to use, shared with other clients (bench:fleet runs many agents over one
   * pool). Default: a transport of its own, made from the transport options.
   */
  readonly transport?: HttpTransport;
}

/** The enrollment body without `host` (the client adds its own). */
export type EnrollRequest = Omit<EnrollBody, 'host'>;

export type EnrollmentStatus = 'pending' | 'approved';

export type CatalogAnswer =
  | { readonly kind: 'not-modified' }
  | { readonly kind: 'catalog'; readonly catalog: Catalog; readonly etag: string };

export type TrackingAnswer =
  | { readonly kind: 'not-modified' }
  | { readonly kind: 'config'; readonly config: TrackingConfig; readonly etag: string };

export interface InventoryAck {
  readonly accepted: boolean;
  readonly configVersion: string;
}

export interface RawRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path with query, starting with "/". */
  readonly path: string;
  readonly body?: unknown;
  /** The body already encoded as JSON (sent as is instead of `body`). */
  readonly json?: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

const isCatalogShape: Guard<unknown> = compileGuard(catalogSchema);
const isReport: Guard<RunReport> = compileGuard(runReportSchema);
const isEnrollResponse: Guard<EnrollResponse> = compileGuard(enrollResponseSchema);
const isAgentStatus: Guard<AgentStatus> = compileGuard(agentStatusSchema);
const isReportAck: Guard<unknown> = compileGuard(reportAckSchema);
// The job schemas reference each other by $id (needed when validating from sources, without the precompiled validators).
registerSchemas(jobProtocolSchemas);
const isJobPoll: Guard<JobPollResponse> = compileGuard(jobPollResponseSchema);
const isJobStart: Guard<JobStartResponse> = compileGuard(jobStartResponseSchema);
const isJobResultAck: Guard<JobResultAck> = compileGuard(jobResultAckSchema);
const isTrackingConfig: Guard<TrackingConfig> = compileGuard(trackingConfigSchema);
const isInventoryAck: Guard<InventoryAck> = compileGuard(inventoryAckSchema);
/** The longest long-poll the server holds (ADR 0014: wait 0–55 s). */
export const MAX_JOB_WAIT_SECONDS = 55;
/** How much longer than the wait the long-poll request may take before it counts as lost. */
const POLL_MARGIN_MS = 15_000;
const resourceGuards = new Map<string, Guard<unknown>>();
function resourceGuard(type: keyof typeof resourceSchemas): Guard<unknown> {
  let g = resourceGuards.get(type);
  if (!g) {
    g = compileGuard(resourceSchemas[type]);
    resourceGuards.set(type, g);
  }
  return g;
}

/**
 * Checks a catalog from the wire: the catalog schema, then every resource against its type's
 * schema. Returns the problems ([] when valid) with JSON-pointer paths.
 */
export function checkCatalog(data: unknown): string[] {
  const problems = isCatalogShape.check(data).map((p) => `${p.path || '/'} ${p.message}`);
  if (problems.length > 0) return problems;
  const resources = (data as { resources: { type: unknown }[] }).resources;
  resources.forEach((r, i) => {
    if (!isResourceType(r.type)) {
      problems.push(`/resources/${i}/type unknown resource type ${JSON.stringify(r.type)}`);
      return;
    }
    for (const p of resourceGuard(r.type).check(r)) problems.push(`/resources/${i}${p.path} ${p.message}`);
  });
  return problems;
}

const SHA256 = /^[0-9a-f]{64}$/;

export class AgentClient {
  readonly host: string;
  readonly #base: URL;
  #key: KeyObject;
  readonly #now: () => number;
  readonly #transport: HttpTransport;
  /**
   * Called with the X-Stead-Tracking header of every catalog answer that carries one (the
   * server's current tracking config version): the inventory loop refetches when it changed.
   */
  onTrackingHint: ((version: string) => void) | undefined;

  constructor(opts: AgentClientOptions) {
    this.#base = new URL(opts.serverUrl);
    if (this.#base.protocol !== 'http:' && this.#base.protocol !== 'https:') throw new TypeError(`server URL must be http:// or https://, got ${opts.serverUrl}`);
    this.host = opts.host;
    this.#key = opts.privateKey;
    this.#now = opts.now ?? Date.now;
    this.#transport = opts.transport ?? new HttpTransport(opts);
  }

  /** The server's origin, for messages. */
  get server(): string {
    return this.#base.origin;
  }

  /** Signs every later request with `privateKey` (the agent replaced a refused key). */
  useKey(privateKey: KeyObject): void {
    this.#key = privateKey;
  }

  /** A signed request; any status is returned (callers decide). Network failures throw TransportError. */
  async request(req: RawRequest, signal: AbortSignal): Promise<HttpResponse> {
    const basePath = this.#base.pathname.replace(/\/+$/, '');
    const pathWithQuery = `${basePath}${req.path}`;
    const body = req.json ?? (req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body), 'utf8'));
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'stead-agent',
      ...signRequest({ method: req.method, pathWithQuery, body, host: this.host, timeMs: this.#now(), nonce: newNonce() }, this.#key),
      ...req.headers,
    };
    if (body) headers['content-type'] = 'application/json';
    const url = new URL(pathWithQuery, this.#base.origin);
    return this.#transport.request(url, { method: req.method, headers, body, signal, ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}) });
  }

  /** POST /api/v1/agents/enroll → pending (202) or approved (201). */
  async enroll(req: EnrollRequest, signal: AbortSignal): Promise<EnrollmentStatus> {
    const res = await this.request({ method: 'POST', path: '/api/v1/agents/enroll', body: { host: this.host, ...req } }, signal);
    if (res.status !== 200 && res.status !== 201 && res.status !== 202) throw apiErrorFrom(res.status, res.body, 'enroll');
    const data = parseJson(res, 'enroll');
    if (!isEnrollResponse.is(data)) throw new ApiError('BAD_RESPONSE', 0, `enroll: unexpected answer: ${isEnrollResponse.check(data).map((p) => `${p.path} ${p.message}`).join('; ')}`);
    return data.status;
  }

  /** GET /api/v1/agents/status (signed) → pending or approved; 403 when revoked. */
  async enrollmentStatus(signal: AbortSignal): Promise<EnrollmentStatus> {
    const res = await this.request({ method: 'GET', path: '/api/v1/agents/status' }, signal);
    if (res.status !== 200) throw apiErrorFrom(res.status, res.body, 'enrollment status');
    const data = parseJson(res, 'enrollment status');
    if (!isAgentStatus.is(data)) throw new ApiError('BAD_RESPONSE', 0, `enrollment status: unexpected answer: ${isAgentStatus.check(data).map((p) => `${p.path} ${p.message}`).join('; ')}`);
    if (data.status === 'revoked') throw new ApiError('REVOKED', 403, 'enrollment status: this agent was revoked');
    return data.status;
  }

  /**
   * GET /api/v1/hosts/:host/catalog, conditional on the cached catalog id. A 200 answer is
   * checked against the schemas and must be this host's catalog with the id of its ETag.
   */
  async fetchCatalog(cachedId: string | undefined, signal: AbortSignal): Promise<CatalogAnswer> {
    const headers: Record<string, string> = cachedId ? { 'if-none-match': `"${cachedId}"` } : {};
    const res = await this.request({ method: 'GET', path: `/api/v1/hosts/${encodeURIComponent(this.host)}/catalog`, headers }, signal);
    const hint = res.headers['x-stead-tracking'];
    if (typeof hint === 'string' && hint !== '' && hint.length <= 128) this.onTrackingHint?.(hint);
    if (res.status === 304) return { kind: 'not-modified' };
    if (res.status !== 200) throw apiErrorFrom(res.status, res.body, 'catalog');
    const data = parseJson(res, 'catalog');
    const problems = checkCatalog(data);
    if (problems.length > 0) throw new ApiError('CATALOG_INVALID', 0, `catalog from ${this.server} is invalid: ${problems.slice(0, 5).join('; ')}`);
    const catalog = data as Catalog;
    if (catalog.host !== this.host) throw new ApiError('CATALOG_WRONG_HOST', 0, `server sent the catalog of "${catalog.host}" to "${this.host}"`);
    const etag = String(res.headers.etag ?? '').replace(/^W\//, '').replace(/^"|"$/g, '');
    if (etag && etag !== catalog.id) throw new ApiError('CATALOG_ETAG_MISMATCH', 0, `catalog ETag ${etag} does not match its id ${catalog.id}`);
    return { kind: 'catalog', catalog, etag: catalog.id };
  }

  /** GET /api/v1/blobs/:sha256, verified: the bytes must hash to the id. */
  async fetchBlob(sha256: string, signal: AbortSignal): Promise<Buffer> {
    if (!SHA256.test(sha256)) throw new TypeError(`invalid blob id ${JSON.stringify(sha256)}`);
    const res = await this.request({ method: 'GET', path: `/api/v1/blobs/${sha256}`, headers: { accept: 'application/octet-stream' }, timeoutMs: 120_000 }, signal);
    if (res.status !== 200) throw apiErrorFrom(res.status, res.body, `blob ${sha256}`);
    const got = createHash('sha256').update(res.body).digest('hex');
    if (got !== sha256) throw new ApiError('BLOB_CORRUPT', 0, `blob ${sha256} arrived with sha256 ${got}`);
    return res.body;
  }

  /** POST /api/v1/hosts/:host/reports; idempotent by runId on the server, so safe to resend. */
  /**
   * `serialized`: the report's exact JSON, when the caller has it (the spool's fresh report). It
   * is sent as is and not checked again here: it is the engine's own report of this process
   * (valid by construction: every report the engine makes is checked against the schema in its
   * tests), and the server checks every report at its edge. A report read back from disk is
   * always checked.
   */
  async sendReport(report: RunReport, signal: AbortSignal, serialized?: Buffer): Promise<void> {
    if (!serialized) isReport.assert(report);
    const path = `/api/v1/hosts/${encodeURIComponent(this.host)}/reports`;
    const res = await this.request(serialized ? { method: 'POST', path, json: serialized } : { method: 'POST', path, body: report }, signal);
    if (res.status < 200 || res.status > 299) {
      // 409: the server already holds this runId (a resend after a lost acknowledgement): delivered.
      if (res.status === 409) return;
      throw apiErrorFrom(res.status, res.body, `report ${report.runId}`);
    }
    if (!isReportAck.is(parseJson(res, `report ${report.runId}`))) throw new ApiError('BAD_RESPONSE', 0, `report ${report.runId}: unexpected acknowledgement`);
  }

  /** PUT /api/v1/hosts/:host/facts. */
  async putFacts(facts: Record<string, unknown>, signal: AbortSignal): Promise<void> {
    const res = await this.request({ method: 'PUT', path: `/api/v1/hosts/${encodeURIComponent(this.host)}/facts`, body: facts }, signal);
    if (res.status < 200 || res.status > 299) throw apiErrorFrom(res.status, res.body, 'facts');
  }

  /**
   * GET /api/v1/hosts/:host/jobs?wait=S (ADR 0014): dispatches to claim and dispatches to cancel.
   * The server answers at once when it has either, else after `waitSeconds` (clamped to 0–55)
   * with empty lists; the request timeout is the wait plus a margin. The answer is checked
   * against jobPollResponseSchema.
   */
  async pollJobs(waitSeconds: number, signal: AbortSignal): Promise<JobPollResponse> {
    const wait = Math.max(0, Math.min(MAX_JOB_WAIT_SECONDS, Math.floor(waitSeconds)));
    const res = await this.request({ method: 'GET', path: `${this.#jobsPath()}?wait=${wait}`, timeoutMs: wait * 1000 + POLL_MARGIN_MS }, signal);
    if (res.status !== 200) throw apiErrorFrom(res.status, res.body, 'jobs poll');
    const data = parseJson(res, 'jobs poll');
    if (!isJobPoll.is(data)) throw new ApiError('BAD_RESPONSE', 0, `jobs poll: unexpected answer: ${problems(isJobPoll, data)}`);
    return data;
  }

  /** POST /api/v1/hosts/:host/jobs/:id/start → whether the agent may spawn the dispatch now. */
  async startJob(id: string, signal: AbortSignal): Promise<JobStartResponse> {
    const res = await this.request({ method: 'POST', path: `${this.#jobsPath()}/${encodeURIComponent(id)}/start`, body: {} }, signal);
    if (res.status !== 200) throw apiErrorFrom(res.status, res.body, `job ${id} start`);
    const data = parseJson(res, `job ${id} start`);
    if (!isJobStart.is(data)) throw new ApiError('BAD_RESPONSE', 0, `job ${id} start: unexpected answer: ${problems(isJobStart, data)}`);
    return data;
  }

  /** POST /api/v1/hosts/:host/jobs/:id/result; the server keeps the first result, a resend answers duplicate. */
  async sendJobResult(id: string, result: JobResult, signal: AbortSignal): Promise<JobResultAck> {
    const res = await this.request({ method: 'POST', path: `${this.#jobsPath()}/${encodeURIComponent(id)}/result`, body: result }, signal);
    if (res.status !== 200 && res.status !== 201) throw apiErrorFrom(res.status, res.body, `job ${id} result`);
    const data = parseJson(res, `job ${id} result`);
    if (!isJobResultAck.is(data)) throw new ApiError('BAD_RESPONSE', 0, `job ${id} result: unexpected answer: ${problems(isJobResultAck, data)}`);
    return data;
  }

  /**
   * GET /api/v1/hosts/:host/tracking (ADR 0018 §5), conditional on the cached config's ETag.
   * A 200 answer is checked against trackingConfigSchema. Other statuses throw ApiError (404:
   * a server without the inventory routes).
   */
  async fetchTracking(etag: string | undefined, signal: AbortSignal): Promise<TrackingAnswer> {
    const headers: Record<string, string> = etag ? { 'if-none-match': `"${etag}"` } : {};
    const res = await this.request({ method: 'GET', path: `/api/v1/hosts/${encodeURIComponent(this.host)}/tracking`, headers }, signal);
    if (res.status === 304) return { kind: 'not-modified' };
    if (res.status !== 200) throw apiErrorFrom(res.status, res.body, 'tracking config');
    const data = parseJson(res, 'tracking config');
    if (!isTrackingConfig.is(data)) throw new ApiError('BAD_RESPONSE', 0, `tracking config: unexpected answer: ${problems(isTrackingConfig, data)}`);
    const tag = String(res.headers.etag ?? '').replace(/^W\//, '').replace(/^"|"$/g, '');
    return { kind: 'config', config: data, etag: tag || data.version };
  }

  /** PUT /api/v1/hosts/:host/inventory: the whole current picture (idempotent). */
  async putInventory(report: AgentInventoryReport, signal: AbortSignal): Promise<InventoryAck> {
    const res = await this.request({ method: 'PUT', path: `/api/v1/hosts/${encodeURIComponent(this.host)}/inventory`, body: report }, signal);
    if (res.status !== 200 && res.status !== 201 && res.status !== 202) throw apiErrorFrom(res.status, res.body, 'inventory');
    const data = parseJson(res, 'inventory');
    if (!isInventoryAck.is(data)) throw new ApiError('BAD_RESPONSE', 0, `inventory: unexpected answer: ${problems(isInventoryAck, data)}`);
    return data;
  }

  #jobsPath(): string {
    return `/api/v1/hosts/${encodeURIComponent(this.host)}/jobs`;
  }

  close(): void {
    this.#transport.close();
  }

}

function problems(guard: Guard<unknown>, data: unknown): string {
  return guard.check(data).slice(0, 5).map((p) => `${p.path || '/'} ${p.message}`).join('; ');
}

function parseJson(res: HttpResponse, what: string): unknown {
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new ApiError('BAD_RESPONSE', 0, `${what}: the server's answer is not JSON`);
  }
}
