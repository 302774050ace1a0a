/**
 * Artifact collector (ADR 0018 §5): a release archive or directory identified by its sha256.
 *
 * - a file: the sha256 of its content;
 * - a directory: the sha256 of its sorted lines `relpath\0sha256\n`, one per regular file below it
 *   (relpath with "/" separators, sorted by bytes; symlinks, sockets and devices are neither
 *   followed nor counted; empty directories do not count).
 *
 * The path is opened the way the Host opens managed paths (openDirInRoot: component by component
 * under the root), and the final entry and everything below it through descriptors with
 * O_NOFOLLOW: a symlink at the tracked path is refused (an `errors` entry), never followed.
 * The version is the label of the tracked package's `versions` whose checksum matches, else
 * "sha256:<first 12 hex>". A missing path reports version null (not installed). Bounded: at most
 * 100,000 files, depth 64, and the collector's deadline.
 */
import { createHash } from 'node:crypto';
import { constants as C, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { openDirInRoot } from '../host/open-dir-in-root.js';
import { errorEntry, messageOf, type CollectEnv, type CollectorOutput, type InventoryCollector, type PackageEntry } from './collector.js';

export const MAX_ARTIFACT_FILES = 100_000;
const MAX_DEPTH = 64;

class ArtifactError extends Error {}

function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

async function hashHandle(fh: FileHandle, signal: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let pos = 0;
  for (;;) {
    if (signal.aborted) throw new ArtifactError('stopped');
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    h.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return h.digest('hex');
}

/** Lines "relpath\0sha256\n" for every regular file below the open directory `dir`. */
async function walk(dir: FileHandle, prefix: string, depth: number, lines: Buffer[], signal: AbortSignal): Promise<void> {
  if (depth > MAX_DEPTH) throw new ArtifactError(`deeper than ${MAX_DEPTH} directories`);
  const names = await fsp.readdir(`/proc/self/fd/${dir.fd}`);
  for (const name of names) {
    if (signal.aborted) throw new ArtifactError('stopped');
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    let fh: FileHandle;
    try {
      fh = await fsp.open(`/proc/self/fd/${dir.fd}/${name}`, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
    } catch (err) {
      const code = errno(err);
      if (code === 'ELOOP' || code === 'ENXIO' || code === 'ENOENT') continue; // a symlink (not followed), a socket, or gone
      throw err;
    }
    try {
      const st = await fh.stat();
      if (st.isDirectory()) await walk(fh, rel, depth + 1, lines, signal);
      else if (st.isFile()) {
        if (lines.length >= MAX_ARTIFACT_FILES) throw new ArtifactError(`more than ${MAX_ARTIFACT_FILES} files`);
        lines.push(Buffer.concat([Buffer.from(rel, 'utf8'), Buffer.from([0]), Buffer.from(`${await hashHandle(fh, signal)}\n`)]));
      }
    } finally {
      await fh.close();
    }
  }
}

/**
 * The checksum of the file or directory at `path` (a manifest path, mapped under `root`), or
 * undefined when nothing is there. Throws ArtifactError/Host errors for a symlink or a failure.
 */
export async function artifactChecksum(root: string, path: string, signal: AbortSignal): Promise<string | undefined> {
  if (!path.startsWith('/')) throw new ArtifactError(`path ${JSON.stringify(path)} is not absolute`);
  const comps = path.split('/').filter((c) => c !== '' && c !== '.');
  const base = comps.pop();
  if (base === undefined || base === '..') throw new ArtifactError(`path ${JSON.stringify(path)} names no file`);
  let parent: FileHandle;
  try {
    parent = await openDirInRoot(root, comps);
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    let fh: FileHandle;
    try {
      fh = await fsp.open(`/proc/self/fd/${parent.fd}/${base}`, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      if (errno(err) === 'ELOOP') throw new ArtifactError(`${path} is a symbolic link; it is not followed`);
      throw err;
    }
    try {
      const st = await fh.stat();
      if (st.isFile()) return await hashHandle(fh, signal);
      if (!st.isDirectory()) throw new ArtifactError(`${path} is neither a file nor a directory`);
      const lines: Buffer[] = [];
      await walk(fh, '', 0, lines, signal);
      lines.sort(Buffer.compare);
      const h = createHash('sha256');
      for (const l of lines) h.update(l);
      return h.digest('hex');
    } finally {
      await fh.close();
    }
  } finally {
    await parent.close();
  }
}

/** The version label of a checksum: the known version with this sha256, else "sha256:<first 12>". */
export function artifactVersion(sha256: string, versions: Readonly<Record<string, string>> | undefined): string {
  const known = Object.entries(versions ?? {})
    .filter(([, sum]) => sum === sha256)
    .map(([label]) => label)
    .sort();
  return known[0] ?? `sha256:${sha256.slice(0, 12)}`;
}

export const artifactCollector: InventoryCollector = {
  source: 'artifact',
  wanted: (config) => config.packages.some((p) => p.manager === 'artifact'),
  async collect(config, env: CollectEnv): Promise<CollectorOutput> {
    const packages: PackageEntry[] = [];
    const errors = [];
    const deadline = AbortSignal.any([env.signal, AbortSignal.timeout(env.toolTimeoutMs)]);
    for (const p of config.packages.filter((q) => q.manager === 'artifact')) {
      const source = `artifact:${p.name}`;
      if (p.path === undefined) {
        errors.push(errorEntry(source, 'no path is tracked for this artifact'));
        continue;
      }
      try {
        const sum = await artifactChecksum(env.host.root, p.path, deadline);
        if (sum === undefined) packages.push({ name: p.name, manager: 'artifact', version: null });
        else packages.push({ name: p.name, manager: 'artifact', version: artifactVersion(sum, p.versions), sha256: sum });
      } catch (err) {
        errors.push(errorEntry(source, deadline.aborted && !env.signal.aborted ? `${p.path}: not measured within ${Math.round(env.toolTimeoutMs / 1000)} s` : messageOf(err)));
      }
    }
    return { packages, errors };
  },
};
