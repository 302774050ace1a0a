/**
 * Operator bearer tokens and sessions (ADR 0020). Tokens carry a role (admin, operator,
 * viewer; stored `readonly` reads as viewer) and an optional scope; they are stored as sha256
 * hashes only. Sessions come from a console login (cookie) or `stead login` (a bearer token
 * starting `sst_`); they are stored in `operator_sessions`, so they survive a restart and are
 * seen by every server on the store. A session of a user reads the user's role, scope and
 * disabled flag again whenever its cache entry (a few seconds) expires, so a change to a user
 * or a revoked token reaches its sessions within that time. Logout deletes the session.
 */
import type { Collection, DocumentStore } from '../store/types.js';
import { isDuplicateKey } from '../store/types.js';
import type { Clock } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import { roleOf, type Role, type Scope } from '../domain/roles.js';
import { hashToken, newToken } from '../domain/tokens.js';
import type { AuditLog } from './audit-log.js';
import type { UserService } from './users/user-service.js';

export type { Role } from '../domain/roles.js';

type TokenDoc = {
  _id: string;
  name: string;
  /** admin, operator, viewer; tokens made before issue 12 say readonly (= viewer). */
  role: string;
  scope?: Scope;
  createdAt: number;
  revokedAt?: number;
};

/** One document per token name, so two concurrent creations of one name cannot both succeed. */
type NameDoc = { _id: string; createdAt: number };

type SessionDoc = {
  _id: string;
  kind: 'user' | 'token';
  name: string;
  /** The token's hash, for sessions opened with a token. */
  tokenId?: string;
  createdAt: number;
  expiresAt: number;
};

export interface Operator {
  readonly name: string;
  readonly role: Role;
  readonly scope?: Scope;
  /** A user (password) or a token holder. */
  readonly kind: 'user' | 'token';
}

export const sessionTokenPrefix = 'sst_';

export interface OperatorAuthDeps {
  readonly users: UserService;
  readonly auditLog: AuditLog;
}

export class OperatorAuthService {
  readonly #cache = new Map<string, { op: Operator | undefined; at: number }>();

  private constructor(
    private readonly tokens: Collection<TokenDoc>,
    private readonly names: Collection<NameDoc>,
    private readonly sessions: Collection<SessionDoc>,
    private readonly clock: Clock,
    private readonly deps: OperatorAuthDeps,
    private readonly cacheTtlMs: number,
    private readonly sessionTtlMs: number,
  ) {}

  static async open(store: DocumentStore, clock: Clock, deps: OperatorAuthDeps, opts: { cacheTtlMs?: number; sessionTtlMs?: number } = {}): Promise<OperatorAuthService> {
    const tokens = await store.collection<TokenDoc>('operator_tokens', [{ name: 'by_name', fields: { name: 1 } }]);
    const names = await store.collection<NameDoc>('operator_token_names');
    const sessions = await store.collection<SessionDoc>('operator_sessions', [
      { name: 'by_name', fields: { name: 1 } },
      { name: 'by_expiry', fields: { expiresAt: 1 } },
    ]);
    return new OperatorAuthService(tokens, names, sessions, clock, deps, opts.cacheTtlMs ?? 5000, opts.sessionTtlMs ?? 8 * 3600_000);
  }

  get users(): UserService {
    return this.deps.users;
  }

  /**
   * Creates a token for `name` with `role` (readonly is taken as viewer) and an optional scope;
   * the token is returned once and stored hashed. A name already used (by a live or a revoked
   * token) is refused: names identify tokens in the logs and in revocation.
   */
  async createToken(name: string, role: Role | 'readonly', scope?: Scope, actor?: { name: string; address?: string | undefined }): Promise<string> {
    const r = roleOf(role);
    const taken = (): ApiError => new ApiError('CONFLICT', `an operator token named ${JSON.stringify(name)} already exists (revoked tokens keep their name); names identify tokens in logs and in revocation: choose another name`);
    // Tokens made before names were claimed (and the admin-token file's "admin") have no claim document.
    if (await this.tokens.findOne({ name }, { projection: { _id: 1 } })) throw taken();
    try {
      await this.names.insertOne({ _id: name, createdAt: this.clock.now() });
    } catch (err) {
      if (isDuplicateKey(err)) throw taken();
      throw err;
    }
    const token = newToken(r === 'admin' ? 'sat_' : r === 'operator' ? 'sot_' : 'srt_');
    await this.tokens.insertOne({ _id: hashToken(token), name, role: r, ...(scope ? { scope } : {}), createdAt: this.clock.now() });
    if (actor) await this.deps.auditLog.record({ actor: actor.name, action: 'token.create', target: `token:${name}`, address: actor.address, after: { role: r, ...(scope ? { scope } : {}) } });
    return token;
  }

  /** Registers an existing token (the admin token file read at start-up) if it is not stored yet. */
  async ensureToken(token: string, name: string, role: Role): Promise<void> {
    await this.tokens.updateOne({ _id: hashToken(token) }, { $setOnInsert: { name, role, createdAt: this.clock.now() } }, { upsert: true });
  }

