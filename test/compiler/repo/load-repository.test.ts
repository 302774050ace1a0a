/** Loading repositories from real directories: a valid one, and one with every kind of mistake, each located. */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { compileHost } from '../../../compiler/compile.js';
import { formatRepoProblem } from '../../../compiler/repo/repo-problem.js';
import { validateRepository } from '../../../compiler/repo/validate-repository.js';
import { loadRepository } from '../../../compiler/repo/load-repository.js';
import { baseRepoFiles, freshDir, loadFixture, writeRepo } from '../../helpers/compiler-repo-fixture.js';

t.test('the fixture repository loads clean and every host compiles', async (t) => {
  const repo = await loadFixture(freshDir(t), baseRepoFiles());
  t.same(repo.problems, []);
  t.same([...repo.hosts.keys()], ['h1', 'h2', 'h3']);
  t.same([...repo.groups.keys()], ['idc-bj', 'idc-sh', 'low', 'set-a', 'web']);
  t.same([...repo.roles.keys()], ['app']);
  t.match(repo.revision, /^[0-9a-f]{16}$/);
  const v = validateRepository(repo);
  t.ok(v.ok, v.problems.map(formatRepoProblem).join('\n'));
  t.same(v.hosts.map((h) => [h.host, h.resources ?? 0]), [['h1', 2], ['h2', 2], ['h3', 0]]);
  const unused = await loadFixture(freshDir(t), { ...baseRepoFiles(), 'roles/spare/role.yaml': 'resources: []\n' });
  const vu = validateRepository(unused);
  t.ok(vu.ok, 'a warning does not refuse the repository');
  t.match(vu.problems, [{ code: 'ROLE_UNUSED', severity: 'warning', file: 'roles/spare/role.yaml' }]);
});

t.test('a directory without stead.yaml is not a repository', async (t) => {
  const repo = await loadRepository(t.testdir({ 'x.yaml': 'a: 1\n' }));
  t.same(repo.problems.map((p) => p.code), ['NOT_A_REPOSITORY']);
  t.equal(compileHost(repo, 'h1').catalog, undefined);
});

