/**
 * The one seam between the agent and the machine it manages. Every effect on the host
 * (filesystem, commands, processes) goes through a Host, so that a run can be confined under
 * a root directory (--root) and tests can run resources against real temporary roots.
 *
 * Paths given to a Host are the manifest's absolute paths ("/etc/motd"); the Host maps them
 * under its root. Implementations: node-host.ts (the real one).
 */
export interface ExecOptions {
  readonly cwd?: string;              // a manifest path; mapped under the root
  readonly env?: Readonly<Record<string, string>>;   // added to a minimal PATH/LANG environment
  readonly input?: string | Buffer;
  readonly timeoutMs?: number;        // the whole process group is killed when it expires
  readonly signal?: AbortSignal;      // aborting kills the process group
  readonly uid?: number;
  readonly gid?: number;
  readonly maxOutputBytes?: number;   // stdout/stderr kept (each); the rest is dropped; default 1 MiB
}

export interface ExecResult {
  readonly code: number | null;       // null when killed by a signal
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface Stat {
  readonly kind: 'file' | 'directory' | 'link' | 'other';
  readonly mode: number;              // permission bits only (st_mode & 0o7777)
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
}

export interface Host {
  /** The directory every managed path lives under: "/" on a real host. */
  readonly root: string;
  /** Maps a manifest path to the real path under the root. */
  realPath(path: string): string;

  /** Runs a program with an argv array (no shell unless the caller runs /bin/sh -c itself). Never throws for a non-zero exit. */
  exec(file: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult>;

  lstat(path: string): Promise<Stat | undefined>;
  readFile(path: string): Promise<Buffer>;
  readlink(path: string): Promise<string>;
  readdir(path: string): Promise<string[]>;
  /** Atomic replace: temp file (O_EXCL, 0600) in the same directory, write, fsync, chmod/chown, rename, fsync dir. */
  writeFileAtomic(path: string, data: Buffer | string, opts?: { mode?: number; uid?: number; gid?: number }): Promise<void>;
  /**
   * Creates a directory. `mode` (all 12 bits, umask not applied), `uid` and `gid` are set through
   * a descriptor of the directory just made, never by path; with `recursive`, missing parents are
   * made 0755 and an existing directory is left as it is (its mode and owner untouched).
   */
  mkdir(path: string, opts?: { recursive?: boolean; mode?: number; uid?: number; gid?: number }): Promise<void>;
  /**
   * Sets mode and/or owner of an existing entry through one descriptor opened without following
   * a final symlink (a link's owner can be set, its mode cannot: SYMLINK_REFUSED). With `expect`,
   * the entry must be of that kind (ENTRY_CHANGED otherwise: it was swapped since it was checked).
   */
  setAttributes(path: string, attrs: { mode?: number; uid?: number; gid?: number }, expect?: Stat['kind']): Promise<void>;
  /** setAttributes(path, { mode }). */
  chmod(path: string, mode: number): Promise<void>;
  /** setAttributes(path, { uid, gid }) (-1 leaves one unchanged); a symlink's own owner. */
  lchown(path: string, uid: number, gid: number): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  /**
   * Removes a file or link; with recursive, a directory tree, walked by descriptors: a symlink in
   * it is removed, never followed, and a mount point below is refused. Missing paths are not an error.
   */
  remove(path: string, opts?: { recursive?: boolean }): Promise<void>;
  rename(from: string, to: string): Promise<void>;

  /** Numeric ids for names, read from the root's /etc/passwd and /etc/group (undefined: unknown). */
  lookupUser(name: string): Promise<number | undefined>;
  lookupGroup(name: string): Promise<number | undefined>;
}
