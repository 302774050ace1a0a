/** compileHost over real repositories: role parameters, template globals, secrets, determinism. */
import t from 'tap';
import { compileHost, compileResourcesForHost } from '../../compiler/compile.js';
import { formatRepoProblem } from '../../compiler/repo/repo-problem.js';
import { encryptSecret, generateKeyText, parseKeyText } from '../../compiler/vars/secret-box.js';
import { catalogSchema, compileGuard, resourceId, type Catalog, type Guard } from '../../schemas/index.js';
import { baseRepoFiles, freshDir, loadFixture } from '../helpers/compiler-repo-fixture.js';

const isCatalog: Guard<Catalog> = compileGuard(catalogSchema);
const key = parseKeyText(generateKeyText());

function blobText(r: ReturnType<typeof compileHost>, path: string): string {
  const res = r.catalog?.resources.find((x) => x.type === 'file' && x.path === path);
  const src = res && res.type === 'file' ? res.source : undefined;
  const b = src ? r.blobs.get(src) : undefined;
  if (!b) throw new Error(`no blob for ${path}: ${r.problems.map(formatRepoProblem).join('; ')}`);
  return b.toString('utf8');
}

t.test('a host compiles to a valid catalog; templates see merged variables and role defaults', async (t) => {
  const repo = await loadFixture(freshDir(t), baseRepoFiles());
  const r = compileHost(repo, 'h1');
  t.same(r.problems, []);
  t.ok(isCatalog.is(r.catalog), JSON.stringify(isCatalog.check(r.catalog)));
  t.equal(r.catalog?.host, 'h1');
  t.equal(r.catalog?.revision, repo.revision);
  t.same(r.catalog?.resources.map(resourceId), ['file:/etc/app.conf', 'file:/etc/motd']);
  t.same(r.roles, ['app']);
  t.equal(blobText(r, '/etc/app.conf'), 'name=shop\nport=9000\nlevel=host\nmongo=172.27.117.201\n');
  t.equal(blobText(r, '/etc/motd'), 'hello h1 in sh\n');
  for (const ref of Object.keys(r.catalog!.blobs ?? {})) t.ok(r.blobs.has(ref), `blob ${ref} provided`);
});

t.test('role parameters: defaults, overrides, required, type checks located', async (t) => {
  const files = baseRepoFiles();
  files['roles/app/role.yaml'] = files['roles/app/role.yaml']!.replace('parameters:\n', 'parameters:\n  token:\n    type: string\n    required: true\n');
  let repo = await loadFixture(freshDir(t), files);
  let r = compileHost(repo, 'h1');
  t.equal(r.catalog, undefined);
  const missing = r.problems.find((p) => p.code === 'PARAM_MISSING');
  t.match(missing, { file: 'roles/app/role.yaml', line: 3, path: '/parameters/token', host: 'h1', message: /app\.token/ });

  files['groups/web.yaml'] = files['groups/web.yaml']!.replace('    port: 9000', '    port: "ninety"\n    token: abc');
  repo = await loadFixture(freshDir(t), files);
  r = compileHost(repo, 'h1');
  const bad = r.problems.find((p) => p.code === 'PARAM_TYPE');
  t.match(bad, { file: 'groups/web.yaml', line: 9, message: /parameter port of role app must be an integer; group:web sets app\.port to "ninety"/ });

  files['groups/web.yaml'] = files['groups/web.yaml']!.replace('    port: "ninety"', '    port: 7000');
  repo = await loadFixture(freshDir(t), files);
  r = compileHost(repo, 'h1');
  t.same(r.problems.map(formatRepoProblem), []);
  t.match(blobText(r, '/etc/app.conf'), /^port=7000$/m);
});

