// Copies the non-TypeScript files the programs read at run time into dist/, beside the compiled
// modules that load them (tsc copies only what it compiles). Run by `npm run build` after tsc.
// Each entry is a folder relative to the repository root; its files are copied as they are and
// files no longer in the source folder are removed from the copy.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Folders of run-time assets. Add a line for a new one. */
const assetDirs = ['server/services/scripts/base', 'agent/jobs/lib', 'server/web/assets'];

for (const dir of assetDirs) {
  const from = join(root, dir);
  const to = join(root, 'dist', dir);
  if (!existsSync(from)) throw new Error(`copy-assets: ${dir} does not exist`);
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true, dereference: false, errorOnExist: false, filter: (src) => !src.includes('__pycache__') });
}
