/**
 * Operator roles and scopes (issue 12). Three roles:
 *   viewer    reads everything it is scoped to; changes nothing
 *   operator  acts on hosts (jobs, rollouts, inventory edits, services, packages) within its scope
 *   admin     everything, including users, tokens, agent keys, settings and collectors
 * A scope restricts an operator (or viewer) to business lines and/or IDCs. An absent or empty
 * list means "any". Changes that reach the whole fleet (publishing a revision, git push,
 * schedules, enrollment) need an unscoped operator or an admin.
 *
 * The API enforces these rules; the console only hides what the API would refuse.
 */
export const roles = ['admin', 'operator', 'viewer'] as const;
export type Role = (typeof roles)[number];

export interface Scope {
  /** Business-line patterns (`pay`, `pay/*`); absent or empty: any. */
  readonly business?: readonly string[];
  /** IDC names; absent or empty: any. */
  readonly idc?: readonly string[];
}

/** Stored tokens made before issue 12 carry `readonly`; it reads as `viewer`. */
export function roleOf(stored: string): Role {
  if (stored === 'readonly') return 'viewer';
  return (roles as readonly string[]).includes(stored) ? (stored as Role) : 'viewer';
}

/** May change something (operator or admin). */
export function canChange(role: string): boolean {
  return role === 'admin' || role === 'operator';
}

export function isAdmin(role: string): boolean {
  return role === 'admin';
}

/** Whether a scope restricts anything. */
export function isScoped(scope: Scope | undefined): boolean {
  return !!scope && ((scope.business?.length ?? 0) > 0 || (scope.idc?.length ?? 0) > 0);
}
