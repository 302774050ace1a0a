/**
 * reconcile: one run of the engine over a catalog (DESIGN §4, STYLE §4-5).
 *
 * Contract:
 * - Every resource is checked against its type's schema and its impl.validate, and the
 *   dependency graph is built, before anything runs; any problem fails the run with
 *   `report.error` and no resource is read or changed.
 * - Each resource, in dependency order: read → diff → (noop: would-change) → apply → read + diff
 *   again; a remaining difference fails it with NOT_CONVERGED.
 * - A throw or a timeout (resource `timeout` seconds, default 300) fails only that resource;
 *   its dependents are skipped with DEPENDENCY_FAILED naming the dependency.
 * - notify/subscribe refresh a target only when the source changed; in noop the target is
 *   marked `refreshed` as would-change and refresh() is never called.
 * - Corrective vs intentional changes come from the local record of applied values.
 * - Secrets are redacted before anything leaves (report, onResource, log).
 * - Never throws: every error ends up in the report.
 *
 * Independent filesystem resources (file, directory, link) run concurrently, up to
 * `concurrency`; every other type runs alone.
 */
import { randomUUID } from 'node:crypto';
import type {
  Catalog,
  Resource,
  ResourceStatus,
  ResourceType,
  RunReport,
} from '../../schemas/index.js';
import type { Host } from '../host/host.js';
import type { BlobSource, Change, Registry, ResourceContext, ResourceImpl } from '../resources/resource.js';
import { AppliedRecord } from './applied-record.js';
import { planCatalog } from './catalog-plan.js';
import { Deadlines } from './deadlines.js';
import { errorCode, errorMessage } from './engine-error.js';
import { redactorFor, type Redactor } from './redact.js';
import { walk } from './walk.js';

/** One log line of a run, already redacted. */
export interface EngineLogEntry {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly resource?: string;
  readonly fields?: Record<string, unknown>;
}

export interface ReconcileOptions {
  readonly host: Host;
  readonly blobs: BlobSource;
  /** Agent state directory (backups, archive markers, applied record); real path, not under the root. */
  readonly stateDir: string;
  readonly hostName: string;
  readonly noop: boolean;
  /** Aborting stops the run: running resources fail with ABORTED, the rest are skipped. */
  readonly signal: AbortSignal;
  readonly runId?: string;
  /** Default: the full registry (agent/resources/registry.ts). */
  readonly registry?: Registry;
  /** Milliseconds since the epoch; default Date.now. */
  readonly now?: () => number;
  /** Per-resource timeout when the resource sets none; default 300,000 ms. */
  readonly defaultTimeoutMs?: number;
  /** Called with each resource's (redacted) status as soon as it is known. */
  readonly onResource?: (status: ResourceStatus) => void;
  /** Receives redacted log lines. */
  readonly log?: (entry: EngineLogEntry) => void;
  /** Host for the state directory; default a NodeHost rooted at stateDir. */
  readonly state?: Host;
  /** Filesystem resources run at the same time; default 8; 1 runs everything in order. */
  readonly concurrency?: number;
}

/** Types whose independent resources may run concurrently. */
const PARALLEL_TYPES: ReadonlySet<ResourceType> = new Set(['file', 'directory', 'link']);
const DEFAULT_TIMEOUT_MS = 300_000;
const OUTPUT_CAP = 64 * 1024;
/** The change list of every in-sync resource (shared; frozen so no consumer can grow it). */
const NO_CHANGES: ResourceStatus['changes'] = Object.freeze([]) as unknown as ResourceStatus['changes'];

/**
 * Optional member of a resource type: true when the resource changes on every run by design
 * (an exec with no guard). Such changes are never corrective (docs/resource-contract.md).
 */
type MaybeUnconditional = { unconditional?(desired: never): boolean };

function cap(s: string): string {
  if (Buffer.byteLength(s) <= OUTPUT_CAP) return s;
  return `${Buffer.from(s).subarray(0, OUTPUT_CAP - 64).toString('utf8')}\n[stead: output truncated]`;
}

async function stateHostFor(dir: string, noop: boolean): Promise<Host> {
  const { createNodeHost, createStateHost } = await import('../host/node-host.js');
  return noop ? createNodeHost({ root: dir }) : createStateHost(dir);
}

