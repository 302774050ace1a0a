/**
 * Checks that hosts an operator would touch lie inside the operator's scope (ADR 0020). The
 * business line and IDC of a host come from its effective inventory record (store record over
 * repository record). A host unknown to the inventory is outside every restricting scope.
 */
import { ApiError } from '../../domain/errors.js';
import { isScoped, type Scope } from '../../domain/roles.js';
import { scopeTest, scopeText } from '../../domain/scope.js';

export interface ScopedHost {
  readonly hostname: string;
  readonly record: { readonly business?: string | undefined; readonly idc?: string | undefined };
}

/** FORBIDDEN naming up to five hosts outside the scope. */
export function outsideScopeError(scope: Scope | undefined, outside: readonly string[], total: number, what: string): ApiError {
  const shown = outside.slice(0, 5).join(', ');
  return new ApiError('FORBIDDEN', `${what}: ${outside.length} of ${total} host${total === 1 ? ' is' : 's are'} outside your scope (${scopeText(scope)}): ${shown}${outside.length > 5 ? ', …' : ''}`, { outside: outside.slice(0, 100) });
}

export class ScopeGuard {
  constructor(private readonly hosts: (signal: AbortSignal) => Promise<readonly ScopedHost[]>) {}

  /** The names (of `names`) outside `scope`, in the given order. */
  async outside(scope: Scope | undefined, names: Iterable<string>): Promise<string[]> {
    if (!isScoped(scope)) return [];
    const index = new Map<string, ScopedHost['record']>();
    for (const h of await this.hosts(AbortSignal.timeout(120_000))) index.set(h.hostname, h.record);
    const test = scopeTest(scope);
    const out: string[] = [];
    for (const n of names) {
      const r = index.get(n);
      if (!r || !test(r)) out.push(n);
    }
    return out;
  }

  /** Throws FORBIDDEN when any of `names` is outside `scope`. */
  async check(scope: Scope | undefined, names: readonly string[], what: string): Promise<void> {
    if (!isScoped(scope)) return;
    const out = await this.outside(scope, names);
    if (out.length > 0) throw outsideScopeError(scope, out, names.length, what);
  }
}

/** Refuses when a scoped actor reaches a service built without a guard (never silently allowed). */
export async function checkScope(guard: ScopeGuard | undefined, scope: Scope | undefined, names: readonly string[], what: string): Promise<void> {
  if (!isScoped(scope)) return;
  if (!guard) throw new ApiError('FORBIDDEN', `${what}: this server cannot check scopes here; only an unscoped operator may do this`);
  await guard.check(scope, names, what);
}
