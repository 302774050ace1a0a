/**
 * One agent per data directory: `<data-dir>/agent.pid` is created with O_EXCL and holds the
 * owner's pid. A lock whose pid is no longer alive (the agent was killed) is taken over.
 */
import { constants, promises as fsp } from 'node:fs';
import { join } from 'node:path';

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

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = join(dataDir, 'agent.pid');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await fsp.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return { release: () => fsp.rm(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(await fsp.readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new DataDirLockedError(`another agent (pid ${pid}) uses ${dataDir}; stop it first or use another --data-dir`);
      }
      await fsp.rm(path, { force: true });
    }
  }
  throw new DataDirLockedError(`could not lock ${dataDir}`);
}
