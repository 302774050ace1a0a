/**
 * The inventory loop of the agent daemon (ADR 0018 §5), beside the pull loop and the job channel
 * and independent of both (it never holds up a run):
 *
 * 1. the tracking config: signed GET /api/v1/hosts/:host/tracking with If-None-Match; a 304 keeps
 *    the cached one; a new one is cached atomically in `<data-dir>/tracking.json` (so a restart
 *    with the server away still collects what was asked);
 * 2. every `intervalSeconds` the collectors run (agent/inventory/collect.ts);
 * 3. signed PUT /api/v1/hosts/:host/inventory when the report's digest (without collectedAt)
 *    differs from the last accepted one, or ten intervals passed since (a heartbeat); the
 *    accepted digest is kept in `<data-dir>/inventory-sent.json` with its destination;
 * 4. the config is fetched again every interval (a conditional GET), at once when the ack names
 *    another configVersion, or when a catalog answer carried an X-Stead-Tracking value other
 *    than the cached config's version.
 *
 * A 404 (a server without these routes) backs off quietly for half an hour; any other failure is
 * logged and retried with backoff. Never throws; returns when `signal` aborts.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { compileGuard, trackingConfigSchema, type AgentInventoryReport, type Guard, type TrackingConfig } from '../../schemas/index.js';
import type { AgentClient, InventoryAck, TrackingAnswer } from '../client/agent-client.js';
import { ApiError } from '../client/api-error.js';
import type { Host } from '../host/host.js';
import type { CollectEnv } from '../inventory/collector.js';
import { collectInventory, reportDigest } from '../inventory/collect.js';
import { ensurePrivateDir, readFileIfExists, writeFileAtomic } from '../spool/atomic-file.js';
import { Backoff, sleep } from './backoff.js';
import { errorFields, type Logger } from './json-logger.js';

const isTrackingConfig: Guard<TrackingConfig> = compileGuard(trackingConfigSchema);

/** How long a server without the inventory routes is left alone. */
export const NOT_SUPPORTED_WAIT_MS = 30 * 60 * 1000;
/** A heartbeat PUT after this many intervals without a change. */
export const HEARTBEAT_INTERVALS = 10;

export interface TrackingLoopDeps {
  readonly client: Pick<AgentClient, 'fetchTracking' | 'putInventory' | 'host' | 'server'>;
  readonly host: Host;
  readonly dataDir: string;
  readonly log: Logger;
  /** --libvirt-uri; default qemu:///system. */
  readonly libvirtUri?: string;
  /** Who receives the reports (server, host, key): an accepted digest counts only for the same one. */
  readonly destination?: string;
  readonly now?: () => number;
  /** Builds the report (tests may wrap it); default collectInventory. */
  readonly collect?: (config: TrackingConfig, env: CollectEnv) => Promise<AgentInventoryReport>;
  readonly procDir?: string;
  readonly toolTimeoutMs?: number;
  readonly killGraceMs?: number;
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  readonly notSupportedWaitMs?: number;
}

interface Sent {
  readonly digest: string;
  readonly at: number;
  readonly destination?: string;
}

export class TrackingLoop {
  readonly #d: TrackingLoopDeps;
  readonly #now: () => number;
  #config: TrackingConfig | undefined;
  #etag: string | undefined;
  #sent: Sent | undefined;
  #hint: string | undefined;
  #wake: AbortController = new AbortController();
  /** Ask the server for the config before the next collection. */
  #refetch = true;
  #ackMismatch: string | undefined;
  /** PUTs accepted by the server since start (tests, logs). */
  accepted = 0;

