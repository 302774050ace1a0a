/**
 * Timeouts of the resources running in one engine run, on one shared timer instead of a
 * setTimeout per resource. The timer is armed for the earliest deadline; deleting an entry
 * only forgets it (a timer that fires with nothing due re-arms for the next deadline). Entries
 * carry their own deadline, so adding one allocates nothing. Deadlines use the monotonic clock
 * (performance.now), never the wall clock.
 */
import { performance } from 'node:perf_hooks';

/** setTimeout's largest delay. */
const MAX_DELAY = 2_147_483_647;

/** Something that times out: `deadline` is set by Deadlines.add. */
export interface Expiring {
  deadline: number;
  /** Called once, when the deadline has passed (unless deleted first). */
  expire(): void;
}

export class Deadlines {
  private readonly entries = new Set<Expiring>();
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;

  /** `e.expire()` is called once after `ms` unless `delete(e)` is called first. */
  add(e: Expiring, ms: number): void {
    e.deadline = performance.now() + ms;
    this.entries.add(e);
    if (e.deadline < this.armedAt) this.arm(e.deadline);
  }

  delete(e: Expiring): void {
    this.entries.delete(e);
  }

  /** Stops the timer; pending entries never expire. */
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
    const due: Expiring[] = [];
    for (const e of this.entries) {
      if (e.deadline <= now) due.push(e);
      else if (e.deadline < next) next = e.deadline;
    }
    for (const e of due) this.entries.delete(e);
    if (next < Infinity) this.arm(next);
    for (const e of due) e.expire();
  }
}
