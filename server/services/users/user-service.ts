/**
 * Console and CLI users (ADR 0020): a name, a role (admin | operator | viewer), an optional
 * scope, an argon2id password hash, a disabled flag and timestamps, one document per user in
 * `users`. Every change is recorded in the audit log with the acting operator and address.
 *
 * Failed logins are limited per user name (10 per 15 minutes, across addresses) on top of the
 * per-address limit of the login entrances; a locked name answers like a wrong password would
 * after the same work, so lockouts reveal nothing about which names exist.
 */
import type { Clock } from '../../domain/clock.js';
import { ApiError } from '../../domain/errors.js';
import { RateLimiter } from '../../domain/rate-limiter.js';
import { roleOf, roles, type Role, type Scope } from '../../domain/roles.js';
import { normalizeScope } from '../../domain/scope.js';
import type { Collection, DocumentStore } from '../../store/types.js';
import { isDuplicateKey } from '../../store/types.js';
import type { AuditLog } from '../audit-log.js';
import { hashPassword, verifyPassword } from './passwords.js';

export const userNameSyntax = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

export type UserDoc = {
  _id: string;
  role: Role;
  scope?: Scope;
  hash: string;
  disabled?: boolean;
  createdAt: number;
  updatedAt: number;
  passwordChangedAt: number;
  lastLoginAt?: number;
};

export interface UserView {
  readonly name: string;
  readonly role: Role;
  readonly scope?: Scope;
  readonly disabled: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly passwordChangedAt: number;
  readonly lastLoginAt?: number;
}

/** Who changes users, and from where. */
export interface UserActor {
  readonly name: string;
  readonly address?: string | undefined;
}

export interface UserChange {
  readonly role?: string | undefined;
  /** null clears the scope. */
  readonly scope?: { business?: string[]; idc?: string[] } | null | undefined;
  readonly disabled?: boolean | undefined;
}

function view(d: UserDoc): UserView {
  return { name: d._id, role: d.role, ...(d.scope ? { scope: d.scope } : {}), disabled: d.disabled === true, createdAt: d.createdAt, updatedAt: d.updatedAt, passwordChangedAt: d.passwordChangedAt, ...(d.lastLoginAt !== undefined ? { lastLoginAt: d.lastLoginAt } : {}) };
}

function checkName(name: string): void {
  if (!userNameSyntax.test(name)) throw new ApiError('BAD_REQUEST', 'a user name is 1–64 characters: a letter, then letters, digits, . _ -');
}

function checkRole(role: string): Role {
  if (role === 'readonly') return 'viewer';
  if (!(roles as readonly string[]).includes(role)) throw new ApiError('BAD_REQUEST', `role must be one of ${roles.join(', ')}`);
  return role as Role;
}

function scopeOf(input: UserChange['scope']): Scope | undefined {
  if (input === null || input === undefined) return undefined;
  try {
    return normalizeScope(input);
  } catch (err) {
    throw new ApiError('BAD_REQUEST', (err as Error).message);
  }
}

export class UserService {
  readonly #perUser: RateLimiter;

  private constructor(
    private readonly users: Collection<UserDoc>,
    private readonly clock: Clock,
    private readonly auditLog: AuditLog,
    opts: { failuresPerUser?: number; failureWindowMs?: number },
  ) {
    this.#perUser = new RateLimiter(clock, opts.failuresPerUser ?? 10, opts.failureWindowMs ?? 15 * 60_000);
  }

  static async open(store: DocumentStore, clock: Clock, auditLog: AuditLog, opts: { failuresPerUser?: number; failureWindowMs?: number } = {}): Promise<UserService> {
    return new UserService(await store.collection<UserDoc>('users'), clock, auditLog, opts);
  }

  async list(): Promise<UserView[]> {
    return (await this.users.find({}, { sort: { _id: 1 }, limit: 10_000 })).map(view);
  }

  async get(name: string): Promise<UserView | undefined> {
    if (!userNameSyntax.test(name)) return undefined;
    const d = await this.users.findOne({ _id: name });
    return d ? view(d) : undefined;
  }

  /** The role and scope a live (not disabled) user acts with now; undefined otherwise. */
  async principal(name: string): Promise<{ role: Role; scope?: Scope } | undefined> {
    if (!userNameSyntax.test(name)) return undefined;
    const d = await this.users.findOne({ _id: name }, { projection: { hash: 0 } });
    if (!d || d.disabled) return undefined;
    return { role: roleOf(d.role), ...(d.scope ? { scope: d.scope } : {}) };
  }

