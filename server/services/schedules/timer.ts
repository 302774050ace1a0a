/**
 * How the schedule runner waits. The system timer sleeps for real; tests pass a timer driven by
 * a ManualClock (test/helpers/manual-timer.ts) so firing is deterministic.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface Timer {
  /** Resolves after `ms` of the clock's time, or at once when `signal` aborts (never rejects). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemTimer: Timer = {
  async sleep(ms, signal) {
    try {
      await delay(Math.max(0, ms), undefined, { signal, ref: false });
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  },
};
