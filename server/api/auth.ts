/**
 * Authentication and authorisation at the edge. Every route declares one `auth` kind; the
 * router refuses to mount a route without one, and the census test walks the table.
 *
 *   public        no credentials (health, enrollment submit)
 *   agent         a signed request from an approved host key (ADR 0003)
 *   agent-any     a signed request from an approved or pending key (enrollment status)
 *   read          an operator (bearer token), any role
 *   write         an operator or admin; a viewer gets 403. The handler's service checks the
 *                 operator's scope against the hosts it would touch (ADR 0020)
 *   fleet         a change that reaches the whole fleet: an admin or an unscoped operator
 *   admin         an admin only (users, tokens, settings, collectors, audit rules)
 *
 * Agent requests first pass the protocol check (protocol.ts: a missing X-Stead-Protocol is 1,
 * an unsupported explicit version is 400). Agent identity comes only from the signature: X-Stead-Host names the key to verify with, and
 * a request is accepted only if that host's key signed method, path, time, nonce and body.
 * An agent that sends X-Stead-Body-Sha256 has its signature checked before its body is read
 * (the body is then checked against that hash as it streams), so no unauthenticated body is
 * ever held; without it the body is held within a global budget first (body.ts, ADR 0008).
 */
import type { Clock } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import { isValidHostName } from '../domain/host-name.js';
import type { NonceCache } from '../domain/nonce-cache.js';
import { bodyHashHeader, emptySha256, nonceSyntax, sha256Hex, sha256Syntax, signatureSyntax, signedStringForHash, timeSyntax, verifySignatureOffLoop } from '../domain/signature.js';
import type { EnrollmentService } from '../services/enrollment-service.js';
import type { OperatorAuthService } from '../services/operator-auth-service.js';
import type { AgentPrincipal, AppContext, OperatorPrincipal } from './app-state.js';
import { readRawBody } from './body.js';
import { checkProtocol } from './protocol.js';
import { canChange, isAdmin, isScoped, type Scope } from '../domain/roles.js';

export type AuthKind = 'public' | 'agent' | 'agent-any' | 'read' | 'write' | 'fleet' | 'admin';
export type OperatorNeed = 'read' | 'write' | 'fleet' | 'admin';

export interface AuthDeps {
  readonly enrollment: EnrollmentService;
  readonly operators: OperatorAuthService;
  readonly nonces: NonceCache;
  readonly clock: Clock;
  /** Largest accepted |server time − request time|. */
  readonly skewMs: number;
}