t.test('inventory_hostname, inventory, facts, groups, group_names and hostvars in templates', async (t) => {
  const files = baseRepoFiles();
  files['templates/app.conf.j2'] = [
    'me={{ inventory_hostname }} ip={{ inventory.ip }} idc={{ inventory.idc }}',
    'os={{ facts.os.family | default("unknown") }}',
    'mine={{ group_names | join(",") }}',
    'web={{ groups["web"] | join(",") }} all={{ groups["all"] | join(",") }}',
    'peer={{ hostvars["h2"].inventory.ip }} peer_level={{ hostvars["h2"].level }} self={{ hostvars[inventory_hostname].level }}',
    '',
  ].join('\n');
  const repo = await loadFixture(freshDir(t), files);
  const r = compileHost(repo, 'h1', { os: { family: 'debian' }, '{{ 7*7 }}': '{{ 7*7 }}' });
  t.equal(
    blobText(r, '/etc/app.conf'),
    ['me=h1 ip=10.0.0.1 idc=sh', 'os=debian', 'mine=idc-sh,low,set-a,web', 'web=h1,h2 all=h1,h2,h3', 'peer=10.0.0.2 peer_level=custom-10 self=host', ''].join('\n'),
  );
  const noFacts = compileHost(repo, 'h1');
  t.match(blobText(noFacts, '/etc/app.conf'), /^os=unknown$/m);
  t.not(noFacts.catalog?.id, r.catalog?.id, 'facts used in a template change the catalog');
});

t.test('data is never template source: variable values and facts with {{ }} render literally', async (t) => {
  const files = baseRepoFiles();
  files['groups/web.yaml'] = files['groups/web.yaml']!.replace('    port: 9000', '    port: 9000\n    name: "{{ 7*7 }}"');
  files['templates/app.conf.j2'] = 'name={{ app.name }} fact={{ facts.x }}\n';
  const repo = await loadFixture(freshDir(t), files);
  const r = compileHost(repo, 'h1', { x: '{% raw %}{{ 7*7 }}' });
  t.equal(blobText(r, '/etc/app.conf'), 'name={{ 7*7 }} fact={% raw %}{{ 7*7 }}\n');
});

t.test('secrets: encrypted at rest, usable in templates, resources using them marked sensitive, redacted elsewhere', async (t) => {
  const canary = 'canary-pw-51f0c9';
  const files = baseRepoFiles();
  files['groups/web.yaml'] += `  db:\n    password: !secret ${encryptSecret(canary, key)}\n`;
  files['templates/app.conf.j2'] += 'password={{ db.password }}\n';
  files['roles/app/role.yaml'] += '  - type: file\n    path: /etc/plain\n    content: "port {{ app.port }}\\n"\n';
  const dir = freshDir(t);
  const repo = await loadFixture(dir, files, { secretKey: key });
  const r = compileHost(repo, 'h1');
  t.same(r.problems.map(formatRepoProblem), []);
  t.match(blobText(r, '/etc/app.conf'), new RegExp(`^password=${canary}$`, 'm'), 'the host gets the plaintext');
  const sensitive = Object.fromEntries(r.catalog!.resources.map((x) => [resourceId(x), (x as { sensitive?: unknown }).sensitive === true]));
  t.same(sensitive, { 'file:/etc/app.conf': true, 'file:/etc/motd': false, 'file:/etc/plain': false });
  t.notMatch(JSON.stringify(r.catalog), canary, 'the catalog itself holds only hashes');
  t.ok(isCatalog.is(r.catalog));

  // Other hosts see the secret redacted through hostvars.
  files['templates/app.conf.j2'] = 'peer={{ hostvars["h2"].db.password }}\n';
  const repo2 = await loadFixture(freshDir(t), files, { secretKey: key });
  const r2 = compileHost(repo2, 'h1');
  t.match(blobText(r2, '/etc/app.conf'), /^peer=\[secret sha256:[0-9a-f]{12}\]$/m);

  // Without the key: refused, located at the secret, no plaintext anywhere.
  const noKey = await loadFixture(freshDir(t), files);
  const r3 = compileHost(noKey, 'h1');
  t.equal(r3.catalog, undefined);
  t.match(r3.problems[0], { code: 'SECRET_KEY_MISSING', file: 'groups/web.yaml', line: 11 });
  // With a wrong key: refused too.
  const wrong = await loadFixture(freshDir(t), files, { secretKey: parseKeyText(generateKeyText()) });
  t.match(compileHost(wrong, 'h1').problems[0], { code: 'SECRET_DECRYPT_FAILED' });
  t.notMatch(JSON.stringify([r3.problems, compileHost(wrong, 'h1').problems]), canary);
  // Hosts that do not get the secret compile without the key.
  t.ok(compileHost(noKey, 'h3').catalog);
});

