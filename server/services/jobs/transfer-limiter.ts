/**
 * Server-side limits on serving job blobs (the files of `files` steps): at most `maxConcurrent`
 * transfers at once, and `bytesPerSecond` for all of them together (a token bucket holding one
 * second of bytes; 0 = unlimited). Used by the route that serves a job's blob to an agent.
 *
 * Over the concurrency limit a transfer waits in a short queue (`maxQueued`, default four times
 * `maxConcurrent`) for at most `queueWaitMs` (default 10 s); a full queue, or a wait that runs
 * out, is refused with 503 SERVER_BUSY and a Retry-After. Why both: a burst of a thousand agents
 * asking at once for the same file is smoothed by the queue without a round of 503s, while a
 * sustained overload does not pile up sockets on the server (agents retry blob downloads with
 * resume and back-off anyway).
 *
 * Usage:
 *   const slot = await limiter.acquire(signal);        // or throws ApiError SERVER_BUSY
 *   ctx.body = limiter.stream(data, slot, signal);     // paced chunks; frees the slot at its end
 *
 * Time comes from `clock` and waits go through `sleep` (both injectable): tests drive the bucket
 * with a ManualClock and a sleep that advances it.
 */
import { Readable } from 'node:stream';
import { ApiError } from '../../domain/errors.js';
import { systemClock, type Clock } from '../../domain/clock.js';

export interface TransferLimiterOptions {
  /** Transfers served at once (at least 1). */
  readonly maxConcurrent: number;
  /** Bytes per second for all transfers together; 0: unlimited. */
  readonly bytesPerSecond: number;
  /** Transfers waiting for a slot; beyond: 503 at once. Default 4 × maxConcurrent. */
  readonly maxQueued?: number;
  /** How long a transfer waits for a slot before 503. Default 10 s. */
  readonly queueWaitMs?: number;
  /** Largest piece sent at once (bytes). Default 64 KiB. */
  readonly chunkBytes?: number;
  readonly clock?: Clock;
  /** Waits `ms` (rejects when `signal` aborts). Default: a timer. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** One admitted transfer; release() is idempotent. */
export interface TransferSlot {
  release(): void;
}

/** Seconds a refused transfer is asked to wait. */
export const transferRetryAfterSeconds = 5;

function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

interface Waiter {
  resolve(slot: TransferSlot): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
  cleanup(): void;
}

export class TransferLimiter {
  readonly maxConcurrent: number;
  readonly bytesPerSecond: number;
  readonly maxQueued: number;
  readonly #queueWaitMs: number;
  readonly #chunk: number;
  readonly #clock: Clock;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #queue: Waiter[] = [];
  #active = 0;
  #tokens: number;
  #at: number;
  #refused = 0;
  #bytes = 0;

  constructor(opts: TransferLimiterOptions) {
    if (!(Number.isInteger(opts.maxConcurrent) && opts.maxConcurrent >= 1)) throw new RangeError('maxConcurrent must be an integer of at least 1');
    if (!(Number.isFinite(opts.bytesPerSecond) && opts.bytesPerSecond >= 0)) throw new RangeError('bytesPerSecond must be 0 (unlimited) or more');
    this.maxConcurrent = opts.maxConcurrent;
    this.bytesPerSecond = opts.bytesPerSecond;
    this.maxQueued = Math.max(0, Math.floor(opts.maxQueued ?? 4 * opts.maxConcurrent));
    this.#queueWaitMs = opts.queueWaitMs ?? 10_000;
    this.#clock = opts.clock ?? systemClock;
    this.#sleep = opts.sleep ?? realSleep;
    // A piece never exceeds the bucket, so every piece is eventually affordable.
    this.#chunk = Math.max(1, Math.min(opts.chunkBytes ?? 64 * 1024, opts.bytesPerSecond > 0 ? Math.ceil(opts.bytesPerSecond) : Infinity));
    this.#tokens = opts.bytesPerSecond;
    this.#at = this.#clock.now();
  }

