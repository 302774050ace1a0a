/**
 * The group resource: a local group, written with groupadd/groupmod/groupdel through the shadow
 * provider. `gid` absent: chosen by groupadd, then not managed; `system` applies only on creation.
 * Membership is managed from the user side (user.groups).
 */
import { shadowProvider } from '../providers/shadow.js';
import type { Change, Problem, ResourceImpl } from './resource.js';

/** What read() found in the root's /etc/group. */
export interface GroupActual {
  readonly gid: number;
  readonly members: readonly string[];
}

export const groupResource = {
  type: 'group',

  validate(desired): Problem[] {
    return desired.ensure === 'absent' && desired.gid !== undefined ? [{ path: '/gid', message: 'gid cannot be set when ensure is absent' }] : [];
  },

  async read(desired, ctx) {
    const g = (await shadowProvider.accounts(ctx)).groups.find((e) => e.name === desired.name);
    return g === undefined ? undefined : { gid: g.gid, members: g.members };
  },

  diff(desired, actual): Change[] {
    const ensure = desired.ensure ?? 'present';
    if (actual === undefined) return ensure === 'absent' ? [] : [{ property: 'ensure', after: 'present' }];
    if (ensure === 'absent') return [{ property: 'ensure', before: 'present', after: 'absent' }];
    return desired.gid !== undefined && desired.gid !== actual.gid ? [{ property: 'gid', before: actual.gid, after: desired.gid }] : [];
  },

  async apply({ desired, changes }, ctx) {
    const first = changes[0];
    if (first?.property === 'ensure') {
      if (first.after === 'absent') await shadowProvider.deleteGroup(desired.name, ctx);
      else await shadowProvider.addGroup(desired.name, desired.gid, desired.system === true, ctx);
      return;
    }
    if (desired.gid !== undefined) await shadowProvider.modifyGroup(desired.name, desired.gid, ctx);
  },
} satisfies ResourceImpl<'group', GroupActual>;
