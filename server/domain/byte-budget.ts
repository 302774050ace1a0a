/**
 * A global budget of bytes held at once: callers take bytes before holding them and give them
 * back when done; a take that would exceed the capacity is refused (nothing is taken). Used for
 * request bodies the server holds before it knows who sent them (api/body.ts), so a flood of
 * unauthenticated bodies can hold at most `capacity` bytes, however many arrive.
 */
export class ByteBudget {
  #held = 0;
  #peak = 0;
  #total = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('a byte budget must be a positive integer');
  }

  /** Takes `n` bytes; false (and nothing taken) when that would exceed the capacity. */
  tryTake(n: number): boolean {
    if (this.#held + n > this.capacity) return false;
    this.#held += n;
    this.#total += n;
    if (this.#held > this.#peak) this.#peak = this.#held;
    return true;
  }

  /** Gives back `n` bytes taken before. */
  release(n: number): void {
    this.#held = Math.max(0, this.#held - n);
  }

  /** Bytes held now. */
  get held(): number {
    return this.#held;
  }

  /** Bytes ever taken (a counter). */
  get total(): number {
    return this.#total;
  }

  /** The most bytes ever held at once. */
  get peak(): number {
    return this.#peak;
  }
}
