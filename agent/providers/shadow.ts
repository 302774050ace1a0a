/**
 * Users and groups with the shadow tools (Debian's `passwd` package).
 *
 * Commands (argv arrays through ctx.host.exec; `-P <root>` when ctx.host.root is not "/", which
 * makes the tools read and write <root>/etc/{passwd,shadow,group,gshadow} and <root>/home):
 * - useradd [-P R] [-u UID] [-g GID] [-G G1,G2] [-d HOME] [-s SHELL] [-c COMMENT] [-r] (-m|-M) NAME
 * - usermod [-P R] [-u UID] [-g GID] [-G G1,G2] [-d HOME [-m]] [-s SHELL] [-c COMMENT] NAME
 * - userdel [-P R] [-r] NAME
 * - groupadd [-P R] [-g GID] [-r] NAME · groupmod [-P R -o] -g GID NAME · groupdel [-P R] NAME
 * - password hashes: `chpasswd -e` with "name:hash" on stdin on a real host (the hash never appears
 *   in a command line); under a root `usermod -P R -p HASH` (chpasswd has no prefix option).
 *
 * Known tool limitations worked around, under a root only (Debian 12, shadow 4.13):
 * - usermod resolves `-g` through the machine's NSS even with -P, so a primary-group change
 *   rewrites the gid field of <root>/etc/passwd through the Host instead (files in the home
 *   directory keep their group in that case);
 * - groupmod checks a new `-g` against the machine's groups, so the root's /etc/group is checked
 *   here and groupmod runs with -o.
 */
import type { ResourceContext } from '../resources/resource.js';
import { runCommand } from './run-command.js';
import { parseGroup, parsePasswd, parseShadow, setPrimaryGid } from './shadow-files.js';
import { ProviderError, type AccountDb, type UserProvider, type UserSpec } from './types.js';

function prefix(ctx: ResourceContext): string[] {
  return ctx.host.root === '/' ? [] : ['-P', ctx.host.realPath('/')];
}

async function readText(ctx: ResourceContext, path: string): Promise<string> {
  const st = await ctx.host.lstat(path);
  if (st === undefined) return '';
  return (await ctx.host.readFile(path)).toString('utf8');
}

/** The account files every user and group operation needs; /etc/shadow too when a password is set. */
const ACCOUNT_FILES: readonly string[] = ['/etc/passwd', '/etc/group'];

/**
 * Fails at once, naming every such file, when one of `files` is not a regular file under the
 * root. The tools would otherwise wait ~14 s each on a lock they cannot create in a missing /etc
 * and fail with "cannot lock …; try again later", or, with no /etc/shadow, write a password hash
 * into the world-readable /etc/passwd.
 */
async function requireFiles(ctx: ResourceContext, files: readonly string[], why: string): Promise<void> {
  const bad: string[] = [];
  for (const f of files) {
    const st = await ctx.host.lstat(f);
    if (st?.kind === 'file') continue;
    bad.push(`${ctx.host.realPath(f)} ${st === undefined ? 'is missing' : `is a ${st.kind === 'link' ? 'symbolic link' : st.kind}, not a regular file`}`);
  }
  if (bad.length === 0) return;
  const hint = ctx.host.root === '/' ? '' : '; a --root that manages users or groups needs an etc/ with passwd, group and shadow (e.g. copied from a base image)';
  throw new ProviderError('NO_ACCOUNT_FILES', `${why}: ${bad.join(', ')}${hint}`);
}

/** The files a user change needs: with a password, /etc/shadow too (checked first, so nothing is half done). */
function filesFor(spec: UserSpec): readonly string[] {
  return spec.password === undefined ? ACCOUNT_FILES : [...ACCOUNT_FILES, '/etc/shadow'];
}

/** Resolves a gid given by name or number against the root's /etc/group. */
async function resolveGid(gid: number | string, ctx: ResourceContext): Promise<number> {
  if (typeof gid === 'number') return gid;
  const g = parseGroup(await readText(ctx, '/etc/group')).find((e) => e.name === gid);
  if (g === undefined) throw new ProviderError('NOT_FOUND', `group ${gid} does not exist`);
  return g.gid;
}

async function setPassword(name: string, hash: string, ctx: ResourceContext): Promise<void> {
  await requireFiles(ctx, ['/etc/shadow'], `cannot set the password of ${name}`);
  if (ctx.host.root === '/') {
    await runCommand(ctx, 'chpasswd', ['-e'], { input: `${name}:${hash}\n`, describe: `chpasswd -e (password of ${name})` });
  } else {
    await runCommand(ctx, 'usermod', [...prefix(ctx), '-p', hash, '--', name], { describe: `usermod -p [redacted] ${name}` });
  }
}

