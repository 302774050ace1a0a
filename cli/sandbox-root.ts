/**
 * The directory `stead apply --root DIR` confines every managed path to (docs/cli.md, ADR 0012).
 *
 * A missing DIR is created (its missing parents too, as `mkdir -p` would, with mode 0755), so
 * the README's first try works on a fresh machine; with --noop nothing is created (a missing
 * root reads as empty). DIR itself ends with mode 0755, like `/`: it
 * stands for a host's root, and a command run as another user (`exec` with `user:`) must be able
 * to reach paths in it; each managed path under it carries its own declared mode. It is made
 * 0700 and then set to 0755 through a descriptor opened with O_NOFOLLOW (never by path, and
 * independent of the umask), after checking that the directory the descriptor names is the one
 * this process created.
 *
 * A path that exists must be a real directory: a symbolic link (even to a directory) or any
 * other kind of file is refused, so a link planted at a predictable path such as /tmp/sb cannot
 * point the run at /etc.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UsageError } from './io.js';

/** Mode of a created sandbox root. */
export const SANDBOX_ROOT_MODE = 0o755;

function kindOf(st: { isSymbolicLink(): boolean; isFile(): boolean }): string {
  return st.isSymbolicLink() ? 'a symbolic link' : st.isFile() ? 'a regular file' : 'not a directory';
}

async function lstatOrUndefined(path: string, label: string): Promise<Awaited<ReturnType<typeof lstat>> | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw new UsageError(`${label}: cannot create ${path}: a parent of it is not a directory`);
    throw new UsageError(`${label}: cannot use ${path}: ${(err as Error).message}`);
  }
}

/**
 * Makes sure `root` (absolute) is a real directory, creating it when missing (unless
 * `create: false`, for noop, where a missing root is left missing and reads as empty). `label`
 * names the option in errors ("--root /tmp/sb"). Resolves whether it was created; throws
 * UsageError for a path that is a symbolic link or not a directory, or that cannot be created.
 */
export async function ensureSandboxRoot(root: string, label: string, opts: { create?: boolean } = {}): Promise<{ created: boolean }> {
  const st = await lstatOrUndefined(root, label);
  if (st !== undefined) {
    if (st.isSymbolicLink() || !st.isDirectory()) {
      throw new UsageError(`${label}: ${root} is ${kindOf(st)}; give a real directory, or a path that does not exist yet (it is then created)`);
    }
    return { created: false };
  }
  // noop touches nothing: a missing root reads as an empty one.
  if (opts.create === false) return { created: false };
  try {
    await mkdir(dirname(root), { recursive: true, mode: SANDBOX_ROOT_MODE });
    await mkdir(root, { mode: 0o700 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Created by someone else between the two looks: judge what is there now.
    if (e.code === 'EEXIST') return ensureSandboxRoot(root, label).then(() => ({ created: false }));
    throw new UsageError(`${label}: cannot create ${root}: ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' '));
  }
  const fd = await open(root, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`${label}: ${root} changed while it was being created (${err.code ?? err.message}); try again`);
  });
  try {
    const mine = await fd.stat();
    const uid = process.geteuid?.();
    if (!mine.isDirectory() || (uid !== undefined && mine.uid !== uid) || (mine.mode & 0o077) !== 0) {
      throw new UsageError(`${label}: ${root} changed while it was being created; try again`);
    }
    await fd.chmod(SANDBOX_ROOT_MODE);
  } finally {
    await fd.close();
  }
  return { created: true };
}
