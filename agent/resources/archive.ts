/**
 * The archive type: a tar.gz, tar or zip release (a blob "sha256:<hex>") unpacked into a
 * directory. The run is skipped when the archive's sha256 is the one last unpacked there
 * (recorded in stateDir/archives/). A new archive is extracted safely (archive-extract.ts) into a
 * temp directory beside the target, then swapped in: with `clean` or no directory yet, the whole
 * directory is replaced; otherwise each top-level entry is renamed over its old version and
 * other files stay. Nothing is changed when the archive is refused.
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

function siblingTemp(path: string, tag: string): string {
  const parent = parentOf(path);
  return `${parent === '/' ? '' : parent}/.${baseName(path).slice(0, 160)}.stead-${randomBytes(6).toString('hex')}.${tag}`;
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

async function swapIn(host: Host, tmp: string, target: string, whole: boolean): Promise<void> {
  const old: string[] = [];
  if (whole) {
    if (await host.lstat(target)) {
      const aside = siblingTemp(target, 'old');
      await host.rename(target, aside);
      old.push(aside);
    }
    await host.rename(tmp, target);
  } else {
    for (const name of (await host.readdir(tmp)).sort()) {
      const dst = `${target}/${name}`;
      const st = await host.lstat(dst);
      if (st) {
        const aside = siblingTemp(target, 'old');
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
    const tmp = siblingTemp(d.path, 'new');
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
      await swapIn(host, tmp, d.path, !a || d.clean === true);
      if (res.neutralised > 0) ctx.log(`cleared setuid/setgid/sticky bits on ${res.neutralised} entries`);
      ctx.log(`unpacked ${res.entries} entries (${res.bytes} bytes) into ${d.path}`);
    } catch (err) {
      await host.remove(tmp, { recursive: true }).catch(() => undefined);
      throw err;
    }
    await state.mkdir('/archives', { recursive: true, mode: 0o700 });
    await state.writeFileAtomic(markerPath(d.path), JSON.stringify({ path: d.path, source: d.source }), { mode: 0o600 });
  },
} satisfies ResourceImpl<'archive', ArchiveActual>;
