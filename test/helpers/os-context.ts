/**
 * Test helpers for the OS resource types (package, service, user, group): a ResourceContext over
 * any Host, and `converge`, which drives a resource the way the engine does
 * (validate → read → diff → apply → read → diff), so per-type tests exercise the whole contract.
 */
import type { ResourceOf, ResourceType } from '../../schemas/index.js';
import type { Host } from '../../agent/host/host.js';
import type { Change, ResourceContext, ResourceImpl } from '../../agent/resources/resource.js';

export interface TestContext extends ResourceContext {
  /** Every ctx.log call, in order. */
  readonly logs: { message: string; fields?: Record<string, unknown> }[];
}

/** A context for `host`; stateDir must be a real directory (t.testdir()). */
export function osContext(host: Host, stateDir: string, signal: AbortSignal = new AbortController().signal): TestContext {
  const logs: { message: string; fields?: Record<string, unknown> }[] = [];
  return {
    host,
    stateDir,
    signal,
    catalogPaths: new Set(),
    blobs: {
      get() {
        return Promise.reject(new Error('no blobs in OS resource tests'));
      },
    },
    logs,
    log(message, fields) {
      logs.push(fields === undefined ? { message } : { message, fields });
    },
  };
}

export interface ConvergeResult<A> {
  /** What diff found before apply (empty: apply was not called). */
  readonly changes: Change[];
  /** What read() returned after apply (or the first read when nothing changed). */
  readonly after: A | undefined;
}

/**
 * Runs one resource like the engine: throws on validation problems, applies only when diff found
 * changes, and throws when the second diff is not empty (verify after apply).
 */
export async function converge<K extends ResourceType, A>(impl: ResourceImpl<K, A>, desired: ResourceOf<K>, ctx: ResourceContext): Promise<ConvergeResult<A>> {
  const problems = impl.validate(desired);
  if (problems.length > 0) throw new Error(`invalid: ${JSON.stringify(problems)}`);
  const actual = await impl.read(desired, ctx);
  const changes = impl.diff(desired, actual);
  if (changes.length === 0) return { changes, after: actual };
  await impl.apply({ desired, actual, changes }, ctx);
  const after = await impl.read(desired, ctx);
  const left = impl.diff(desired, after);
  if (left.length > 0) throw new Error(`still different after apply: ${JSON.stringify(left)}`);
  return { changes, after };
}
