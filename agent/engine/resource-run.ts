/**
 * One resource's turn in a run (reconcile.ts): read → diff → (noop: would-change) → apply →
 * read + diff again → refresh, under its timeout and the run's abort, ending in exactly one
 * status passed to `RunState.finish`, then calls `walk.finished(i)` once. A resource found in
 * sync by the in-sync probe (in-sync-probe.ts) never gets one.
 *
 * It is a class, and is itself the ResourceContext handed to the resource: one object with its
 * methods on the prototype allocates far less than a context object plus a dozen closures (no
 * AbortController unless `signal` is read, no timer: the run's Deadlines holds the timeout).
 */
import type { Resource, ResourceStatus, ResourceType } from '../../schemas/index.js';
import type { Host } from '../host/host.js';
import type { BlobSource, Change, ResourceContext, ResourceImpl } from '../resources/resource.js';
import type { Edges } from '../../schemas/graph.js';
import type { AppliedRecord } from './applied-record.js';
import type { Deadlines, Expiring } from './deadlines.js';
import { errorCode, errorMessage } from './engine-error.js';
import { redactorFor, type Redactor } from './redact.js';
import type { Walk } from './walk.js';

/** One log line of a run, already redacted. */
export interface EngineLogEntry {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly resource?: string;
  readonly fields?: Record<string, unknown>;
}

/** What every resource of one run shares. */
export interface RunState {
  readonly host: Host;
  readonly blobs: BlobSource;
  readonly stateDir: string;
  readonly catalogPaths: ReadonlySet<string>;
  readonly noop: boolean;
  /** The run's signal (aborting stops the run). */
  readonly signal: AbortSignal;
  readonly now: () => number;
  readonly applied: AppliedRecord;
  readonly ids: readonly string[];
  readonly digests: readonly string[];
  /** Resources whose change triggers a refresh of i. */
  readonly refreshers: Edges;
  /** The plan's shared in-sync statuses (catalog-plan.ts `inSync`). */
  readonly inSync: (ResourceStatus | undefined)[];
  /** Characters of diff text the run's report may still carry (see DIFF_BUDGET). */
  readonly diffBudget: { left: number };
  /** Resources that changed, would change, or refreshed (their subscribers refresh). */
  readonly moved: Set<number>;
  /** Resources running now (a run abort reaches each). */
  readonly running: Set<ResourceRun>;
  readonly deadlines: Deadlines;
  log(entry: EngineLogEntry, red?: Redactor): void;
  finish(i: number, status: ResourceStatus): void;
}

/** The change list of every in-sync resource (shared; frozen so no consumer can grow it). */
export const NO_CHANGES: ResourceStatus['changes'] = Object.freeze([]) as unknown as ResourceStatus['changes'];

/**
 * The status of resource i found in sync after `durationMs`: under a millisecond, the plan's
 * shared frozen one (made on first use), so a no-op poll allocates no status for it.
 */
export function inSyncStatus(s: RunState, i: number, type: ResourceType, durationMs: number): ResourceStatus {
  if (durationMs > 0) return { id: s.ids[i]!, type, state: 'in-sync', changes: NO_CHANGES, durationMs };
  return (s.inSync[i] ??= Object.freeze({ id: s.ids[i]!, type, state: 'in-sync', changes: NO_CHANGES, durationMs: 0 }) as ResourceStatus);
}

const OUTPUT_CAP = 64 * 1024;
/**
 * Diff text one run's report carries, in all (characters): a first apply of 10,000 files would
 * otherwise carry every new file's whole content as a diff (~11 MB at 1 KiB each), in the
 * agent's memory, its spool and every report upload. Past the budget a changed resource gets no
 * diff (its changes still list every property); the run logs it once.
 */
export const DIFF_BUDGET = 1024 * 1024;
/** Diff text of one resource, at most (characters); longer diffs are cut with a marker. */
const DIFF_CAP = 64 * 1024;

function cap(s: string): string {
  if (Buffer.byteLength(s) <= OUTPUT_CAP) return s;
  return `${Buffer.from(s).subarray(0, OUTPUT_CAP - 64).toString('utf8')}\n[stead: output truncated]`;
}


type Phase = 'read' | 'apply' | 'refresh' | 'verify';
type Outcome = { readonly state: 'in-sync' | 'would-change' | 'changed'; readonly refreshed: boolean };
const IN_SYNC: Outcome = { state: 'in-sync', refreshed: false };
const NO_CHANGES_LIST: readonly Change[] = Object.freeze([]);

