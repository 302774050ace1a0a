/**
 * The scheduler of a run: starts each resource once all its dependencies have finished, in the
 * run order where several are ready, with up to `concurrency` "parallel" resources at a time;
 * any other resource runs alone. Each completion pumps the queue (no Promise.race over the
 * running set, whose reactions would pile up on every pending promise).
 *
 * One Walk object per run and nothing per resource: the ready queue is a binary heap of run
 * positions in a typed array, the dependency counts a typed array copied from the plan, and a
 * resource reports its end by calling `walk.finished(i)` (no callback made per resource).
 */
import { IndexHeap, type Edges } from '../../schemas/graph.js';

/** What the walk needs of a catalog plan (catalog-plan.ts). */
export interface WalkPlan {
  /** Topological order: the tie-break among ready resources. */
  readonly order: Int32Array;
  /** pos[i]: the place of i in `order`. */
  readonly pos: Int32Array;
  /** Resources that must finish before i. */
  readonly deps: Edges;
  /** Resources waiting for i (deps reversed). */
  readonly dependents: Edges;
}

export interface WalkHooks {
  /** Whether i may run beside other parallel resources. */
  parallel(i: number): boolean;
  /** Called when i is ready; true when it was settled without running (skipped). */
  settleWithoutRunning(i: number): boolean;
  /** Runs i; `walk.finished(i)` must be called exactly once when i has finished (possibly before `run` returns). */
  run(i: number, walk: Walk): void;
}

export class Walk {
  private readonly pending: Int32Array;
  /** Run positions of the ready resources. */
  private readonly ready: IndexHeap;
  /** ranParallel[i] = 1 while i runs beside others. */
  private readonly ranParallel: Uint8Array;
  private readonly concurrency: number;
  private running = 0;
  private exclusive = false;
  private pumping = false;
  private again = false;
  private ended = false;
  private resolve: (() => void) | undefined;

  constructor(
    private readonly plan: WalkPlan,
    private readonly hooks: WalkHooks,
    concurrency: number,
  ) {
    const n = plan.order.length;
    this.concurrency = Math.max(1, concurrency);
    this.ready = new IndexHeap(n);
    this.ranParallel = new Uint8Array(n);
    this.pending = new Int32Array(n);
    const start = plan.deps.start;
    for (let i = 0; i < n; i++) this.pending[i] = start[i + 1]! - start[i]!;
    for (let p = 0; p < n; p++) if (this.pending[plan.order[p]!] === 0) this.ready.push(p);
  }

  /** Resolves when every resource has run or was settled without running. */
  start(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.resolve = resolve;
      this.pump();
    });
  }

  /** Resource i has finished: its dependents may become ready. */
  finished(i: number): void {
    this.running--;
    if (this.ranParallel[i] === 0) this.exclusive = false;
    this.release(i);
    this.pump();
  }

  // A resource may finish synchronously (finished() called inside run): a pump started while
  // one is running only asks that one to loop again (no recursion, however many finish).
  private pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        this.fill();
      } while (this.again);
    } finally {
      this.pumping = false;
    }
    if (!this.ended && this.ready.size === 0 && this.running === 0) {
      this.ended = true;
      this.resolve?.();
    }
  }

  private fill(): void {
    const order = this.plan.order;
    while (this.ready.size > 0 && !this.exclusive) {
      const i = order[this.ready.peek()]!;
      if (this.hooks.settleWithoutRunning(i)) {
        this.ready.pop();
        this.release(i);
        continue;
      }
      const parallel = this.concurrency > 1 && this.hooks.parallel(i);
      if (!parallel && this.running > 0) break;
      if (parallel && this.running >= this.concurrency) break;
      this.ready.pop();
      if (!parallel) this.exclusive = true;
      this.ranParallel[i] = parallel ? 1 : 0;
      this.running++;
      this.hooks.run(i, this);
    }
  }

  private release(i: number): void {
    const { start, list } = this.plan.dependents;
    for (let k = start[i]!; k < start[i + 1]!; k++) {
      const j = list[k]!;
      if (--this.pending[j]! === 0) this.ready.push(this.plan.pos[j]!);
    }
  }
}
