/**
 * Listing a repository checkout: every regular file under the root (".git" and dot-files
 * skipped), refusing symbolic links and special files anywhere (a link could make a template
 * or a files/ source read outside the checkout; security.md G4).
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface TreeFile {
  /** Relative path with "/" separators. */
  readonly path: string;
  readonly size: number;
}

export interface Tree {
  readonly files: TreeFile[];
  /** Relative paths of links and special files found (refused). */
  readonly refused: string[];
}

/** Files larger than this make the repository invalid (blobs of that size belong elsewhere). */
export const maxRepoFileBytes = 256 * 1024 * 1024;

export async function walkTree(root: string, signal?: AbortSignal): Promise<Tree> {
  const files: TreeFile[] = [];
  const refused: string[] = [];
  async function visit(rel: string): Promise<void> {
    signal?.throwIfAborted();
    const entries = await readdir(join(root, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await visit(childRel);
      else if (e.isFile()) files.push({ path: childRel, size: (await lstat(join(root, childRel))).size });
      else refused.push(childRel);
    }
  }
  await visit('');
  return { files, refused };
}

/** sha256 over "path\0sha256(content)\n" for every file, in path order. */
export async function hashTree(root: string, files: readonly TreeFile[], signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  for (const f of files) {
    signal?.throwIfAborted();
    const data = await readFile(join(root, f.path), signal ? { signal } : {});
    h.update(f.path).update('\0').update(createHash('sha256').update(data).digest('hex')).update('\n');
  }
  return h.digest('hex');
}