t.test('a repository with mistakes is refused as a whole, every error located', async (t) => {
  const files = baseRepoFiles();
  files['groups/broken-yaml.yaml'] = 'kind: custom\nvars:\n  a: [1, 2\n';
  files['groups/cyc-a.yaml'] = 'kind: custom\nchildren: [cyc-b]\n';
  files['groups/cyc-b.yaml'] = 'kind: custom\nchildren:\n  - cyc-a\n';
  files['groups/typos.yaml'] = ['kind: custom', 'hosts: [h1, h9]', 'children: [wbe]', 'roles: [ap]', 'vars:', '  facts: {}', ''].join('\n');
  files['groups/badshape.yaml'] = 'kind: datacenter\npriority: high\nextra: 1\n';
  files['groups/factidc.yaml'] = 'kind: idc\nmatch:\n  - facts:\n      os.family: debian\n';
  files['groups/Bad Name.yaml'] = 'kind: custom\n';
  files['groups/all.yaml'] = 'kind: custom\n';
  files['groups/regex.yaml'] = 'kind: custom\nmatch:\n  - name: { regex: "(" }\n  - facts:\n      kernel: { regex: "^(a+)+$" }\n';
  files['inventory/more.yaml'] = 'hosts:\n  h1:\n    idc: sh\n  h4:\n    vars:\n      __proto__: { isAdmin: true }\n';
  files['roles/broken/role.yaml'] = ['parameters:', '  p: { type: integer, default: 1 }', 'resources:', '  - type: file', '    path: etc/relative', '    mode: 0644', '  - type: pakage', '    name: x', ''].join('\n');
  files['roles/nofile/README.md'] = 'no role.yaml here\n';
  files['vars/global.yaml'] = 'inventory_hostname: spoofed\n';
  const dir = writeRepo(t.testdir(), files);
  symlinkSync('/etc/hostname', join(dir, 'templates', 'linked.j2'));
  const repo = await loadRepository(dir);
  const lines = repo.problems.map(formatRepoProblem);
  const has = (code: string, file: string, line: number | undefined, re?: RegExp): void => {
    const p = repo.problems.find((x) => x.code === code && x.file === file && x.line === line && (!re || re.test(x.message)));
    t.ok(p, `${code} at ${file}:${line ?? '-'}${re ? ` ${re}` : ''}\n${lines.join('\n')}`);
  };
  has('YAML_SYNTAX', 'groups/broken-yaml.yaml', 4);
  t.ok(repo.problems.find((p) => p.code === 'GROUP_CYCLE' && ((p.file === 'groups/cyc-a.yaml' && p.line === 2) || (p.file === 'groups/cyc-b.yaml' && p.line === 3)) && /cyc-(a|b) → cyc-(a|b) → cyc-(a|b)/.test(p.message)), 'GROUP_CYCLE located at a children entry');
  has('UNKNOWN_HOST', 'groups/typos.yaml', 2, /h9/);
  has('UNKNOWN_GROUP', 'groups/typos.yaml', 3, /did you mean "web"/);
  has('UNKNOWN_ROLE', 'groups/typos.yaml', 4, /did you mean "app"/);
  has('RESERVED_NAME', 'groups/typos.yaml', 6, /facts/);
  has('INVALID_VALUE', 'groups/badshape.yaml', 1, /must be one of "idc", "set", "custom"/);
  has('INVALID_VALUE', 'groups/badshape.yaml', 2);
  has('INVALID_VALUE', 'groups/badshape.yaml', 3, /unknown property "extra"/);
  has('FACT_GROUP_KIND', 'groups/factidc.yaml', 1);
  has('BAD_NAME', 'groups/Bad Name.yaml', undefined);
  has('RESERVED_NAME', 'groups/all.yaml', 1);
  has('BAD_REGEX', 'groups/regex.yaml', 3);
  has('BAD_REGEX', 'groups/regex.yaml', 5, /not allowed on facts/);
  has('DUPLICATE_HOST', 'inventory/more.yaml', 2, /inventory\/hosts\.yaml/);
  has('VAR_FORBIDDEN_KEY', 'inventory/more.yaml', 6);
  has('INVALID_VALUE', 'roles/broken/role.yaml', 5);
  has('BAD_MODE', 'roles/broken/role.yaml', 6, /quote it/);
  has('UNKNOWN_TYPE', 'roles/broken/role.yaml', 7, /did you mean "package"/);
  has('INVALID_VALUE', 'roles/nofile', undefined, /no role\.yaml/);
  has('RESERVED_NAME', 'vars/global.yaml', 1, /inventory_hostname/);
  has('SYMLINK_REFUSED', 'templates/linked.j2', undefined);
  t.equal(({} as Record<string, unknown>)['isAdmin'], undefined, 'no prototype pollution');
  for (const p of repo.problems) t.equal(p.severity, 'error');
  // Nothing partial: no host compiles, validation lists everything and fails.
  for (const h of repo.hosts.keys()) t.equal(compileHost(repo, h).catalog, undefined, `${h} refused`);
  const v = validateRepository(repo);
  t.notOk(v.ok);
  t.ok(v.hosts.every((h) => h.catalogId === undefined), 'no host has a catalog while the repository has load errors');
  for (const p of repo.problems) t.ok(v.problems.some((q) => q.code === p.code && q.file === p.file && q.message === p.message), `${p.code} listed`);
});

t.test('one pass: an unknown role and a bad file do not hide a template error (issue 8 item 15)', async (t) => {
  const files = baseRepoFiles();
  files['groups/web.yaml'] = files['groups/web.yaml']!.replace('roles: [app]', 'roles: [app, nosuch]');
  files['templates/app.conf.j2'] = 'port={{ app.port }}\nmissing={{ not_defined_anywhere }}\n';
  files['groups/broken.yaml'] = 'kind: custom\npriority: [\n';
  const repo = await loadFixture(freshDir(t), files);
  t.ok(repo.problems.some((p) => p.code === 'UNKNOWN_ROLE'), 'a load error');
  const v = validateRepository(repo);
  const lines = v.problems.map(formatRepoProblem).join('\n');
  t.notOk(v.ok);
  t.ok(v.problems.some((p) => p.code === 'UNKNOWN_ROLE' && p.file === 'groups/web.yaml'), lines);
  t.ok(v.problems.some((p) => p.code === 'YAML_SYNTAX' && p.file === 'groups/broken.yaml'), lines);
  t.ok(v.problems.some((p) => p.code === 'TEMPLATE_ERROR' && p.file === 'templates/app.conf.j2' && /not_defined_anywhere/.test(p.message)), `the template error is in the same report:\n${lines}`);
  t.ok(v.hosts.every((h) => h.catalogId === undefined), 'and still no catalog');
  for (const h of repo.hosts.keys()) t.equal(compileHost(repo, h).catalog, undefined, `compileHost still refuses ${h}`);
});