  /** Revokes every token held by `name`; their sessions end. */
  async revokeByName(name: string, actor?: { name: string; address?: string | undefined }): Promise<number> {
    const r = await this.tokens.updateMany({ name, revokedAt: { $exists: false } }, { $set: { revokedAt: this.clock.now() } });
    await this.sessions.deleteMany({ kind: 'token', name });
    this.#cache.clear();
    if (actor) await this.deps.auditLog.record({ actor: actor.name, action: 'token.revoke', target: `token:${name}`, address: actor.address, after: { revoked: r.modified } });
    return r.modified;
  }

  async list(): Promise<{ name: string; role: Role; scope?: Scope; createdAt: number; revoked: boolean }[]> {
    return (await this.tokens.find({}, { sort: { createdAt: 1 } })).map((t) => ({ name: t.name, role: roleOf(t.role), ...(t.scope ? { scope: t.scope } : {}), createdAt: t.createdAt, revoked: t.revokedAt !== undefined }));
  }

  #cached(key: string): Operator | undefined | null {
    const hit = this.#cache.get(key);
    return hit && this.clock.now() - hit.at < this.cacheTtlMs ? hit.op : null;
  }

  #remember(key: string, op: Operator | undefined): Operator | undefined {
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(key, { op, at: this.clock.now() });
    return op;
  }

  async #tokenOperator(id: string): Promise<Operator | undefined> {
    const doc = await this.tokens.findOne({ _id: id });
    return doc && doc.revokedAt === undefined ? { name: doc.name, role: roleOf(doc.role), ...(doc.scope ? { scope: doc.scope } : {}), kind: 'token' } : undefined;
  }

  /** The operator holding `token` (an operator token or a session token), or undefined. */
  async authenticate(token: string): Promise<Operator | undefined> {
    if (token.length < 16 || token.length > 256) return undefined;
    if (token.startsWith(sessionTokenPrefix)) return this.session(token);
    const id = hashToken(token);
    const hit = this.#cached(`t:${id}`);
    if (hit !== null) return hit;
    return this.#remember(`t:${id}`, await this.#tokenOperator(id));
  }

  async #open(kind: 'user' | 'token', name: string, tokenId: string | undefined, op: Operator, address: string | undefined, via: string): Promise<{ sessionId: string; operator: Operator; expiresAt: number }> {
    const sessionId = newToken(sessionTokenPrefix);
    const now = this.clock.now();
    const expiresAt = now + this.sessionTtlMs;
    await this.sessions.insertOne({ _id: hashToken(sessionId), kind, name, ...(tokenId !== undefined ? { tokenId } : {}), createdAt: now, expiresAt });
    // Expired sessions are swept now and then by the logins that make new ones.
    if (Math.random() < 0.05) await this.sessions.deleteMany({ expiresAt: { $lt: now } });
    await this.deps.auditLog.record({ actor: name, action: 'login.success', target: `${kind}:${name}`, address, details: { via } });
    return { sessionId, operator: op, expiresAt };
  }

  /** Logs in with a token; resolves a session id (for a cookie or a bearer token). */
  async login(token: string, address?: string, via = 'console'): Promise<{ sessionId: string; operator: Operator; expiresAt: number }> {
    const op = token.startsWith(sessionTokenPrefix) ? undefined : await this.authenticate(token);
    if (!op) {
      await this.deps.auditLog.record({ actor: '-', action: 'login.failure', target: 'token', address, details: { reason: 'token not valid', via } });
      throw new ApiError('UNAUTHENTICATED', 'the token is not valid');
    }
    return this.#open('token', op.name, hashToken(token), op, address, `${via} token`);
  }

  /** Logs in with a user name and password; the same error for every kind of failure. */
  async loginPassword(name: string, password: string, address?: string, via = 'console'): Promise<{ sessionId: string; operator: Operator; expiresAt: number }> {
    const u = await this.deps.users.verify(name, password, address);
    if (!u) throw new ApiError('UNAUTHENTICATED', 'the user name or password is not right');
    return this.#open('user', u.name, undefined, { name: u.name, role: u.role, ...(u.scope ? { scope: u.scope } : {}), kind: 'user' }, address, `${via} password`);
  }

  /** The operator of a live session, or undefined. */
  async session(sessionId: string): Promise<Operator | undefined> {
    if (sessionId.length < 16 || sessionId.length > 256) return undefined;
    const key = hashToken(sessionId);
    const hit = this.#cached(`s:${key}`);
    if (hit !== null) return hit;
    const s = await this.sessions.findOne({ _id: key });
    let op: Operator | undefined;
    if (s && s.expiresAt > this.clock.now()) {
      if (s.kind === 'user') {
        const p = await this.deps.users.principal(s.name);
        op = p ? { name: s.name, role: p.role, ...(p.scope ? { scope: p.scope } : {}), kind: 'user' } : undefined;
      } else if (s.tokenId !== undefined) {
        op = await this.#tokenOperator(s.tokenId);
      }
    }
    return this.#remember(`s:${key}`, op);
  }

  async logout(sessionId: string, address?: string): Promise<void> {
    const key = hashToken(sessionId);
    const s = await this.sessions.findOne({ _id: key });
    await this.sessions.deleteOne({ _id: key });
    this.#cache.delete(`s:${key}`);
    if (s) await this.deps.auditLog.record({ actor: s.name, action: 'logout', target: `${s.kind}:${s.name}`, address });
  }

  /** Ends every session of a user (deleted users). */
  async endUserSessions(name: string): Promise<number> {
    const n = await this.sessions.deleteMany({ kind: 'user', name });
    this.#cache.clear();
    return n;
  }
}
