/**
 * The directory type: existence, mode, owner and group; with `recurse`, owner and group of
 * everything below; with `recurse` and `purge`, removal of entries below that no resource of
 * the catalog manages (off by default: the zero value touches less). `ensure: absent` removes
 * only an empty directory unless `force`.
 *
 * Purge keeps every path the catalog manages (ctx.catalogPaths) and every directory on the way
 * to one; it descends only into such directories, so the content of a managed leaf (a file,
 * link, archive or directory with nothing managed below) is never purged. Symlinks are never
 * followed.
 */
import type { DirectoryResource } from '../../schemas/index.js';
import type { Host, Stat } from '../host/host.js';
import type { Change, Plan, Problem, ResourceContext, ResourceImpl } from './resource.js';
import { ResourceError } from '../engine/engine-error.js';
import { applyMetadata, metadataChanges, parseMode, requireIds, requireParent, resolveOwner, type OwnerIds } from './fs-common.js';

export interface DirectoryActual {
  readonly stat: Stat;
  readonly ids: OwnerIds;
  /** recurse: paths below whose owner/group differ from the desired ones. */
  readonly ownershipDrift?: readonly string[];
  /** purge: unmanaged paths below, top-most first. */
  readonly unmanaged?: readonly string[];
  /** ensure absent: whether the directory has entries. */
  readonly empty?: boolean;
}

/** At most this many paths are listed in a change (the count is always exact). */
const LIST_CAP = 50;
/** A recursive walk stops with an error past this many entries. */
const WALK_LIMIT = 1_000_000;

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** Walks below `dir` (not following links), calling visit for every entry; visit returns whether to descend. */
async function walk(host: Host, dir: string, signal: AbortSignal, visit: (path: string, st: Stat) => boolean | Promise<boolean>): Promise<void> {
  let seen = 0;
  const stack = [dir];
  while (stack.length > 0) {
    signal.throwIfAborted();
    const cur = stack.pop()!;
    const names = (await host.readdir(cur)).sort();
    for (const name of names) {
      if (++seen > WALK_LIMIT) throw new ResourceError('TOO_MANY_ENTRIES', `more than ${WALK_LIMIT} entries below ${dir}`);
      const p = join(cur, name);
      const st = await host.lstat(p);
      if (!st) continue;
      if ((await visit(p, st)) && st.kind === 'directory') stack.push(p);
    }
  }
}

function summary(paths: readonly string[]): string[] {
  return paths.length > LIST_CAP ? [...paths.slice(0, LIST_CAP), `… ${paths.length - LIST_CAP} more`] : [...paths];
}