export async function authenticateAgent(ctx: AppContext, deps: AuthDeps, allowPending: boolean, bodyLimit: number): Promise<AgentPrincipal> {
  checkProtocol(ctx);
  const host = ctx.get('x-stead-host');
  const time = ctx.get('x-stead-time');
  const nonce = ctx.get('x-stead-nonce');
  const signature = ctx.get('x-stead-signature');
  if (!host || !time || !nonce || !signature) throw new ApiError('UNAUTHENTICATED', 'this route needs a signed agent request (X-Stead-Host, X-Stead-Time, X-Stead-Nonce, X-Stead-Signature)');
  if (!isValidHostName(host)) throw new ApiError('UNAUTHENTICATED', 'X-Stead-Host is not a valid host name');
  if (!timeSyntax.test(time)) throw new ApiError('UNAUTHENTICATED', 'X-Stead-Time must be unix milliseconds');
  if (!nonceSyntax.test(nonce)) throw new ApiError('UNAUTHENTICATED', 'X-Stead-Nonce must be 16-128 characters of [A-Za-z0-9_+/=-]');
  if (!signatureSyntax.test(signature)) throw new ApiError('BAD_SIGNATURE', 'X-Stead-Signature must be a base64 Ed25519 signature');
  const now = deps.clock.now();
  if (Math.abs(now - Number(time)) > deps.skewMs) {
    throw new ApiError('CLOCK_SKEW', `request time is more than ${Math.round(deps.skewMs / 1000)} s away from the server's clock; fix the agent's clock (NTP)`);
  }
  const bodyless = ctx.method === 'GET' || ctx.method === 'HEAD';
  const declared = ctx.get(bodyHashHeader);
  if (declared !== '' && !sha256Syntax.test(declared)) throw new ApiError('BAD_SIGNATURE', `${bodyHashHeader} must be 64 lowercase hex characters (sha256 of the body)`);
  const identity = await deps.enrollment.identity(host);
  // Same answer for an unknown host and a bad signature: nothing to learn about which hosts exist.
  if (!identity || identity.keys.length === 0) throw new ApiError('BAD_SIGNATURE', 'signature does not verify with any enrolled key of this host');
  // The body's hash: declared in a header, the signature is checked before a byte of the body is
  // read (readRawBody then hashes the stream and refuses a mismatch); without the header the
  // body is read first, within the global budget of unauthenticated body bytes (body.ts).
  let bodySha256: string;
  if (bodyless) bodySha256 = emptySha256;
  else if (declared !== '') bodySha256 = declared;
  else bodySha256 = sha256Hex(await readRawBody(ctx, bodyLimit));
  const canonical = signedStringForHash(ctx.method, ctx.req.url ?? ctx.url, host, time, nonce, bodySha256);
  // Approved keys are tried before pending ones, so a host holding both signs as approved.
  let signer: (typeof identity.keys)[number] | undefined;
  for (const k of [...identity.keys.filter((x) => x.status === 'approved'), ...identity.keys.filter((x) => x.status === 'pending')]) {
    if (await verifySignatureOffLoop(k.key, canonical, signature)) {
      signer = k;
      break;
    }
  }
  if (!signer) throw new ApiError('BAD_SIGNATURE', 'signature does not verify with any enrolled key of this host');
  if (!deps.nonces.claim(host, nonce, now) || !(await deps.nonces.claimShared(host, nonce, now))) {
    throw new ApiError('NONCE_REUSED', 'this nonce was already used; every request needs a fresh one');
  }
  // A revoked host's keys stay refused; a key enrolled after the revocation is only pending (ADR 0009).
  if (identity.status === 'revoked' && signer.status === 'approved') throw new ApiError('HOST_REVOKED', `host ${host} has been revoked`);
  const status = signer.status === 'approved' && identity.status === 'approved' ? 'approved' : 'pending';
  const principal: AgentPrincipal = { kind: 'agent', host, fingerprint: signer.fingerprint, status };
  ctx.state.principal = principal;
  if (!bodyless && declared !== '' && ctx.state.rawBody === undefined) ctx.state.expectedBodySha256 = declared;
  if (status === 'pending' && !allowPending) throw new ApiError('HOST_PENDING', `the key of ${host} is waiting for an operator's approval`);
  return principal;
}

const bearer = /^Bearer ([A-Za-z0-9_\-.~+/]+=*)$/;

/** Operator from `Authorization: Bearer <token>` (API) or, when allowed, the console session cookie. */
export async function authenticateOperator(ctx: AppContext, deps: AuthDeps, need: OperatorNeed, allowCookie: boolean): Promise<OperatorPrincipal> {
  const header = ctx.get('authorization');
  let principal: OperatorPrincipal | undefined;
  if (header) {
    const m = bearer.exec(header);
    if (!m) throw new ApiError('UNAUTHENTICATED', 'Authorization must be "Bearer <token>"');
    const op = await deps.operators.authenticate(m[1]!);
    if (!op) throw new ApiError('UNAUTHENTICATED', 'the bearer token is not valid');
    principal = { kind: 'operator', name: op.name, role: op.role, ...(op.scope ? { scope: op.scope } : {}), via: 'token' };
  } else if (allowCookie) {
    const sid = ctx.cookies.get(sessionCookie);
    const op = sid ? await deps.operators.session(sid) : undefined;
    if (op) principal = { kind: 'operator', name: op.name, role: op.role, ...(op.scope ? { scope: op.scope } : {}), via: 'session' };
  }
  if (!principal) throw new ApiError('UNAUTHENTICATED', 'this route needs an operator token (Authorization: Bearer <token>)');
  ctx.state.principal = principal;
  authorize(principal, need);
  return principal;
}

export const sessionCookie = 'stead_session';

/** Throws FORBIDDEN unless the principal's role (and scope) meets `need` (ADR 0020). */
export function authorize(p: { role: string; scope?: Scope | undefined }, need: OperatorNeed): void {
  if (need === 'read') return;
  if (!canChange(p.role)) throw new ApiError('FORBIDDEN', `role ${p.role} may not change anything`);
  if (need === 'admin' && !isAdmin(p.role)) throw new ApiError('FORBIDDEN', 'only an admin may do this');
  if (need === 'fleet' && !isAdmin(p.role) && isScoped(p.scope)) throw new ApiError('FORBIDDEN', 'this change reaches the whole fleet: it needs an admin or an operator without a scope');
}
