/**
 * Issue 8 item 14: users and groups in a root without its account files fail at once, naming the
 * missing <root>/etc/passwd, group or shadow, and no shadow tool runs (useradd would wait ~14 s
 * on a lock it cannot create, then fail with "cannot lock …"; without /etc/shadow, usermod -p
 * would write the hash into the world-readable /etc/passwd).
 */
import t from 'tap';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Host } from '../../../agent/host/host.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { userResource } from '../../../agent/resources/user.js';
import { groupResource } from '../../../agent/resources/group.js';
import { converge, osContext } from '../../helpers/os-context.js';
import { makeEtcRoot } from '../../helpers/os-etc-root.js';
import { runStead } from '../../helpers/cli.js';

/** The real NodeHost, with every exec recorded (and none of them run: none may be reached). */
function recordingHost(root: string): { host: Host; execs: string[] } {
  const real = createNodeHost({ root });
  const execs: string[] = [];
  const host = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'exec') return (file: string, args: readonly string[]) => {
        execs.push([file, ...args].join(' '));
        return Promise.reject(new Error(`unexpected command ${file}`));
      };
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { host, execs };
}

const cases: { name: string; prepare: (root: string) => void; missing: RegExp }[] = [
  { name: 'an empty root', prepare: () => undefined, missing: /\/etc\/passwd is missing, .*\/etc\/group is missing/ },
  { name: 'no /etc/group', prepare: (r) => (makeEtcRoot(r), rmSync(join(r, 'etc/group'))), missing: /\/etc\/group is missing/ },
  { name: '/etc/passwd a symlink', prepare: (r) => (makeEtcRoot(r), rmSync(join(r, 'etc/passwd')), symlinkSync('/etc/passwd', join(r, 'etc/passwd'))), missing: /\/etc\/passwd is a symbolic link, not a regular file/ },
  { name: '/etc/group a directory', prepare: (r) => (makeEtcRoot(r), rmSync(join(r, 'etc/group')), mkdirSync(join(r, 'etc/group'))), missing: /\/etc\/group is a directory, not a regular file/ },
];

for (const c of cases) {
  t.test(`${c.name}: user and group fail at once, naming the file, running nothing`, async (t) => {
    const dir = t.testdir({ root: {}, state: {} });
    const root = join(dir, 'root');
    c.prepare(root);
    const { host, execs } = recordingHost(root);
    const ctx = osContext(host, join(dir, 'state'));
    for (const [impl, desired] of [
      [userResource, { type: 'user', name: 'deploy', uid: 2001 }],
      [groupResource, { type: 'group', name: 'www', gid: 2002 }],
      [groupResource, { type: 'group', name: 'www', ensure: 'absent' }],
    ] as const) {
      const err = await converge(impl as never, desired as never, ctx).then(
        () => undefined,
        (e: unknown) => e as { code?: string; message?: string },
      );
      t.equal(err?.code, 'NO_ACCOUNT_FILES', `${desired.type} ${desired.name}`);
      t.match(err?.message ?? '', c.missing);
      t.match(err?.message ?? '', root, 'the message names the real path under the root');
    }
    t.same(execs, [], 'no shadow tool ran');
  });
}

t.test('a password with no /etc/shadow fails before useradd: no user without its password, no hash in passwd', async (t) => {
  const dir = t.testdir({ root: {}, state: {} });
  const root = join(dir, 'root');
  makeEtcRoot(root);
  rmSync(join(root, 'etc/shadow'));
  const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
  const { host, execs } = recordingHost(root);
  const ctx = osContext(host, join(dir, 'state'));
  await t.rejects(converge(userResource, { type: 'user', name: 'deploy', password: '$6$salt$hash' }, ctx), { code: 'NO_ACCOUNT_FILES', message: /cannot add user deploy: .*\/etc\/shadow is missing/ });
  t.same(execs, []);
  t.equal(readFileSync(join(root, 'etc/passwd'), 'utf8'), passwd);
  // An existing user whose password changes: same check before usermod.
  writeFileSync(join(root, 'etc/passwd'), `${passwd}deploy:x:2001:100::/home/deploy:/bin/sh\n`);
  await t.rejects(converge(userResource, { type: 'user', name: 'deploy', password: '$6$salt$hash' }, ctx), { code: 'NO_ACCOUNT_FILES', message: /\/etc\/shadow is missing/ });
  t.same(execs, []);
});

t.test('stead apply --root on an empty root: the run fails naming the files, without waiting on tool locks', async (t) => {
  const dir = t.testdir({ 'site.yaml': 'resources:\n  - type: group\n    name: www\n  - type: user\n    name: deploy\n    groups: [www]\n    require: [group:www]\n', root: {} });
  const root = join(dir, 'root');
  const r = await runStead(['apply', join(dir, 'site.yaml'), '--root', root]);
  t.equal(r.code, 1, r.stderr);
  const out = r.stdout + r.stderr;
  t.match(out, new RegExp(`group:www: NO_ACCOUNT_FILES: cannot read users and groups: ${root}/etc/passwd is missing, ${root}/etc/group is missing`));
  t.notMatch(out, /cannot lock/, 'no shadow tool was asked');
});
