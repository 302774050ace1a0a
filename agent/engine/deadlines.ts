/**
 * Timeouts of the resources running in one engine run, on one shared timer instead of a
 * setTimeout per resource. The timer is armed for the earliest deadline; cancelling an entry
 * only forgets it (a timer that fires early finds nothing due and re-arms). Deadlines use the
 * monotonic clock (performance.now), never the wall clock.
 */
import { performance } from 'node:perf_hooks';

/** setTimeout's largest delay. */
const MAX_DELAY = 2_147_483_647;

interface Entry {
  readonly at: number;
  readonly fire: () => void;
}

export class Deadlines {
  private readonly entries = new Set<Entry>();
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;

  /** Calls `fire` once after `ms` unless the returned cancel function was called first. */
  add(ms: number, fire: () => void): () => void {
    const e: Entry = { at: performance.now() + ms, fire };
    this.entries.add(e);
    if (e.at < this.armedAt) this.arm(e.at);
    return () => {
      this.entries.delete(e);
    };
  }

  /** Stops the timer; pending entries never fire. */
  close(): void {
    this.entries.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(() => this.tick(), Math.min(MAX_DELAY, Math.max(0, Math.ceil(at - performance.now()))));
  }

  private tick(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    const due: Entry[] = [];
    for (const e of this.entries) {
      if (e.at <= now) due.push(e);
      else if (e.at < next) next = e.at;
    }
    for (const e of due) this.entries.delete(e);
    if (next < Infinity) this.arm(next);
    for (const e of due) e.fire();
  }
}
