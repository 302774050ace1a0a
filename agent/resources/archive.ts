/**
 * The archive type: a tar.gz, tar or zip release (a blob "sha256:<hex>") unpacked into a
 * directory. The run is skipped when the archive's sha256 is the one last unpacked there
 * (recorded in stateDir/archives/). A new archive is extracted safely (archive-extract.ts) into a
 * temp directory beside the target, then swapped in: with `clean` or no directory yet, the whole
 * directory is replaced; otherwise each top-level entry is renamed over its old version and
 * other files stay. Nothing is changed when the archive is refused. The temp names carry a tag
 * recorded in the state directory first (archives/<hash>.pending.json), so temp directories a
 * killed apply left behind are removed by the next apply of the same path.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ArchiveResource } from '../../schemas/index.js';
import type { Host, Stat } from '../host/host.js';
import type { Change, Plan, Problem, ResourceContext, ResourceImpl } from './resource.js';
import { ResourceError } from '../engine/engine-error.js';
import { verifyBlob } from '../blobs/blob-ref.js';
import { createNodeHost, createStateHost } from '../host/node-host.js';
import { baseName, parentOf, requireIds, requireParent, resolveOwner } from './fs-common.js';
import { extractArchive } from './archive-extract.js';

export interface ArchiveActual {
  readonly stat: Stat;
  /** The source last unpacked at this path, from the marker. */
  readonly unpacked?: string;
}

const SHA_REF = /^sha256:[0-9a-f]{64}$/;

function markerPath(path: string): string {
  return `/archives/${createHash('sha256').update(path).digest('hex')}.json`;
}

/** Where an apply records the tag of the temp names it is about to create (removed when it ends). */
function pendingPath(path: string): string {
  return markerPath(path).replace(/\.json$/, '.pending.json');
}

/** The prefix of an apply's temp names beside `path`: `.NAME.stead-<tag>.` (then `new`, `old0`, `old1`, …). */
function tempPrefix(path: string, tag: string): string {
  return `.${baseName(path).slice(0, 160)}.stead-${tag}.`;
}

function siblingTemp(path: string, tag: string, kind: string): string {
  const parent = parentOf(path);
  return `${parent === '/' ? '' : parent}/${tempPrefix(path, tag)}${kind}`;
}

const TAG = /^[0-9a-f]{12}$/;

/**
 * Removes what an apply of `path` that was killed (kill -9, power loss) left beside it: the temp
 * directories named by the tags it recorded in the state directory before creating them. Only
 * names carrying a recorded tag are touched, so a concurrent apply's temp is never removed.
 */
async function removeLeftovers(host: Host, state: Host, path: string): Promise<number> {
  const pending = pendingPath(path);
  if (!(await state.lstat(pending))) return 0;
  let tags: string[] = [];
  try {
    const doc = JSON.parse((await state.readFile(pending)).toString('utf8')) as { path?: unknown; tags?: unknown };
    if (doc.path === path && Array.isArray(doc.tags)) tags = doc.tags.filter((x): x is string => typeof x === 'string' && TAG.test(x));
  } catch {
    // a torn record: nothing can be attributed to it
  }
  let removed = 0;
  if (tags.length > 0 && (await host.lstat(parentOf(path)))?.kind === 'directory') {
    const parent = parentOf(path);
    for (const name of await host.readdir(parent)) {
      if (!tags.some((tag) => name.startsWith(tempPrefix(path, tag)) && /^(?:new|old\d+)$/.test(name.slice(tempPrefix(path, tag).length)))) continue;
      await host.remove(`${parent === '/' ? '' : parent}/${name}`, { recursive: true });
      removed++;
    }
  }
  await state.remove(pending);
  return removed;
}

async function readMarker(stateDir: string, path: string): Promise<string | undefined> {
  const state = createNodeHost({ root: stateDir });
  const m = markerPath(path);
  if (!(await state.lstat(m))) return undefined;
  try {
    const doc = JSON.parse((await state.readFile(m)).toString('utf8')) as { path?: string; source?: string };
    return doc.path === path && typeof doc.source === 'string' ? doc.source : undefined;
  } catch {
    return undefined;
  }
}

async function swapIn(host: Host, tmp: string, target: string, whole: boolean, tag: string): Promise<void> {
  const old: string[] = [];
  if (whole) {
    if (await host.lstat(target)) {
      const aside = siblingTemp(target, tag, `old${old.length}`);
      await host.rename(target, aside);
      old.push(aside);
    }
    await host.rename(tmp, target);
  } else {
    for (const name of (await host.readdir(tmp)).sort()) {
      const dst = `${target}/${name}`;
      const st = await host.lstat(dst);
      if (st) {
        const aside = siblingTemp(target, tag, `old${old.length}`);
        await host.rename(dst, aside);
        old.push(aside);
      }
      await host.rename(`${tmp}/${name}`, dst);
    }
    await host.remove(tmp, { recursive: true });
  }
  for (const p of old) await host.remove(p, { recursive: true });
}

