import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Host } from '../../../agent/host/host.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { registry } from '../../../agent/resources/registry.js';
import { groupResource } from '../../../agent/resources/group.js';
import { userResource, type UserActual } from '../../../agent/resources/user.js';
import type { UserResource } from '../../../schemas/resources/user.js';
import { sha256File } from '../../helpers/os-apt-repo.js';
import { converge, osContext } from '../../helpers/os-context.js';
import { makeEtcRoot, shadowUnavailable } from '../../helpers/os-etc-root.js';
import { resourceContract } from './contract.js';

const HASH1 = '$6$stead$Kd2F7Zy0o1Z3tG5qkq7xXW4dG9YHn8U2m5v8Yk0bqv1x7tSg6JtS8m0Q0y3Qe9n4Xo3n2D9k1P6z5b7c8d9e0.';
const HASH2 = '$y$j9T$steadsalt$0123456789abcdefghijklmnopqrstuvwxyzABCDE';

t.test('validate refuses clear-text passwords without echoing them', async (t) => {
  for (const ok of [HASH1, HASH2, '!', '*', '!' + HASH1, '', 'abcdefghijklm']) {
    t.same(userResource.validate({ type: 'user', name: 'a', password: ok }), [], ok);
  }
  for (const bad of ['hunter2', 'correct horse battery staple', '$6$x']) {
    const p = userResource.validate({ type: 'user', name: 'a', password: bad });
    t.equal(p.length, 1);
    t.equal(p[0]?.path, '/password');
    t.notMatch(p[0]?.message ?? '', bad, 'the value is not in the message');
  }
  t.equal(userResource.validate({ type: 'user', name: 'a', ensure: 'absent', uid: 5, shell: '/bin/sh' }).length, 2);
});

t.test('diff compares only managed properties; groups as a set; gid by name or number', async (t) => {
  const a: UserActual = { uid: 1000, gid: 100, gidName: 'users', groups: ['b', 'c'], home: '/home/a', shell: '/bin/sh', comment: '', password: '!' };
  const d = (x: Partial<UserResource>): UserResource => ({ type: 'user', name: 'a', ...x });
  t.same(userResource.diff(d({}), a), []);
  t.same(userResource.diff(d({}), undefined), [{ property: 'ensure', after: 'present' }]);
  t.same(userResource.diff(d({ ensure: 'absent' }), undefined), []);
  t.same(userResource.diff(d({ ensure: 'absent' }), a), [{ property: 'ensure', before: 'present', after: 'absent' }]);
  t.same(userResource.diff(d({ gid: 'users', groups: ['c', 'b', 'b'] }), a), []);
  t.same(userResource.diff(d({ gid: 100 }), a), []);
  t.same(userResource.diff(d({ gid: 'staff' }), a), [{ property: 'gid', before: 'users', after: 'staff' }]);
  t.same(userResource.diff(d({ gid: 50 }), a), [{ property: 'gid', before: 100, after: 50 }]);
  t.same(userResource.diff(d({ groups: [] }), a), [{ property: 'groups', before: ['b', 'c'], after: [] }]);
  t.same(userResource.diff(d({ uid: 1001, shell: '/bin/bash', comment: 'A', home: '/h' }), a).map((c) => c.property), ['uid', 'home', 'shell', 'comment']);
  t.same(userResource.diff(d({ password: HASH1 }), a), [{ property: 'password', before: '!', after: HASH1 }]);
});

