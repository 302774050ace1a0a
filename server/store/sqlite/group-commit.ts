/**
 * GroupCommit: the SQLite store's write path. Writes requested in the same event-loop turn
 * run together in one BEGIN IMMEDIATE transaction, each inside its own savepoint, and are
 * acknowledged only after that transaction committed (synchronous=FULL: after the fsync).
 * One fsync then serves many concurrent writers (reports from many agents) instead of one
 * each, with unchanged guarantees: every write is atomic, writes apply in request order,
 * a failing write (duplicate key, bad update) is rolled back alone, and nothing is
 * acknowledged before it is durable. If the commit itself fails, every write of the batch
 * is rejected and none is applied.
 *
 * Under concurrent writing (the previous commit carried more than one write) a commit starts at
 * most every COMMIT_GAP_MS after the previous one: a commit has a fixed cost (~0.5-0.8 ms of the
 * event loop on the bench machine: WAL frames, wal-index, the fsync) whatever it carries, and
 * at 1,667 agent runs a second one per event-loop turn took ~30 % of the loop. A lone writer
 * (every commit carrying one write: a CLI, a test, a quiet server) never waits.
 */
import type Database from 'better-sqlite3';

interface Pending {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/** Most writes in one transaction; the rest go into the next one. */
const MAX_BATCH = 1000;
/** Least time between the starts of two commits while writes are concurrent. */
const COMMIT_GAP_MS = 8;

export class GroupCommit {
  #queue: Pending[] = [];
  #scheduled = false;
  #lastStart = Number.NEGATIVE_INFINITY;
  #lastWrites = 0;
  /** One transaction over a batch; inside it, each write in a savepoint (built once, not per write). */
  readonly #commit: Database.Transaction<(batch: readonly Pending[], outcomes: Outcome[]) => void>;

  readonly #now: () => number;
  readonly #later: (fn: () => void, ms: number) => void;

  /** `timing` replaces the clock and the timer (tests). */
  constructor(db: Database.Database, timing?: { now: () => number; later: (fn: () => void, ms: number) => void }) {
    this.#now = timing?.now ?? (() => performance.now());
    this.#later = timing?.later ?? ((fn, ms) => void setTimeout(fn, ms));
    const savepoint = db.transaction((fn: () => unknown) => fn()); // nested call: a SAVEPOINT
    this.#commit = db.transaction((batch: readonly Pending[], outcomes: Outcome[]) => {
      for (const op of batch) {
        try {
          outcomes.push({ ok: true, value: savepoint(op.fn) });
        } catch (err) {
          outcomes.push({ ok: false, err });
        }
      }
    });
  }

  /** Queues `fn` (synchronous SQLite work) and resolves its result once committed. */
  write<R>(fn: () => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        const wait = this.#lastWrites > 1 ? this.#lastStart + COMMIT_GAP_MS - this.#now() : 0;
        if (wait > 0) this.#later(() => this.flush(), wait);
        else setImmediate(() => this.flush());
      }
    });
  }

  /** Runs every queued write now (close() calls it so nothing queued is dropped). */
  flush(): void {
    this.#scheduled = false;
    if (this.#queue.length === 0) return;
    this.#lastStart = this.#now();
    this.#lastWrites = this.#queue.length;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      const outcomes: Outcome[] = [];
      try {
        this.#commit.immediate(batch, outcomes);
      } catch (err) {
        for (const op of batch) op.reject(err);
        continue;
      }
      batch.forEach((op, i) => {
        const o = outcomes[i];
        if (o?.ok === true) op.resolve(o.value);
        else op.reject(o?.err);
      });
    }
  }
}