  /** Transfers running, waiting, refused so far (503), and bytes sent through stream(). */
  get counters(): { active: number; queued: number; refused: number; bytes: number } {
    return { active: this.#active, queued: this.#queue.length, refused: this.#refused, bytes: this.#bytes };
  }

  #slot(): TransferSlot {
    this.#active++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#active--;
        const next = this.#queue.shift();
        if (next) {
          next.cleanup();
          next.resolve(this.#slot());
        }
      },
    };
  }

  #busy(why: string): ApiError {
    this.#refused++;
    return new ApiError('SERVER_BUSY', `the server is serving ${this.maxConcurrent} job file transfers already${why}; retry later`).retryAfter(transferRetryAfterSeconds);
  }

  /** A slot at once, or undefined when all are taken (nothing queued). */
  tryAcquire(): TransferSlot | undefined {
    return this.#active < this.maxConcurrent && this.#queue.length === 0 ? this.#slot() : undefined;
  }

  /**
   * A slot: at once when one is free, else after waiting in the queue. Rejects with ApiError
   * SERVER_BUSY (503, Retry-After) when the queue is full or the wait runs out, and with the
   * signal's reason when `signal` aborts (the client went away).
   */
  acquire(signal: AbortSignal): Promise<TransferSlot> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    if (this.#queue.length >= this.maxQueued) return Promise.reject(this.#busy(` and ${this.#queue.length} are waiting`));
    return new Promise<TransferSlot>((resolve, reject) => {
      const leave = (): boolean => {
        const at = this.#queue.indexOf(waiter);
        if (at < 0) return false;
        this.#queue.splice(at, 1);
        waiter.cleanup();
        return true;
      };
      const onAbort = (): void => {
        if (leave()) reject(signal.reason);
      };
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          if (leave()) reject(this.#busy(` and none was free within ${Math.round(this.#queueWaitMs / 1000)} s`));
        }, this.#queueWaitMs),
        cleanup: () => {
          clearTimeout(waiter.timer);
          signal.removeEventListener('abort', onAbort);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  /** Waits until `bytes` (at most one piece) may be sent, then takes them from the bucket. */
  async take(bytes: number, signal: AbortSignal): Promise<void> {
    if (this.bytesPerSecond === 0) return;
    const want = Math.min(bytes, this.bytesPerSecond);
    for (;;) {
      const now = this.#clock.now();
      this.#tokens = Math.min(this.bytesPerSecond, this.#tokens + (Math.max(0, now - this.#at) * this.bytesPerSecond) / 1000);
      this.#at = now;
      if (this.#tokens >= want) {
        this.#tokens -= want;
        return;
      }
      await this.#sleep(Math.max(1, Math.ceil(((want - this.#tokens) * 1000) / this.bytesPerSecond)), signal);
    }
  }

  /**
   * A Readable of `source` (bytes, or another stream) paced by the bucket, in pieces of at most
   * 64 KiB. The slot is released when the stream ends, fails or is destroyed (Koa destroys a body
   * stream when the response closes). Aborting `signal` destroys it.
   */
  stream(source: Uint8Array | AsyncIterable<Uint8Array>, slot: TransferSlot, signal: AbortSignal): Readable {
    const self = this;
    async function* paced(): AsyncGenerator<Buffer> {
      const pieces = source instanceof Uint8Array ? [source] : source;
      for await (const part of pieces) {
        const buf = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
        for (let off = 0; off < buf.length; off += self.#chunk) {
          const piece = buf.subarray(off, Math.min(buf.length, off + self.#chunk));
          await self.take(piece.length, signal);
          self.#bytes += piece.length;
          yield piece;
        }
      }
    }
    const r = Readable.from(paced(), { objectMode: false });
    const onAbort = (): void => void r.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    r.once('close', () => {
      signal.removeEventListener('abort', onAbort);
      slot.release();
    });
    return r;
  }
}
