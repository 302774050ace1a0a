/**
 * Opening a directory under a root the way a chroot would: component by component, each opened
 * O_NOFOLLOW|O_DIRECTORY relative to the previous one's descriptor (through /proc/self/fd, i.e.
 * openat). A symlink met on the way is read and resolved inside the root: an absolute target
 * restarts at the root and ".." never climbs above it. The returned descriptor names the
 * directory itself, so a later swap of any parent for a symlink cannot redirect what is done
 * through it (security.md F4). A symlink is followed only when only this process's user could
 * have put it there: it is owned by that user, or it sits in a directory owned by that user that
 * no group or other can write (ADR 0007; stricter than Linux's protected_symlinks, which trusts a
 * link owned by the directory's owner: a user's link in their own home would redirect root's
 * writes). Part of the NodeHost (agent/host/node-host.ts).
 */
import { constants as C, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { HostError } from './host-error.js';

const MAX_SYMLINK_HOPS = 40;
const euid = process.geteuid?.() ?? 0;

function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** Opens root/comps (chroot semantics); with `create`, missing directories are made with that mode. The caller closes it. */
export async function openDirInRoot(root: string, comps: readonly string[], create?: { mode: number }): Promise<FileHandle> {
  const stack: FileHandle[] = [await fsp.open(root, C.O_RDONLY | C.O_DIRECTORY)];
  const queue = [...comps];
  let hops = 0;
  try {
    while (queue.length > 0) {
      const c = queue.shift()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (stack.length > 1) await stack.pop()!.close();
        continue;
      }
      const top = stack[stack.length - 1]!;
      const p = `/proc/self/fd/${top.fd}/${c}`;
      let next: FileHandle | undefined;
      try {
        next = await fsp.open(p, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
      } catch (err) {
        const code = errno(err);
        if (code === 'ENOENT' && create) {
          try {
            await fsp.mkdir(p, { mode: create.mode });
          } catch (e) {
            if (errno(e) !== 'EEXIST') throw e;
          }
          queue.unshift(c);
          continue;
        }
        if (code !== 'ELOOP' && code !== 'ENOTDIR') throw err;
        const st = await fsp.lstat(p);
        if (!st.isSymbolicLink()) throw new HostError('NOT_A_DIRECTORY', `a parent of the path is not a directory: ${c}`);
        const held = await top.stat();
        if (st.uid !== euid && (held.uid !== euid || (held.mode & 0o022) !== 0)) {
          throw new HostError('SYMLINK_REFUSED', `${comps.join('/')}: the parent ${c} is a symbolic link owned by uid ${st.uid} in a directory others can write; it is not followed (ADR 0007)`);
        }
        if (++hops > MAX_SYMLINK_HOPS) throw new HostError('SYMLINK_LOOP', `too many symbolic links while resolving ${comps.join('/')}`);
        const target = await fsp.readlink(p);
        const tcomps = target.split('/');
        if (target.startsWith('/')) {
          while (stack.length > 1) await stack.pop()!.close();
        }
        queue.unshift(...tcomps);
        continue;
      }
      stack.push(next);
    }
    const result = stack.pop()!;
    for (const h of stack) await h.close();
    return result;
  } catch (err) {
    for (const h of stack) await h.close().catch(() => undefined);
    throw err;
  }
}