t.test('host-level mistakes (undefined variable, template error, duplicate title across roles, conflict) are all reported', async (t) => {
  const files = baseRepoFiles();
  files['roles/other/role.yaml'] = ['resources:', '  - type: file', '    path: /etc/app.conf', '    content: "dup"', '  - type: file', '    path: /etc/other', '    template: broken.j2', ''].join('\n');
  files['templates/broken.j2'] = 'line one\n{{ nope( }}\n';
  files['templates/app.conf.j2'] = 'port={{ app.port }}\nmissing={{ not_defined_anywhere }}\n';
  files['groups/low.yaml'] = 'kind: custom\npriority: 10\nhosts: [h1, h2]\nroles: [other]\nvars:\n  app:\n    port: 9001\n';
  const repo = await loadFixture(freshDir(t), files);
  t.same(repo.problems, [], 'the files themselves are fine');
  const v = validateRepository(repo);
  const lines = v.problems.map(formatRepoProblem);
  t.notOk(v.ok);
  const find = (code: string, re: RegExp): void => {
    t.ok(v.problems.find((p) => p.code === code && re.test(formatRepoProblem(p))), `${code} ${re}\n${lines.join('\n')}`);
  };
  find('DUPLICATE_TITLE', /^roles\/(app|other)\/role\.yaml:\d+:\d+: .*file:\/etc\/app\.conf/);
  find('VAR_CONFLICT', /^groups\/(low|web)\.yaml:\d+:5: .*app\.port.*group:(low|web).*groups\/(low|web)\.yaml:\d+/);
  t.same(v.hosts.map((h) => [h.host, h.catalogId === undefined]), [['h1', true], ['h2', true], ['h3', false]], 'h1 and h2 refused, h3 (no roles) compiles');

  // Without the duplicate and the conflict, the template errors surface with template name and line.
  files['roles/other/role.yaml'] = ['resources:', '  - type: file', '    path: /etc/other', '    template: broken.j2', ''].join('\n');
  files['groups/low.yaml'] = 'kind: custom\npriority: 1\nhosts: [h1, h2]\nroles: [other]\n';
  const repo2 = await loadFixture(freshDir(t), files);
  const v2 = validateRepository(repo2);
  const lines2 = v2.problems.map(formatRepoProblem);
  t.ok(v2.problems.find((p) => p.code === 'TEMPLATE_ERROR' && p.file === 'templates/app.conf.j2' && /not_defined_anywhere/.test(p.message)), lines2.join('\n'));
  t.ok(v2.problems.find((p) => p.code === 'TEMPLATE_ERROR' && p.file === 'templates/broken.j2'), lines2.join('\n'));
  t.notOk(v2.ok);
});

t.test('a role named like an Object.prototype key (constructor, prototype) is a located problem, not a crash', async (t) => {
  for (const name of ['constructor', 'prototype']) {
    const files = baseRepoFiles();
    files[`roles/${name}/role.yaml`] = ['parameters:', '  x: { type: string, default: hi }', 'resources:', '  - type: file', `    path: /etc/${name}`, `    content: "{{ ${name}.x }}"`, ''].join('\n');
    files['groups/web.yaml'] = files['groups/web.yaml']!.replace('roles: [app]', `roles: [app, ${name}]`);
    const repo = await loadFixture(freshDir(t), files);
    t.ok(repo.problems.some((p) => p.code === 'BAD_NAME' && p.file === `roles/${name}/role.yaml`), `${name}: BAD_NAME at the role\n${repo.problems.map(formatRepoProblem).join('\n')}`);
    // The whole repository is refused with located problems; nothing throws.
    const v = validateRepository(repo);
    t.equal(v.ok, false, `${name}: the repository is invalid`);
    t.doesNotThrow(() => compileHost(repo, 'h1'), `${name}: compiling a host reports problems instead of throwing`);
    t.equal(({} as Record<string, unknown>)['x'], undefined, 'nothing polluted');
  }
});
