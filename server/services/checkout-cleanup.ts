/**
 * Start-up cleanup of the revision checkout directory (<dataDir>/revisions, owned by this
 * server alone: docs/operations.md). A process killed mid-publish leaves a temporary directory
 * (killed while writing) or the checkout of a revision the store never recorded (killed while
 * the compiler validated it). Both are removed, and so is any symbolic link found there (the
 * server never makes one): the link itself, never what it points to. Removal never follows a
 * link (fs.rm works on lstat). Other names are left alone and reported.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';

const revisionDir = /^[0-9a-f]{64}$/;

/** Removes the leftovers under `root`; resolves the names removed. */
export async function cleanCheckouts(root: string, isRevision: (id: string) => Promise<boolean>, log: Logger): Promise<string[]> {
  const removed: string[] = [];
  for (const e of await fsp.readdir(root, { withFileTypes: true })) {
    let why: string | undefined;
    if (e.isSymbolicLink()) why = 'a symbolic link (the server never makes one here)';
    else if (e.name.includes('.tmp-')) why = 'an unfinished checkout (a process stopped while writing it)';
    else if (revisionDir.test(e.name) && e.isDirectory() && !(await isRevision(e.name))) why = 'the checkout of a revision the store does not have (a publish stopped during validation)';
    else if (!revisionDir.test(e.name)) log.warn('unexpected entry in the revision checkout directory (left alone)', { name: e.name.slice(0, 200) });
    if (why === undefined) continue;
    await fsp.rm(join(root, e.name), { recursive: true, force: true });
    removed.push(e.name);
    log.info('removed a leftover revision checkout', { name: e.name.slice(0, 200), why });
  }
  return removed;
}