t.test('a template error never echoes a secret', async (t) => {
  const canary = 'canary-err-8812ab';
  const files = baseRepoFiles();
  files['groups/web.yaml'] += `  db:\n    password: !secret ${encryptSecret(canary, key)}\n`;
  files['templates/app.conf.j2'] = '{{ db.password | int(strict) }}{{ db.password.nosuchmethod() }}\n';
  const repo = await loadFixture(freshDir(t), files, { secretKey: key });
  const r = compileHost(repo, 'h1');
  t.equal(r.catalog, undefined);
  t.ok(r.problems.length > 0);
  t.notMatch(JSON.stringify(r.problems), canary);
});

t.test('determinism: same inputs, same catalog id; any input change, a new compile', async (t) => {
  const dir = freshDir(t);
  const a = await loadFixture(dir, baseRepoFiles());
  const b = await loadFixture(dir, baseRepoFiles());
  t.equal(a.contentHash, b.contentHash);
  const ids = (repo: typeof a, launch?: Record<string, unknown>): string[] => ['h1', 'h2', 'h3'].map((h) => compileHost(repo, h, { z: 1, a: [1, 2] }, launch).catalog!.id);
  t.same(ids(a), ids(b));
  t.same(ids(a), ids(a), 'repeatable in one process (templates cannot mutate shared state)');
  t.not(ids(a, { app: { port: 1 } })[0], ids(a)[0], 'launch variables are an input');
  const files = baseRepoFiles();
  files['templates/app.conf.j2'] += 'changed\n';
  const c = await loadFixture(freshDir(t), files);
  t.not(c.contentHash, a.contentHash);
  t.not(ids(c)[0], ids(a)[0]);
  t.equal(compileHost(a, 'nope').problems[0]?.code, 'UNKNOWN_HOST');
});

t.test('launch variables: top layer; prototype keys refused', async (t) => {
  const repo = await loadFixture(freshDir(t), baseRepoFiles());
  const r = compileHost(repo, 'h1', {}, { level: 'job-42' });
  t.match(blobText(r, '/etc/app.conf'), /^level=job-42$/m);
  const evil = JSON.parse('{"__proto__": {"isAdmin": true}}') as Record<string, unknown>;
  const bad = compileHost(repo, 'h1', {}, evil);
  t.equal(bad.catalog, undefined);
  t.equal(bad.problems[0]?.code, 'VAR_FORBIDDEN_KEY');
  t.equal(({} as Record<string, unknown>)['isAdmin'], undefined);
  const factsEvil = compileHost(repo, 'h1', JSON.parse('{"__proto__": {"isAdmin": true}, "constructor": 1}'));
  t.ok(factsEvil.catalog, 'prototype keys in facts are dropped');
  t.equal(({} as Record<string, unknown>)['isAdmin'], undefined);
});

t.test('compileResourcesForHost: a one-shot catalog (a job step) with the host variables and launch vars', async (t) => {
  const canary = 'canary-job-77aa';
  const files = baseRepoFiles();
  files['groups/web.yaml'] += `  db:\n    password: !secret ${encryptSecret(canary, key)}\n`;
  const repo = await loadFixture(freshDir(t), files, { secretKey: key });
  const step = [
    { type: 'file' as const, path: '/tmp/job/run.sh', content: '#!/bin/sh\necho {{ inventory_hostname }} {{ region.name }} {{ job.id }}\n' },
    { type: 'file' as const, path: '/tmp/job/creds', content: 'pw={{ db.password }}\n' },
    { type: 'file' as const, path: '/tmp/job/app.conf', template: 'app.conf.j2' },
  ];
  const r = compileResourcesForHost(repo, 'h1', step, { launchVars: { job: { id: 42 } }, origin: 'job 42 step 1' });
  t.same(r.problems, []);
  t.equal(r.catalog?.resources.length, 3, 'only the given resources, not the roles');
  t.equal(blobText(r, '/tmp/job/run.sh'), '#!/bin/sh\necho h1 sh 42\n');
  t.equal(blobText(r, '/tmp/job/creds'), `pw=${canary}\n`);
  t.same(r.catalog?.resources.map((x) => (x as { sensitive?: unknown }).sensitive === true), [false, true, false]);
  const bad = compileResourcesForHost(repo, 'h1', [{ type: 'file', path: '/tmp/x', content: '{{ nope.deeper }}' }], { origin: 'job 43 step 2' });
  t.match(bad.problems[0], { code: 'TEMPLATE_ERROR', file: 'job 43 step 2', path: '/resources/0/content' });
});
