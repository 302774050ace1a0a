/**
 * Which files of a directory are its manifest: *.yaml and *.yml directly in it (no dot-files),
 * sorted by name. Apart from the parser, so the cache key of `stead apply` (compiler/apply-cache)
 * lists exactly what the loader reads without loading the YAML parser.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The manifest files of a directory: *.yaml and *.yml directly in it, sorted by name. */
export async function listManifestFiles(dir: string, opts: { signal?: AbortSignal } = {}): Promise<string[]> {
  opts.signal?.throwIfAborted();
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name) && !e.name.startsWith('.'))
    .map((e) => join(dir, e.name))
    .sort();
}
