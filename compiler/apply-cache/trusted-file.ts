/**
 * A file in a state directory, trusted only as far as the directory is (docs/adr/0013):
 *  - the directory's real path has no ancestor another user could change: each is owned by
 *    root or by this process's user and is not group- or other-writable unless sticky (/tmp);
 *  - the directory itself is opened with O_NOFOLLOW | O_DIRECTORY, owned by this user and not
 *    group- or other-writable; the file is opened through that descriptor
 *    (/proc/self/fd/N/name) with O_NOFOLLOW, and must be a regular file owned by this user,
 *    readable by nobody else, with one link;
 *  - its content carries its own sha256 in a first line, checked on every read, so a torn or
 *    damaged file is never used;
 *  - writes go to a new temporary file (O_EXCL | O_NOFOLLOW, 0600), fsync, rename, fsync of the
 *    directory: a reader sees the old file or the new one, never half of one.
 * Every doubt is an answer with a reason, never an exception: the caller then does without.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, openSync, readSync, realpathSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, sep } from 'node:path';

export type TrustedRead = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly reason: string; readonly absent?: boolean };
export type TrustedWrite = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const MAGIC = 'stead-trusted-file 1 sha256=';
const HEADER_BYTES = MAGIC.length + 64 + 1;

/** What this process acts as (files it trusts are this user's). */
function me(): number {
  return process.geteuid?.() ?? 0;
}

/** Why `dir` cannot be trusted, or undefined; with the opened directory descriptor when trusted. */
function openTrustedDir(dir: string): { fd: number } | { reason: string; absent?: boolean } {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (err) {
    const absent = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return { reason: absent ? `${dir} does not exist` : `cannot resolve ${dir}: ${(err as Error).message}`, absent };
  }
  const uid = me();
  for (let p = dirname(real); ; p = dirname(p)) {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st?.isDirectory()) return { reason: `${p} is not a directory` };
    if (st.uid !== 0 && st.uid !== uid) return { reason: `${p} is owned by uid ${st.uid}, neither root nor this user` };
    if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) return { reason: `${p} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})` };
    if (p === sep || p === dirname(p)) break;
  }
  let fd: number;
  try {
    fd = openSync(real, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    return { reason: `cannot open ${real}: ${(err as Error).message}` };
  }
  const st = fstatSync(fd);
  const why =
    st.uid !== uid ? `${real} is owned by uid ${st.uid}, not by this user (uid ${uid})` : (st.mode & 0o022) !== 0 ? `${real} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})` : undefined;
  if (why) {
    closeSync(fd);
    return { reason: why };
  }
  return { fd };
}

/** Reads `name` in `dir` if both are trusted and the content matches its recorded sha256. */
export function readTrustedFile(dir: string, name: string, maxBytes: number): TrustedRead {
  const d = openTrustedDir(dir);
  if (!('fd' in d)) return { ok: false, reason: d.reason, ...(d.absent ? { absent: true } : {}) };
  try {
    let fd: number;
    try {
      fd = openSync(`/proc/self/fd/${d.fd}/${name}`, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { ok: false, reason: `no ${name} yet`, absent: true };
      return { ok: false, reason: code === 'ELOOP' ? `${name} is a symbolic link` : `cannot open ${name}: ${(err as Error).message}` };
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return { ok: false, reason: `${name} is not a regular file` };
      if (st.uid !== me()) return { ok: false, reason: `${name} is owned by uid ${st.uid}, not by this user` };
      if ((st.mode & 0o077) !== 0) return { ok: false, reason: `${name} is accessible to group or others (mode ${(st.mode & 0o7777).toString(8)})` };
      if (st.nlink !== 1) return { ok: false, reason: `${name} has ${st.nlink} hard links` };
      if (st.size > maxBytes + HEADER_BYTES) return { ok: false, reason: `${name} is larger than ${maxBytes} bytes` };
      const all = Buffer.allocUnsafe(st.size);
      let off = 0;
      while (off < all.length) {
        const n = readSync(fd, all, off, all.length - off, off);
        if (n === 0) break;
        off += n;
      }
      const data = all.subarray(0, off);
      const header = data.subarray(0, HEADER_BYTES).toString('latin1');
      if (!header.startsWith(MAGIC) || header[HEADER_BYTES - 1] !== '\n') return { ok: false, reason: `${name} has no content hash` };
      const body = data.subarray(HEADER_BYTES);
      if (createHash('sha256').update(body).digest('hex') !== header.slice(MAGIC.length, MAGIC.length + 64)) return { ok: false, reason: `${name} does not match its content hash (damaged or altered)` };
      return { ok: true, body };
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(d.fd);
  }
}

/** Writes `name` in `dir` atomically with its content hash, if `dir` is trusted (it must exist). */
export function writeTrustedFile(dir: string, name: string, body: Buffer): TrustedWrite {
  const d = openTrustedDir(dir);
  if (!('fd' in d)) return { ok: false, reason: d.reason };
  const base = `/proc/self/fd/${d.fd}`;
  const tmp = `.${name}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = openSync(`${base}/${tmp}`, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      const header = Buffer.from(`${MAGIC}${createHash('sha256').update(body).digest('hex')}\n`, 'latin1');
      writeAll(fd, header);
      writeAll(fd, body);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(`${base}/${tmp}`, `${base}/${name}`);
    fsyncSync(d.fd);
    return { ok: true };
  } catch (err) {
    try {
      unlinkSync(`${base}/${tmp}`);
    } catch {
      // not created, or already renamed
    }
    return { ok: false, reason: `cannot write ${name}: ${(err as Error).message}` };
  } finally {
    closeSync(d.fd);
  }
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}
