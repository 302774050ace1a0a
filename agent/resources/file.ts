/**
 * The file type: a regular file whose existence, content (a blob "sha256:<hex>"), mode, owner
 * and group are kept as declared. Content is compared by sha256 and written atomically (temp
 * file O_EXCL 0600 in the same directory, fsync, rename, fsync dir); the replaced content goes
 * to the local backup first (unless `backup: false`). A file never creates its parent
 * directory: declare a directory resource (it is ordered first automatically).
 */
import { hash } from 'node:crypto';
import type { FileResource } from '../../schemas/index.js';
import type { Stat } from '../host/host.js';
import type { Change, Plan, Problem, ResourceContext, ResourceImpl } from './resource.js';
import { ResourceError } from '../engine/engine-error.js';
import { blobHex, verifyBlob } from '../blobs/blob-ref.js';
import { applyMetadata, formatMode, metadataChanges, parseMode, requireIds, requireParent, resolveOwner, type OwnerIds } from './fs-common.js';
import { backupContent } from './file-backup.js';
import { NOT_NOW, syncReads, type NotNow } from '../engine/read-now.js';
import { MAX_DIFF_BYTES, unifiedDiff } from './file-diff.js';

export interface FileActual {
  readonly stat: Stat;
  /** "sha256:<hex>" of the content, read only when the resource manages content. */
  readonly content?: string;
  readonly ids: OwnerIds;
}

const SHA_REF = /^sha256:[0-9a-f]{64}$/;
/** Owner ids of a file whose owner and group are not managed (shared: read once per file per run). */
const NO_IDS: OwnerIds = Object.freeze({});

export const file = {
  type: 'file',

  validate(d: FileResource): Problem[] {
    const out: Problem[] = [];
    if (d.content !== undefined) out.push({ path: '/content', message: 'inline content must be compiled into a blob ("source: sha256:<hex>") before it reaches the agent' });
    if (d.template !== undefined) out.push({ path: '/template', message: 'a template must be rendered into a blob ("source: sha256:<hex>") before it reaches the agent' });
    if (d.source !== undefined && !SHA_REF.test(d.source)) out.push({ path: '/source', message: 'in a catalog, source must be a blob reference "sha256:<64 hex>"' });
    if (d.ensure === 'absent' && (d.source !== undefined || d.mode !== undefined || d.owner !== undefined || d.group !== undefined)) {
      out.push({ path: '/ensure', message: 'ensure: absent cannot be combined with source, mode, owner or group' });
    }
    return out;
  },

  /** read() without a promise when the host reads synchronously and no owner/group lookup is needed. */
  readNow(d: FileResource, ctx: ResourceContext): FileActual | undefined | NotNow {
    const h = syncReads(ctx);
    if (!h || d.owner !== undefined || d.group !== undefined) return NOT_NOW;
    const stat = h.lstatNow(d.path);
    if (!stat) return undefined;
    if (stat.kind === 'file' && d.source !== undefined && d.ensure !== 'absent') {
      return { stat, ids: NO_IDS, content: `sha256:${h.sha256Now(d.path)}` };
    }
    return { stat, ids: NO_IDS };
  },

  async read(d: FileResource, ctx: ResourceContext): Promise<FileActual | undefined> {
    const stat = await ctx.host.lstat(d.path);
    if (!stat) return undefined;
    let content: string | undefined;
    if (stat.kind === 'file' && d.source !== undefined && d.ensure !== 'absent') {
      content = `sha256:${hash('sha256', await ctx.host.readFile(d.path), 'hex')}`;
    }
    const ids = stat.kind === 'file' && (d.owner !== undefined || d.group !== undefined) ? await resolveOwner(ctx.host, d.owner, d.group) : NO_IDS;
    return content !== undefined ? { stat, ids, content } : { stat, ids };
  },

  diff(d: FileResource, a: FileActual | undefined): Change[] {
    if (d.ensure === 'absent') {
      return a ? [{ property: 'ensure', before: a.stat.kind === 'file' ? 'present' : a.stat.kind, after: 'absent' }] : [];
    }
    if (!a) return [{ property: 'ensure', after: 'present' }];
    if (a.stat.kind !== 'file') return [{ property: 'ensure', before: a.stat.kind, after: 'present' }];
    const out: Change[] = [];
    if (d.source !== undefined && a.content !== d.source) out.push({ property: 'content', before: a.content, after: d.source });
    out.push(...metadataChanges(d, a.stat, a.ids));
    return out;
  },

  async describe(plan: Plan<'file', FileActual>, ctx: ResourceContext): Promise<string | undefined> {
    const d = plan.desired;
    const contentChange = plan.changes.some((c) => c.property === 'content' || c.property === 'ensure');
    if (!contentChange) return undefined;
    const a = plan.actual;
    let before: Buffer | undefined;
    if (a && a.stat.kind === 'file') {
      if (a.stat.size > MAX_DIFF_BYTES) return undefined;
      before = await ctx.host.readFile(d.path);
    }
    let after: Buffer | undefined;
    if (d.ensure !== 'absent') after = d.source !== undefined ? await ctx.blobs.get(d.source, ctx.signal) : before ?? Buffer.alloc(0);
    if (before === undefined && after === undefined) return undefined;
    return unifiedDiff(d.path, before, after);
  },

  async apply(plan: Plan<'file', FileActual>, ctx: ResourceContext): Promise<void> {
    const d = plan.desired;
    const a = plan.actual;
    const keepBackup = d.backup !== false;
    if (d.ensure === 'absent') {
      if (!a) return;
      if (a.stat.kind === 'directory') throw new ResourceError('WRONG_KIND', `${d.path} is a directory; a file resource will not remove it`);
      if (a.stat.kind === 'file' && keepBackup) await backupContent(ctx.stateDir, d.path, await ctx.host.readFile(d.path));
      await ctx.host.remove(d.path);
      return;
    }
    if (a && a.stat.kind !== 'file' && a.stat.kind !== 'link') {
      throw new ResourceError('WRONG_KIND', `${d.path} is a ${a.stat.kind}; a file resource will not replace it`);
    }
    const props = new Set(plan.changes.map((c) => c.property));
    const rewrite = !a || a.stat.kind !== 'file' || props.has('content');
    if (!rewrite) {
      await applyMetadata(ctx.host, d.path, plan.changes, d, a.ids, 'file');
      return;
    }
    await requireParent(ctx.host, d.path);
    const ids = a && a.stat.kind === 'file' ? a.ids : await resolveOwner(ctx.host, d.owner, d.group);
    const { uid, gid } = requireIds(d, ids);
    let data: Buffer;
    if (d.source !== undefined) {
      blobHex(d.source);
      data = verifyBlob(d.source, await ctx.blobs.get(d.source, ctx.signal));
    } else {
      data = Buffer.alloc(0);
    }
    ctx.signal.throwIfAborted();
    if (a && a.stat.kind === 'file' && keepBackup) await backupContent(ctx.stateDir, d.path, await ctx.host.readFile(d.path));
    const mode = d.mode !== undefined ? parseMode(d.mode) : a && a.stat.kind === 'file' ? a.stat.mode : 0o644;
    await ctx.host.writeFileAtomic(d.path, data, { mode, ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}) });
    ctx.log(`wrote ${d.path}`, { bytes: data.length, mode: formatMode(mode) });
  },
} satisfies ResourceImpl<'file', FileActual>;
