/**
 * The report spool: reports that have not yet been acknowledged by the server, one file per
 * report, written atomically. A file is deleted only after the server acknowledged that
 * report, so a crash at any point loses nothing; a resend after a crash between the server's
 * acknowledgement and the delete is harmless because the server is idempotent by runId.
 *
 * File names are `<sequence>-<runId>.json` with a zero-padded, strictly increasing sequence,
 * so listing the directory gives delivery order.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { RunReport } from '../../schemas/index.js';
import { ensurePrivateDir, fsyncDir, removeStaleTemps, writeFileAtomic } from './atomic-file.js';
import { readOwnedFile, UnsafePathError } from './owned-files.js';

const NAME = /^(\d{20})-([A-Za-z0-9._-]{1,128})\.json$/;

/** One queued report. */
export interface SpoolEntry {
  readonly file: string;
  readonly seq: bigint;
  readonly runId: string;
}

/** Thrown for a spool file that cannot be parsed; the file is moved aside, not deleted. */
export class SpoolCorruptError extends Error {
  readonly code = 'SPOOL_CORRUPT';
}

export interface ReportSpoolOptions {
  /** Directory holding the queued reports (created 0700). */
  readonly dir: string;
  /** Oldest entries are dropped (and reported through onDrop) beyond this many. Default 10000. */
  readonly maxEntries?: number;
  readonly onDrop?: (entry: SpoolEntry) => void;
}

/**
 * Sends one report; resolves when the server acknowledged it, rejects otherwise (kept for a
 * later try). Resolving 'rejected' means the server will never take it (it is malformed): the
 * file is renamed to `*.rejected` so it cannot block the queue, and kept for inspection.
 * `serialized`, when given, is the exact JSON the spool holds for the report (the one this
 * process just queued: sent as is, neither read back nor encoded again).
 */
export type DeliverFn = (report: RunReport, signal: AbortSignal, serialized?: Buffer) => Promise<void | 'rejected'>;

export interface FlushResult {
  readonly delivered: number;
  /** Reports the server refused as malformed (set aside as *.rejected). */
  readonly rejected: number;
  readonly remaining: number;
  /** The error that stopped delivery, when it stopped early. */
  readonly error?: unknown;
}

export class ReportSpool {
  readonly dir: string;
  readonly #maxEntries: number;
  readonly #onDrop: ((entry: SpoolEntry) => void) | undefined;
  #lastSeq = 0n;
  #opened = false;
  /**
   * The report this process queued last, with its bytes, until it is delivered or another is
   * queued: a poll's report at 10,000 resources is ~1 MB, and reading it back and parsing it
   * again would cost as much memory and time as the engine's whole no-op run.
   */
  #fresh: { readonly file: string; readonly report: RunReport; readonly bytes: Buffer } | undefined;

  constructor(opts: ReportSpoolOptions) {
    this.dir = opts.dir;
    this.#maxEntries = opts.maxEntries ?? 10000;
    this.#onDrop = opts.onDrop;
  }

  /** Creates the directory, removes half-written temp files and learns the last sequence. */
  async open(): Promise<void> {
    await ensurePrivateDir(this.dir);
    await removeStaleTemps(this.dir);
    const entries = await this.list();
    this.#lastSeq = entries.length > 0 ? entries[entries.length - 1]!.seq : 0n;
    this.#opened = true;
  }

  /** Queued reports, oldest first. */
  async list(): Promise<SpoolEntry[]> {
    const names = await fsp.readdir(this.dir);
    const out: SpoolEntry[] = [];
    for (const file of names) {
      const m = NAME.exec(file);
      if (m) out.push({ file, seq: BigInt(m[1]!), runId: m[2]! });
    }
    out.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
    return out;
  }