  constructor(deps: TrackingLoopDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  get config(): TrackingConfig | undefined {
    return this.#config;
  }

  /** A catalog answer carried X-Stead-Tracking: refetch at once when it names another config. */
  hint(version: string): void {
    if (version === this.#config?.version || version === this.#hint) return;
    this.#hint = version;
    this.#refetch = true;
    this.#wake.abort();
  }

  get #configPath(): string {
    return join(this.#d.dataDir, 'tracking.json');
  }

  get #sentPath(): string {
    return join(this.#d.dataDir, 'inventory-sent.json');
  }

  async #load(): Promise<void> {
    try {
      const buf = await readFileIfExists(this.#configPath);
      if (buf) {
        const rec = JSON.parse(buf.toString('utf8')) as { config?: unknown; etag?: unknown };
        if (isTrackingConfig.is(rec.config)) {
          this.#config = rec.config;
          this.#etag = typeof rec.etag === 'string' ? rec.etag : rec.config.version;
        }
      }
    } catch (err) {
      this.#d.log.warn('the cached tracking config cannot be read; it is fetched again', { err: errorFields(err) });
    }
    try {
      const buf = await readFileIfExists(this.#sentPath);
      if (buf) {
        const rec = JSON.parse(buf.toString('utf8')) as Partial<Sent>;
        if (typeof rec.digest === 'string' && typeof rec.at === 'number') this.#sent = { digest: rec.digest, at: rec.at, ...(typeof rec.destination === 'string' ? { destination: rec.destination } : {}) };
      }
    } catch {
      // sent again: harmless
    }
  }

  /** Fetches the config (conditional). Throws what the client throws. */
  async #fetch(signal: AbortSignal): Promise<void> {
    const answer: TrackingAnswer = await this.#d.client.fetchTracking(this.#config ? this.#etag : undefined, signal);
    this.#refetch = false;
    if (answer.kind === 'not-modified') return;
    const changed = answer.config.version !== this.#config?.version;
    this.#config = answer.config;
    this.#etag = answer.etag;
    await writeFileAtomic(this.#configPath, `${JSON.stringify({ config: answer.config, etag: answer.etag })}\n`, 0o600);
    if (changed) this.#d.log.info('tracking config', { configVersion: answer.config.version, packages: answer.config.packages.length, services: answer.config.services.length, collectors: answer.config.collectors.length, intervalSeconds: answer.config.intervalSeconds });
  }

  #env(tmpDir: string, signal: AbortSignal): CollectEnv {
    return {
      host: this.#d.host,
      signal,
      tmpDir,
      libvirtUri: this.#d.libvirtUri ?? 'qemu:///system',
      procDir: this.#d.procDir ?? '/proc',
      passwdPath: '/etc/passwd',
      toolTimeoutMs: this.#d.toolTimeoutMs ?? 60_000,
      killGraceMs: this.#d.killGraceMs ?? 5000,
      now: this.#now,
    };
  }

  /**
   * One round: the config if due, a collection, and a PUT if due. Returns the wait before the
   * next round. Throws ApiError / transport errors (the caller backs off).
   */
  async round(tmpDir: string, signal: AbortSignal): Promise<{ sent: boolean; ack?: InventoryAck }> {
    if (this.#refetch || !this.#config) await this.#fetch(signal);
    const config = this.#config!;
    const report = await (this.#d.collect ?? collectInventory)(config, this.#env(tmpDir, signal));
    if (signal.aborted) return { sent: false };
    const digest = reportDigest(report);
    const heartbeatDue = this.#sent === undefined || this.#now() - this.#sent.at >= HEARTBEAT_INTERVALS * config.intervalSeconds * 1000;
    const same = this.#sent?.digest === digest && this.#sent.destination === this.#d.destination;
    // Refetch every interval (cheap: a 304), so a changed config is seen within one interval.
    this.#refetch = true;
    if (same && !heartbeatDue) return { sent: false };
    const ack = await this.#d.client.putInventory(report, signal);
    if (ack.accepted) {
      this.accepted++;
      this.#sent = { digest, at: this.#now(), ...(this.#d.destination !== undefined ? { destination: this.#d.destination } : {}) };
      await writeFileAtomic(this.#sentPath, `${JSON.stringify(this.#sent)}\n`, 0o600);
      this.#d.log.debug('inventory sent', { digest: digest.slice(0, 12), packages: report.packages.length, services: report.services.length, virtuals: report.virtuals.length, errors: report.errors.length });
    } else {
      this.#d.log.warn('the server did not accept the inventory report', { configVersion: ack.configVersion });
    }
    // The server has another config: fetch it at once (once per version it names, so a server
    // that keeps naming one it does not serve cannot spin this loop).
    if (ack.configVersion !== config.version && ack.configVersion !== this.#ackMismatch) {
      this.#ackMismatch = ack.configVersion;
      this.#refetch = true;
      this.#wake.abort();
    }
    return { sent: true, ack };
  }

  /** Runs until `signal` aborts. Never throws. */
  async run(signal: AbortSignal): Promise<void> {
    const tmpDir = join(this.#d.dataDir, 'inventory');
    try {
      await ensurePrivateDir(tmpDir);
      for (const name of await fsp.readdir(tmpDir)) await fsp.rm(join(tmpDir, name), { force: true, recursive: true });
      await this.#load();
    } catch (err) {
      this.#d.log.error('the inventory loop cannot start; inventory is not reported until the agent restarts', { err: errorFields(err) });
      return;
    }
    const backoff = new Backoff({ minMs: this.#d.backoffMinMs ?? 5000, maxMs: this.#d.backoffMaxMs ?? 10 * 60_000 });
    let quietAbout404 = false;
    while (!signal.aborted) {
      let waitMs: number;
      this.#wake = new AbortController();
      try {
        await this.round(tmpDir, signal);
        backoff.reset();
        quietAbout404 = false;
        waitMs = (this.#config?.intervalSeconds ?? 60) * 1000;
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof ApiError && err.status === 404) {
          // A server without the inventory routes (older): ask again much later, without noise.
          if (!quietAbout404) this.#d.log.info('the server does not take inventory reports (404); asking again later', { server: this.#d.client.server });
          quietAbout404 = true;
          this.#refetch = true;
          waitMs = this.#d.notSupportedWaitMs ?? NOT_SUPPORTED_WAIT_MS;
        } else {
          waitMs = backoff.next();
          this.#refetch = true;
          this.#d.log.warn('inventory not reported; will retry', { err: errorFields(err), retryInMs: waitMs });
        }
      }
      if (this.#wake.signal.aborted) continue; // woken meanwhile (a hint or an ack naming another config)
      await sleep(waitMs, AbortSignal.any([signal, this.#wake.signal]));
    }
  }
}
