/**
 * Enrollment: register the agent's public key with the server and wait until an operator (or
 * a bootstrap token) approves it. Once approved, the agent remembers it in
 * identity/enrollment.json and does not contact the enrollment endpoints again; a later
 * revocation shows up as 401/403 on the catalog. Then (renewKey) the agent replaces its key
 * with a new one and waits for an operator to approve it: a revoked key is never used again
 * (ADR 0009). While pending, the agent logs its key's fingerprint, the one the server lists.
 */
import type { AgentClient } from '../client/agent-client.js';
import { ApiError } from '../client/api-error.js';
import { keyFingerprint } from '../../schemas/key-fingerprint.js';
import { readEnrollment, writeEnrollment, type AgentIdentity } from '../identity/agent-identity.js';
import { replaceIdentity } from '../identity/replace-identity.js';
import { Backoff, sleep, type Random } from './backoff.js';
import { errorFields, type Logger } from './json-logger.js';

/** The server refused this agent (bad bootstrap token, revoked key, host owned by another key). */
export class EnrollmentRefusedError extends Error {
  readonly code = 'ENROLLMENT_REFUSED';
  constructor(
    message: string,
    readonly serverCode: string,
  ) {
    super(message);
    this.name = 'EnrollmentRefusedError';
  }
}

export interface EnrollmentDeps {
  readonly client: Pick<AgentClient, 'enroll' | 'enrollmentStatus' | 'server' | 'host'>;
  readonly identity: AgentIdentity;
  readonly log: Logger;
  readonly bootstrapToken?: string | undefined;
  /** Facts sent with the enrollment (shown to the operator who approves). */
  readonly facts?: () => Promise<Record<string, unknown>>;
  readonly now?: () => number;
  readonly random?: Random;
  /** Status polls while pending: from minMs doubling to maxMs. Defaults 1 s and 30 s. */
  readonly pollMinMs?: number;
  readonly pollMaxMs?: number;
}

/**
 * Resolves 'approved' once the server approved this identity (immediately when remembered),
 * or 'aborted' when `signal` fired first. Throws EnrollmentRefusedError when the server refuses.
 */
export async function ensureEnrolled(deps: EnrollmentDeps, signal: AbortSignal): Promise<'approved' | 'aborted'> {
  const now = deps.now ?? Date.now;
  const remembered = await readEnrollment(deps.identity.dir, deps.client.server, deps.client.host);
  if (remembered?.status === 'approved') return 'approved';
  const backoff = new Backoff({ minMs: deps.pollMinMs ?? 1000, maxMs: deps.pollMaxMs ?? 30_000, ...(deps.random ? { random: deps.random } : {}) });
  const fingerprint = keyFingerprint(deps.identity.publicKeyPem);
  let posted = false;
  let announcedPending = false;
  let announcedFull = false;
  while (!signal.aborted) {
    try {
      let status: 'pending' | 'approved';
      if (!posted) {
        const facts = deps.facts ? await deps.facts().catch(() => undefined) : undefined;
        try {
          status = await deps.client.enroll(
            { publicKey: deps.identity.publicKeyPem, ...(facts ? { facts } : {}), ...(deps.bootstrapToken ? { bootstrapToken: deps.bootstrapToken } : {}) },
            signal,
          );
        } catch (err) {
          if (err instanceof ApiError && err.code === 'ENROLLMENT_SLOTS_FULL') {
            // Other keys hold every pending slot of this host name: retry until one frees (expiry,
            // an operator's reject or delete), or until the operator gives a bootstrap token.
            if (!announcedFull) deps.log.warn('enrollment: the server has no free slot for this host name; retrying. Ask an operator to delete the other pending keys, or for a bootstrap token', { server: deps.client.server, fingerprint, message: err.message });
            announcedFull = true;
            if (!(await sleep(backoff.next(), signal))) break;
            continue;
          }
          // Already enrolled with this key: ask for the status instead.
          if (err instanceof ApiError && err.status === 409) status = await deps.client.enrollmentStatus(signal);
          else throw err;
        }
        posted = true;
      } else {
        status = await deps.client.enrollmentStatus(signal);
      }
      await writeEnrollment(deps.identity.dir, { server: deps.client.server, host: deps.client.host, status, updatedAt: new Date(now()).toISOString() });
      if (status === 'approved') {
        deps.log.info('enrollment approved', { server: deps.client.server, fingerprint });
        return 'approved';
      }
      if (!announcedPending) {
        deps.log.info(`enrollment pending: waiting for an operator to approve this agent (key fingerprint ${fingerprint})`, { server: deps.client.server, fingerprint });
        announcedPending = true;
      }
    } catch (err) {
      if (signal.aborted) break;
      if (err instanceof ApiError && err.status === 401 && posted) {
        // The server does not know this key (any more): enroll again.
        posted = false;
      } else if (err instanceof ApiError && (err.identityRefused || err.status === 400 || err.status === 422)) {
        throw new EnrollmentRefusedError(`the server refused this agent: ${err.message}`, err.code);
      } else {
        deps.log.warn('enrollment: server not reachable; retrying', { err: errorFields(err) });
      }
    }
    if (!(await sleep(backoff.next(), signal))) break;
  }
  return 'aborted';
}

/**
 * True when the server refuses this key for good: the host was revoked, or the server no longer
 * knows the key (deleted by an operator, retired by a rotation). Other refusals (a clock out of
 * step, a rejected key, a bad token) are not cured by a new key.
 */
export function keyRefusedForGood(code: string): boolean {
  return code === 'HOST_REVOKED' || code === 'REVOKED' || code === 'BAD_SIGNATURE';
}

export interface RenewalDeps extends Omit<EnrollmentDeps, 'identity' | 'client'> {
  readonly client: EnrollmentDeps['client'] & Pick<AgentClient, 'useKey'>;
  readonly dataDir: string;
  /**
   * An unknown key (BAD_SIGNATURE) is asked about again after this delay before it is replaced:
   * another server's identity cache (5 s) may not know a just-approved key yet. Default 10 s.
   */
  readonly confirmMs?: number;
}

/**
 * Replaces the agent's key with a new one (the refused key is deleted, never used again),
 * enrolls it without a bootstrap token (a token never approves a revoked host) and waits for an
 * operator's approval. Resolves like ensureEnrolled.
 */
export async function renewKey(deps: RenewalDeps, reason: { code: string; message: string }, signal: AbortSignal): Promise<'approved' | 'aborted'> {
  if (reason.code === 'BAD_SIGNATURE') {
    if (!(await sleep(deps.confirmMs ?? 10_000, signal))) return 'aborted';
    try {
      await deps.client.enrollmentStatus(signal);
      return 'approved'; // known after all (a stale cache on another server): keep the key
    } catch (err) {
      if (signal.aborted) return 'aborted';
      // Unreachable or another answer: keep the key; the pull loop asks again.
      if (!(err instanceof ApiError && keyRefusedForGood(err.code))) return 'approved';
    }
  }
  deps.log.warn('the server refuses this agent\'s key (revoked or unknown): enrolling a new key and waiting for an operator to approve it', { serverCode: reason.code, message: reason.message });
  const identity = await replaceIdentity(deps.dataDir);
  deps.client.useKey(identity.privateKey);
  deps.log.info('generated a new agent key', { fingerprint: keyFingerprint(identity.publicKeyPem) });
  return ensureEnrolled({ ...deps, identity, bootstrapToken: undefined }, signal);
}
