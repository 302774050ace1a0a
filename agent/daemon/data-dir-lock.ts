/**
 * One agent per data directory: `<data-dir>/agent.pid` holds the owner's pid and the kernel's
 * boot id. It appears complete or not at all: the content is written to a temporary file first,
 * which is then hard-linked to `agent.pid` (link fails when the name exists, like O_EXCL; an
 * O_EXCL create followed by a write let a second agent read an empty file, call it stale and take
 * the lock too). A lock whose pid is not alive, or that was written before the last boot (its
 * pid may now be any process), is stale and taken over: it is renamed aside (one contender gets
 * it), and if what was moved turns out to be a live agent's fresh lock, it is linked back.
 * Release removes the file only while it is still this process's own.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readOwnedFile } from '../spool/owned-files.js';

export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';
}

export interface DataDirLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** "<pid>\n<boot id>\n"; an older agent wrote only the pid (taken as this boot's). */
function parse(text: string): { pid: number; boot: string | undefined } {
  const [pid, boot] = text.split('\n');
  return { pid: Number.parseInt(pid ?? '', 10), boot: boot || undefined };
}

function held(text: string, boot: string): { pid: number } | undefined {
  const lock = parse(text);
  if (!Number.isInteger(lock.pid) || lock.pid <= 0 || lock.pid === process.pid) return undefined;
  if (lock.boot !== undefined && boot !== '' && lock.boot !== boot) return undefined;
  return alive(lock.pid) ? { pid: lock.pid } : undefined;
}

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = join(dataDir, 'agent.pid');
  const boot = bootId();
  const mine = `${process.pid}\n${boot}\n`;
  const tmp = join(dataDir, `.agent.pid.${randomBytes(6).toString('hex')}.tmp`);
  await fsp.writeFile(tmp, mine, { mode: 0o600, flag: 'wx' });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await fsp.link(tmp, path);
        return {
          release: async () => {
            const now = await readOwnedFile(path).catch(() => undefined);
            if (now?.toString() === mine) await fsp.rm(path, { force: true });
          },
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const seen = (await readOwnedFile(path))?.toString();
      if (seen === undefined) continue;
      const owner = held(seen, boot);
      if (owner) throw new DataDirLockedError(`another agent (pid ${owner.pid}) uses ${dataDir}; stop it first or use another --data-dir`);
      // Stale: take it aside. Only one contender moves any given file.
      const aside = join(dataDir, `.agent.pid.${randomBytes(6).toString('hex')}.stale`);
      try {
        await fsp.rename(path, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = (await readOwnedFile(aside).catch(() => undefined))?.toString();
      if (moved !== seen) {
        // Another agent took the stale lock over between our read and our rename: give it back.
        await fsp.link(aside, path).catch(() => undefined);
      }
      await fsp.rm(aside, { force: true });
    }
    throw new DataDirLockedError(`could not lock ${dataDir} (agents starting at the same moment?); try again`);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}
