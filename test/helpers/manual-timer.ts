/**
 * A Timer driven by a ManualClock: sleeps end when a test advances the clock past them, never
 * by wall time. For the schedule runner's fake-clock tests.
 */
import type { ManualClock } from '../../server/domain/clock.js';
import type { Timer } from '../../server/services/schedules/timer.js';

export class ManualTimer implements Timer {
  readonly #sleepers = new Set<{ until: number; wake: () => void }>();
  constructor(readonly clock: ManualClock) {}

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const s = {
        until: this.clock.now() + Math.max(0, ms),
        wake: () => {
          this.#sleepers.delete(s);
          resolve();
        },
      };
      this.#sleepers.add(s);
      signal.addEventListener('abort', s.wake, { once: true });
      if (ms <= 0) s.wake();
    });
  }

  /** How many sleeps are waiting. */
  get sleeping(): number {
    return this.#sleepers.size;
  }

  /** The earliest wake-up time of a waiting sleep. */
  get nextWake(): number | undefined {
    let min: number | undefined;
    for (const s of this.#sleepers) min = min === undefined ? s.until : Math.min(min, s.until);
    return min;
  }

  /** Moves the clock to `ms` and wakes every sleep that has come due. */
  set(ms: number): void {
    this.clock.set(ms);
    for (const s of [...this.#sleepers]) if (s.until <= ms) s.wake();
  }

  advance(ms: number): void {
    this.set(this.clock.now() + ms);
  }
}

/** Resolves when `cond()` holds, checking after each turn of the event loop (fails after `ms` of real time). */
export async function until(cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
