/**
 * A resources step (ADR 0018 §6: "upgrade to approved", service actions): each package or service
 * resource goes through the engine's own resource implementation (agent/resources/package.ts,
 * service.ts) the way the engine runs it and as files-run.ts does for files — validate, read,
 * diff; in a dry run `would-change` with the changes; else apply, then read and diff again (what
 * is still different fails it). Resources run once, in order; a failure does not stop the next
 * ones (each is independent, as in a catalog without edges). The step's timeout aborts the
 * resource running (`timeout`); a cancel or the agent's shutdown stops it (`cancelled`,
 * `interrupted`).
 */
import { resourceTitle, type JobResult, type JobWork, type ResourceOf } from '../../schemas/index.js';
import { registry } from '../resources/registry.js';
import type { Change, ResourceContext, ResourceImpl } from '../resources/resource.js';
import { isoTime, type JobContext, type StopReason } from './job-context.js';

type ResourceOutcome = NonNullable<JobResult['resources']>[number];
type StepResource = NonNullable<JobWork['resources']>[number];

function show(v: unknown): string {
  if (v === undefined) return 'absent';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** "ensure 1.0-1 -> 1.1-1", bounded. */
export function changeText(c: Change): string {
  return `${c.property} ${show(c.before)} -> ${show(c.after)}`.slice(0, 1024);
}

function bounded(message: string): string {
  return message.length > 4096 ? `${message.slice(0, 4093)}…` : message;
}

async function oneResource(r: StepResource, noop: boolean, rctx: ResourceContext): Promise<ResourceOutcome> {
  const resource = `${r.type}[${resourceTitle(r)}]`.slice(0, 512);
  // The registry is keyed by type; a step holds only package and service resources (the schema).
  const impl = registry[r.type] as unknown as ResourceImpl<typeof r.type, unknown>;
  const desired = r as ResourceOf<typeof r.type>;
  const problems = impl.validate(desired);
  if (problems.length > 0) return { resource, outcome: 'failed', message: bounded(problems.map((p) => `${p.path} ${p.message}`).join('; ')) };
  try {
    const actual = await impl.read(desired, rctx);
    const changes = impl.diff(desired, actual);
    if (changes.length === 0) return { resource, outcome: 'in-sync' };
    const texts = changes.slice(0, 64).map(changeText);
    if (noop) return { resource, outcome: 'would-change', changes: texts };
    await impl.apply({ desired, actual, changes }, rctx);
    const left = impl.diff(desired, await impl.read(desired, rctx));
    if (left.length > 0) return { resource, outcome: 'failed', changes: texts, message: bounded(`still different after the change: ${left.map(changeText).join('; ')}`) };
    return { resource, outcome: 'changed', changes: texts };
  } catch (err) {
    return { resource, outcome: 'failed', message: bounded(rctx.signal.aborted ? `stopped: ${err instanceof Error ? err.message : String(err)}` : err instanceof Error ? err.message : String(err)) };
  }
}

export async function runResources(work: JobWork, ctx: JobContext, stop: AbortSignal): Promise<JobResult> {
  const startedAt = ctx.now();
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort('timeout'), work.timeoutSeconds * 1000);
  const signal = AbortSignal.any([stop, timeout.signal]);
  const rctx: ResourceContext = {
    host: ctx.host,
    blobs: { get: () => Promise.reject(new Error('a resources step has no blobs')) },
    signal,
    stateDir: ctx.stateDir,
    catalogPaths: new Set(),
    log: (message, fields) => ctx.log('info', message, { dispatch: work.id, ...fields }),
  };
  const list = work.resources ?? [];
  const resources: ResourceOutcome[] = [];
  let stoppedAt: number | undefined;
  try {
    for (const [i, r] of list.entries()) {
      if (signal.aborted) {
        stoppedAt = i;
        break;
      }
      const outcome = await oneResource(r, work.noop, rctx);
      resources.push(outcome);
      if (signal.aborted) {
        stoppedAt = i + 1;
        break;
      }
    }
  } finally {
    clearTimeout(timer);
  }
  const failed = resources.filter((r) => r.outcome === 'failed').length;
  const timedOut = timeout.signal.aborted && !stop.aborted;
  const reason = stop.reason as StopReason | undefined;
  const state: JobResult['state'] = timedOut ? 'timeout' : stoppedAt !== undefined || stop.aborted ? (reason === 'shutdown' ? 'interrupted' : 'cancelled') : failed > 0 ? 'failed' : 'succeeded';
  const message = timedOut
    ? `stopped after the step's timeout of ${work.timeoutSeconds} s (${resources.length} of ${list.length} resources run)`
    : state === 'cancelled' || state === 'interrupted'
      ? `stopped after ${resources.length} of ${list.length} resources`
      : failed > 0 ? `${failed} of ${list.length} resources failed` : list.length === 0 ? 'a resources step without resources' : undefined;
  return { state, exitCode: null, stdout: '', stderr: '', resources, ...(message ? { message } : {}), startedAt: isoTime(startedAt), finishedAt: isoTime(ctx.now()) };
}
