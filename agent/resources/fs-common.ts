/** Helpers shared by the filesystem resource types (file, directory, link, archive). */
import type { Host, Stat } from '../host/host.js';
import type { Change } from './resource.js';
import { ResourceError } from '../engine/engine-error.js';

/** "644" or "0644" → 0o644. */
export function parseMode(mode: string): number {
  return parseInt(mode, 8) & 0o7777;
}

/** 0o644 → "0644". */
export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** The numeric ids the desired owner and group resolve to on this host (null: unknown name; undefined: not managed). */
export interface OwnerIds {
  readonly uid?: number | null;
  readonly gid?: number | null;
}

/** Looks up the desired owner and group names. */
export async function resolveOwner(host: Host, owner: string | undefined, group: string | undefined): Promise<OwnerIds> {
  const ids: { uid?: number | null; gid?: number | null } = {};
  if (owner !== undefined) ids.uid = (await host.lookupUser(owner)) ?? null;
  if (group !== undefined) ids.gid = (await host.lookupGroup(group)) ?? null;
  return ids;
}

/** Changes for mode, owner and group of an existing thing. */
export function metadataChanges(
  desired: { mode?: string; owner?: string; group?: string },
  st: Stat,
  ids: OwnerIds,
): Change[] {
  const out: Change[] = [];
  if (desired.mode !== undefined && parseMode(desired.mode) !== st.mode) out.push({ property: 'mode', before: formatMode(st.mode), after: formatMode(parseMode(desired.mode)) });
  if (desired.owner !== undefined && ids.uid !== st.uid) out.push({ property: 'owner', before: st.uid, after: desired.owner });
  if (desired.group !== undefined && ids.gid !== st.gid) out.push({ property: 'group', before: st.gid, after: desired.group });
  return out;
}

/** The ids to apply; throws UNKNOWN_USER / UNKNOWN_GROUP for names the host does not know. */
export function requireIds(desired: { owner?: string; group?: string }, ids: OwnerIds): { uid?: number; gid?: number } {
  if (desired.owner !== undefined && (ids.uid === null || ids.uid === undefined)) throw new ResourceError('UNKNOWN_USER', `no user ${desired.owner} on this host`);
  if (desired.group !== undefined && (ids.gid === null || ids.gid === undefined)) throw new ResourceError('UNKNOWN_GROUP', `no group ${desired.group} on this host`);
  return { ...(typeof ids.uid === 'number' ? { uid: ids.uid } : {}), ...(typeof ids.gid === 'number' ? { gid: ids.gid } : {}) };
}

/**
 * Applies mode/owner/group changes to an existing path in one step through one descriptor (never
 * through a symlink); `expect` is the kind read saw, refused (ENTRY_CHANGED) if it was swapped since.
 */
export async function applyMetadata(host: Host, path: string, changes: readonly Change[], desired: { mode?: string; owner?: string; group?: string }, ids: OwnerIds, expect?: Stat['kind']): Promise<void> {
  const props = new Set(changes.map((c) => c.property));
  const attrs: { mode?: number; uid?: number; gid?: number } = {};
  if (props.has('owner') || props.has('group')) {
    const { uid, gid } = requireIds(desired, ids);
    if (props.has('owner') && uid !== undefined) attrs.uid = uid;
    if (props.has('group') && gid !== undefined) attrs.gid = gid;
  }
  // chown may clear setuid bits: the mode is set after the owner (setAttributes does so)
  if (desired.mode !== undefined && (props.has('mode') || props.has('owner') || props.has('group'))) attrs.mode = parseMode(desired.mode);
  if (attrs.mode === undefined && attrs.uid === undefined && attrs.gid === undefined) return;
  await host.setAttributes(path, attrs, expect);
}

/** The parent directory of a manifest path ("/a/b" → "/a"; "/a" → "/"). */
export function parentOf(path: string): string {
  const p = path.replace(/\/+$/, '');
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** The last component of a manifest path. */
export function baseName(path: string): string {
  const p = path.replace(/\/+$/, '');
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Throws PARENT_MISSING unless the parent directory of `path` exists. */
export async function requireParent(host: Host, path: string): Promise<void> {
  const parent = parentOf(path);
  const st = await host.lstat(parent);
  if (!st) throw new ResourceError('PARENT_MISSING', `the parent directory ${parent} does not exist (declare a directory resource for it)`);
  if (st.kind !== 'directory' && st.kind !== 'link') throw new ResourceError('PARENT_NOT_DIRECTORY', `${parent} is not a directory`);
}
