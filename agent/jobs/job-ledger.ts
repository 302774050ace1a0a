/**
 * The job ledger (ADR 0014, "agent channel" steps 2–4): what this agent did with each dispatch,
 * on disk in `<data-dir>/jobs/ledger/`, one file per dispatch, each change written atomically
 * (temp file, fsync, rename, fsync dir: spool/atomic-file.ts) and read back through O_NOFOLLOW
 * with the owner and mode checked on the descriptor (spool/owned-files.ts). This is what makes a
 * dispatch run at most once across crashes and restarts:
 *
 *   claimed    written before asking the server to start (holds the work, to retry the start)
 *   started    written after the server said run and before anything is spawned
 *   finished   the result, spooled until the server acknowledges it
 *   delivered  the server has the result; the entry (id and times only) is kept for
 *              `retentionMs` so that a re-offered dispatch is recognised, then pruned
 *
 * After a restart: `started` (no result) is answered `interrupted` and never spawned again;
 * `claimed` has its start retried; `finished` is delivered again. The ledger holds at most
 * `maxEntries` dispatches: the oldest delivered ones are pruned first, and when only undelivered
 * ones remain a new claim is refused (LedgerFullError: the dispatch is left to the server, which
 * offers it again) — a result is never dropped to make room.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { JobResult, JobWork } from '../../schemas/index.js';
import { ensurePrivateDir, fsyncDir, removeStaleTemps, writeFileAtomic } from '../spool/atomic-file.js';
import { readOwnedFile, UnsafePathError } from '../spool/owned-files.js';

export type LedgerState = 'claimed' | 'started' | 'finished' | 'delivered';

/** One dispatch as the ledger keeps it. */
export interface LedgerEntry {
  readonly id: string;
  readonly state: LedgerState;
  /** When the entry reached its state (unix ms). */
  readonly at: number;
  readonly claimedAt: number;
  readonly startedAt?: number;
  /** The script's process group (its leader's pid) and the leader's start time (clock ticks since boot, /proc), once spawned. */
  readonly pgid?: number;
  readonly pgidStart?: number;
  /** The work, while the start may still be retried (claimed) or the work may be needed (started). */
  readonly work?: JobWork;
  /** The result, while it is not yet delivered. */
  readonly result?: JobResult;
  /** Delivered entries only: the server refused the result for good (4xx), with its message. */
  readonly refused?: string;
}

export class LedgerFullError extends Error {
  readonly code = 'LEDGER_FULL';
  override readonly name = 'LedgerFullError';
}

export interface JobLedgerOptions {
  /** `<data-dir>/jobs/ledger` (created 0700). */
  readonly dir: string;
  /** Delivered entries are kept this long. Default 7 days. */
  readonly retentionMs?: number;
  /** Most dispatches held. Default 10000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
  /** A ledger file that is not valid or not the agent's own was set aside (`*.corrupt` / `*.unsafe`). */
  readonly onSetAside?: (file: string, reason: string) => void;
}

const FILE = /^[0-9a-f]{40}\.json$/;

/** The ledger file name of a dispatch id: ids may be 320 characters, longer than a file name may be. */
export function ledgerFileName(id: string): string {
  return `${createHash('sha256').update(id).digest('hex').slice(0, 40)}.json`;
}

export class JobLedger {
  readonly dir: string;
  readonly #retention: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #onSetAside: ((file: string, reason: string) => void) | undefined;
  /** id → state and time, for every entry on disk (the entries themselves are read when needed). */
  readonly #index = new Map<string, { state: LedgerState; at: number }>();
  #opened = false;

  constructor(opts: JobLedgerOptions) {
    this.dir = opts.dir;
    this.#retention = opts.retentionMs ?? 7 * 24 * 3600 * 1000;
    this.#max = opts.maxEntries ?? 10000;
    this.#now = opts.now ?? Date.now;
    this.#onSetAside = opts.onSetAside;
  }

  /** Creates the directory, removes half-written temp files and loads the index. */
  async open(): Promise<void> {
    await ensurePrivateDir(this.dir);
    await removeStaleTemps(this.dir);
    this.#index.clear();
    for (const file of await fsp.readdir(this.dir)) {
      if (!FILE.test(file)) continue;
      const entry = await this.#readFile(file);
      if (entry) this.#index.set(entry.id, { state: entry.state, at: entry.at });
    }
    this.#opened = true;
  }

  /** Dispatches held. */
  get size(): number {
    return this.#index.size;
  }

  /** The state of a dispatch, or undefined when the ledger does not know it. */
  state(id: string): LedgerState | undefined {
    return this.#index.get(id)?.state;
  }