export const archive = {
  type: 'archive',

  validate(d: ArchiveResource): Problem[] {
    const out: Problem[] = [];
    if (!SHA_REF.test(d.source)) out.push({ path: '/source', message: 'in a catalog, source must be a blob reference "sha256:<64 hex>"' });
    if (d.path.replace(/\/+$/, '') === '') out.push({ path: '/path', message: 'an archive cannot be unpacked over the root directory' });
    return out;
  },

  async read(d: ArchiveResource, ctx: ResourceContext): Promise<ArchiveActual | undefined> {
    const stat = await ctx.host.lstat(d.path);
    if (!stat) return undefined;
    const unpacked = stat.kind === 'directory' ? await readMarker(ctx.stateDir, d.path) : undefined;
    return { stat, ...(unpacked !== undefined ? { unpacked } : {}) };
  },

  diff(d: ArchiveResource, a: ArchiveActual | undefined): Change[] {
    if (d.ensure === 'absent') return a ? [{ property: 'ensure', before: a.stat.kind === 'directory' ? 'present' : a.stat.kind, after: 'absent' }] : [];
    if (!a) return [{ property: 'ensure', after: 'present' }];
    if (a.stat.kind !== 'directory') return [{ property: 'ensure', before: a.stat.kind, after: 'present' }];
    return a.unpacked === d.source ? [] : [{ property: 'source', ...(a.unpacked !== undefined ? { before: a.unpacked } : {}), after: d.source }];
  },

  async apply(plan: Plan<'archive', ArchiveActual>, ctx: ResourceContext): Promise<void> {
    const d = plan.desired;
    const a = plan.actual;
    const host = ctx.host;
    const state = await createStateHost(ctx.stateDir);
    const left = await removeLeftovers(host, state, d.path);
    if (left > 0) ctx.log(`removed ${left} temp directories an interrupted unpack left beside ${d.path}`);
    if (d.ensure === 'absent') {
      if (a) {
        if (a.stat.kind !== 'directory') throw new ResourceError('WRONG_KIND', `${d.path} is a ${a.stat.kind}, not a directory`);
        await host.remove(d.path, { recursive: true });
      }
      await state.remove(markerPath(d.path));
      return;
    }
    if (a && a.stat.kind !== 'directory') throw new ResourceError('WRONG_KIND', `${d.path} is a ${a.stat.kind}; an archive is unpacked only into a directory`);
    await requireParent(host, d.path);
    const { uid, gid } = requireIds(d, await resolveOwner(host, d.owner, d.group));
    const data = verifyBlob(d.source, await ctx.blobs.get(d.source, ctx.signal));
    // the tag is recorded before anything carries it, so a kill -9 from here on leaves nothing
    // that the next apply cannot find (removeLeftovers)
    const tag = randomBytes(6).toString('hex');
    await state.mkdir('/archives', { recursive: true, mode: 0o700 });
    await state.writeFileAtomic(pendingPath(d.path), JSON.stringify({ path: d.path, tags: [tag] }), { mode: 0o600 });
    const tmp = siblingTemp(d.path, tag, 'new');
    await host.mkdir(tmp, { mode: 0o700 });
    try {
      const res = await extractArchive(host, data, tmp, {
        ...(d.format !== undefined ? { format: d.format } : {}),
        ...(d.strip !== undefined ? { strip: d.strip } : {}),
        ...(uid !== undefined ? { uid } : {}),
        ...(gid !== undefined ? { gid } : {}),
        signal: ctx.signal,
      });
      await host.chmod(tmp, 0o755);
      if (uid !== undefined || gid !== undefined) await host.lchown(tmp, uid ?? -1, gid ?? -1);
      ctx.signal.throwIfAborted();
      await swapIn(host, tmp, d.path, !a || d.clean === true, tag);
      if (res.neutralised > 0) ctx.log(`cleared setuid/setgid/sticky bits on ${res.neutralised} entries`);
      ctx.log(`unpacked ${res.entries} entries (${res.bytes} bytes) into ${d.path}`);
    } catch (err) {
      await host.remove(tmp, { recursive: true }).catch(() => undefined);
      throw err;
    }
    await state.writeFileAtomic(markerPath(d.path), JSON.stringify({ path: d.path, source: d.source }), { mode: 0o600 });
    await state.remove(pendingPath(d.path));
  },
} satisfies ResourceImpl<'archive', ArchiveActual>;