async function loadDefaultRegistry(): Promise<Registry> {
  const mod = await import('../resources/registry.js');
  return mod.registry;
}

function emptyCounts(total: number): RunReport['counts'] {
  return { total, inSync: 0, changed: 0, wouldChange: 0, failed: 0, skipped: 0, corrective: 0 };
}

/** Runs one catalog on the host; see the module comment for the contract. Never throws. */
export async function reconcile(catalog: Catalog, opts: ReconcileOptions): Promise<RunReport> {
  const now = opts.now ?? Date.now;
  const started = now();
  const base = {
    runId: opts.runId ?? randomUUID(),
    host: opts.hostName,
    catalogId: typeof catalog?.id === 'string' ? catalog.id : '',
    revision: typeof catalog?.revision === 'string' ? catalog.revision : '',
    mode: opts.noop ? ('noop' as const) : ('apply' as const),
    startedAt: new Date(started).toISOString(),
  };
  const failRun = (error: string, total: number): RunReport => ({
    ...base,
    durationMs: Math.max(0, now() - started),
    outcome: 'failed',
    counts: emptyCounts(total),
    error,
    resources: [],
  });
  try {
    return await run(catalog, opts, now, started, base, failRun);
  } catch (err) {
    return failRun(`INTERNAL: ${errorMessage(err)}`, Array.isArray(catalog?.resources) ? catalog.resources.length : 0);
  }
}

