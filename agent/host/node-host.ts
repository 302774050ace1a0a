/**
 * The real Host: every path of the manifest ("/etc/motd") is confined under a root directory
 * ("/" on a real host, a sandbox for `--root`, tests and benchmarks).
 *
 * Confinement, after security.md F4:
 * - Manifest paths must be absolute, without NUL and without ".." segments.
 * - Mutations resolve the parent directory component by component with O_NOFOLLOW|O_DIRECTORY
 *   opens, relative to the previous directory's file descriptor (through /proc/self/fd, Linux's
 *   openat). A symlink met on the way is resolved as in a chroot: absolute targets restart at the
 *   root and ".." never climbs above it. Swapping a parent for a symlink after the walk cannot
 *   redirect the write: the operation then names the directory by its descriptor.
 * - Files are written to a temp file created O_CREAT|O_EXCL|O_NOFOLLOW mode 0600 in the target
 *   directory, fsynced, chmod/chowned, renamed into place, and the directory is fsynced.
 * - Mode and owner are only ever changed through a descriptor of the entry opened O_PATH|
 *   O_NOFOLLOW relative to its verified parent, checked with fstat (entry-ops.ts, ADR 0007): a
 *   directory just made, or an entry just checked, swapped for a symlink in between is refused,
 *   never followed. Recursive removal walks by descriptors and never follows a symlink.
 * - Reads follow the operating system's semantics under "/"; under another root the directory
 *   actually opened (its /proc/self/fd link) must lie inside the root. A verified directory is
 *   kept open and reused for the rest of the current event-loop turn (at most DIR_CACHE_MAX of
 *   them; all closed by a setImmediate and before every mutation), so a no-op run checks each
 *   directory once instead of once per read: the check and the use still name the same
 *   directory (by descriptor); what widens is the window in which another process could move
 *   that directory out of the root (from one syscall to the rest of the turn). Mutations never
 *   use the cache: they walk from the root every time (open-dir-in-root.ts).
 *
 * This is the only agent code (with node-exec.ts and open-dir-in-root.ts beside it) that imports
 * node:fs / node:child_process.
 */
import { closeSync, constants as C, fstatSync, lstatSync, openSync, promises as fsp, readdirSync, readFileSync, readlinkSync, readSync, realpathSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { createHash, hash, randomBytes } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import type { ExecOptions, ExecResult, Host, Stat } from './host.js';
import { HostError } from './host-error.js';
import { runProcess } from './node-exec.js';
import { openDirInRoot } from './open-dir-in-root.js';
import { openEntry, removeTree, setAttributesOf, type Attributes, type RaceHook } from './entry-ops.js';
import { parseAccountFile, type AccountEntry } from './account-file.js';

/** sha256Now's read buffer: one per process (the reads are synchronous, so never shared at once). */
const scratch = Buffer.allocUnsafeSlow(64 * 1024);

export interface NodeHostOptions {
  /** Existing directory every managed path is confined under; "/" on a real host. */
  readonly root: string;
  /**
   * Tests only: awaited at each point where another process could change the tree between two
   * steps of one operation (entry-ops.ts RaceStep), so a test can make the swap exactly there.
   */
  readonly raceHook?: RaceHook;
}

/** A Host that also reports account entries (primary gid, home) read from the root's /etc files. */
export interface NodeHost extends Host {
  /** The passwd entry of a user in the root's /etc/passwd; undefined when unknown. */
  lookupUserEntry(name: string): Promise<AccountEntry | undefined>;
  /** lstat, synchronously (same semantics and errors as lstat): for a resource's readNow. */
  lstatNow(path: string): Stat | undefined;
  /** readFile, synchronously (same semantics and errors as readFile): for a resource's readNow. */
  readFileNow(path: string): Buffer;
  /**
   * The sha256 (hex) of what readFileNow would return, read through one reusable buffer: no
   * allocation per file, and a large file is hashed in 64 KiB pieces instead of loaded whole.
   */
  sha256Now(path: string): string;
}

/** An absolute path with no empty, "." or ".." component, no NUL and no trailing slash. */
const SIMPLE_PATH = /^(?:\/(?!\.\.?(?:\/|$))[^/\0]+)+$/;

/** Verified directory descriptors kept open within one event-loop turn (see the module comment). */
const DIR_CACHE_MAX = 256;
const LSTAT_OPTIONS = { throwIfNoEntry: false } as const;

/** Splits a manifest path into its components; throws HostError PATH_INVALID when it is not a safe absolute path. */
export function pathComponents(path: string): string[] {
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0')) {
    throw new HostError('PATH_INVALID', `not an absolute path: ${JSON.stringify(path)}`);
  }
  const out: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') throw new HostError('PATH_INVALID', `".." is not allowed in a managed path: ${path}`);
    out.push(c);
  }
  return out;
}

