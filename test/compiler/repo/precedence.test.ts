/** Variable precedence at every level and group membership, through real repositories on disk. */
import t from 'tap';
import { compileHost, hostVars } from '../../../compiler/compile.js';
import { explainKey } from '../../../compiler/vars/explain.js';
import { flattenVars } from '../../../compiler/vars/flatten.js';
import { baseRepoFiles, freshDir, loadFixture } from '../../helpers/compiler-repo-fixture.js';

t.test('each level overrides the one below: role default < global < idc < set < custom by priority < host < launch', async (t) => {
  const files = baseRepoFiles();
  files['roles/app/role.yaml'] = files['roles/app/role.yaml']!.replace('  name:\n    type: string\n    default: shop', '  name:\n    type: string\n    default: shop\n  level:\n    default: role');
  const repo = await loadFixture(freshDir(t), files);
  const at = (host: string, launch?: Record<string, unknown>): ReturnType<typeof hostVars> => hostVars(repo, host, {}, launch);

  const h1 = at('h1')!;
  t.same(h1.groups, ['idc-sh', 'low', 'set-a', 'web']);
  t.same(h1.layers.map((l) => l.id), ['role:app', 'global', 'group:idc-sh', 'group:set-a', 'group:low', 'group:web', 'host:h1']);
  t.equal(h1.merged['level'], 'host');
  const ex = explainKey(h1.layers, ['level']);
  t.equal(ex.winner?.layer, 'host:h1');
  t.same(ex.winner && { file: ex.winner.file, line: ex.winner.position?.line }, { file: 'inventory/hosts.yaml', line: 8 });
  t.same(ex.overridden.map((o) => `${o.layer}=${String(o.value)}@${o.file}:${o.position?.line}`), [
    'group:web=custom-10@groups/web.yaml:7',
    'group:low=custom-1@groups/low.yaml:5',
    'group:set-a=set@groups/set-a.yaml:5',
    'group:idc-sh=idc@groups/idc-sh.yaml:5',
    'global=global@vars/global.yaml:1',
  ]);
  t.equal(explainKey(at('h1', { level: 'launch' })!.layers, ['level']).winner?.layer, 'launch', 'launch variables win over the host');

  // h2: no host vars → the custom group with the highest priority wins; idc bj has no set-a.
  const h2 = at('h2')!;
  t.same(h2.groups, ['idc-bj', 'low', 'web']);
  t.equal(h2.merged['level'], 'custom-10');
  // h3: only its idc.
  const h3 = at('h3')!;
  t.same(h3.groups, ['idc-sh']);
  t.equal(h3.merged['level'], 'idc');
  t.equal((h3.merged['region'] as { name: string }).name, 'sh');
  // Remove the idc group → global shows through; the role default sits below global.
  t.equal(explainKey(h3.layers.filter((l) => l.id !== 'group:idc-sh'), ['level']).winner?.layer, 'global');
  t.equal(explainKey(h1.layers.filter((l) => l.kind === 'role'), ['app', 'level']).winner?.layer, 'role:app');
});

t.test('deep merge across layers: maps merge, lists replace; the flat view beside the YAML', async (t) => {
  const repo = await loadFixture(freshDir(t), baseRepoFiles());
  const h1 = hostVars(repo, 'h1')!;
  t.same(h1.merged['region'], { name: 'sh', mongodb: { port: 27017, hosts: ['172.27.117.201'] } }, 'global port kept, idc hosts and name merged in');
  t.same(h1.merged['list'], ['set-a'], 'the set layer replaced the global list');
  t.same(h1.merged['app'], { port: 9000, name: 'shop' }, 'role defaults under group values');
  const flat = Object.fromEntries(flattenVars(h1.merged).map((e) => [e.key, e.value]));
  t.same(flat['region.mongodb.hosts'], ['172.27.117.201']);
  t.equal(flat['region.mongodb.port'], 27017);
  t.equal(flat['app.port'], 9000);
  const ex = explainKey(h1.layers, ['region', 'mongodb', 'port']);
  t.equal(ex.winner?.layer, 'global');
  t.same(ex.overridden, []);
});

t.test('dynamic groups: attribute rules, facts only under facts:, children, static lists', async (t) => {
  const files = baseRepoFiles();
  files['groups/canary.yaml'] = 'kind: custom\nmatch:\n  - tags: canary\n    attributes.rack: { regex: "^r[0-9]$" }\n';
  files['groups/debian.yaml'] = 'kind: custom\npriority: 3\nmatch:\n  - facts:\n      os.family: [debian, ubuntu]\n      cpu.count: { in: [4, 8] }\nvars:\n  pkg: apt\n';
  files['groups/not-sh.yaml'] = 'kind: custom\nmatch:\n  - idc: { notIn: [sh] }\n';
  files['groups/has-ip.yaml'] = 'kind: custom\nmatch:\n  - ip: { exists: true }\n';
  files['groups/parent.yaml'] = 'kind: custom\nchildren: [canary]\nhosts: [h3]\n';
  const repo = await loadFixture(freshDir(t), files);
  t.same(repo.problems, []);
  t.ok(repo.groups.get('debian')?.factBased);
  t.notOk(repo.groups.get('canary')?.factBased);
  const groupsOf = (h: string, facts?: unknown): string[] => hostVars(repo, h, facts)!.groups;
  t.same(groupsOf('h2'), ['canary', 'has-ip', 'idc-bj', 'low', 'not-sh', 'parent', 'web']);
  t.same(groupsOf('h3'), ['idc-sh', 'parent'], 'static member of parent; no ip attribute');
  t.notOk(groupsOf('h1').includes('debian'), 'no facts, no fact-based group');
  t.ok(groupsOf('h1', { os: { family: 'debian' }, cpu: { count: 8 } }).includes('debian'));
  t.notOk(groupsOf('h1', { os: { family: 'debian' }, cpu: { count: 2 } }).includes('debian'), 'all conditions of a rule must hold');
  t.equal(hostVars(repo, 'h1', { os: { family: 'ubuntu' }, cpu: { count: 4 } })!.merged['pkg'], 'apt');
  // Facts never stand in for inventory attributes, whatever their names (security.md A4).
  const forged = { idc: 'bj', set: 'a', tags: ['canary'], name: 'h2', hostname: 'h2', groups: ['web'], role: 'db' };
  t.same(groupsOf('h3', forged), groupsOf('h3'), 'forged facts choose no group');
  t.same(compileHost(repo, 'h3', forged).catalog?.id, compileHost(repo, 'h3', {}).catalog?.id);
});

t.test('fact-based groups cannot hold secrets, even through a child', async (t) => {
  const files = baseRepoFiles();
  files['groups/fb.yaml'] = 'kind: custom\nmatch:\n  - facts:\n      os.family: debian\n';
  files['groups/outer.yaml'] = 'kind: custom\nchildren: [fb]\nvars:\n  token: !secret v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n';
  const repo = await loadFixture(freshDir(t), files);
  const p = repo.problems.find((x) => x.code === 'FACT_GROUP_SECRET');
  t.match(p, { file: 'groups/outer.yaml', line: 3, path: '/vars' });
});