const why = shadowUnavailable();
t.test('real useradd/usermod/userdel under a prefix root', { skip: why ?? false }, async (t) => {
  const dir = t.testdir({ state: {}, root: {} });
  const root = join(dir, 'root');
  makeEtcRoot(root);
  const machine = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow'].map((f) => [f, sha256File(f)] as const);
  const ctx = osContext(createNodeHost({ root }), join(dir, 'state'));
  const line = (file: string, name: string) => readFileSync(join(root, 'etc', file), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));

  await converge(groupResource, { type: 'group', name: 'deploy', gid: 2000 }, ctx);
  await converge(groupResource, { type: 'group', name: 'extra', gid: 2100 }, ctx);

  const alice: UserResource = {
    type: 'user', name: 'alice', uid: 1500, gid: 'deploy', groups: ['users', 'extra'], home: '/home/alice',
    shell: '/bin/sh', comment: 'Alice Example', managehome: true, password: HASH1,
  };
  let r = await converge(userResource, alice, ctx);
  t.same(r.changes, [{ property: 'ensure', after: 'present' }]);
  t.equal(line('passwd', 'alice'), 'alice:x:1500:2000:Alice Example:/home/alice:/bin/sh');
  t.equal(line('shadow', 'alice')?.split(':')[1], HASH1, 'the hash is in the root\'s shadow');
  t.equal(line('group', 'users'), 'users:x:100:alice');
  t.equal(line('group', 'extra'), 'extra:x:2100:alice');
  t.equal(statSync(join(root, 'home/alice')).uid, 1500, 'managehome created the home, owned by the user');
  t.same(r.after?.groups, ['extra', 'users']);

  r = await converge(userResource, alice, ctx);
  t.same(r.changes, [], 'second run: in sync');

  // Exact supplementary set, gid by number (the prefix workaround), uid, shell, comment, home moved, new password.
  const changed: UserResource = { ...alice, uid: 1600, gid: 100, groups: ['extra'], shell: '/bin/bash', comment: 'Alice B', home: '/home/alice2', password: HASH2 };
  r = await converge(userResource, changed, ctx);
  t.same(r.changes.map((c) => c.property), ['uid', 'gid', 'groups', 'home', 'shell', 'comment', 'password']);
  t.equal(line('passwd', 'alice'), 'alice:x:1600:100:Alice B:/home/alice2:/bin/bash');
  t.equal(line('group', 'users'), 'users:x:100:', 'removed from a group not listed');
  t.equal(line('group', 'extra'), 'extra:x:2100:alice');
  t.equal(line('shadow', 'alice')?.split(':')[1], HASH2);
  t.notOk(existsSync(join(root, 'home/alice')), 'home moved away');
  t.equal(statSync(join(root, 'home/alice2')).uid, 1600, 'home moved and re-owned');

  r = await converge(userResource, { type: 'user', name: 'alice', gid: 'deploy' }, ctx);
  t.same(r.changes, [{ property: 'gid', before: 'users', after: 'deploy' }], 'gid by name');
  t.equal(line('passwd', 'alice')?.split(':')[3], '2000');

  // noop: read + diff leave every file as it is
  const files = ['passwd', 'group', 'shadow'].map((f) => readFileSync(join(root, 'etc', f), 'utf8'));
  const act = await userResource.read({ ...alice, ensure: 'present', shell: '/bin/zsh' }, ctx);
  t.same(userResource.diff({ ...alice, shell: '/bin/zsh' }, act).map((c) => c.property).includes('shell'), true);
  t.same(['passwd', 'group', 'shadow'].map((f) => readFileSync(join(root, 'etc', f), 'utf8')), files, 'read/diff wrote nothing');

  r = await converge(userResource, { type: 'user', name: 'svc', system: true }, ctx);
  t.ok((r.after?.uid ?? 5000) < 1000, 'a system user gets a uid below 1000');
  t.notOk(existsSync(join(root, 'home/svc')), 'no home without managehome');

  r = await converge(userResource, { type: 'user', name: 'alice', ensure: 'absent', managehome: true }, ctx);
  t.same(r.changes, [{ property: 'ensure', before: 'present', after: 'absent' }]);
  t.equal(line('passwd', 'alice'), undefined);
  t.equal(line('shadow', 'alice'), undefined);
  t.equal(line('group', 'extra'), 'extra:x:2100:', 'membership gone with the user');
  t.notOk(existsSync(join(root, 'home/alice2')), 'managehome removed the home');

  await t.rejects(converge(userResource, { type: 'user', name: 'bob', gid: 'nosuchgroup' }, ctx), { code: 'COMMAND_FAILED', message: /useradd/ });
  t.notOk(JSON.stringify(ctx.logs).includes(HASH1) || JSON.stringify(ctx.logs).includes(HASH2), 'no hash in the logs');
  for (const [f, sum] of machine) t.equal(sha256File(f), sum, `the machine's ${f} is untouched`);
});

if (why === undefined) {
  const etc = (root: string) => makeEtcRoot(root);
  const withBob = async (root: string, host: Host) => {
    makeEtcRoot(root);
    await converge(userResource, { type: 'user', name: 'bob', uid: 1200, groups: ['users'], managehome: true, home: '/home/bob' }, osContext(host, join(root, '..', 'prepare-state')));
  };
  await resourceContract(t, {
    impl: userResource as never,
    registry,
    cases: [
      { name: 'create with everything', desired: () => ({ type: 'user', name: 'alice', uid: 1500, gid: 'users', groups: ['daemon'], home: '/home/alice', shell: '/bin/sh', comment: 'Alice', managehome: true, password: HASH1 }), prepare: etc },
      { name: 'create a system user', desired: () => ({ type: 'user', name: 'svc', system: true }), prepare: etc },
      { name: 'modify', desired: () => ({ type: 'user', name: 'bob', uid: 1201, groups: [], shell: '/bin/sh', comment: 'Bob', password: HASH2 }), prepare: withBob },
      { name: 'remove with home', desired: () => ({ type: 'user', name: 'bob', ensure: 'absent', managehome: true }), prepare: withBob },
      { name: 'in sync', desired: () => ({ type: 'user', name: 'bob', uid: 1200, groups: ['users'] }), prepare: withBob, changes: false },
    ],
  });
} else {
  t.test('user contract', { skip: why }, () => undefined);
}