function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function kindOf(mode: number): Stat['kind'] {
  switch (mode & C.S_IFMT) {
    case C.S_IFREG: return 'file';
    case C.S_IFDIR: return 'directory';
    case C.S_IFLNK: return 'link';
    default: return 'other';
  }
}

/** The directory holding a path, opened by descriptor, plus the last component's name. */
interface ParentRef {
  readonly fh: FileHandle;
  /** "/proc/self/fd/<n>": names the directory itself, wherever it has moved. */
  readonly dir: string;
  readonly name: string;
}

/** Creates the real Host confined under `root` (which must exist). */
export function createNodeHost(opts: NodeHostOptions): NodeHost {
  const root = resolvePath(opts.root);
  const confined = root !== '/';
  const raceHook = opts.raceHook;
  const euid = process.geteuid?.() ?? 0;
  const accountCache = new Map<string, { key: string; entries: Map<string, AccountEntry> }>();

  function realPath(path: string): string {
    // fast path: already normal ("/a/b", no "//", ".", ".." or NUL)
    if (SIMPLE_PATH.test(path)) return confined ? root + path : path;
    const comps = pathComponents(path);
    if (comps.length === 0) return root;
    return confined ? `${root}/${comps.join('/')}` : `/${comps.join('/')}`;
  }

  /**
   * Opens the directory that holds `comps` (all but the last), resolving symlinks in the
   * parents as in a chroot. With `create`, missing directories are made (mode given).
   */
  async function openParent(comps: readonly string[], create?: { mode: number }): Promise<ParentRef> {
    if (comps.length === 0) throw new HostError('PATH_INVALID', 'the root itself has no parent');
    const name = comps[comps.length - 1]!;
    const fh = await openDirInRoot(root, comps.slice(0, -1), create);
    return { fh, dir: `/proc/self/fd/${fh.fd}`, name };
  }



  let canonicalRoot: string | undefined;
  /** The root with symlinks resolved (what /proc/self/fd links show). */
  function canonRoot(): string {
    canonicalRoot ??= realpathSync(root);
    return canonicalRoot;
  }
  function inside(where: string): boolean {
    const r = canonRoot();
    return where === r || where.startsWith(r === '/' ? '/' : `${r}/`);
  }
  /** Throws PATH_ESCAPE unless the open descriptor `fd` is inside the root. */
  function checkFd(fd: number, path: string): void {
    if (!inside(readlinkSync(`/proc/self/fd/${fd}`))) throw new HostError('PATH_ESCAPE', `${path} resolves outside the root through a symbolic link`);
  }

  /** Verified directories of this event-loop turn: real directory path → open descriptor. */
  const dirCache = new Map<string, number>();
  /**
   * Regular files lstat'ed in this turn: real path → size. A readFile of the same path in the
   * same turn reads at most that many bytes without an fstat of its own (one stat per file, as
   * the floor does); taken once, and dropped with the directory cache.
   */
  const regularSizes = new Map<string, number>();
  /** The last regular file lstat'ed (manifest path, the path it was reached by, size): the usual lstat-then-read. */
  let lastPath: string | undefined;
  let lastVia = '';
  let lastSize = 0;
  /** The last fs.Stats seen, kept so V8 keeps its shape (and the code made for it) while the agent sleeps. */
  let lastStats: object | undefined;
  /** openRegularNow's second result. */
  let regularSize = 0;
  let flushScheduled = false;
  function flushDirCache(): void {
    flushScheduled = false;
    for (const fd of dirCache.values()) closeSync(fd);
    dirCache.clear();
    regularSizes.clear();
    lastPath = undefined;
  }
  function scheduleFlush(): void {
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushDirCache).unref();
    }
  }
  /** A descriptor of the real directory `dir`, verified inside the root; owned by the cache (never close it). */
  function verifiedDir(dir: string, path: string): number {
    const cached = dirCache.get(dir);
    if (cached !== undefined) return cached;
    const fd = openSync(dir, C.O_RDONLY | C.O_DIRECTORY);
    try {
      checkFd(fd, path);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    if (dirCache.size >= DIR_CACHE_MAX) flushDirCache();
    dirCache.set(dir, fd);
    scheduleFlush();
    return fd;
  }

  /**
   * Runs `fn` on a path naming the entry through its parent directory, opened and verified to
   * lie inside the root (when confined); the check and the use name the same directory.
   */
  function viaVerifiedParent<T>(path: string, fn: (p: string) => T): T {
    const real = realPath(path);
    if (!confined || real === root) return fn(real);
    const slash = real.lastIndexOf('/');
    const fd = verifiedDir(real.slice(0, slash) || '/', path);
    return fn(`/proc/self/fd/${fd}${real.slice(slash)}`);
  }

  /**
   * Opens a regular file for reading without following a final symlink. Under a confined root
   * it is opened through its verified parent directory: the entry, not being a link, lies in
   * that directory, so no check of its own is needed. Caller closes.
   */
  function openFileForRead(path: string): number {
    const real = realPath(path);
    if (!confined || real === root) return openForRead(path, C.O_NOFOLLOW);
    return viaVerifiedParent(path, (p) => openSync(p, C.O_RDONLY | C.O_NONBLOCK | C.O_NOFOLLOW));
  }

  /** Opens `path` for reading (with `flags`); the descriptor is verified inside the root. Caller closes. */
  function openForRead(path: string, flags: number): number {
    const fd = openSync(realPath(path), C.O_RDONLY | C.O_NONBLOCK | flags);
    try {
      if (confined) checkFd(fd, path);
      return fd;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** lstat under the root (the parent verified when confined); undefined when missing. */
  function lstatNow(path: string): Stat | undefined {
    let st;
    const real = realPath(path);
    let via = real;
    try {
      if (confined && real !== root) {
        const slash = real.lastIndexOf('/');
        const fd = verifiedDir(real.slice(0, slash) || '/', path);
        via = `/proc/self/fd/${fd}${real.slice(slash)}`;
      }
      st = lstatSync(via, LSTAT_OPTIONS);
    } catch (err) {
      const code = errno(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
    if (!st) return undefined;
    lastStats = st; // an exemplar of its shape (agent/engine/reconcile.ts keepExemplars)
    const kind = kindOf(st.mode);
    if (kind === 'file' && st.size > 0) {
      if (lastPath !== undefined) {
        if (regularSizes.size >= DIR_CACHE_MAX) regularSizes.clear();
        regularSizes.set(realPath(lastPath), lastSize);
      }
      lastPath = path;
      lastVia = via;
      lastSize = st.size;
      scheduleFlush();
    }
    return { kind, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: st.size };
  }

  /**
   * Opens a regular file for a synchronous read and tells how many bytes to read: the size its
   * lstat saw in this turn (the read is bounded by it whatever was swapped in since: O_NOFOLLOW |
   * O_NONBLOCK, no link, no blocking), else its fstat size; 0 reads to EOF (procfs and the
   * like). A final symlink is not followed (ELOOP). Returns the descriptor (caller closes) and
   * leaves the size in `regularSize` (no object per file).
   */
  function openRegularNow(path: string): number {
    let known: number | undefined;
    let fd: number;
    if (path === lastPath) {
      // right after its lstat: the same verified directory (or real path), the same turn
      known = lastSize;
      lastPath = undefined;
      fd = openSync(lastVia, C.O_RDONLY | C.O_NONBLOCK | C.O_NOFOLLOW);
    } else {
      const real = realPath(path);
      known = regularSizes.get(real);
      if (known !== undefined) regularSizes.delete(real);
      fd = openFileForRead(path);
    }
    if (known !== undefined) {
      regularSize = known;
      return fd;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new HostError('NOT_A_FILE', `${path} is not a regular file`);
      regularSize = st.size;
      return fd;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** The content of a regular file (a final symlink is not followed: ELOOP). */
  function readFileNow(path: string): Buffer {
    const fd = openRegularNow(path);
    const size = regularSize;
    try {
      // Read the size announced, as fs.readFileSync does (no extra read for EOF: a file growing
      // while it is read is racy either way); a size of 0 reads to EOF.
      let buf = Buffer.allocUnsafe(size > 0 ? size : 8192);
      let len = 0;
      for (;;) {
        if (size > 0 && len === size) break;
        if (len === buf.length) {
          const bigger = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(bigger, 0, 0, len);
          buf = bigger;
        }
        const n = readSync(fd, buf, len, buf.length - len, null);
        if (n === 0) break;
        len += n;
      }
      return len === buf.length ? buf : buf.subarray(0, len);
    } finally {
      closeSync(fd);
    }
  }

  /** sha256 of readFileNow's bytes, through `scratch` (see NodeHost.sha256Now). */
  function sha256Now(path: string): string {
    const fd = openRegularNow(path);
    const size = regularSize;
    try {
      const limit = size > 0 ? size : Infinity;
      let total = 0;
      let held = 0; // bytes in scratch not yet hashed
      let h: ReturnType<typeof createHash> | undefined;
      for (;;) {
        if (held === scratch.length) {
          (h ??= createHash('sha256')).update(scratch);
          held = 0;
        }
        const want = Math.min(scratch.length - held, limit - total);
        if (want === 0) break;
        const n = readSync(fd, scratch, held, want, null);
        if (n === 0) break;
        held += n;
        total += n;
      }
      const rest = scratch.subarray(0, held);
      return h ? h.update(rest).digest('hex') : hash('sha256', rest, 'hex');
    } finally {
      closeSync(fd);
    }
  }

  async function withParent<T>(path: string, fn: (p: ParentRef) => Promise<T>, create?: { mode: number }): Promise<T> {
    flushDirCache();
    const ref = await openParent(pathComponents(path), create);
    try {
      return await fn(ref);
    } finally {
      flushDirCache(); // the tree may have changed under cached directories
      await ref.fh.close();
    }
  }

  async function accounts(file: '/etc/passwd' | '/etc/group'): Promise<Map<string, AccountEntry>> {
    let key: string;
    let fd: number;
    try {
      fd = openForRead(file, 0);
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return new Map();
      throw err;
    }
    let text: string;
    try {
      const st = fstatSync(fd);
      key = `${st.ino}:${st.size}:${st.mtimeMs}`;
      const cached = accountCache.get(file);
      if (cached && cached.key === key) return cached.entries;
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
    const entries = parseAccountFile(text);
    accountCache.set(file, { key, entries });
    return entries;
  }

  /** Host.setAttributes: one O_PATH|O_NOFOLLOW descriptor of the entry, checked, then chown and chmod through it. */
  async function setAttributesAt(path: string, attrs: Attributes, expect?: Stat['kind']): Promise<void> {
    const act = async (dir: string, name: string): Promise<void> => {
      if (raceHook) await raceHook('attributes', `${dir}/${name}`);
      const e = await openEntry(dir, name);
      try {
        const kind = kindOf(e.st.mode);
        if (expect !== undefined && kind !== expect) {
          throw new HostError('ENTRY_CHANGED', `${path} is now a ${kind}, not the ${expect} that was checked; its mode and owner were not changed`);
        }
        await setAttributesOf(e, attrs, path);
      } finally {
        await e.fh.close();
      }
    };
    if (pathComponents(path).length === 0) {
      flushDirCache();
      const slash = root.lastIndexOf('/');
      const parent = await fsp.open(root.slice(0, slash) || '/', C.O_RDONLY | C.O_DIRECTORY);
      try {
        return await act(`/proc/self/fd/${parent.fd}`, root.slice(slash + 1) || '.');
      } finally {
        await parent.close();
      }
    }
    await withParent(path, ({ dir, name }) => act(dir, name));
  }

  const host: NodeHost = {
    root,
    realPath,
    lstatNow,
    readFileNow,
    sha256Now,

    exec(file: string, args: readonly string[], o: ExecOptions = {}): Promise<ExecResult> {
      const cwd = o.cwd === undefined ? root : realPath(o.cwd);
      // a command may move directories: nothing verified before it is trusted after it
      flushDirCache();
      return runProcess(file, args, { ...o, cwd, extraEnv: confined ? { STEAD_ROOT: root } : {} }).finally(flushDirCache);
    },

    // Reads are synchronous on purpose: a local metadata read takes microseconds and a thread-pool
    // round trip costs more than the read (see docs/benchmarks.md); writes stay asynchronous.
    // Not `async`: a settled promise without an async frame (these run once per managed file).
    lstat(path: string): Promise<Stat | undefined> {
      try {
        return Promise.resolve(lstatNow(path));
      } catch (err) {
        return Promise.reject(err);
      }
    },

    readFile(path: string): Promise<Buffer> {
      try {
        return Promise.resolve(readFileNow(path));
      } catch (err) {
        return Promise.reject(err);
      }
    },

    async readlink(path: string): Promise<string> {
      return viaVerifiedParent(path, (p) => readlinkSync(p));
    },

    async readdir(path: string): Promise<string[]> {
      const fd = openForRead(path, C.O_DIRECTORY);
      try {
        return readdirSync(`/proc/self/fd/${fd}`);
      } finally {
        closeSync(fd);
      }
    },

    async writeFileAtomic(path, data, o = {}) {
      await withParent(path, async ({ fh: dirFh, dir, name }) => {
        let existing: { mode: number; uid: number; gid: number } | undefined;
        try {
          const st = await fsp.lstat(`${dir}/${name}`);
          if (st.isDirectory()) throw new HostError('IS_A_DIRECTORY', `${path} is a directory`);
          if (st.isFile()) existing = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
        } catch (err) {
          if (errno(err) !== 'ENOENT') throw err;
        }
        const tmpName = `.${name.slice(0, 180)}.stead-${randomBytes(6).toString('hex')}.tmp`;
        const tmp = `${dir}/${tmpName}`;
        const fh = await fsp.open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
        try {
          await fh.writeFile(data);
          const uid = o.uid ?? existing?.uid;
          const gid = o.gid ?? existing?.gid;
          if (uid !== undefined || gid !== undefined) await fh.chown(uid ?? -1, gid ?? -1);
          await fh.chmod(o.mode ?? existing?.mode ?? 0o644);
          await fh.sync();
          await fh.close();
          await fsp.rename(tmp, `${dir}/${name}`);
        } catch (err) {
          await fh.close().catch(() => undefined);
          await fsp.unlink(tmp).catch(() => undefined);
          throw err;
        }
        await removeStaleTemps(dir, name, tmpName);
        await dirFh.sync();
      });
    },

    async mkdir(path, o = {}) {
      const comps = pathComponents(path);
      if (comps.length === 0) {
        if (o.recursive) return;
        throw Object.assign(new Error(`EEXIST: root exists`), { code: 'EEXIST' });
      }
      await withParent(
        path,
        async ({ dir, name }) => {
          const mode = o.mode ?? 0o755;
          try {
            await fsp.mkdir(`${dir}/${name}`, { mode: mode & 0o1777 });
          } catch (err) {
            if (!(o.recursive && errno(err) === 'EEXIST')) throw err;
            const st = await fsp.lstat(`${dir}/${name}`);
            if (!st.isDirectory()) throw new HostError('NOT_A_DIRECTORY', `${path} exists and is not a directory`);
            return;
          }
          if (raceHook) await raceHook('mkdir', `${dir}/${name}`);
          // the umask (and a setgid parent) shaped the mode: set it, and the owner, through a
          // descriptor of what now holds the name, checked to be a directory this process made
          const e = await openEntry(dir, name).catch((err: unknown) => {
            throw new HostError('ENTRY_CHANGED', `${path} disappeared right after it was created; nothing was changed`, { cause: err });
          });
          try {
            if (!e.st.isDirectory() || e.st.uid !== euid) {
              throw new HostError('ENTRY_CHANGED', `${path} was replaced by another ${e.st.isSymbolicLink() ? 'symbolic link' : 'entry'} right after it was created; its mode and owner were not set`);
            }
            await setAttributesOf(e, { mode, ...(o.uid !== undefined ? { uid: o.uid } : {}), ...(o.gid !== undefined ? { gid: o.gid } : {}) }, path);
          } finally {
            await e.fh.close();
          }
        },
        o.recursive ? { mode: 0o755 } : undefined,
      );
    },

    async setAttributes(path, attrs, expect) {
      await setAttributesAt(path, attrs, expect);
    },

    async chmod(path, mode) {
      await setAttributesAt(path, { mode });
    },

    async lchown(path, uid, gid) {
      await setAttributesAt(path, { ...(uid !== -1 ? { uid } : {}), ...(gid !== -1 ? { gid } : {}) });
    },

    async symlink(target, path) {
      await withParent(path, ({ dir, name }) => fsp.symlink(target, `${dir}/${name}`));
    },

    async remove(path, o = {}) {
      await withParent(path, async ({ fh: dirFh, dir, name }) => {
        let st;
        try {
          st = await fsp.lstat(`${dir}/${name}`);
        } catch (err) {
          if (errno(err) === 'ENOENT') return;
          throw err;
        }
        if (raceHook) await raceHook('remove', `${dir}/${name}`);
        if (st.isDirectory()) {
          // neither rmdir nor unlink follows a final symlink; removeTree never enters one
          if (o.recursive) await removeTree(dir, name, path, raceHook);
          else await fsp.rmdir(`${dir}/${name}`);
        } else {
          await fsp.unlink(`${dir}/${name}`);
        }
        await dirFh.sync().catch(() => undefined);
      }).catch((err: unknown) => {
        if (errno(err) === 'ENOENT') return;
        throw err;
      });
    },

    async rename(from, to) {
      await withParent(from, (a) =>
        withParent(to, async (b) => {
          await fsp.rename(`${a.dir}/${a.name}`, `${b.dir}/${b.name}`);
          await b.fh.sync();
          if (a.fh.fd !== b.fh.fd) await a.fh.sync().catch(() => undefined);
        }),
      );
    },

    async lookupUser(name) {
      const e = (await accounts('/etc/passwd')).get(name);
      if (e) return e.id;
      return name === 'root' ? 0 : undefined;
    },

    async lookupGroup(name) {
      const e = (await accounts('/etc/group')).get(name);
      if (e) return e.id;
      return name === 'root' ? 0 : undefined;
    },

    async lookupUserEntry(name) {
      const e = (await accounts('/etc/passwd')).get(name);
      if (e) return e;
      return name === 'root' ? { name: 'root', id: 0, gid: 0, home: '/root' } : undefined;
    },
  };
  return host;
}

/**
 * A Host rooted at the agent's state directory (backups, archive markers, the record of last
 * applied values), creating it with mode 0700 when missing.
 */
export async function createStateHost(dir: string): Promise<NodeHost> {
  await ensureStateDir(dir);
  return createNodeHost({ root: resolvePath(dir) });
}

/** Creates the agent's state directory (0700) when it is missing. */
export async function ensureStateDir(dir: string): Promise<void> {
  await fsp.mkdir(resolvePath(dir), { recursive: true, mode: 0o700 });
}

/** A temp file older than this was left by a killed write, not one in progress. */
const STALE_TEMP_MS = 10 * 60_000;

/**
 * Removes the temp files that earlier writes of `name` left behind when their process was
 * killed between create and rename (`.NAME.stead-XXXXXXXXXXXX.tmp`), once they are old enough
 * not to belong to a write in progress. Best effort: a failure here never fails the write.
 */
async function removeStaleTemps(dir: string, name: string, current: string): Promise<void> {
  const prefix = `.${name.slice(0, 180)}.stead-`;
  let entries: string[];
  try {
    entries = await fsp.readdir(dir);
  } catch {
    return;
  }
  const cutoff = Date.now() - STALE_TEMP_MS;
  for (const e of entries) {
    if (e === current || !e.startsWith(prefix) || !/^[0-9a-f]{12}\.tmp$/.test(e.slice(prefix.length))) continue;
    try {
      const st = await fsp.lstat(`${dir}/${e}`);
      if (st.isFile() && st.mtimeMs < cutoff) await fsp.unlink(`${dir}/${e}`);
    } catch {
      // gone already, or not ours to remove
    }
  }
}