export const directory = {
  type: 'directory',

  validate(d: DirectoryResource): Problem[] {
    const out: Problem[] = [];
    if (d.purge === true && d.recurse !== true) out.push({ path: '/purge', message: 'purge needs recurse: true' });
    if (d.force === true && d.ensure !== 'absent') out.push({ path: '/force', message: 'force only applies to ensure: absent' });
    if (d.path.replace(/\/+$/, '') === '' && d.ensure === 'absent') out.push({ path: '/ensure', message: 'the root directory cannot be removed' });
    return out;
  },

  async read(d: DirectoryResource, ctx: ResourceContext): Promise<DirectoryActual | undefined> {
    const stat = await ctx.host.lstat(d.path);
    if (!stat) return undefined;
    if (stat.kind !== 'directory') return { stat, ids: {} };
    if (d.ensure === 'absent') return { stat, ids: {}, empty: (await ctx.host.readdir(d.path)).length === 0 };
    const ids = await resolveOwner(ctx.host, d.owner, d.group);
    let ownershipDrift: string[] | undefined;
    let unmanaged: string[] | undefined;
    const recurseOwner = d.recurse === true && (d.owner !== undefined || d.group !== undefined);
    if (recurseOwner || d.purge === true) {
      const managed = ctx.catalogPaths;
      const self = d.path.replace(/\/+$/, '') || '/';
      const ancestors = new Set<string>();
      if (d.purge === true) {
        for (const p of managed) {
          if (p === self || !p.startsWith(self === '/' ? '/' : `${self}/`)) continue;
          let cur = p;
          while (cur.length > self.length) {
            cur = cur.slice(0, cur.lastIndexOf('/')) || '/';
            ancestors.add(cur);
          }
        }
      }
      ownershipDrift = [];
      unmanaged = [];
      const drift = ownershipDrift;
      const purge = unmanaged;
      await walk(ctx.host, d.path, ctx.signal, (p, st) => {
        if (d.purge === true && !managed.has(p) && !ancestors.has(p)) {
          purge.push(p);
          return false;
        }
        if (recurseOwner && ((d.owner !== undefined && ids.uid !== st.uid) || (d.group !== undefined && ids.gid !== st.gid))) drift.push(p);
        // below a managed path with nothing managed deeper, ownership still recurses but purge does not
        return recurseOwner || ancestors.has(p);
      });
    }
    unmanaged?.sort();
    ownershipDrift?.sort();
    return {
      stat,
      ids,
      ...(ownershipDrift !== undefined && recurseOwner ? { ownershipDrift } : {}),
      ...(unmanaged !== undefined && d.purge === true ? { unmanaged } : {}),
    };
  },

  diff(d: DirectoryResource, a: DirectoryActual | undefined): Change[] {
    if (d.ensure === 'absent') {
      if (!a) return [];
      return [{ property: 'ensure', before: a.stat.kind === 'directory' ? 'present' : a.stat.kind, after: 'absent' }];
    }
    if (!a) return [{ property: 'ensure', after: 'present' }];
    if (a.stat.kind !== 'directory') return [{ property: 'ensure', before: a.stat.kind, after: 'present' }];
    const out = metadataChanges(d, a.stat, a.ids);
    if (a.ownershipDrift && a.ownershipDrift.length > 0) out.push({ property: 'recurse', before: summary(a.ownershipDrift), after: [] });
    if (a.unmanaged && a.unmanaged.length > 0) out.push({ property: 'purge', before: summary(a.unmanaged), after: [] });
    return out;
  },

  async apply(plan: Plan<'directory', DirectoryActual>, ctx: ResourceContext): Promise<void> {
    const d = plan.desired;
    const a = plan.actual;
    const host = ctx.host;
    if (d.ensure === 'absent') {
      if (!a) return;
      if (a.stat.kind !== 'directory') throw new ResourceError('WRONG_KIND', `${d.path} is a ${a.stat.kind}, not a directory; a directory resource will not remove it`);
      if (a.empty === false && d.force !== true) throw new ResourceError('NOT_EMPTY', `${d.path} is not empty; set force: true to remove it with its content`);
      await host.remove(d.path, { recursive: d.force === true });
      return;
    }
    if (!a) {
      await requireParent(host, d.path);
      const ids = await resolveOwner(host, d.owner, d.group);
      const { uid, gid } = requireIds(d, ids);
      // mode and owner set through the new directory's descriptor (a swapped-in link is refused)
      await host.mkdir(d.path, { mode: d.mode !== undefined ? parseMode(d.mode) : 0o755, ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}) });
      return;
    }
    if (a.stat.kind !== 'directory') throw new ResourceError('WRONG_KIND', `${d.path} is a ${a.stat.kind}; a directory resource will not replace it`);
    await applyMetadata(host, d.path, plan.changes, d, a.ids, 'directory');
    if (a.unmanaged && a.unmanaged.length > 0) {
      for (const p of a.unmanaged) {
        ctx.signal.throwIfAborted();
        await host.remove(p, { recursive: true });
      }
      ctx.log(`purged ${a.unmanaged.length} unmanaged entries below ${d.path}`);
    }
    if (a.ownershipDrift && a.ownershipDrift.length > 0) {
      const { uid, gid } = requireIds(d, a.ids);
      for (const p of a.ownershipDrift) {
        ctx.signal.throwIfAborted();
        await host.setAttributes(p, { ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}) });
      }
    }
  },
} satisfies ResourceImpl<'directory', DirectoryActual>;