/** Arguments shared by useradd and usermod for the properties present in `spec` (gid and password excluded). */
function commonArgs(spec: UserSpec): string[] {
  const a: string[] = [];
  if (spec.uid !== undefined) a.push('-u', String(spec.uid));
  if (spec.groups !== undefined) a.push('-G', [...new Set(spec.groups)].join(','));
  if (spec.home !== undefined) a.push('-d', spec.home);
  if (spec.shell !== undefined) a.push('-s', spec.shell);
  if (spec.comment !== undefined) a.push('-c', spec.comment);
  return a;
}

export const shadowProvider: UserProvider = {
  name: 'shadow',

  async accounts(ctx): Promise<AccountDb> {
    await requireFiles(ctx, ACCOUNT_FILES, 'cannot read users and groups');
    const [passwd, shadow, group] = await Promise.all([readText(ctx, '/etc/passwd'), readText(ctx, '/etc/shadow'), readText(ctx, '/etc/group')]);
    return { users: parsePasswd(passwd, parseShadow(shadow)), groups: parseGroup(group) };
  },

  async addUser(name, spec, ctx) {
    await requireFiles(ctx, filesFor(spec), `cannot add user ${name}`);
    const a = [...prefix(ctx), ...commonArgs(spec)];
    // useradd resolves -g under the prefix correctly; a number is passed as is.
    if (spec.gid !== undefined) a.push('-g', String(spec.gid));
    if (spec.system === true) a.push('-r');
    a.push(spec.managehome === true ? '-m' : '-M');
    await runCommand(ctx, 'useradd', [...a, '--', name]);
    if (spec.password !== undefined) await setPassword(name, spec.password, ctx);
  },

  async modifyUser(name, spec, ctx) {
    await requireFiles(ctx, filesFor(spec), `cannot change user ${name}`);
    const a = commonArgs(spec);
    if (spec.home !== undefined && spec.managehome === true) a.push('-m');
    let gidByFile: number | undefined;
    if (spec.gid !== undefined) {
      if (ctx.host.root === '/') a.push('-g', String(spec.gid));
      else gidByFile = await resolveGid(spec.gid, ctx);
    }
    if (a.length > 0) await runCommand(ctx, 'usermod', [...prefix(ctx), ...a, '--', name]);
    if (gidByFile !== undefined) {
      const text = await readText(ctx, '/etc/passwd');
      await ctx.host.writeFileAtomic('/etc/passwd', setPrimaryGid(text, name, gidByFile));
    }
    if (spec.password !== undefined) await setPassword(name, spec.password, ctx);
  },

  async deleteUser(name, removeHome, ctx) {
    await requireFiles(ctx, ACCOUNT_FILES, `cannot remove user ${name}`);
    await runCommand(ctx, 'userdel', [...prefix(ctx), ...(removeHome ? ['-r'] : []), '--', name]);
  },

  async addGroup(name, gid, system, ctx) {
    await requireFiles(ctx, ACCOUNT_FILES, `cannot add group ${name}`);
    await runCommand(ctx, 'groupadd', [...prefix(ctx), ...(gid !== undefined ? ['-g', String(gid)] : []), ...(system ? ['-r'] : []), '--', name]);
  },

  async modifyGroup(name, gid, ctx) {
    await requireFiles(ctx, ACCOUNT_FILES, `cannot change group ${name}`);
    if (ctx.host.root === '/') {
      await runCommand(ctx, 'groupmod', ['-g', String(gid), '--', name]);
      return;
    }
    // groupmod -P checks the new gid against the machine's groups (NSS), not the root's: check the
    // root's /etc/group here and let groupmod skip its own check (-o).
    const taken = parseGroup(await readText(ctx, '/etc/group')).find((g) => g.gid === gid && g.name !== name);
    if (taken !== undefined) throw new ProviderError('COMMAND_FAILED', `groupmod: GID '${gid}' already exists (group ${taken.name})`);
    await runCommand(ctx, 'groupmod', [...prefix(ctx), '-o', '-g', String(gid), '--', name]);
  },

  async deleteGroup(name, ctx) {
    await requireFiles(ctx, ACCOUNT_FILES, `cannot remove group ${name}`);
    await runCommand(ctx, 'groupdel', [...prefix(ctx), '--', name]);
  },
};
