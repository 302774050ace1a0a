/**
 * Time and randomness are injected so services and tests are deterministic: nothing in
 * server/services reads Date.now() or new Date() directly.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock a test moves by hand. */
export class ManualClock implements Clock {
  constructor(private ms: number) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** RFC 3339 text of a clock reading. */
export function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}