  async create(input: { name: string; role: string; password: string; scope?: UserChange['scope'] }, actor: UserActor): Promise<UserView> {
    checkName(input.name);
    const role = checkRole(input.role);
    const scope = scopeOf(input.scope);
    const hash = await hashPassword(input.password);
    const now = this.clock.now();
    const doc: UserDoc = { _id: input.name, role, ...(scope ? { scope } : {}), hash, createdAt: now, updatedAt: now, passwordChangedAt: now };
    try {
      await this.users.insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) throw new ApiError('CONFLICT', `a user named ${input.name} already exists`);
      throw err;
    }
    await this.auditLog.record({ actor: actor.name, action: 'user.create', target: `user:${input.name}`, address: actor.address, after: { role, ...(scope ? { scope } : {}) } });
    return view(doc);
  }

  async update(name: string, change: UserChange, actor: UserActor): Promise<UserView> {
    const before = await this.users.findOne({ _id: name });
    if (!before) throw new ApiError('NOT_FOUND', `no user ${name.slice(0, 64)}`);
    const set: Partial<UserDoc> = { updatedAt: this.clock.now() };
    const unset: Record<string, 1> = {};
    if (change.role !== undefined) set.role = checkRole(change.role);
    if (change.scope !== undefined) {
      const scope = scopeOf(change.scope);
      if (scope) set.scope = scope;
      else unset.scope = 1;
    }
    if (change.disabled !== undefined) set.disabled = change.disabled;
    if (name === actor.name && ((set.role !== undefined && set.role !== 'admin' && before.role === 'admin') || change.disabled === true)) {
      throw new ApiError('CONFLICT', 'you cannot demote or disable yourself; ask another admin');
    }
    const after = await this.users.findOneAndUpdate({ _id: name }, { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) }, { returnDocument: 'after' });
    if (!after) throw new ApiError('NOT_FOUND', `no user ${name.slice(0, 64)}`);
    await this.auditLog.record({ actor: actor.name, action: 'user.update', target: `user:${name}`, address: actor.address, before: { role: before.role, scope: before.scope ?? null, disabled: before.disabled === true }, after: { role: after.role, scope: after.scope ?? null, disabled: after.disabled === true } });
    return view(after);
  }

  /** Sets a new password (an admin's reset, or the user's own change after checking the old one). */
  async setPassword(name: string, password: string, actor: UserActor, opts: { current?: string } = {}): Promise<void> {
    const d = await this.users.findOne({ _id: name });
    if (!d) throw new ApiError('NOT_FOUND', `no user ${name.slice(0, 64)}`);
    if (opts.current !== undefined && !(await verifyPassword(d.hash, opts.current))) throw new ApiError('FORBIDDEN', 'the current password is not right');
    const hash = await hashPassword(password);
    const now = this.clock.now();
    await this.users.updateOne({ _id: name }, { $set: { hash, passwordChangedAt: now, updatedAt: now } });
    await this.auditLog.record({ actor: actor.name, action: actor.name === name ? 'user.password-change' : 'user.password-reset', target: `user:${name}`, address: actor.address });
  }

  async remove(name: string, actor: UserActor): Promise<boolean> {
    if (name === actor.name) throw new ApiError('CONFLICT', 'you cannot delete yourself; ask another admin');
    const before = await this.users.findOne({ _id: name }, { projection: { hash: 0 } });
    if (!before) return false;
    await this.users.deleteOne({ _id: name });
    await this.auditLog.record({ actor: actor.name, action: 'user.delete', target: `user:${name}`, address: actor.address, before: { role: before.role, scope: before.scope ?? null } });
    return true;
  }

  /**
   * Checks a password. Unknown names, disabled users, wrong passwords and locked names all cost
   * one argon2 verification and answer undefined. Records login.failure (success is recorded by
   * the caller, which knows the session).
   */
  async verify(name: string, password: string, address: string | undefined): Promise<{ name: string; role: Role; scope?: Scope } | undefined> {
    const known = userNameSyntax.test(name) ? await this.users.findOne({ _id: name }) : null;
    const ok = await verifyPassword(known?.hash, password);
    const allowed = this.#perUser.peek(name.slice(0, 64));
    if (ok && known && !known.disabled && allowed) {
      await this.users.updateOne({ _id: name }, { $set: { lastLoginAt: this.clock.now() } });
      return { name, role: roleOf(known.role), ...(known.scope ? { scope: known.scope } : {}) };
    }
    this.#perUser.take(name.slice(0, 64));
    const reason = !allowed ? 'locked' : !known ? 'unknown user' : !ok ? 'wrong password' : 'disabled';
    await this.auditLog.record({ actor: name.slice(0, 64) || '-', action: 'login.failure', target: `user:${name.slice(0, 64)}`, address, details: { reason } });
    return undefined;
  }

  /** Makes a user if none of that name exists (the demo's admin); true when it did. */
  async ensure(name: string, role: Role, password: string): Promise<boolean> {
    if (await this.users.findOne({ _id: name }, { projection: { _id: 1 } })) return false;
    await this.create({ name, role, password }, { name: 'system' });
    return true;
  }
}
