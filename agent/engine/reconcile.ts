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
import type { BlobSource, Registry, ResourceImpl } from '../resources/resource.js';
import { AppliedRecord } from './applied-record.js';
import { planCatalog } from './catalog-plan.js';
import { Deadlines } from './deadlines.js';
import { errorMessage } from './engine-error.js';
import type { Redactor } from './redact.js';
import { DIFF_BUDGET, NO_CHANGES, ResourceRun, type EngineLogEntry, type RunState } from './resource-run.js';
import { InSyncProbe } from './in-sync-probe.js';
import { Walk } from './walk.js';

export type { EngineLogEntry };

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

/**
 * The last run's engine objects, kept until the next run. V8 holds the shapes ("maps") its
 * optimized code was made for only weakly; when it collects garbage to reduce memory (on its
 * own while the agent sleeps between polls, or when asked to), a shape with no live object of
 * its own is dropped, and every optimized function made for it is thrown away: the next poll
 * would run those functions in the interpreter until they are optimized again (measured: the
 * first poll after an idle pause 2-3x slower). One live object of each per-run kind keeps the
 * shapes, and the code, alive. A few hundred KB at 10,000 resources (the run's status list).
 */
let exemplars: readonly object[] = [];
function keepExemplars(...objects: object[]): void {
  exemplars = objects;
}

/** Types whose independent resources may run concurrently. */
const PARALLEL_TYPES: ReadonlySet<ResourceType> = new Set(['file', 'directory', 'link']);
const DEFAULT_TIMEOUT_MS = 300_000;
/**
 * The state directory's host: made once per directory and mode and reused by later runs (a
 * new host per run would be new functions per run, and the engine's optimized code, made for
 * the last ones, thrown away with them). An apply run makes sure the directory exists.
 */
let stateHost: { key: string; host: Host } | undefined;
async function stateHostFor(dir: string, noop: boolean): Promise<Host> {
  const { createNodeHost, createStateHost, ensureStateDir } = await import('../host/node-host.js');
  const key = `${noop ? 'noop' : 'apply'}\u0000${dir}`;
  if (stateHost?.key === key) {
    if (!noop) await ensureStateDir(dir); // as the first run did
    return stateHost.host;
  }
  const host = noop ? createNodeHost({ root: dir }) : await createStateHost(dir);
  stateHost = { key, host };
  return host;
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
  const plan = planned.plan;
  const { ids, order, deps, catalogPaths, digests } = plan;
  const list = resources as Resource[];
  const n = list.length;
  const log = (entry: EngineLogEntry, red?: Redactor) => {
    if (!opts.log) return;
    const message = red ? red.text(entry.message) : entry.message;
    const fields = entry.fields && red ? (JSON.parse(red.text(JSON.stringify(entry.fields))) as Record<string, unknown>) : entry.fields;
    opts.log({ ...entry, message, ...(fields ? { fields } : {}) });
  };

  // A noop run creates nothing, not even the state directory.
  const state = opts.state ?? (await stateHostFor(opts.stateDir, opts.noop));
  const applied = await AppliedRecord.load(state, (message) => log({ level: 'warn', message }));
  applied.bind(ids, digests);

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

  const running = new Set<ResourceRun>();
  const onRunAbort = () => {
    for (const rr of [...running]) rr.abort(opts.signal.reason);
  };
  opts.signal.addEventListener('abort', onRunAbort, { once: true });
  const deadlines = new Deadlines();
  const defaultTimeoutMs = opts.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const shared: RunState = {
    host: opts.host,
    blobs: opts.blobs,
    stateDir: opts.stateDir,
    catalogPaths,
    noop: opts.noop,
    signal: opts.signal,
    now,
    applied,
    ids,
    digests,
    refreshers: plan.refreshers,
    inSync: plan.inSync,
    diffBudget: { left: DIFF_BUDGET },
    moved,
    running,
    deadlines,
    log,
    finish,
  };
  const probe = new InSyncProbe(shared);
  const runOne = (i: number, walk: Walk): void => {
    const r = list[i]!;
    const impl = registry[r.type] as ResourceImpl<ResourceType, unknown>;
    const found = probe.probe(i, r, impl);
    if (found === 'in-sync') walk.finished(i);
    else new ResourceRun(shared, i, r, impl, r.timeout !== undefined ? r.timeout * 1000 : defaultTimeoutMs).run(walk);
  };
  const failedDependency = (i: number): number | undefined => {
    for (let k = deps.start[i]!; k < deps.start[i + 1]!; k++) {
      const d = deps.list[k]!;
      const st = statuses[d]?.state;
      if (st === 'failed' || st === 'skipped') return d;
    }
    return undefined;
  };

  const skip = (i: number, code: 'DEPENDENCY_FAILED' | 'ABORTED', message: string) => {
    if (!opts.noop) applied.keep(ids[i]!);
    finish(i, { id: ids[i]!, type: list[i]!.type, state: 'skipped', changes: NO_CHANGES, error: { code, message }, durationMs: 0 });
  };

  // 2. Walk the graph: a resource starts when all its dependencies have finished.
  try {
    const walk = new Walk(plan, {
      parallel: (i) => PARALLEL_TYPES.has(list[i]!.type),
      settleWithoutRunning: (i) => {
        const failedDep = failedDependency(i);
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
      run: runOne,
    }, opts.concurrency ?? 8);
    keepExemplars(shared, walk, probe);
    await walk.start();
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
  const out: ResourceStatus[] = [];
  for (let p = 0; p < order.length; p++) {
    const st = statuses[order[p]!];
    if (st !== undefined) out.push(st);
  }
  // The run's objects stay alive until the next run (keepExemplars); their data need not.
  statuses.length = 0;
  applied.release();
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