/** The parts of a ResourceContext that every resource of a run shares (ResourceRun, InSyncProbe). */
export abstract class RunContext {
  constructor(protected readonly s: RunState) {}
  get host(): Host {
    return this.s.host;
  }
  get blobs(): BlobSource {
    return this.s.blobs;
  }
  get stateDir(): string {
    return this.s.stateDir;
  }
  get catalogPaths(): ReadonlySet<string> {
    return this.s.catalogPaths;
  }
}

export class ResourceRun extends RunContext implements ResourceContext, Expiring {
  deadline = 0;
  private ac: AbortController | undefined;
  private abortReason: unknown;
  /** Set when the run started (the walk to tell when it ends). */
  private walk: Walk | undefined;
  private ended = false;
  private timedOut = false;
  private phase: Phase = 'read';
  private changes: readonly Change[] = NO_CHANGES as readonly Change[];
  private diffText: string | undefined;
  private output: string | undefined;
  private redactor: Redactor | undefined;
  private readonly t0: number;

  constructor(
    s: RunState,
    private readonly i: number,
    private readonly r: Resource,
    private readonly impl: ResourceImpl<ResourceType, unknown>,
    private readonly timeoutMs: number,
  ) {
    super(s);
    this.t0 = s.now();
  }

  // ---- ResourceContext (host, blobs, stateDir, catalogPaths: RunContext)
  /** Made only when the resource asks for it (a no-op read of a file never does). */
  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      if (this.abortReason !== undefined) this.ac.abort(this.abortReason);
    }
    return this.ac.signal;
  }
  log(message: string, fields?: Record<string, unknown>): void {
    this.s.log({ level: 'info', message, resource: this.s.ids[this.i]!, ...(fields ? { fields } : {}) }, this.red());
  }

  // ---- timeout and abort
  /** Called by Deadlines when the timeout expires. */
  expire(): void {
    this.timedOut = true;
    this.abort(Object.assign(new Error(`timed out after ${this.timeoutMs / 1000} s`), { code: 'TIMEOUT' }));
  }
  /** Aborts the resource: its signal fires and the run stops waiting for it (its work is abandoned). */
  abort(reason: unknown): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason ?? new Error('aborted');
    this.ac?.abort(this.abortReason);
    if (this.walk) this.end(false, this.abortReason);
  }

  /**
   * Runs the resource to one status (see the module comment), then calls `walk.finished(i)`
   * exactly once. The synchronous first look (readNow) is the in-sync probe's
   * (in-sync-probe.ts): a resource gets here when it was not found in sync that way.
   */
  run(walk: Walk): void {
    const s = this.s;
    this.walk = walk;
    s.running.add(this);
    s.deadlines.add(this, this.timeoutMs);
    this.work().then(
      (o) => this.end(true, o),
      (err: unknown) => this.end(false, err),
    );
  }

  /** The first of work's end and an abort settles the resource; anything later is ignored. */
  private end(ok: boolean, value: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.cleanup();
    try {
      if (ok) this.succeeded(value as Outcome);
      else this.failed(value);
    } catch (err) {
      const s = this.s;
      s.finish(this.i, { id: s.ids[this.i]!, type: this.r.type, state: 'failed', changes: NO_CHANGES, error: { code: 'INTERNAL', message: errorMessage(err) }, durationMs: 0 });
    }
    this.walk!.finished(this.i);
  }

  private red(): Redactor {
    return (this.redactor ??= redactorFor(this.r));
  }

  private cleanup(): void {
    this.s.deadlines.delete(this);
    this.s.running.delete(this);
  }

  private async work(): Promise<Outcome> {
    const { s, r, impl } = this;
    const desired = r as never;
    const actual = await impl.read(desired, this);
    const changes = impl.diff(desired, actual);
    this.changes = changes;
    const refresh = this.refreshNeeded();
    if (changes.length === 0 && !refresh) return IN_SYNC;
    if (changes.length > 0 && impl.describe && !this.red().noDiff && s.diffBudget.left > 0) {
      try {
        const text = await impl.describe({ desired, actual, changes }, this);
        if (text !== undefined) {
          this.diffText = text.length > DIFF_CAP ? `${text.slice(0, DIFF_CAP)}\n[stead: diff truncated]` : text;
          s.diffBudget.left -= this.diffText.length;
          if (s.diffBudget.left <= 0) s.log({ level: 'info', message: `diffs omitted from here on: this run's report already carries ${DIFF_BUDGET / 1024} KiB of them` });
        }
      } catch (err) {
        this.log(`no diff: ${errorMessage(err)}`);
      }
    }
    if (s.noop) return { state: 'would-change', refreshed: refresh };
    if (changes.length > 0) {
      this.phase = 'apply';
      const res = await impl.apply({ desired, actual, changes }, this);
      if (res && res.output !== undefined) this.output = res.output;
      this.phase = 'verify';
      const after = await impl.read(desired, this);
      const remaining = impl.diff(desired, after);
      if (remaining.length > 0) {
        throw Object.assign(new Error(`still different after apply: ${remaining.map((c) => c.property).join(', ')}`), { code: 'NOT_CONVERGED' });
      }
    }
    let refreshed = false;
    if (refresh && impl.refresh) {
      this.phase = 'refresh';
      const res = await impl.refresh(desired, this);
      if (res && res.output !== undefined) this.output = this.output === undefined ? res.output : `${this.output}\n${res.output}`;
      refreshed = true;
    }
    return { state: 'changed', refreshed };
  }

  /** Whether a resource this one subscribes to moved in this run. */
  private refreshNeeded(): boolean {
    const { start, list } = this.s.refreshers;
    for (let k = start[this.i]!; k < start[this.i + 1]!; k++) if (this.s.moved.has(list[k]!)) return true;
    return false;
  }

  private toChanges(changes: readonly Change[]): ResourceStatus['changes'] {
    if (changes.length === 0) return NO_CHANGES;
    const { s, r, i } = this;
    const id = s.ids[i]!;
    const dd = s.digests[i]!;
    const red = this.red();
    const routine = this.impl.routine?.(r as never, this) === true;
    return changes.map((c) => ({
      property: c.property,
      ...('before' in c && c.before !== undefined ? { before: red.value(c.property, c.before) } : {}),
      ...('after' in c && c.after !== undefined ? { after: red.value(c.property, c.after) } : {}),
      corrective: !routine && s.applied.isCorrective(id, dd, c.property, c.before),
      ...(routine ? { routine: true } : {}),
    }));
  }

  private succeeded(result: Outcome): void {
    const { s, i } = this;
    const id = s.ids[i]!;
    if (result.state !== 'in-sync') s.moved.add(i);
    const st: ResourceStatus =
      result === IN_SYNC && this.diffText === undefined && this.output === undefined
        ? inSyncStatus(s, i, this.r.type, Math.max(0, s.now() - this.t0))
        : {
            id,
            type: this.r.type,
            state: result.state,
            changes: this.toChanges(this.changes),
            ...(this.diffText !== undefined ? { diff: this.red().text(this.diffText) } : {}),
            ...(result.refreshed ? { refreshed: true } : {}),
            ...(this.output !== undefined ? { output: this.red().noOutput ? '[redacted]' : cap(this.red().text(this.output)) } : {}),
            durationMs: Math.max(0, s.now() - this.t0),
          };
    if (!s.noop) s.applied.convergedAt(i, s.digests[i]!, result.state === 'changed' ? this.changes : NO_CHANGES_LIST);
    s.finish(i, st);
  }

  private failed(err: unknown): void {
    const { s, i, phase } = this;
    let code: string;
    let message: string;
    if (this.timedOut) {
      code = 'TIMEOUT';
      message = `timed out after ${this.timeoutMs / 1000} s (during ${phase})`;
    } else if (s.signal.aborted) {
      code = 'ABORTED';
      message = `the run was stopped (during ${phase})`;
    } else {
      const fallback = phase === 'read' ? 'READ_FAILED' : phase === 'refresh' ? 'REFRESH_FAILED' : phase === 'verify' ? 'NOT_CONVERGED' : 'APPLY_FAILED';
      code = errorCode(err, fallback);
      message = errorMessage(err);
    }
    const errOut = typeof err === 'object' && err !== null && 'output' in err && typeof (err as { output: unknown }).output === 'string' ? (err as { output: string }).output : this.output;
    const id = s.ids[i]!;
    if (!s.noop) s.applied.keep(id);
    const red = this.red();
    s.finish(i, {
      id,
      type: this.r.type,
      state: 'failed',
      changes: this.toChanges(this.changes),
      ...(this.diffText !== undefined ? { diff: red.text(this.diffText) } : {}),
      ...(errOut !== undefined ? { output: red.noOutput ? '[redacted]' : cap(red.text(errOut)) } : {}),
      error: { code, message: red.text(message) },
      durationMs: Math.max(0, s.now() - this.t0),
    });
  }
}