  /**
   * Queues a report durably (the file is on disk when this resolves). `nowMs` seeds the
   * sequence so that order also holds across restarts with an empty spool.
   */
  async enqueue(report: RunReport, nowMs: number): Promise<SpoolEntry> {
    if (!this.#opened) await this.open();
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(report.runId)) throw new TypeError(`invalid runId ${JSON.stringify(report.runId)}`);
    const fromClock = BigInt(Math.max(0, Math.floor(nowMs))) * 1000n;
    const seq = fromClock > this.#lastSeq ? fromClock : this.#lastSeq + 1n;
    this.#lastSeq = seq;
    const file = `${seq.toString().padStart(20, '0')}-${report.runId}.json`;
    const bytes = Buffer.from(JSON.stringify(report), 'utf8');
    await writeFileAtomic(join(this.dir, file), bytes, 0o600);
    this.#fresh = { file, report, bytes };
    const entry = { file, seq, runId: report.runId };
    await this.#enforceLimit();
    return entry;
  }

  /** Reads one queued report (O_NOFOLLOW, owner and mode checked on the descriptor: owned-files.ts). */
  async read(entry: SpoolEntry): Promise<RunReport> {
    const path = join(this.dir, entry.file);
    const bytes = await readOwnedFile(path);
    if (!bytes) throw Object.assign(new Error(`ENOENT: spool file ${entry.file} vanished`), { code: 'ENOENT' });
    const text = bytes.toString('utf8');
    try {
      return JSON.parse(text) as RunReport;
    } catch {
      throw new SpoolCorruptError(`spool file ${entry.file} is not valid JSON`);
    }
  }

  /** Removes a delivered report. */
  async remove(entry: SpoolEntry): Promise<void> {
    if (this.#fresh?.file === entry.file) this.#fresh = undefined;
    await fsp.rm(join(this.dir, entry.file), { force: true });
    await fsyncDir(this.dir);
  }

  /**
   * Delivers queued reports oldest first, deleting each only after `deliver` resolved. Stops at
   * the first failure (the rest stay queued, in order) or when `signal` is aborted. A corrupt
   * file is renamed to `*.corrupt`, one that is not the agent's own regular file (a link, another
   * owner, group/other-writable) to `*.unsafe`, so it never blocks the queue and is never sent.
   */
  async flush(deliver: DeliverFn, signal: AbortSignal): Promise<FlushResult> {
    if (!this.#opened) await this.open();
    const entries = await this.list();
    let delivered = 0;
    let rejected = 0;
    for (const [i, entry] of entries.entries()) {
      if (signal.aborted) return { delivered, rejected, remaining: entries.length - i };
      let report: RunReport;
      const fresh = this.#fresh?.file === entry.file ? this.#fresh : undefined;
      try {
        report = fresh ? fresh.report : await this.read(entry);
      } catch (err) {
        // Unparseable, or not a regular file of the agent's own (a link, another owner): set aside, never sent.
        if (!(err instanceof SpoolCorruptError) && !(err instanceof UnsafePathError)) throw err;
        await fsp.rename(join(this.dir, entry.file), join(this.dir, `${entry.file}.${err instanceof UnsafePathError ? 'unsafe' : 'corrupt'}`));
        continue;
      }
      let outcome: void | 'rejected';
      try {
        outcome = fresh ? await deliver(report, signal, fresh.bytes) : await deliver(report, signal);
      } catch (error) {
        return { delivered, rejected, remaining: entries.length - i, error };
      }
      if (outcome === 'rejected') {
        if (fresh) this.#fresh = undefined;
        await fsp.rename(join(this.dir, entry.file), join(this.dir, `${entry.file}.rejected`));
        rejected++;
        continue;
      }
      await this.remove(entry);
      delivered++;
    }
    return { delivered, rejected, remaining: 0 };
  }

  async #enforceLimit(): Promise<void> {
    const entries = await this.list();
    const excess = entries.length - this.#maxEntries;
    for (let i = 0; i < excess; i++) {
      const e = entries[i]!;
      await fsp.rm(join(this.dir, e.file), { force: true });
      this.#onDrop?.(e);
    }
  }
}
