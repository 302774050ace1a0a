/**
 * Fixtures for engine and resource tests: catalogs, a registry for the filesystem types, a
 * snapshot of a directory tree (to prove that reading changed nothing), and the report guard.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { compileGuard, runReportSchema, type Catalog, type Guard, type Resource, type RunReport } from '../../schemas/index.js';
import type { Registry, ResourceImpl } from '../../agent/resources/resource.js';
import { file } from '../../agent/resources/file.js';
import { directory } from '../../agent/resources/directory.js';
import { link } from '../../agent/resources/link.js';
import { archive } from '../../agent/resources/archive.js';
import { exec } from '../../agent/resources/exec.js';

export const isRunReport: Guard<RunReport> = compileGuard<RunReport>(runReportSchema);

/** A catalog around `resources` (the id is a hash of them). */
export function makeCatalog(resources: Resource[], host = 'test-host'): Catalog {
  const id = createHash('sha256').update(JSON.stringify(resources)).digest('hex');
  return { id, host, revision: 'r1', resources };
}

function unavailable<K extends 'package' | 'service' | 'user' | 'group'>(type: K): ResourceImpl<K, unknown> {
  return {
    type,
    validate: () => [{ path: '', message: `${type} is not part of the engine test registry` }],
    read: async () => undefined,
    diff: () => [],
    apply: async () => undefined,
  };
}

/**
 * The real filesystem and exec types; package/service/user/group refuse validation here, so
 * engine tests never depend on the OS-level types (they have their own contract runs).
 */
export const fsRegistry: Registry = {
  file,
  directory,
  link,
  archive,
  exec,
  package: unavailable('package'),
  service: unavailable('service'),
  user: unavailable('user'),
  group: unavailable('group'),
};

export interface TreeEntry {
  readonly kind: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeMs: number;
  readonly content?: string;
  readonly target?: string;
}

/** Everything below `dir` (not following links): kind, mode, owner, mtime, content hash, link target. */
export function snapshot(dir: string): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  if (!existsSync(dir)) return out;
  const walk = (rel: string) => {
    const abs = rel === '' ? dir : join(dir, rel);
    const st = lstatSync(abs);
    const kind = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'link' : 'other';
    out[rel || '.'] = {
      kind,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtimeMs: st.mtimeMs,
      ...(kind === 'file' ? { content: createHash('sha256').update(readFileSync(abs)).digest('hex') } : {}),
      ...(kind === 'link' ? { target: readlinkSync(abs) } : {}),
    };
    if (kind === 'directory') for (const n of readdirSync(abs).sort()) walk(rel === '' ? n : `${rel}/${n}`);
  };
  walk('');
  return out;
}
