/**
 * Start-up checks of the embedded store (docs/store.md, "Damage at start").
 *
 * - checkStoreFiles: a missing or zero-length stead.db next to an existing admin-token means the
 *   store was lost or emptied; opening it would silently start a fresh install.
 * - quickCheck: SQLite's `PRAGMA quick_check` (b-tree structure, page and cell consistency; not
 *   index-vs-table agreement, and not the bytes inside a document) in a child process, so a big
 *   store cannot hold the start-up beyond its budget: when the budget runs out the server starts
 *   and the check goes on in the background, its verdict logged when it ends.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from '../store-error.js';

/** What a restore takes, for every message about a damaged store. */
export function restoreAdvice(dbPath: string): string {
  return `Restore your latest backup: stop the server, copy the backup to ${dbPath}, delete ${dbPath}-wal and ${dbPath}-shm if present, and start again (docs/store.md, "Backups"). Without a backup, "sqlite3 ${dbPath} .recover" salvages what it can into SQL`;
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Throws StoreError CORRUPT when `dbPath` is missing or empty although `dataDir` was used before. */
export function checkStoreFiles(dataDir: string, dbPath: string): void {
  const size = sizeOf(dbPath);
  if (size !== undefined && size > 0) return;
  const token = join(dataDir, 'admin-token');
  if (sizeOf(token) === undefined) return; // a fresh data directory
  const what = size === undefined ? 'is missing' : 'is empty (0 bytes)';
  throw new StoreError(
    'CORRUPT',
    `the store ${dbPath} ${what}, but ${token} shows this data directory was used before: the store was lost or emptied. ` +
      `Refusing to start as a fresh install (enrolled agents, revisions and reports would be gone). ${restoreAdvice(dbPath)}. ` +
      `To really start afresh, move ${token} aside.`,
  );
}

export interface QuickCheckResult {
  /** SQLite's findings (at most 100); empty when the store is sound. */
  readonly problems: readonly string[];
}

export interface RunningQuickCheck {
  /** Settles with the verdict (rejects only when the check could not run at all). */
  readonly result: Promise<QuickCheckResult>;
  /** Kills the check (the store is closing). */
  cancel(): void;
  /** Lets the process exit while the check still runs. */
  background(): void;
}

/** Starts `PRAGMA quick_check` on `dbPath` in a child process. */
export function quickCheck(dbPath: string): RunningQuickCheck {
  const child: ChildProcess = fork(new URL('./quick-check-child.js', import.meta.url), [dbPath], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
  const result = new Promise<QuickCheckResult>((resolve, reject) => {
    let answered = false;
    child.once('message', (msg) => {
      answered = true;
      const problems = (msg as { problems?: unknown }).problems;
      resolve({ problems: Array.isArray(problems) ? problems.map(String) : ['the integrity check sent an unreadable answer'] });
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (!answered) reject(new Error(`the integrity check ended without a verdict (${signal ?? `exit ${code}`})`));
    });
  });
  result.catch(() => undefined);
  return {
    result,
    cancel() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    background() {
      child.unref();
      child.channel?.unref();
    },
  };
}

export type StartupCheck =
  | { readonly status: 'ok' }
  | { readonly status: 'unfinished'; readonly later: Promise<QuickCheckResult>; cancel(): void };

/**
 * Runs quickCheck for at most `budgetMs`. Throws StoreError CORRUPT when it finds damage in time;
 * otherwise resolves ok, or unfinished (the check keeps running unref'd; cancel it at close).
 */
export async function startupQuickCheck(dbPath: string, budgetMs: number): Promise<StartupCheck> {
  const check = quickCheck(dbPath);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), budgetMs);
  });
  try {
    const first = await Promise.race([check.result, expired]).catch((err: unknown) => {
      check.cancel();
      throw err;
    });
    if (first === 'expired') {
      check.background();
      return { status: 'unfinished', later: check.result, cancel: () => check.cancel() };
    }
    if (first.problems.length > 0) throw corrupt(dbPath, first.problems);
    return { status: 'ok' };
  } finally {
    clearTimeout(timer);
  }
}

export function corrupt(dbPath: string, problems: readonly string[]): StoreError {
  return new StoreError(
    'CORRUPT',
    `the store ${dbPath} is damaged: SQLite's integrity check found ${problems.length}${problems.length >= 100 ? '+' : ''} problem(s), first: ${problems[0]!.slice(0, 300)}. ` +
      `Refusing to serve from a damaged store. ${restoreAdvice(dbPath)}.`,
  );
}
