/**
 * The agent's data directory is checked before anything in it is read (docs/adr/0011, after
 * OpenSSH's StrictModes): the directory and every directory above it up to `/` must be owned by
 * the agent's user or root, and none may be writable by group or others, except an ancestor with
 * the sticky bit (/tmp: others cannot rename or remove what they do not own there). The data
 * dir itself must be owned by the agent's user (or root) and not group/other-writable, sticky
 * or not. With that chain in place only root and the agent's user can change what any path
 * under the data dir names, which is what makes the agent's later opens by path safe.
 *
 * The walk is done through descriptors, never check-then-use: `/` is opened, then each
 * component with O_DIRECTORY|O_NOFOLLOW relative to the previous descriptor (through
 * /proc/self/fd, Linux's openat), and the checks are fstat of what was opened. Missing
 * components are created (mode 0700) relative to their verified parent. The path is first made
 * canonical (realpath of the part that exists), so a link in the given path is followed once and
 * its target checked; a link that appears during the walk is refused.
 */
import { constants as C, promises as fsp } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { checkOwnership, UnsafePathError } from '../spool/owned-files.js';

export interface CheckedDataDir {
  /** The canonical path (no links). */
  readonly path: string;
  /** The data dir (or a part of its path) was created by this call. */
  readonly created: boolean;
  /** The data dir can be read by group or others (catalogs may hold secrets: worth a warning). */
  readonly readableByOthers: boolean;
}

/** The canonical form of `path`: realpath of its longest existing prefix, plus the rest. */
async function canonical(path: string): Promise<string> {
  let head = resolve(path);
  const rest: string[] = [];
  for (;;) {
    try {
      return join(await fsp.realpath(head), ...rest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || head === dirname(head)) throw err;
      rest.unshift(head.slice(dirname(head).length).replace(/^\/+/, ''));
      head = dirname(head);
    }
  }
}

/** Opens (creating when missing) and checks the data dir and every directory above it. */
export async function checkDataDir(requested: string): Promise<CheckedDataDir> {
  const path = await canonical(requested);
  const parts = path.split(sep).filter((p) => p !== '');
  let created = false;
  let here = '/';
  let fh = await fsp.open('/', C.O_RDONLY | C.O_DIRECTORY);
  try {
    for (let i = 0; ; i++) {
      const st = await fh.stat();
      const last = i === parts.length;
      if (last) {
        checkOwnership(here, st, 'data dir', { fixMode: '0700' });
        return { path, created, readableByOthers: (st.mode & 0o077) !== 0 };
      }
      checkOwnership(here, st, 'data dir parent', { stickyOk: true, fixMode: 'go-w', fixOwner: 0 });
      const name = parts[i]!;
      const next = join(here, name);
      const via = `/proc/self/fd/${fh.fd}/${name}`;
      let child: fsp.FileHandle | undefined;
      for (let attempt = 0; child === undefined; attempt++) {
        try {
          child = await fsp.open(via, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' && attempt === 0) {
            await fsp.mkdir(via, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
              if (e.code !== 'EEXIST') throw e;
            });
            created = true;
            continue;
          }
          if (code === 'ELOOP') throw new UnsafePathError(next, `refusing data dir ${path}: ${next} became a symbolic link while it was checked. Fix: find out who changed it; point --data-dir at a real directory`);
          if (code === 'ENOTDIR') throw new UnsafePathError(next, `refusing data dir ${path}: ${next} is not a directory. Fix: choose another --data-dir`);
          throw err;
        }
      }
      await fh.close();
      fh = child;
      here = next;
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}
