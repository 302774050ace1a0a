/**
 * The agent trusts only what it (or root) owns and nobody else can write (docs/adr/0011). Every
 * file the agent reads from its data directory is opened with O_NOFOLLOW and checked on the
 * opened descriptor (fstat: a regular file, owned by the agent's user or root, not writable by
 * group or others) before a byte of it is used; every directory it uses there is checked the same
 * way (fstat of an O_NOFOLLOW|O_DIRECTORY descriptor). A failed check is an UnsafePathError naming
 * the path, the owner and mode found, and the command that fixes it.
 */
import { constants as C, readFileSync, type Stats } from 'node:fs';
import { promises as fsp, type BigIntStats } from 'node:fs';

export class UnsafePathError extends Error {
  readonly code = 'DATA_DIR_UNSAFE';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnsafePathError';
  }
}

/** The user the agent runs as (its files must be owned by it, or by root). */
export function agentUid(): number {
  return process.geteuid?.() ?? 0;
}

/** "uid 1001 (alice)": the owner as the error shows it (the name from /etc/passwd, best effort). */
export function ownerName(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[2] === String(uid) && f[0]) return `uid ${uid} (${f[0]})`;
    }
  } catch {
    // no passwd file: the number alone
  }
  return `uid ${uid}`;
}

export function modeString(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** What the agent's own user is called in a `chown` (root, or the uid). */
function chownTarget(uid: number): string {
  return uid === 0 ? 'root:' : `${uid}:`;
}

type StatLike = Pick<Stats, 'uid' | 'mode'> | Pick<BigIntStats, 'uid' | 'mode'>;

/**
 * Throws unless `st` (from fstat of an open descriptor) is owned by the agent's user or root and
 * not writable by group or others. `what` names the thing in the message ("data dir", "file").
 * `stickyOk`: a group/other-writable directory with the sticky bit passes (/tmp: others cannot
 * remove or rename what they do not own in it). `fixMode`/`fixOwner` make the suggested fix.
 */
export function checkOwnership(path: string, st: StatLike, what: string, opts: { readonly stickyOk?: boolean; readonly fixMode: string; readonly fixOwner?: number }): void {
  const uid = Number(st.uid);
  const mode = Number(st.mode);
  const me = agentUid();
  const fix = `Fix: chown ${chownTarget(opts.fixOwner ?? me)} ${path}; chmod ${opts.fixMode} ${path}`;
  if (uid !== me && uid !== 0) {
    const trusted = me === 0 ? 'root (the agent\'s user)' : `the agent's user (${ownerName(me)}) or root`;
    throw new UnsafePathError(path, `refusing ${what} ${path}: it is owned by ${ownerName(uid)}, not by ${trusted}, so that user could plant what the agent reads there. ${fix}`);
  }
  if ((mode & 0o022) !== 0 && !(opts.stickyOk && (mode & 0o1000) !== 0)) {
    const who = (mode & 0o020) !== 0 && (mode & 0o002) !== 0 ? 'its group and others' : (mode & 0o020) !== 0 ? 'its group' : 'others';
    throw new UnsafePathError(path, `refusing ${what} ${path}: it is writable by ${who} (mode ${modeString(mode)}, owner ${ownerName(uid)}), so they could plant what the agent reads there. ${fix}`);
  }
}

function loopError(path: string, what: string): UnsafePathError {
  return new UnsafePathError(path, `refusing ${what} ${path}: it is a symbolic link (the agent never follows links in its data dir). Fix: remove the link and let the agent recreate it, or point --data-dir at the real directory`);
}

/**
 * Reads a file of the agent's own state through one descriptor: O_NOFOLLOW (a link is refused),
 * then fstat: a regular file, owned by the agent's user or root, not group/other-writable.
 * Undefined when it does not exist.
 */
export async function readOwnedFile(path: string): Promise<Buffer | undefined> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw loopError(path, 'file');
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new UnsafePathError(path, `refusing file ${path}: it is not a regular file. Fix: move it aside`);
    checkOwnership(path, st, 'file', { fixMode: 'go-w' });
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/**
 * Creates a private directory (0700) and its missing parents, or checks an existing one through
 * an O_NOFOLLOW|O_DIRECTORY descriptor: owned by the agent's user or root and not writable by
 * group or others (else UnsafePathError); one readable by others is tightened to 0700 through
 * that descriptor (fchmod), never by path.
 */
export async function openPrivateDir(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(dir, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw loopError(dir, 'directory');
    if (code === 'ENOTDIR') throw new UnsafePathError(dir, `refusing directory ${dir}: it is not a directory. Fix: move it aside`);
    throw err;
  }
  try {
    const st = await fh.stat();
    checkOwnership(dir, st, 'directory', { fixMode: '0700' });
    if ((st.mode & 0o077) !== 0) await fh.chmod(0o700);
  } finally {
    await fh.close();
  }
}
