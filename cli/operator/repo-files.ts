/**
 * A local manifest checkout read for upload (`stead publish DIR`), the way `stead server --repo`
 * reads one: every regular file by its relative path, `.git` left out, symbolic links and
 * special files refused. Bounded like the server's upload (20,000 files; the JSON body, base64,
 * must stay under the server's 64 MiB), so a wrong directory fails here, not after minutes.
 */
import { promises as fsp } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../io.js';

export const MAX_REPO_FILES = 20_000;
/** Raw bytes: base64 makes 4/3 of it, under the server's 64 MiB body limit with room for JSON. */
export const MAX_REPO_BYTES = 46 * 1024 * 1024;

/** path → base64 content, for POST /api/v1/revisions with `encoding: "base64"`. */
export async function readRepositoryFiles(cwd: string, dir: string): Promise<Record<string, string>> {
  const root = resolve(cwd, dir);
  let st;
  try {
    st = await fsp.stat(root);
  } catch (err) {
    throw new UsageError(`cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!st.isDirectory()) throw new UsageError(`${dir} is not a directory`);
  const files: Record<string, string> = {};
  let count = 0;
  let bytes = 0;
  const walk = async (d: string): Promise<void> => {
    const entries = await fsp.readdir(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = join(d, e.name);
      const rel = relative(root, full).split(sep).join('/');
      if (e.isDirectory()) {
        if (e.name === '.git') continue;
        await walk(full);
      } else if (e.isFile()) {
        if (++count > MAX_REPO_FILES) throw new UsageError(`${dir} has more than ${MAX_REPO_FILES} files: is it a manifest repository?`);
        const content = await fsp.readFile(full);
        bytes += content.length;
        if (bytes > MAX_REPO_BYTES) throw new UsageError(`${dir} holds more than ${MAX_REPO_BYTES / 1024 / 1024} MiB: too large to publish`);
        Object.defineProperty(files, rel, { value: content.toString('base64'), enumerable: true, writable: true, configurable: true });
      } else {
        throw new UsageError(`${rel}: symbolic links and special files are not allowed in a manifest repository`);
      }
    }
  };
  await walk(root);
  if (count === 0) throw new UsageError(`${dir} has no files`);
  return files;
}
