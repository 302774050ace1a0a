/**
 * The scheduler of a run: starts each resource once all its dependencies have finished, in the
 * run order where several are ready, with up to `concurrency` "parallel" resources at a time;
 * any other resource runs alone. Each completion pumps the queue (no Promise.race over the
 * running set, whose reactions would pile up on every pending promise).
 */
export interface WalkOptions {
  /** Topological order: the tie-break among ready resources. */
  readonly order: readonly number[];
  /** deps[i]: indices that must finish before i. */
  readonly deps: readonly (readonly number[])[];
  /** Whether i may run beside other parallel resources. */
  parallel(i: number): boolean;
  readonly concurrency: number;
  /** Called when i is ready; true when it was settled without running (skipped). */
  settleWithoutRunning(i: number): boolean;
  /** Runs i and calls `done` exactly once when i has finished (possibly before `run` returns). */
  run(i: number, done: () => void): void;
}

/** Resolves when every resource has run or was settled without running. */
export function walk(o: WalkOptions): Promise<void> {
  const n = o.deps.length;
  const pos = new Array<number>(n);
  o.order.forEach((idx, p) => { pos[idx] = p; });
  const pending = o.deps.map((d) => d.length);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  o.deps.forEach((d, i) => { for (const j of d) dependents[j]!.push(i); });
  const ready: number[] = o.order.filter((i) => pending[i] === 0);
  const insertReady = (i: number) => {
    let lo = 0;
    let hi = ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pos[ready[mid]!]! < pos[i]!) lo = mid + 1;
      else hi = mid;
    }
    ready.splice(lo, 0, i);
  };
  const done = (i: number) => {
    for (const j of dependents[i]!) if (--pending[j]! === 0) insertReady(j);
  };
  const concurrency = Math.max(1, o.concurrency);
  let running = 0;
  let exclusive = false;
  return new Promise<void>((allDone) => {
    // A resource may finish synchronously (its `done` called inside `run`): a pump started
    // while one is running only asks that one to loop again (no recursion, however many finish).
    let pumping = false;
    let again = false;
    let finished = false;
    const pump = (): void => {
      if (pumping) {
        again = true;
        return;
      }
      pumping = true;
      try {
        do {
          again = false;
          fill();
        } while (again);
      } finally {
        pumping = false;
      }
      if (!finished && ready.length === 0 && running === 0) {
        finished = true;
        allDone();
      }
    };
    const fill = (): void => {
      while (ready.length > 0 && !exclusive) {
        const i = ready[0]!;
        if (o.settleWithoutRunning(i)) {
          ready.shift();
          done(i);
          continue;
        }
        const parallel = concurrency > 1 && o.parallel(i);
        if (!parallel && running > 0) break;
        if (parallel && running >= concurrency) break;
        ready.shift();
        if (!parallel) exclusive = true;
        running++;
        const after = (): void => {
          running--;
          if (!parallel) exclusive = false;
          done(i);
          pump();
        };
        o.run(i, after);
      }
    };
    pump();
  });
}
