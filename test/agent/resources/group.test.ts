import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { registry } from '../../../agent/resources/registry.js';
import { groupResource } from '../../../agent/resources/group.js';
import { sha256File } from '../../helpers/os-apt-repo.js';
import { converge, osContext } from '../../helpers/os-context.js';
import { makeEtcRoot, shadowUnavailable } from '../../helpers/os-etc-root.js';
import { resourceContract } from './contract.js';

t.test('diff', async (t) => {
  t.same(groupResource.diff({ type: 'group', name: 'g' }, undefined), [{ property: 'ensure', after: 'present' }]);
  t.same(groupResource.diff({ type: 'group', name: 'g', ensure: 'absent' }, undefined), []);
  t.same(groupResource.diff({ type: 'group', name: 'g' }, { gid: 5, members: [] }), [], 'gid not managed when absent from the manifest');
  t.same(groupResource.diff({ type: 'group', name: 'g', gid: 6 }, { gid: 5, members: [] }), [{ property: 'gid', before: 5, after: 6 }]);
  t.same(groupResource.diff({ type: 'group', name: 'g', ensure: 'absent' }, { gid: 5, members: [] }), [{ property: 'ensure', before: 'present', after: 'absent' }]);
  t.equal(groupResource.validate({ type: 'group', name: 'g', ensure: 'absent', gid: 5 }).length, 1);
});

const why = shadowUnavailable();
t.test('real groupadd/groupmod/groupdel under a prefix root', { skip: why ?? false }, async (t) => {
  const dir = t.testdir({ state: {}, root: {} });
  const root = join(dir, 'root');
  makeEtcRoot(root);
  const machine = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow'].map((f) => [f, sha256File(f)] as const);
  const ctx = osContext(createNodeHost({ root }), join(dir, 'state'));
  const groupLine = (name: string) => readFileSync(join(root, 'etc/group'), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));

  let r = await converge(groupResource, { type: 'group', name: 'deploy', gid: 2000 }, ctx);
  t.same(r.changes, [{ property: 'ensure', after: 'present' }]);
  t.equal(groupLine('deploy'), 'deploy:x:2000:');
  r = await converge(groupResource, { type: 'group', name: 'deploy', gid: 2000 }, ctx);
  t.same(r.changes, [], 'second run: in sync');

  r = await converge(groupResource, { type: 'group', name: 'deploy', gid: 2001 }, ctx);
  t.same(r.changes, [{ property: 'gid', before: 2000, after: 2001 }]);
  t.equal(groupLine('deploy'), 'deploy:x:2001:');

  r = await converge(groupResource, { type: 'group', name: 'svc', system: true }, ctx);
  t.ok((r.after?.gid ?? 10000) < 1000, 'a system group gets a gid below 1000');
  r = await converge(groupResource, { type: 'group', name: 'plain' }, ctx);
  t.ok((r.after?.gid ?? 0) >= 1000, 'a normal group gets a gid from 1000');

  // read/diff as in noop: the file does not change
  const before = readFileSync(join(root, 'etc/group'), 'utf8');
  const actual = await groupResource.read({ type: 'group', name: 'deploy', ensure: 'absent' }, ctx);
  t.equal(groupResource.diff({ type: 'group', name: 'deploy', ensure: 'absent' }, actual).length, 1);
  t.equal(readFileSync(join(root, 'etc/group'), 'utf8'), before);

  r = await converge(groupResource, { type: 'group', name: 'deploy', ensure: 'absent' }, ctx);
  t.same(r.changes, [{ property: 'ensure', before: 'present', after: 'absent' }]);
  t.equal(groupLine('deploy'), undefined);

  await t.rejects(converge(groupResource, { type: 'group', name: 'dup', gid: 100 }, ctx), { code: 'COMMAND_FAILED', message: /groupadd/ }, 'a taken gid fails with groupadd\'s message');

  for (const [f, sum] of machine) t.equal(sha256File(f), sum, `the machine's ${f} is untouched`);
});

if (why === undefined) {
  const etc = (root: string) => makeEtcRoot(root);
  await resourceContract(t, {
    impl: groupResource as never,
    registry,
    cases: [
      { name: 'create with a gid', desired: () => ({ type: 'group', name: 'deploy', gid: 2000 }), prepare: etc },
      { name: 'create a system group', desired: () => ({ type: 'group', name: 'svc', system: true }), prepare: etc },
      { name: 'change the gid', desired: () => ({ type: 'group', name: 'users', gid: 101 }), prepare: etc },
      { name: 'remove', desired: () => ({ type: 'group', name: 'users', ensure: 'absent' }), prepare: etc },
      { name: 'existing group, gid unmanaged', desired: () => ({ type: 'group', name: 'users' }), prepare: etc, changes: false },
    ],
  });
} else {
  t.test('group contract', { skip: why }, () => undefined);
}

t.test('changing a gid to one taken in the root fails, even where the machine has it free', { skip: why ?? false }, async (t) => {
  const dir = t.testdir({ state: {}, root: {} });
  const root = join(dir, 'root');
  makeEtcRoot(root);
  const ctx = osContext(createNodeHost({ root }), join(dir, 'state'));
  await converge(groupResource, { type: 'group', name: 'a', gid: 3456 }, ctx);
  await converge(groupResource, { type: 'group', name: 'b', gid: 3457 }, ctx);
  await t.rejects(converge(groupResource, { type: 'group', name: 'b', gid: 3456 }, ctx), { code: 'COMMAND_FAILED', message: /3456' already exists \(group a\)/ });
});
