/**
 * The flattened key table of a repository file: keys as `stead vars show --flat` writes them,
 * values as YAML flow text with their line, secrets shown as their marker and never editable
 * here, edits written back into the YAML with comments kept, forbidden keys refused.
 */
import t from 'tap';
import { editVarTable, holdsVariables, readVarTable } from '../../../../server/services/manifests/var-table.js';

const group = `# web tier
kind: custom
vars:
  app:
    port: 8080   # the port
    hosts: [a, b]
  servers:
    db1.example.com: { port: 5432 }
  token: !secret v1:abcdefabcdef
`;

t.test('reads the key table', async (t) => {
  const table = readVarTable('groups/web.yaml', group);
  t.same(
    table.rows.map((r) => [r.key, r.value, r.line]),
    [
      ['app.hosts', '[a, b]', 6],
      ['app.port', '8080', 5],
      ['servers["db1.example.com"].port', '5432', 8],
      ['token', table.rows.find((r) => r.key === 'token')!.value, 9],
    ],
  );
  t.match(table.rows.find((r) => r.key === 'token'), { secret: true, value: /^\[secret sha256:[0-9a-f]{12}\]$/ });
  t.ok(holdsVariables('vars/global.yaml') && holdsVariables('inventory/a.yaml') && !holdsVariables('roles/app/role.yaml'));
  t.throws(() => readVarTable('roles/app/role.yaml', 'resources: []\n'), /holds no variables/);
  t.throws(() => readVarTable('groups/web.yaml', 'vars: [\n'), /fix the YAML first/);
  const inv = readVarTable('inventory/hosts.yaml', 'hosts:\n  web-1:\n    vars: { a: 1 }\n  web-2:\n    vars: { b: 2 }\n', 'web-2');
  t.same(inv.hosts, ['web-1', 'web-2']);
  t.same(inv.rows.map((r) => r.key), ['b']);
  t.same(readVarTable('vars/global.yaml', 'a:\n  b: 1\n').rows, [{ key: 'a.b', value: '1', line: 2 }]);
});

t.test('edits keep comments and type values as YAML', async (t) => {
  const out = editVarTable('groups/web.yaml', group, [
    { key: 'app.port', value: '9090' },
    { key: 'app.workers', value: '"4"' },
    { key: 'cache.ttl.seconds', value: '60' },
    { key: 'app.hosts' },
  ]);
  t.match(out, /^# web tier/);
  t.match(out, /db1.example.com: {port: 5432}/, 'flow collections without padding, as [a, b] is usually written');
  t.match(out, /port: 9090 +# the port/);
  t.match(out, /workers: "4"/);
  t.match(out, /cache:\n\s+ttl:\n\s+seconds: 60/);
  t.notMatch(out, /hosts:/);
  t.match(out, /token: !secret v1:abcdefabcdef/, 'the secret stays as it was');
  const rows = readVarTable('groups/web.yaml', out).rows.map((r) => r.key);
  t.same(rows, ['app.port', 'app.workers', 'cache.ttl.seconds', 'servers["db1.example.com"].port', 'token']);
  t.throws(() => editVarTable('groups/web.yaml', group, [{ key: 'token', value: 'x' }]), /holds a secret/);
  t.throws(() => editVarTable('groups/web.yaml', group, [{ key: 'a.__proto__.b', value: '1' }]), /forbidden/);
  t.throws(() => editVarTable('groups/web.yaml', group, [{ key: 'a..b', value: '1' }]), /not a variable key/);
  t.throws(() => editVarTable('groups/web.yaml', group, [{ key: 'nosuch' }]), /has no variable/);
  t.throws(() => editVarTable('groups/web.yaml', group, [{ key: 'x', value: '!secret v1:zz' }]), /secret/);
  t.equal(editVarTable('vars/global.yaml', '', [{ key: 'a.b', value: '1' }]), 'a:\n  b: 1\n', 'an empty file becomes a map');
  t.match(editVarTable('inventory/h.yaml', 'hosts:\n  web-1: {}\n', [{ key: 'x', value: '1' }], 'web-1'), /web-1:.*\n?.*vars:/s);
});
