/**
 * Retention of the local file backups (file-backup.ts): which index entries and content files
 * under stateDir/backups are removed, and the removal itself. Everything goes through the state
 * Host (descriptors, O_NOFOLLOW, relative to a verified parent: ADR 0007, 0011): a symlink or
 * any other non-regular entry in the backup area is never followed, read or removed, and
 * nothing outside stateDir/backups is touched.
 *
 * Rules (ADR 0022):
 * - the newest backup of each path is always kept, whatever its age or the size cap: it is the
 *   one `stead backup restore` needs to undo the last change the engine made there;
 * - beyond it, at most `keepPerPath` backups per path, none older than `maxAgeDays`;
 * - then, while the content files kept add up to more than `maxTotalBytes`, the oldest
 *   removable entries go first;
 * - a content file is removed when no kept entry names it. One no entry named at the start of
 *   the pass (left by a killed write, or being written by another process right now) is removed
 *   only when it was already unnamed at the previous pass (`backups/unreferenced.json`).
 */
import type { Host } from '../host/host.js';
import { createStateHost } from '../host/node-host.js';
import { backupLock, type BackupEntry } from './file-backup.js';

/** What an operator sets; every field has a default (defaultBackupRetention). */
export interface BackupRetention {
  /** Backups kept per managed path, newest first (at least 1). */
  readonly keepPerPath: number;
  /** Backups older than this many days are removed (the newest of a path excepted); 0: no age limit. */
  readonly maxAgeDays: number;
  /** Total bytes of backup content kept (the newest of each path excepted); 0: no size cap. */
  readonly maxTotalBytes: number;
}

/** Defaults: 10 backups per path, 90 days, 512 MiB. */
export const defaultBackupRetention: BackupRetention = { keepPerPath: 10, maxAgeDays: 90, maxTotalBytes: 512 * 1024 * 1024 };

/** What one pass removed. */
export interface BackupPruneResult {
  /** Index entries removed (backup events). */
  readonly entries: number;
  /** Content files removed, and their bytes. */
  readonly files: number;
  readonly bytes: number;
  /** Content bytes and backup events left. */
  readonly keptBytes: number;
  readonly keptEntries: number;
}

const HEX = /^[0-9a-f]{64}$/;
const INDEX_NAME = /^[0-9]{1,16}-[0-9a-f]{8}\.json$/;
const UNREFERENCED = '/backups/unreferenced.json';

interface Indexed extends BackupEntry {
  readonly name: string;
}

/**
 * pruneBackups applies `policy` to stateDir/backups and returns what it removed. `now` is the
 * reference time for the age limit. Serialised with backupContent in this process; a missing
 * backup area is an empty one. Throws only for an unusable state directory.
 */
export async function pruneBackups(stateDir: string, policy: BackupRetention, now: Date): Promise<BackupPruneResult> {
  checkPolicy(policy);
  return backupLock(async () => {
    const state = await createStateHost(stateDir);
    if ((await state.lstat('/backups'))?.kind !== 'directory') return { entries: 0, files: 0, bytes: 0, keptBytes: 0, keptEntries: 0 };
    const entries = (await state.lstat('/backups/index'))?.kind === 'directory' ? await readIndex(state) : [];
    const sizes = new Map<string, number>();
    for (const name of await state.readdir('/backups')) {
      if (!HEX.test(name)) continue;
      const st = await state.lstat(`/backups/${name}`);
      if (st?.kind === 'file') sizes.set(name, st.size);
    }
    const remove = chooseEntries(entries, sizes, policy, now);
    for (const e of remove) await state.remove(`/backups/index/${e.name}`);
    const kept = new Set(entries.filter((e) => !remove.has(e)).map((e) => e.sha256));
    const namedBefore = new Set(entries.map((e) => e.sha256));
    const previous = await readUnreferenced(state);
    const stillUnnamed: string[] = [];
    let files = 0;
    let bytes = 0;
    for (const [sha, size] of sizes) {
      if (kept.has(sha)) continue;
      if (!namedBefore.has(sha) && !previous.has(sha)) {
        stillUnnamed.push(sha);
        continue;
      }
      await state.remove(`/backups/${sha}`);
      files++;
      bytes += size;
    }
    await state.writeFileAtomic(UNREFERENCED, JSON.stringify(stillUnnamed), { mode: 0o600 });
    let keptBytes = 0;
    for (const sha of kept) keptBytes += sizes.get(sha) ?? 0;
    return { entries: remove.size, files, bytes, keptBytes, keptEntries: entries.length - remove.size };
  });
}

