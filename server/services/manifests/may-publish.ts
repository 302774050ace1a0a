/**
 * Who may change what the whole fleet runs (server/domain/roles.ts): an admin, or an operator
 * without a scope. A scoped operator acts on its own hosts only, and a manifest change reaches
 * every host, so it may not publish; a viewer changes nothing.
 */
import { canChange, isAdmin, isScoped, type Scope } from '../../domain/roles.js';

/** undefined when `who` may publish a manifest change, else why not (for a 403). */
export function mayPublish(who: { readonly name: string; readonly role: string; readonly scope?: Scope | undefined }): string | undefined {
  if (isAdmin(who.role)) return undefined;
  if (!canChange(who.role)) return `role ${who.role} may not change manifests`;
  if (isScoped(who.scope)) return `${who.name} is scoped to some business lines or IDCs; a manifest change reaches every host, so only an admin or an unscoped operator may make one`;
  return undefined;
}
