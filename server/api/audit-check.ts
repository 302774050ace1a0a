/**
 * The router's check of the audit log (issue 12): a change route runs inside an audit scope
 * (server/services/audit-log.ts auditScope) that collects the events its request recorded.
 * After a successful request the router compares them with the route's declared `audit`
 * actions: none of them recorded (and the service did not say auditUnchanged()), or one action
 * recorded twice for the same target, is a bug — logged as an error in production, a 500 in
 * strict mode (the test fixture), so a change route that does not record fails its tests.
 */
import type { Logger } from '../log.js';
import { auditScope, type AuditScope } from '../services/audit-log.js';
import type { AppContext } from './app-state.js';
import type { RouteSpec } from './route-spec.js';

/** Whether `spec` is a change route that must declare its audit actions. */
export function needsAuditDeclaration(spec: Pick<RouteSpec, 'auth' | 'method'>): boolean {
  return (spec.auth === 'write' || spec.auth === 'fleet' || spec.auth === 'admin') && spec.method !== 'GET';
}

/** What is wrong with the events a successful request recorded; undefined when nothing is. */
export function auditProblem(declared: readonly string[], recorded: readonly { action: string; target: string }[]): string | undefined {
  const seen = new Set<string>();
  for (const e of recorded) {
    const key = `${e.action} ${e.target}`;
    if (seen.has(key)) return `${e.action} on ${e.target} was recorded twice`;
    seen.add(key);
  }
  if (!recorded.some((e) => declared.includes(e.action))) return `none of ${declared.join(', ')} was recorded (recorded: ${recorded.map((e) => e.action).join(', ') || 'nothing'})`;
  return undefined;
}

/** Runs `handler` in an audit scope and checks what it recorded against `spec.audit`. */
export async function runAudited(spec: RouteSpec, ctx: AppContext, handler: () => Promise<void>, opts: { readonly strict: boolean; readonly log: Logger }): Promise<void> {
  const declared = spec.audit;
  if (declared === undefined || !Array.isArray(declared)) {
    await handler();
    return;
  }
  const scope: AuditScope = { events: [], unchanged: false };
  await auditScope.run(scope, handler);
  if (ctx.status >= 300 || (scope.unchanged && scope.events.length === 0)) return;
  const problem = auditProblem(declared as readonly string[], scope.events);
  if (problem === undefined) return;
  opts.log.error('audit log: a change route did not record as declared', { route: `${spec.method} ${spec.path}`, problem });
  if (opts.strict) throw new Error(`audit check of ${spec.method} ${spec.path}: ${problem}`);
}