/** Refuses a policy outside its bounds (RangeError naming the field). */
export function checkPolicy(p: BackupRetention): void {
  if (!Number.isSafeInteger(p.keepPerPath) || p.keepPerPath < 1 || p.keepPerPath > 100_000) throw new RangeError('keepPerPath must be an integer from 1 to 100000');
  if (!Number.isFinite(p.maxAgeDays) || p.maxAgeDays < 0 || p.maxAgeDays > 36_500) throw new RangeError('maxAgeDays must be from 0 to 36500');
  if (!Number.isSafeInteger(p.maxTotalBytes) || p.maxTotalBytes < 0) throw new RangeError('maxTotalBytes must be a non-negative integer');
}

/** The entries to remove: pure, so the rules are tested without a file system. */
export function chooseEntries(entries: readonly Indexed[], sizes: ReadonlyMap<string, number>, p: BackupRetention, now: Date): Set<Indexed> {
  const newestFirst = [...entries].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.name < b.name ? 1 : -1));
  const perPath = new Map<string, number>();
  const protectedShas = new Set<string>();
  const remove = new Set<Indexed>();
  const removable: Indexed[] = [];
  const cutoff = p.maxAgeDays > 0 ? now.getTime() - p.maxAgeDays * 86_400_000 : Number.NEGATIVE_INFINITY;
  for (const e of newestFirst) {
    const rank = perPath.get(e.path) ?? 0;
    perPath.set(e.path, rank + 1);
    if (rank === 0) {
      protectedShas.add(e.sha256);
      continue;
    }
    const at = Date.parse(e.at);
    if (rank >= p.keepPerPath || (Number.isFinite(at) && at < cutoff)) remove.add(e);
    else removable.push(e);
  }
  if (p.maxTotalBytes > 0) {
    const refs = new Map<string, number>();
    for (const e of entries) if (!remove.has(e)) refs.set(e.sha256, (refs.get(e.sha256) ?? 0) + 1);
    let total = 0;
    for (const sha of refs.keys()) total += sizes.get(sha) ?? 0;
    for (let i = removable.length - 1; i >= 0 && total > p.maxTotalBytes; i--) {
      const e = removable[i]!;
      remove.add(e);
      const left = refs.get(e.sha256)! - 1;
      refs.set(e.sha256, left);
      if (left === 0 && !protectedShas.has(e.sha256)) total -= sizes.get(e.sha256) ?? 0;
    }
  }
  return remove;
}

async function readIndex(state: Host): Promise<Indexed[]> {
  const out: Indexed[] = [];
  for (const name of await state.readdir('/backups/index')) {
    if (!INDEX_NAME.test(name)) continue;
    const st = await state.lstat(`/backups/index/${name}`);
    if (st?.kind !== 'file' || st.size > 64 * 1024) continue;
    try {
      const e = JSON.parse((await state.readFile(`/backups/index/${name}`)).toString('utf8')) as BackupEntry;
      if (typeof e.sha256 === 'string' && HEX.test(e.sha256) && typeof e.path === 'string' && typeof e.at === 'string') {
        out.push({ name, sha256: e.sha256, path: e.path, at: e.at, size: Number(e.size) || 0 });
      }
    } catch {
      // a torn or foreign index file is not a backup: left alone
    }
  }
  return out;
}

async function readUnreferenced(state: Host): Promise<Set<string>> {
  const st = await state.lstat(UNREFERENCED);
  if (st?.kind !== 'file' || st.size > 16 * 1024 * 1024) return new Set();
  try {
    const v = JSON.parse((await state.readFile(UNREFERENCED)).toString('utf8')) as unknown;
    return new Set(Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && HEX.test(s)) : []);
  } catch {
    return new Set();
  }
}
