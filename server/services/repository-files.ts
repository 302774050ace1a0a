/**
 * Turning an uploaded repository (a JSON map or a tar.gz) into a checked map of relative
 * path → bytes, and writing that map as an immutable checkout directory.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { ApiError } from '../domain/errors.js';

export interface RepoLimits {
  readonly maxFiles: number;
  readonly maxTotalBytes: number;
  readonly maxFileBytes: number;
}

export const defaultRepoLimits: RepoLimits = { maxFiles: 20_000, maxTotalBytes: 256 * 1024 * 1024, maxFileBytes: 64 * 1024 * 1024 };

const segmentOk = /^[^\u0000-\u001f\u007f\\/]+$/;

/** A repository-relative path: "/"-separated, no empty, "." or ".." segments, no control characters or backslashes. */
export function isSafeRepoPath(p: string): boolean {
  if (p.length === 0 || p.length > 1024 || p.startsWith('/')) return false;
  return p.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && segmentOk.test(s) && s.toLowerCase() !== '.git');
}

export function checkFiles(files: ReadonlyMap<string, Buffer>, limits: RepoLimits = defaultRepoLimits): void {
  if (files.size === 0) throw new ApiError('BAD_REQUEST', 'the repository has no files');
  if (files.size > limits.maxFiles) throw new ApiError('PAYLOAD_TOO_LARGE', `the repository has more than ${limits.maxFiles} files`);
  let total = 0;
  const dirs = new Set<string>();
  for (const [p, data] of files) {
    if (!isSafeRepoPath(p)) throw new ApiError('BAD_REQUEST', `unsafe file path ${JSON.stringify(p.slice(0, 200))}: paths must be relative, without ".", ".." or ".git" segments, backslashes or control characters`);
    if (data.length > limits.maxFileBytes) throw new ApiError('PAYLOAD_TOO_LARGE', `${p} is larger than ${limits.maxFileBytes} bytes`);
    total += data.length;
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const p of files.keys()) if (dirs.has(p)) throw new ApiError('BAD_REQUEST', `${p} is both a file and a directory`);
  if (total > limits.maxTotalBytes) throw new ApiError('PAYLOAD_TOO_LARGE', `the repository is larger than ${limits.maxTotalBytes} bytes`);
}

/** Files from a JSON upload (`files`: path → content, UTF-8 or base64). */
export function filesFromJson(files: Record<string, string>, encoding: 'utf8' | 'base64' | undefined, limits: RepoLimits = defaultRepoLimits): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [p, content] of Object.entries(files)) {
    if (encoding === 'base64' && !/^[A-Za-z0-9+/]*={0,2}$/.test(content)) throw new ApiError('BAD_REQUEST', `${p.slice(0, 200)}: content is not valid base64`);
    out.set(p, Buffer.from(content, encoding === 'base64' ? 'base64' : 'utf8'));
  }
  checkFiles(out, limits);
  return out;
}

/**
 * Files from a tar.gz: regular files and directories only (symlinks, hard links, devices and
 * FIFOs are refused), paths checked with isSafeRepoPath (a leading "./" is dropped), sizes
 * bounded while reading.
 */
export async function filesFromTarGz(gz: Buffer, limits: RepoLimits = defaultRepoLimits): Promise<Map<string, Buffer>> {
  let tarData: Buffer;
  try {
    tarData = gunzipSync(gz, { maxOutputLength: limits.maxTotalBytes + 1024 * 1024 });
  } catch (err) {
    throw new ApiError('BAD_REQUEST', `the upload is not a valid gzip stream (or inflates beyond ${limits.maxTotalBytes} bytes): ${(err as Error).message.slice(0, 200)}`);
  }
  const out = new Map<string, Buffer>();
  let failure: ApiError | undefined;
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const name = entry.path.replace(/^\.\//, '').replace(/\/$/, '');
      if (failure) {
        entry.resume();
        return;
      }
      if (entry.type === 'Directory') {
        if (name !== '' && name !== '.' && !isSafeRepoPath(name)) failure = new ApiError('BAD_REQUEST', `unsafe directory ${JSON.stringify(name.slice(0, 200))} in the archive`);
        entry.resume();
        return;
      }
      if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
        failure = new ApiError('BAD_REQUEST', `${JSON.stringify(name.slice(0, 200))} is a ${entry.type}; only regular files and directories are accepted`);
        entry.resume();
        return;
      }
      if (!isSafeRepoPath(name)) {
        failure = new ApiError('BAD_REQUEST', `unsafe file path ${JSON.stringify(name.slice(0, 200))} in the archive`);
        entry.resume();
        return;
      }
      if (out.size >= limits.maxFiles) {
        failure = new ApiError('PAYLOAD_TOO_LARGE', `the archive has more than ${limits.maxFiles} files`);
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      entry.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= limits.maxFileBytes) chunks.push(c);
      });
      entry.on('end', () => {
        if (size > limits.maxFileBytes) failure ??= new ApiError('PAYLOAD_TOO_LARGE', `${name} is larger than ${limits.maxFileBytes} bytes`);
        else out.set(name, Buffer.concat(chunks));
      });
    },
  });
  await new Promise<void>((res, rej) => {
    parser.on('error', (e: Error) => rej(new ApiError('BAD_REQUEST', `the upload is not a valid tar archive: ${e.message.slice(0, 200)}`)));
    parser.on('warn', (_code: string, msg: string | Error) => {
      failure ??= new ApiError('BAD_REQUEST', `the upload is not a valid tar archive: ${String(msg instanceof Error ? msg.message : msg).slice(0, 200)}`);
    });
    parser.on('end', () => res());
    parser.end(tarData);
  });
  if (failure) throw failure;
  checkFiles(out, limits);
  return out;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The revision id: sha256 over the sorted "path\0sha256\n" lines. */
export function revisionId(files: ReadonlyMap<string, Buffer>): { id: string; entries: { path: string; sha256: string; size: number }[] } {
  const entries = [...files.entries()]
    .map(([path, data]) => ({ path, sha256: sha256Hex(data), size: data.length }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const id = sha256Hex(entries.map((e) => `${e.path}\u0000${e.sha256}\n`).join(''));
  return { id, entries };
}

/**
 * Writes `files` as the directory `target` (which must not exist): into a sibling temp
 * directory first, then one rename, so a reader sees all of it or nothing. Every path is
 * re-checked to resolve inside the directory.
 */
export async function writeCheckout(target: string, files: ReadonlyMap<string, Buffer>): Promise<void> {
  const tmp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await fsp.mkdir(tmp, { recursive: true, mode: 0o750 });
  try {
    const root = resolve(tmp);
    for (const [p, data] of files) {
      const full = resolve(root, p);
      if (!full.startsWith(root + sep)) throw new ApiError('BAD_REQUEST', `unsafe file path ${JSON.stringify(p.slice(0, 200))}`);
      await fsp.mkdir(dirname(full), { recursive: true, mode: 0o750 });
      await fsp.writeFile(full, data, { mode: 0o640, flag: 'wx' });
    }
    try {
      await fsp.rename(tmp, target);
    } catch (err) {
      // Another writer produced the same content-addressed checkout first: keep theirs.
      if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') {
        await fsp.rm(tmp, { recursive: true, force: true });
        return;
      }
      throw err;
    }
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.stat(p);
    return true;
  } catch {
    return false;
  }
}

