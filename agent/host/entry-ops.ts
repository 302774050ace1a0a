/**
 * Changes to one entry of a directory that is already open by descriptor (ADR 0007). The entry
 * is opened O_PATH|O_NOFOLLOW relative to that directory ("/proc/self/fd/<n>/<name>", Linux's
 * openat): the descriptor names the entry itself, a final symlink is never followed, and an
 * O_PATH open has no side effect (no device is opened, no FIFO blocks, no read permission is
 * needed). fstat on it tells what it is; mode and owner are changed through
 * "/proc/self/fd/<m>", a path the kernel resolves through the open descriptor to that very inode
 * (how glibc implements fchmodat(AT_SYMLINK_NOFOLLOW)), never through a name another process
 * can swap. A recursive removal walks by descriptors too and never follows a symlink.
 * Part of the NodeHost (agent/host/node-host.ts).
 */
import { constants as C, promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { HostError } from './host-error.js';

/**
 * Linux's O_PATH. Node does not export it; libuv passes open flags to open(2) unchanged. The
 * value is the generic one (x86-64, arm64, arm, riscv, ppc, s390); alpha, parisc and sparc, which
 * differ, are not platforms Node ships for.
 */
export const O_PATH = 0o10000000;

/** Mode and owner to set; an omitted field is left as it is. */
export interface Attributes {
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

/** A step where another process could change the tree (for the race tests' hook). */
export type RaceStep = 'mkdir' | 'attributes' | 'remove' | 'remove-tree';
/** Called at a RaceStep with the path ("/proc/self/fd/<n>/<name>") of the entry concerned. */
export type RaceHook = (step: RaceStep, entry: string) => void | Promise<void>;

/** Directories a recursive removal descends at most (one descriptor is open per level). */
export const MAX_REMOVE_DEPTH = 512;

function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** An entry opened O_PATH|O_NOFOLLOW, with what fstat said about it. */
export interface OpenedEntry {
  readonly fh: FileHandle;
  readonly st: Stats;
  /** "/proc/self/fd/<n>": the entry itself, whatever its name now holds. */
  readonly self: string;
}

/** Opens `dir/name` (dir: a /proc/self/fd path of an open directory) without following a final symlink. The caller closes. */
export async function openEntry(dir: string, name: string, flags = 0): Promise<OpenedEntry> {
  const fh = await fsp.open(`${dir}/${name}`, O_PATH | C.O_NOFOLLOW | flags);
  try {
    return { fh, st: await fh.stat(), self: `/proc/self/fd/${fh.fd}` };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/**
 * Sets owner then mode (chown may clear setuid/setgid bits) of the opened entry. A symlink's
 * owner can be set, its mode cannot (SYMLINK_REFUSED).
 */
export async function setAttributesOf(e: OpenedEntry, attrs: Attributes, path: string): Promise<void> {
  if (attrs.uid !== undefined || attrs.gid !== undefined) await fsp.chown(e.self, attrs.uid ?? -1, attrs.gid ?? -1);
  if (attrs.mode !== undefined) {
    if (e.st.isSymbolicLink()) throw new HostError('SYMLINK_REFUSED', `${path} is a symbolic link; its mode is not managed`);
    await fsp.chmod(e.self, attrs.mode);
  }
}

/**
 * Removes `dir/name` and everything below it. Every directory is opened O_DIRECTORY|O_NOFOLLOW
 * relative to its parent's descriptor and listed through its own descriptor; other entries are
 * unlinked relative to the descriptor of the directory holding them (unlink never follows a
 * link). A symlink swapped in for a directory is therefore removed as a link, never entered; a
 * directory on another device (a mount point) is refused (CROSS_DEVICE) rather than emptied.
 */
export async function removeTree(dir: string, name: string, path: string, hook?: RaceHook): Promise<void> {
  let top: FileHandle;
  try {
    top = await fsp.open(`${dir}/${name}`, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
  } catch (err) {
    const code = errno(err);
    if (code === 'ENOENT') return;
    if (code !== 'ENOTDIR' && code !== 'ELOOP') throw err;
    await unlinkEntry(dir, name);
    return;
  }
  let dev: number;
  try {
    dev = (await top.stat()).dev;
    await emptyDir(top, dev, path, 1, hook);
  } finally {
    await top.close();
  }
  await rmdirEntry(dir, name, path);
}

async function emptyDir(fh: FileHandle, dev: number, path: string, depth: number, hook: RaceHook | undefined): Promise<void> {
  const self = `/proc/self/fd/${fh.fd}`;
  const names = await fsp.readdir(self);
  for (const name of names) {
    if (hook) await hook('remove-tree', `${self}/${name}`);
    let sub: FileHandle;
    try {
      sub = await fsp.open(`${self}/${name}`, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    } catch (err) {
      const code = errno(err);
      if (code === 'ENOENT') continue;
      if (code !== 'ENOTDIR' && code !== 'ELOOP') throw err;
      await unlinkEntry(self, name);
      continue;
    }
    try {
      const st = await sub.stat();
      if (st.dev !== dev) throw new HostError('CROSS_DEVICE', `${path}/${name} is on another filesystem (a mount point?); it is not removed`);
      if (depth >= MAX_REMOVE_DEPTH) throw new HostError('TOO_DEEP', `${path} is nested more than ${MAX_REMOVE_DEPTH} directories deep; it is not removed`);
      await emptyDir(sub, dev, `${path}/${name}`, depth + 1, hook);
    } finally {
      await sub.close();
    }
    await rmdirEntry(self, name, `${path}/${name}`);
  }
}

async function unlinkEntry(dir: string, name: string): Promise<void> {
  try {
    await fsp.unlink(`${dir}/${name}`);
  } catch (err) {
    if (errno(err) !== 'ENOENT') throw err;
  }
}

async function rmdirEntry(dir: string, name: string, path: string): Promise<void> {
  try {
    await fsp.rmdir(`${dir}/${name}`);
  } catch (err) {
    const code = errno(err);
    if (code === 'ENOENT') return;
    // rmdir never follows a link: a name swapped for something else in the meantime stays
    if (code === 'ENOTDIR') throw new HostError('ENTRY_CHANGED', `${path} was replaced while it was being removed; it was left in place`, { cause: err });
    throw err;
  }
}
