/**
 * Work per key run one after another, where a call queued behind a running one coalesces with
 * any other call queued meanwhile: the level-triggered drivers (jobs, rollouts) "kick" a
 * document when something changed, and one more pass after the current one is all any number
 * of kicks need.
 */
export class CoalescingChains {
  readonly #chains = new Map<string, { queued: boolean; promise: Promise<void> }>();

  /** Runs `work(key)` after the pass in flight for `key`, unless a pass is already queued; never rejects (`onError` is told). */
  kick(key: string, work: (key: string) => Promise<void>, onError: (err: unknown) => void): Promise<void> {
    const cur = this.#chains.get(key);
    if (cur?.queued) return cur.promise;
    const entry = { queued: true, promise: Promise.resolve() };
    entry.promise = (cur?.promise ?? Promise.resolve())
      .then(async () => {
        entry.queued = false;
        await work(key);
      })
      .catch(onError)
      .finally(() => {
        if (this.#chains.get(key) === entry) this.#chains.delete(key);
      });
    this.#chains.set(key, entry);
    return entry.promise;
  }

  /** The passes in flight or queued now. */
  pending(): Promise<void>[] {
    return [...this.#chains.values()].map((e) => e.promise);
  }
}
