/**
 * Reading a file named by a manifest (a template or a files/ source) from inside one folder
 * only: the name must be relative without "..", and the resolved real path (symlinks
 * followed) must still be inside the folder's real path (security.md §4.3).
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { join, sep } from 'node:path';
import { isSafeRelativePath } from '../manifest/semantic-checks.js';

/** Largest file a manifest may reference from files/ (blobs travel content-addressed, in memory here). */
export const maxSourceBytes = 512 * 1024 * 1024;

export class ConfinedReadError extends Error {
  constructor(
    readonly code: 'SOURCE_NOT_FOUND' | 'SOURCE_UNSAFE' | 'SOURCE_TOO_LARGE',
    message: string,
  ) {
    super(message);
    this.name = 'ConfinedReadError';
  }
}

/** The real path of `rel` inside `root`; throws ConfinedReadError when it is missing or escapes. */
export function confinedPath(root: string, rel: string): string {
  if (!isSafeRelativePath(rel)) throw new ConfinedReadError('SOURCE_UNSAFE', `"${rel}" must be relative, without ".." or a leading "/"`);
  let realRoot: string;
  let real: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    throw new ConfinedReadError('SOURCE_NOT_FOUND', `the folder ${root} does not exist`);
  }
  try {
    real = realpathSync(join(realRoot, rel));
  } catch {
    throw new ConfinedReadError('SOURCE_NOT_FOUND', `"${rel}" does not exist in ${root}`);
  }
  if (!real.startsWith(realRoot + sep)) throw new ConfinedReadError('SOURCE_UNSAFE', `"${rel}" leads outside ${root} (through a symbolic link)`);
  return real;
}

/** Reads a regular file confined to `root`. Synchronous: catalog building is a pure, CPU-bound step. */
export function readConfined(root: string, rel: string, maxBytes = maxSourceBytes): Buffer {
  const real = confinedPath(root, rel);
  const fd = openSync(real, 'r');
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConfinedReadError('SOURCE_UNSAFE', `"${rel}" is not a regular file`);
    if (st.size > maxBytes) throw new ConfinedReadError('SOURCE_TOO_LARGE', `"${rel}" is ${st.size} bytes; the limit is ${maxBytes}`);
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === st.size ? buf : buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}
