/**
 * The local content-addressed backup of replaced file content: stateDir/backups/<sha256>, plus
 * one small index entry per backup event (stateDir/backups/index/<time>-<random>.json) saying
 * which path held it and when. `stead backup` lists and restores through these functions.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Host } from '../host/host.js';
import { createStateHost } from '../host/node-host.js';
import { ResourceError } from '../engine/engine-error.js';

export interface BackupEntry {
  /** Hex sha256 of the content. */
  readonly sha256: string;
  /** The managed path that held it. */
  readonly path: string;
  /** RFC 3339 time it was replaced. */
  readonly at: string;
  readonly size: number;
}

const HEX = /^[0-9a-f]{64}$/;

let chain: Promise<unknown> = Promise.resolve();

/**
 * backupLock runs `fn` after every earlier backupLock call of this process has settled: a
 * backup being written and a retention pass (backup-retention.ts) never interleave.
 */
export function backupLock<T>(fn: () => Promise<T>): Promise<T> {
  const run = chain.then(fn);
  chain = run.catch(() => undefined);
  return run;
}

/** Keeps `data` (the content about to be replaced at `path`); returns its hex sha256. */
export function backupContent(stateDir: string, path: string, data: Buffer, at: Date = new Date()): Promise<string> {
  return backupLock(() => writeBackup(stateDir, path, data, at));
}

async function writeBackup(stateDir: string, path: string, data: Buffer, at: Date): Promise<string> {
  const state = await createStateHost(stateDir);
  const sha = createHash('sha256').update(data).digest('hex');
  await state.mkdir('/backups/index', { recursive: true, mode: 0o700 });
  if (!(await state.lstat(`/backups/${sha}`))) await state.writeFileAtomic(`/backups/${sha}`, data, { mode: 0o600 });
  const entry: BackupEntry = { sha256: sha, path, at: at.toISOString(), size: data.length };
  await state.writeFileAtomic(`/backups/index/${at.getTime()}-${randomBytes(4).toString('hex')}.json`, JSON.stringify(entry), { mode: 0o600 });
  return sha;
}

/** Every backup event, newest first; with `path`, only those of that path. */
export async function listBackups(stateDir: string, opts: { path?: string } = {}): Promise<BackupEntry[]> {
  const state = await createStateHost(stateDir);
  if (!(await state.lstat('/backups/index'))) return [];
  const out: BackupEntry[] = [];
  for (const name of await state.readdir('/backups/index')) {
    if (!name.endsWith('.json')) continue;
    try {
      const e = JSON.parse((await state.readFile(`/backups/index/${name}`)).toString('utf8')) as BackupEntry;
      if (typeof e.sha256 === 'string' && HEX.test(e.sha256) && typeof e.path === 'string' && typeof e.at === 'string') {
        if (opts.path === undefined || e.path === opts.path) out.push({ sha256: e.sha256, path: e.path, at: e.at, size: Number(e.size) || 0 });
      }
    } catch {
      // a torn or foreign index file is not a backup
    }
  }
  return out.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

/** The content of a backup (verified); throws BACKUP_MISSING when it is not kept. */
export async function readBackup(stateDir: string, sha256: string): Promise<Buffer> {
  if (!HEX.test(sha256)) throw new ResourceError('BACKUP_INVALID', `not a sha256: ${JSON.stringify(sha256.slice(0, 80))}`);
  const state = await createStateHost(stateDir);
  let data: Buffer;
  try {
    data = await state.readFile(`/backups/${sha256}`);
  } catch (err) {
    throw new ResourceError('BACKUP_MISSING', `no backup ${sha256}`, { cause: err });
  }
  if (createHash('sha256').update(data).digest('hex') !== sha256) throw new ResourceError('BACKUP_CORRUPT', `backup ${sha256} does not match its hash`);
  return data;
}

/**
 * Writes a backup back to `path` on the host, atomically (mode and owner of an existing file
 * are kept). The current content is backed up first, so a restore can itself be undone.
 */
export async function restoreBackup(opts: { stateDir: string; host: Host; sha256: string; path: string }): Promise<void> {
  const data = await readBackup(opts.stateDir, opts.sha256);
  const st = await opts.host.lstat(opts.path);
  if (st?.kind === 'file') await backupContent(opts.stateDir, opts.path, await opts.host.readFile(opts.path));
  else if (st && st.kind !== 'link') throw new ResourceError('WRONG_KIND', `${opts.path} is a ${st.kind}, not a file`);
  await opts.host.writeFileAtomic(opts.path, data);
}