async function run(
  catalog: Catalog,
  opts: ReconcileOptions,
  now: () => number,
  started: number,
  base: Omit<RunReport, 'durationMs' | 'outcome' | 'counts' | 'resources' | 'error'>,
  failRun: (error: string, total: number) => RunReport,
): Promise<RunReport> {
  const resources: unknown[] = Array.isArray(catalog?.resources) ? catalog.resources : [];
  if (!Array.isArray(catalog?.resources)) return failRun('INVALID: the catalog has no resource list', 0);
  const registry = opts.registry ?? (await loadDefaultRegistry());

  // 1. Validate everything before anything runs (once per catalog id: catalog-plan.ts).
  const planned = planCatalog(catalog.id, resources, registry);
  if ('error' in planned) return failRun(planned.error, resources.length);
  const { graph, order, deps, catalogPaths, digests } = planned.plan;
  const list = resources as Resource[];
  const n = list.length;
  const ids = graph.ids;
  const log = (entry: EngineLogEntry, red?: Redactor) => {
    if (!opts.log) return;
    const message = red ? red.text(entry.message) : entry.message;
    const fields = entry.fields && red ? (JSON.parse(red.text(JSON.stringify(entry.fields))) as Record<string, unknown>) : entry.fields;
    opts.log({ ...entry, message, ...(fields ? { fields } : {}) });
  };

  // A noop run creates nothing, not even the state directory.
  const state = opts.state ?? (await stateHostFor(opts.stateDir, opts.noop));
  const applied = await AppliedRecord.load(state, (message) => log({ level: 'warn', message }));

  const statuses: (ResourceStatus | undefined)[] = new Array<ResourceStatus | undefined>(n);
  const moved = new Set<number>(); // changed, would-change, or refreshed: triggers refresh of subscribers
  const finish = (i: number, st: ResourceStatus) => {
    statuses[i] = st;
    if (opts.onResource) {
      try {
        opts.onResource(st);
      } catch {
        // a progress callback cannot fail the run
      }
    }
  };

  const runningAborts = new Set<(reason: unknown) => void>();
  const onRunAbort = () => {
    for (const f of [...runningAborts]) f(opts.signal.reason);
  };
  opts.signal.addEventListener('abort', onRunAbort, { once: true });
  const deadlines = new Deadlines();
  const defaultTimeoutMs = opts.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;

  const runOne = async (i: number): Promise<void> => {
    const r = list[i]!;
    const id = ids[i]!;
    let redactor: Redactor | undefined;
    const red = (): Redactor => (redactor ??= redactorFor(r));
    const impl = registry[r.type] as ResourceImpl<ResourceType, unknown>;
    const t0 = now();
    const timeoutMs = r.timeout !== undefined ? r.timeout * 1000 : defaultTimeoutMs;
    // The resource's AbortSignal is made only when the resource asks for it (a no-op read of a
    // file never does); the timeout and a run abort reach it, and the race below, either way.
    let ac: AbortController | undefined;
    let abortReason: unknown;
    let rejectRace: ((reason: unknown) => void) | undefined;
    const timeout = { aborted: false };
    const abortNow = (reason: unknown): void => {
      if (abortReason !== undefined) return;
      abortReason = reason ?? new Error('aborted');
      ac?.abort(abortReason);
      rejectRace?.(abortReason);
    };
    const cancelTimeout = deadlines.add(timeoutMs, () => {
      timeout.aborted = true;
      abortNow(Object.assign(new Error(`timed out after ${timeoutMs / 1000} s`), { code: 'TIMEOUT' }));
    });
    runningAborts.add(abortNow);
    const ctx: ResourceContext = {
      host: opts.host,
      blobs: opts.blobs,
      get signal(): AbortSignal {
        if (!ac) {
          ac = new AbortController();
          if (abortReason !== undefined) ac.abort(abortReason);
        }
        return ac.signal;
      },
      stateDir: opts.stateDir,
      catalogPaths,
      log: (message, fields) => log({ level: 'info', message, resource: id, ...(fields ? { fields } : {}) }, red()),
    };
    const cleanup = () => {
      cancelTimeout();
      runningAborts.delete(abortNow);
    };
    const dd = digests[i]!;
    const toChanges = (changes: readonly Change[]): ResourceStatus['changes'] => {
      if (changes.length === 0) return NO_CHANGES;
      const unconditional = (impl as MaybeUnconditional).unconditional?.(r as never) === true;
      return changes.map((c) => ({
        property: c.property,
        ...('before' in c && c.before !== undefined ? { before: red().value(c.property, c.before) } : {}),
        ...('after' in c && c.after !== undefined ? { after: red().value(c.property, c.after) } : {}),
        corrective: !unconditional && applied.isCorrective(id, dd, c.property, c.before),
      }));
    };
    let phase: 'read' | 'apply' | 'refresh' | 'verify' = 'read';
    let changes: Change[] = [];
    let diffText: string | undefined;
    let output: string | undefined;
    try {
      const work = (async () => {
        const actual = await impl.read(r as never, ctx);
        changes = impl.diff(r as never, actual);
        const refresh = graph.refreshers[i]!.some((j) => moved.has(j));
        if (changes.length === 0 && !refresh) return { state: 'in-sync' as const, refreshed: false };
        if (changes.length > 0 && impl.describe && !red().noDiff) {
          try {
            diffText = await impl.describe({ desired: r as never, actual, changes }, ctx);
          } catch (err) {
            ctx.log(`no diff: ${errorMessage(err)}`);
          }
        }
        if (opts.noop) return { state: 'would-change' as const, refreshed: refresh };
        if (changes.length > 0) {
          phase = 'apply';
          const res = await impl.apply({ desired: r as never, actual, changes }, ctx);
          if (res && res.output !== undefined) output = res.output;
          phase = 'verify';
          const after = await impl.read(r as never, ctx);
          const remaining = impl.diff(r as never, after);
          if (remaining.length > 0) {
            throw Object.assign(new Error(`still different after apply: ${remaining.map((c) => c.property).join(', ')}`), { code: 'NOT_CONVERGED' });
          }
        }
        let refreshed = false;
        if (refresh && impl.refresh) {
          phase = 'refresh';
          const res = await impl.refresh(r as never, ctx);
          if (res && res.output !== undefined) output = output === undefined ? res.output : `${output}\n${res.output}`;
          refreshed = true;
        }
        return { state: 'changed' as const, refreshed };
      })();
      const result = await new Promise<Awaited<typeof work>>((resolve, reject) => {
        rejectRace = reject;
        if (abortReason !== undefined) reject(abortReason);
        work.then(resolve, reject);
      });
      if (result.state !== 'in-sync') moved.add(i);
      const st: ResourceStatus = {
        id,
        type: r.type,
        state: result.state,
        changes: toChanges(changes),
        ...(diffText !== undefined ? { diff: red().text(diffText) } : {}),
        ...(result.refreshed ? { refreshed: true } : {}),
        ...(output !== undefined ? { output: red().noOutput ? '[redacted]' : cap(red().text(output)) } : {}),
        durationMs: Math.max(0, now() - t0),
      };
      if (!opts.noop) applied.converged(id, dd, result.state === 'changed' ? changes : []);
      cleanup();
      finish(i, st);
    } catch (err) {
      cleanup();
      let code: string;
      let message: string;
      if (timeout.aborted) {
        code = 'TIMEOUT';
        message = `timed out after ${timeoutMs / 1000} s (during ${phase})`;
      } else if (opts.signal.aborted) {
        code = 'ABORTED';
        message = `the run was stopped (during ${phase})`;
      } else {
        const fallback = phase === 'read' ? 'READ_FAILED' : phase === 'refresh' ? 'REFRESH_FAILED' : phase === 'verify' ? 'NOT_CONVERGED' : 'APPLY_FAILED';
        code = errorCode(err, fallback);
        message = errorMessage(err);
      }
      const errOut = typeof err === 'object' && err !== null && 'output' in err && typeof (err as { output: unknown }).output === 'string' ? (err as { output: string }).output : output;
      if (!opts.noop) applied.keep(id);
      finish(i, {
        id,
        type: r.type,
        state: 'failed',
        changes: toChanges(changes),
        ...(diffText !== undefined ? { diff: red().text(diffText) } : {}),
        ...(errOut !== undefined ? { output: red().noOutput ? '[redacted]' : cap(red().text(errOut)) } : {}),
        error: { code, message: red().text(message) },
        durationMs: Math.max(0, now() - t0),
      });
    }
  };

  const skip = (i: number, code: 'DEPENDENCY_FAILED' | 'ABORTED', message: string) => {
    if (!opts.noop) applied.keep(ids[i]!);
    finish(i, { id: ids[i]!, type: list[i]!.type, state: 'skipped', changes: NO_CHANGES, error: { code, message }, durationMs: 0 });
  };

  // 2. Walk the graph: a resource starts when all its dependencies have finished.
  try {
    await walk({
      order,
      deps,
      concurrency: opts.concurrency ?? 8,
      parallel: (i) => PARALLEL_TYPES.has(list[i]!.type),
      settleWithoutRunning: (i) => {
        const failedDep = deps[i]!.find((d) => statuses[d]?.state === 'failed' || statuses[d]?.state === 'skipped');
        if (failedDep !== undefined) {
          const why = statuses[failedDep]!.state === 'failed' ? 'failed' : 'was skipped';
          skip(i, 'DEPENDENCY_FAILED', `dependency ${ids[failedDep]} ${why}`);
          return true;
        }
        if (opts.signal.aborted) {
          skip(i, 'ABORTED', 'the run was stopped before this resource');
          return true;
        }
        return false;
      },
      run: (i) =>
        runOne(i).catch((err: unknown) => {
          if (!statuses[i]) finish(i, { id: ids[i]!, type: list[i]!.type, state: 'failed', changes: [], error: { code: 'INTERNAL', message: errorMessage(err) }, durationMs: 0 });
        }),
    });
  } finally {
    opts.signal.removeEventListener('abort', onRunAbort);
    deadlines.close();
  }

  // 3. Save the record of applied values once, then report.
  if (!opts.noop) {
    try {
      await applied.save();
    } catch (err) {
      log({ level: 'warn', message: `cannot save the record of applied values: ${errorMessage(err)}` });
    }
  }
  const out = order.map((i) => statuses[i]!).filter((s) => s !== undefined);
  const counts = emptyCounts(n);
  for (const s of out) {
    switch (s.state) {
      case 'in-sync': counts.inSync++; break;
      case 'changed': counts.changed++; break;
      case 'would-change': counts.wouldChange++; break;
      case 'failed': counts.failed++; break;
      case 'skipped': counts.skipped++; break;
      default: s.state satisfies never;
    }
    if (s.changes.some((c) => c.corrective)) counts.corrective++;
  }
  const outcome: RunReport['outcome'] =
    counts.failed + counts.skipped > 0 ? 'failed' : counts.changed > 0 ? 'changed' : counts.wouldChange > 0 ? 'would-change' : 'in-sync';
  return { ...base, durationMs: Math.max(0, now() - started), outcome, counts, resources: out };
}
