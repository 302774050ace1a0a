/**
 * Operator bearer tokens (roles admin and readonly) and console sessions. Tokens are stored
 * as sha256 hashes only; lookups are cached in memory for a few seconds so the hot path of a
 * dashboard does not hit the store on every request.
 */
import type { Collection, DocumentStore } from '../store/types.js';
import { isDuplicateKey } from '../store/types.js';
import type { Clock } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import { hashToken, newToken } from '../domain/tokens.js';

export type Role = 'admin' | 'readonly';

type TokenDoc = {
  _id: string;
  name: string;
  role: Role;
  createdAt: number;
  revokedAt?: number;
};

/** One document per token name, so two concurrent creations of one name cannot both succeed. */
type NameDoc = { _id: string; createdAt: number };

export interface Operator {
  readonly name: string;
  readonly role: Role;
}

export class OperatorAuthService {
  readonly #cache = new Map<string, { op: Operator | undefined; at: number }>();
  readonly #sessions = new Map<string, { op: Operator; expiresAt: number }>();

  private constructor(
    private readonly tokens: Collection<TokenDoc>,
    private readonly names: Collection<NameDoc>,
    private readonly clock: Clock,
    private readonly cacheTtlMs: number,
    private readonly sessionTtlMs: number,
  ) {}

  static async open(store: DocumentStore, clock: Clock, opts: { cacheTtlMs?: number; sessionTtlMs?: number } = {}): Promise<OperatorAuthService> {
    const tokens = await store.collection<TokenDoc>('operator_tokens', [{ name: 'by_name', fields: { name: 1 } }]);
    const names = await store.collection<NameDoc>('operator_token_names');
    return new OperatorAuthService(tokens, names, clock, opts.cacheTtlMs ?? 5000, opts.sessionTtlMs ?? 8 * 3600_000);
  }

  /**
   * Creates a token for `name` with `role`; the token is returned once and stored hashed. A name
   * already used (by a live or a revoked token) is refused: names identify tokens in the logs and
   * in revocation, so one name must never mean two holders.
   */
  async createToken(name: string, role: Role): Promise<string> {
    const taken = (): ApiError => new ApiError('CONFLICT', `an operator token named ${JSON.stringify(name)} already exists (revoked tokens keep their name); names identify tokens in logs and in revocation: choose another name`);
    // Tokens made before names were claimed (and the admin-token file's "admin") have no claim document.
    if (await this.tokens.findOne({ name }, { projection: { _id: 1 } })) throw taken();
    try {
      await this.names.insertOne({ _id: name, createdAt: this.clock.now() });
    } catch (err) {
      if (isDuplicateKey(err)) throw taken();
      throw err;
    }
    const token = newToken(role === 'admin' ? 'sat_' : 'srt_');
    await this.tokens.insertOne({ _id: hashToken(token), name, role, createdAt: this.clock.now() });
    return token;
  }

  /** Registers an existing token (the admin token file read at start-up) if it is not stored yet. */
  async ensureToken(token: string, name: string, role: Role): Promise<void> {
    await this.tokens.updateOne({ _id: hashToken(token) }, { $setOnInsert: { name, role, createdAt: this.clock.now() } }, { upsert: true });
  }

  /** Revokes every token held by `name`. */
  async revokeByName(name: string): Promise<number> {
    const r = await this.tokens.updateMany({ name, revokedAt: { $exists: false } }, { $set: { revokedAt: this.clock.now() } });
    this.#cache.clear();
    for (const [id, s] of this.#sessions) if (s.op.name === name) this.#sessions.delete(id);
    return r.modified;
  }

  async list(): Promise<{ name: string; role: Role; createdAt: number; revoked: boolean }[]> {
    return (await this.tokens.find({}, { sort: { createdAt: 1 } })).map((t) => ({ name: t.name, role: t.role, createdAt: t.createdAt, revoked: t.revokedAt !== undefined }));
  }

  /** The operator holding `token`, or undefined. */
  async authenticate(token: string): Promise<Operator | undefined> {
    if (token.length < 16 || token.length > 256) return undefined;
    const id = hashToken(token);
    const now = this.clock.now();
    const hit = this.#cache.get(id);
    if (hit && now - hit.at < this.cacheTtlMs) return hit.op;
    const doc = await this.tokens.findOne({ _id: id });
    const op = doc && doc.revokedAt === undefined ? { name: doc.name, role: doc.role } : undefined;
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(id, { op, at: now });
    return op;
  }

  /** Logs in with a token; resolves a session id for an HttpOnly cookie. */
  async login(token: string): Promise<{ sessionId: string; operator: Operator; expiresAt: number }> {
    const op = await this.authenticate(token);
    if (!op) throw new ApiError('UNAUTHENTICATED', 'the token is not valid');
    const sessionId = newToken();
    const expiresAt = this.clock.now() + this.sessionTtlMs;
    this.#sessions.set(hashToken(sessionId), { op, expiresAt });
    return { sessionId, operator: op, expiresAt };
  }

  session(sessionId: string): Operator | undefined {
    const key = hashToken(sessionId);
    const s = this.#sessions.get(key);
    if (!s) return undefined;
    if (s.expiresAt <= this.clock.now()) {
      this.#sessions.delete(key);
      return undefined;
    }
    return s.op;
  }

  logout(sessionId: string): void {
    this.#sessions.delete(hashToken(sessionId));
  }
}
