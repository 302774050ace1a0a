/**
 * Enrollment: register the agent's public key with the server and wait until an operator (or
 * a bootstrap token) approves it. Once approved, the agent remembers it in
 * identity/enrollment.json and does not contact the enrollment endpoints again; a later
 * revocation shows up as 401/403 on the catalog.
 */
import type { AgentClient } from '../client/agent-client.js';
import { ApiError } from '../client/api-error.js';
import { readEnrollment, writeEnrollment, type AgentIdentity } from '../identity/agent-identity.js';
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
  let posted = false;
  let announcedPending = false;
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
        deps.log.info('enrollment approved', { server: deps.client.server });
        return 'approved';
      }
      if (!announcedPending) {
        deps.log.info('enrollment pending: waiting for an operator to approve this agent', { server: deps.client.server });
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
