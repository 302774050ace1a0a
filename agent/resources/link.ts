/**
 * The link type: a symbolic link whose target is written exactly as given (relative targets stay
 * relative). A wrong link is replaced atomically (new link beside it, renamed over). Something
 * else at the path (a file, an empty directory) is replaced only with `force`. `ensure: absent`
 * removes a link and leaves anything that is not a link alone.
 */
import { randomBytes } from 'node:crypto';
import type { LinkResource } from '../../schemas/index.js';
import type { Stat } from '../host/host.js';
import type { Change, Plan, Problem, ResourceContext, ResourceImpl } from './resource.js';
import { ResourceError } from '../engine/engine-error.js';
import { baseName, parentOf, requireParent } from './fs-common.js';

export interface LinkActual {
  readonly stat: Stat;
  /** The link's target, when it is a link. */
  readonly target?: string;
  /** When a directory stands at the path: whether it is empty. */
  readonly empty?: boolean;
}

export const link = {
  type: 'link',

  validate(d: LinkResource): Problem[] {
    const out: Problem[] = [];
    if (d.ensure !== 'absent' && d.target === undefined) out.push({ path: '/target', message: 'a link needs a target unless ensure is absent' });
    if (d.target !== undefined && d.target.includes('\0')) out.push({ path: '/target', message: 'the target must not contain NUL' });
    return out;
  },

  async read(d: LinkResource, ctx: ResourceContext): Promise<LinkActual | undefined> {
    const stat = await ctx.host.lstat(d.path);
    if (!stat) return undefined;
    if (stat.kind === 'link') return { stat, target: await ctx.host.readlink(d.path) };
    if (stat.kind === 'directory') return { stat, empty: (await ctx.host.readdir(d.path)).length === 0 };
    return { stat };
  },

  diff(d: LinkResource, a: LinkActual | undefined): Change[] {
    if (d.ensure === 'absent') return a && a.stat.kind === 'link' ? [{ property: 'ensure', before: 'present', after: 'absent' }] : [];
    if (!a) return [{ property: 'ensure', after: 'present' }];
    if (a.stat.kind !== 'link') return [{ property: 'ensure', before: a.stat.kind, after: 'present' }];
    return a.target === d.target ? [] : [{ property: 'target', before: a.target, after: d.target }];
  },

  async apply(plan: Plan<'link', LinkActual>, ctx: ResourceContext): Promise<void> {
    const d = plan.desired;
    const a = plan.actual;
    const host = ctx.host;
    if (d.ensure === 'absent') {
      if (a && a.stat.kind === 'link') await host.remove(d.path);
      return;
    }
    const target = d.target!;
    await requireParent(host, d.path);
    if (a && a.stat.kind !== 'link') {
      if (d.force !== true) throw new ResourceError('WRONG_KIND', `${d.path} is a ${a.stat.kind}; set force: true to replace it with a link`);
      if (a.stat.kind === 'directory') {
        if (a.empty !== true) throw new ResourceError('NOT_EMPTY', `${d.path} is a non-empty directory; a link resource never removes content`);
        await host.remove(d.path);
      } else if (a.stat.kind !== 'file') {
        throw new ResourceError('WRONG_KIND', `${d.path} is a ${a.stat.kind}; a link resource will not replace it`);
      }
    }
    const tmp = `${parentOf(d.path) === '/' ? '' : parentOf(d.path)}/.${baseName(d.path).slice(0, 180)}.stead-${randomBytes(6).toString('hex')}.lnk`;
    await host.symlink(target, tmp);
    try {
      await host.rename(tmp, d.path);
    } catch (err) {
      await host.remove(tmp).catch(() => undefined);
      throw err;
    }
  },
} satisfies ResourceImpl<'link', LinkActual>;
