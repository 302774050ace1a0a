/**
 * Durable file writes for the agent's own state (identity, cached catalog, spool, blobs).
 * These are real paths under the agent's data directory, never paths on the managed host,
 * so they do not go through the Host seam.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one, even
 * after a crash: a temporary file created with O_EXCL (mode `mode`, default 0600) in the same
 * directory, written, fsynced, renamed into place, then the directory is fsynced.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    try {
      await fh.writeFile(data);
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, path);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/** fsyncs a directory so a rename or unlink in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Creates a private directory (0700) and its parents; tightens the mode of an existing one. The
 * mode is set through a descriptor opened O_DIRECTORY|O_NOFOLLOW (ADR 0007), never by path: a
 * symlink put in its place after the mkdir is refused, not followed to chmod what it points at.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  let fh;
  try {
    fh = await fsp.open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') throw new Error(`${dir} must be a directory, not a symbolic link or another file (its mode is not changed through a link)`, { cause: err });
    throw err;
  }
  try {
    await fh.chmod(0o700);
  } finally {
    await fh.close();
  }
}

/** Removes temporary files left behind by a crash in the middle of writeFileAtomic. */
export async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => n.startsWith('.') && n.endsWith('.tmp')).map((n) => fsp.rm(join(dir, n), { force: true })));
}

/** Reads a file, or undefined when it does not exist. */
export async function readFileIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