  /** The whole entry, read from disk. */
  async get(id: string): Promise<LedgerEntry | undefined> {
    if (!this.#index.has(id)) return undefined;
    return this.#readFile(ledgerFileName(id));
  }

  /** Ids in a state, oldest first. */
  ids(state: LedgerState): string[] {
    return [...this.#index].filter(([, v]) => v.state === state).sort((a, b) => a[1].at - b[1].at).map(([id]) => id);
  }

  /**
   * Records the claim (durable when this resolves). An id already known is not claimed again:
   * its entry is returned unchanged. LedgerFullError when the ledger holds `maxEntries`
   * undelivered dispatches.
   */
  async claim(work: JobWork): Promise<LedgerEntry> {
    this.#mustBeOpen();
    const known = await this.get(work.id);
    if (known) return known;
    if (this.#index.size >= this.#max) await this.prune(true);
    if (this.#index.size >= this.#max) throw new LedgerFullError(`the job ledger holds ${this.#max} undelivered dispatches; ${work.id} is left for later`);
    const now = this.#now();
    const entry: LedgerEntry = { id: work.id, state: 'claimed', at: now, claimedAt: now, work };
    await this.#write(entry);
    return entry;
  }

  /** Marks a claimed dispatch started (durable when this resolves): from now on it is never spawned again. */
  async markStarted(id: string): Promise<LedgerEntry> {
    const e = await this.#require(id, ['claimed']);
    const now = this.#now();
    const entry: LedgerEntry = { ...e, state: 'started', at: now, startedAt: now };
    await this.#write(entry);
    return entry;
  }

  /** Records the process group of a started dispatch (so that a restart can kill what a crash left running). */
  async recordProcess(id: string, pgid: number, pgidStart: number | undefined): Promise<void> {
    const e = await this.#require(id, ['started']);
    await this.#write({ ...e, pgid, ...(pgidStart !== undefined ? { pgidStart } : {}) });
  }

  /**
   * Spools the result (durable when this resolves). Allowed from claimed (a dispatch answered
   * without running: cancelled before it started) and started; a second result is refused
   * (the first one stands, as on the server).
   */
  async finish(id: string, result: JobResult): Promise<LedgerEntry> {
    const e = await this.#require(id, ['claimed', 'started']);
    const { work: _work, pgid: _pgid, pgidStart: _start, ...rest } = e;
    const entry: LedgerEntry = { ...rest, state: 'finished', at: this.#now(), result };
    await this.#write(entry);
    return entry;
  }

  /** Records a result for a dispatch this ledger never claimed (a cancel for a dispatch it does not know). */
  async finishUnknown(id: string, result: JobResult): Promise<LedgerEntry> {
    this.#mustBeOpen();
    if (this.#index.has(id)) return this.finish(id, result);
    if (this.#index.size >= this.#max) await this.prune(true);
    if (this.#index.size >= this.#max) throw new LedgerFullError(`the job ledger is full; the result of ${id} is not recorded`);
    const now = this.#now();
    const entry: LedgerEntry = { id, state: 'finished', at: now, claimedAt: now, result };
    await this.#write(entry);
    return entry;
  }

  /** The server acknowledged the result (or refused it for good: `refused`); only the id and times are kept. */
  async markDelivered(id: string, refused?: string): Promise<void> {
    const e = await this.#require(id, ['finished']);
    const entry: LedgerEntry = { id, state: 'delivered', at: this.#now(), claimedAt: e.claimedAt, ...(e.startedAt !== undefined ? { startedAt: e.startedAt } : {}), ...(refused !== undefined ? { refused: refused.slice(0, 4096) } : {}) };
    await this.#write(entry);
  }

  /** Forgets a claimed dispatch the server said not to run (nothing ran; a re-offer is asked again). */
  async forget(id: string): Promise<void> {
    await this.#require(id, ['claimed']);
    await this.#remove(id);
  }

  /**
   * Removes delivered entries older than the retention; with `makeRoom`, also the oldest
   * delivered ones while the ledger is at its bound. Returns how many were removed.
   */
  async prune(makeRoom = false): Promise<number> {
    const now = this.#now();
    let removed = 0;
    const delivered = [...this.#index].filter(([, v]) => v.state === 'delivered').sort((a, b) => a[1].at - b[1].at);
    for (const [id, v] of delivered) {
      const old = now - v.at > this.#retention;
      if (!old && !(makeRoom && this.#index.size >= this.#max)) break;
      await this.#remove(id);
      removed++;
    }
    return removed;
  }

  #mustBeOpen(): void {
    if (!this.#opened) throw new Error('JobLedger.open() was not called');
  }

  async #require(id: string, states: readonly LedgerState[]): Promise<LedgerEntry> {
    this.#mustBeOpen();
    const e = await this.get(id);
    if (!e) throw new Error(`the job ledger has no entry for ${id}`);
    if (!states.includes(e.state)) throw new Error(`dispatch ${id} is ${e.state} in the job ledger, not ${states.join(' or ')}`);
    return e;
  }

  async #write(entry: LedgerEntry): Promise<void> {
    await writeFileAtomic(join(this.dir, ledgerFileName(entry.id)), JSON.stringify(entry), 0o600);
    this.#index.set(entry.id, { state: entry.state, at: entry.at });
  }

  async #remove(id: string): Promise<void> {
    await fsp.rm(join(this.dir, ledgerFileName(id)), { force: true });
    await fsyncDir(this.dir);
    this.#index.delete(id);
  }

  /** Reads one ledger file; a damaged or foreign one is renamed aside and reported, never used. */
  async #readFile(file: string): Promise<LedgerEntry | undefined> {
    const path = join(this.dir, file);
    let bytes: Buffer | undefined;
    try {
      bytes = await readOwnedFile(path);
    } catch (err) {
      if (!(err instanceof UnsafePathError)) throw err;
      await this.#setAside(file, 'unsafe', err.message);
      return undefined;
    }
    if (!bytes) return undefined;
    let entry: LedgerEntry | undefined;
    try {
      entry = JSON.parse(bytes.toString('utf8')) as LedgerEntry;
    } catch {
      entry = undefined;
    }
    if (!entry || typeof entry.id !== 'string' || ledgerFileName(entry.id) !== file || !['claimed', 'started', 'finished', 'delivered'].includes(entry.state) || typeof entry.at !== 'number') {
      await this.#setAside(file, 'corrupt', 'not a ledger entry');
      return undefined;
    }
    return entry;
  }

  async #setAside(file: string, suffix: 'corrupt' | 'unsafe', reason: string): Promise<void> {
    await fsp.rename(join(this.dir, file), join(this.dir, `${file}.${suffix}`)).catch(() => undefined);
    for (const [id] of [...this.#index].filter(([id]) => ledgerFileName(id) === file)) this.#index.delete(id);
    this.#onSetAside?.(file, reason);
  }
}
