/**
 * The user resource: a local account. What is compared here; how it is written is the shadow
 * provider's job (agent/providers/shadow.ts). Properties absent from the manifest are not managed.
 * `system` applies only on creation; `managehome` creates the home on creation, moves it when
 * `home` changes, and removes it on removal. `password` is a crypt(3) hash (x-sensitive: the
 * engine redacts it; this file never logs it).
 */
import type { UserResource } from '../../schemas/resources/user.js';
import { shadowProvider } from '../providers/shadow.js';
import { supplementaryGroups } from '../providers/shadow-files.js';
import type { UserSpec } from '../providers/types.js';
import type { Change, Problem, ResourceImpl } from './resource.js';

/** What read() found in the root's account files. */
export interface UserActual {
  readonly uid: number;
  readonly gid: number;
  /** The name of the primary group, when /etc/group has it. */
  readonly gidName: string | undefined;
  /** Supplementary groups, sorted. */
  readonly groups: readonly string[];
  readonly home: string;
  readonly shell: string;
  readonly comment: string;
  readonly password: string | undefined;
}

/** A crypt(3) hash, a locked/disabled marker ("!", "*", "!" + hash) or empty; never clear text. */
const hashLike = /^(!*|\*|!*\$[0-9a-z]+\$[^:\s]{8,}|!*[./0-9A-Za-z]{13})$/;

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

export const userResource = {
  type: 'user',

  validate(desired): Problem[] {
    const problems: Problem[] = [];
    if (desired.password !== undefined && !hashLike.test(desired.password)) {
      // Never echo the value: it may be a clear-text password.
      problems.push({ path: '/password', message: 'password must be a crypt(3) hash as in /etc/shadow (e.g. from `mkpasswd -m yescrypt`), "!" or "*"; a clear-text password is refused' });
    }
    if (desired.ensure === 'absent') {
      for (const p of ['uid', 'gid', 'groups', 'home', 'shell', 'comment', 'password'] as const) {
        if (desired[p] !== undefined) problems.push({ path: `/${p}`, message: `${p} cannot be set when ensure is absent` });
      }
    }
    return problems;
  },

  async read(desired, ctx) {
    const db = await shadowProvider.accounts(ctx);
    const u = db.users.find((e) => e.name === desired.name);
    if (u === undefined) return undefined;
    return {
      uid: u.uid,
      gid: u.gid,
      gidName: db.groups.find((g) => g.gid === u.gid)?.name,
      groups: supplementaryGroups(db, u.name),
      home: u.home,
      shell: u.shell,
      comment: u.comment,
      password: u.password,
    };
  },

  diff(desired, actual): Change[] {
    const ensure = desired.ensure ?? 'present';
    if (actual === undefined) return ensure === 'absent' ? [] : [{ property: 'ensure', after: 'present' }];
    if (ensure === 'absent') return [{ property: 'ensure', before: 'present', after: 'absent' }];
    const c: Change[] = [];
    if (desired.uid !== undefined && desired.uid !== actual.uid) c.push({ property: 'uid', before: actual.uid, after: desired.uid });
    if (desired.gid !== undefined) {
      if (typeof desired.gid === 'number' ? desired.gid !== actual.gid : desired.gid !== actual.gidName) {
        c.push({ property: 'gid', before: typeof desired.gid === 'number' ? actual.gid : (actual.gidName ?? actual.gid), after: desired.gid });
      }
    }
    if (desired.groups !== undefined && !sameSet(desired.groups, actual.groups)) {
      c.push({ property: 'groups', before: [...actual.groups], after: [...new Set(desired.groups)].sort() });
    }
    for (const p of ['home', 'shell', 'comment'] as const) {
      const want = desired[p];
      if (want !== undefined && want !== actual[p]) c.push({ property: p, before: actual[p], after: want });
    }
    if (desired.password !== undefined && desired.password !== actual.password) {
      c.push(actual.password === undefined ? { property: 'password', after: desired.password } : { property: 'password', before: actual.password, after: desired.password });
    }
    return c;
  },

  async apply({ desired, changes }, ctx) {
    const first = changes[0];
    if (first?.property === 'ensure') {
      if (first.after === 'absent') await shadowProvider.deleteUser(desired.name, desired.managehome === true, ctx);
      else await shadowProvider.addUser(desired.name, specOf(desired), ctx);
      return;
    }
    const changed = new Set(changes.map((c) => c.property));
    const spec: { -readonly [K in keyof UserSpec]: UserSpec[K] } = {};
    if (changed.has('uid') && desired.uid !== undefined) spec.uid = desired.uid;
    if (changed.has('gid') && desired.gid !== undefined) spec.gid = desired.gid;
    if (changed.has('groups') && desired.groups !== undefined) spec.groups = desired.groups;
    if (changed.has('home') && desired.home !== undefined) spec.home = desired.home;
    if (changed.has('shell') && desired.shell !== undefined) spec.shell = desired.shell;
    if (changed.has('comment') && desired.comment !== undefined) spec.comment = desired.comment;
    if (changed.has('password') && desired.password !== undefined) spec.password = desired.password;
    if (desired.managehome !== undefined) spec.managehome = desired.managehome;
    await shadowProvider.modifyUser(desired.name, spec, ctx);
  },
} satisfies ResourceImpl<'user', UserActual>;

function specOf(d: UserResource): UserSpec {
  const spec: { -readonly [K in keyof UserSpec]: UserSpec[K] } = {};
  if (d.uid !== undefined) spec.uid = d.uid;
  if (d.gid !== undefined) spec.gid = d.gid;
  if (d.groups !== undefined) spec.groups = d.groups;
  if (d.home !== undefined) spec.home = d.home;
  if (d.shell !== undefined) spec.shell = d.shell;
  if (d.comment !== undefined) spec.comment = d.comment;
  if (d.password !== undefined) spec.password = d.password;
  if (d.system !== undefined) spec.system = d.system;
  if (d.managehome !== undefined) spec.managehome = d.managehome;
  return spec;
}
