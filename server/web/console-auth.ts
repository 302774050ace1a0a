/**
 * The console's role checks: the same rules as the API's auth kinds (server/api/auth.ts,
 * ADR 0020), for form posts. Services check scopes against the hosts a change reaches.
 */
import { ApiError } from '../domain/errors.js';
import { canChange, isAdmin, isScoped, type Scope } from '../domain/roles.js';
import { canChangeFleet } from '../domain/scope.js';

export type ConsoleNeed = 'write' | 'fleet' | 'admin';

interface Who {
  readonly role: string;
  readonly scope?: Scope | undefined;
}

/** Whether the operator may do what `need` asks (for showing buttons). */
export function may(op: Who, need: ConsoleNeed): boolean {
  if (need === 'admin') return isAdmin(op.role);
  if (need === 'fleet') return canChangeFleet(op.role, op.scope);
  return canChange(op.role);
}

/** Throws FORBIDDEN, saying why, unless the operator may `what`. */
export function requireRole(op: Who, need: ConsoleNeed, what: string): void {
  if (may(op, need)) return;
  if (!canChange(op.role)) throw new ApiError('FORBIDDEN', `a ${op.role} cannot ${what}`);
  if (need === 'admin') throw new ApiError('FORBIDDEN', `only an admin may ${what}`);
  throw new ApiError('FORBIDDEN', `${what}: this reaches the whole fleet; it needs an admin or an operator without a scope${isScoped(op.scope) ? ' (yours is scoped)' : ''}`);
}
