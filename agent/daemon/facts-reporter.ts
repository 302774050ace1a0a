/**
 * Sends the host's facts to the server when they changed since the last successful PUT (the
 * fingerprint ignores uptime and free memory/disk). The last sent fingerprint is kept in
 * `<data-dir>/facts-sent.json` with their destination, so a restart does not resend unchanged
 * facts to the same server and identity.
 */
import { join } from 'node:path';
import type { AgentClient } from '../client/agent-client.js';
import { ApiError } from '../client/api-error.js';
import { factsFingerprint, type Facts } from '../facts/collect-facts.js';
import { readFileIfExists, writeFileAtomic } from '../spool/atomic-file.js';
import { errorFields, type Logger } from './json-logger.js';

export interface FactsReporterDeps {
  readonly client: Pick<AgentClient, 'putFacts'>;
  readonly collect: () => Promise<Facts>;
  readonly dataDir: string;
  readonly log: Logger;
  /**
   * Who receives the facts (server, host name and key). Unchanged facts are sent again when
   * it differs from the one recorded with the last PUT: a new server, or a re-enrollment
   * after the server lost this host, has none of them.
   */
  readonly destination?: string;
}

export interface SendResult {
  readonly sent: boolean;
  readonly refused?: ApiError;
}

export class FactsReporter {
  readonly #deps: FactsReporterDeps;
  readonly #path: string;
  #last: string | undefined;
  #lastDestination: string | undefined;
  #loaded = false;

  constructor(deps: FactsReporterDeps) {
    this.#deps = deps;
    this.#path = join(deps.dataDir, 'facts-sent.json');
  }

  /** Collects facts and PUTs them when their fingerprint changed. Never throws. */
  async sendIfChanged(signal: AbortSignal): Promise<SendResult> {
    try {
      if (!this.#loaded) {
        const buf = await readFileIfExists(this.#path);
        if (buf) {
          const rec = JSON.parse(buf.toString('utf8')) as { fingerprint?: string; destination?: string };
          this.#last = rec.fingerprint;
          this.#lastDestination = rec.destination;
        }
        this.#loaded = true;
      }
      const facts = await this.#deps.collect();
      const fp = factsFingerprint(facts);
      const destination = this.#deps.destination;
      if (fp === this.#last && destination === this.#lastDestination) return { sent: false };
      await this.#deps.client.putFacts(facts as unknown as Record<string, unknown>, signal);
      this.#last = fp;
      this.#lastDestination = destination;
      await writeFileAtomic(this.#path, `${JSON.stringify({ fingerprint: fp, ...(destination !== undefined ? { destination } : {}) })}\n`, 0o600);
      this.#deps.log.info('facts sent', { fingerprint: fp.slice(0, 12) });
      return { sent: true };
    } catch (err) {
      if (err instanceof ApiError && err.identityRefused) return { sent: false, refused: err };
      if (!signal.aborted) this.#deps.log.warn('facts not sent; will retry', { err: errorFields(err) });
      return { sent: false };
    }
  }
}
