/** stead compile, validate and vars as real processes (node dist/cli/main.js); build first. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runStead, repoRoot } from '../helpers/cli.js';
import { baseRepoFiles, freshDir, writeRepo } from '../helpers/compiler-repo-fixture.js';

const demo = join(repoRoot, 'manifests', 'demo');
const keyFile = join(repoRoot, 'manifests', 'demo-secret.key');

t.test('stead compile: human list and --json catalog', async (t) => {
  const human = await runStead(['compile', '--repo', demo, '--host', 'web-1']);
  t.equal(human.code, 0, human.stderr);
  t.match(human.stdout, /^catalog [0-9a-f]{64}$/m);
  t.match(human.stdout, /^roles: base, web$/m);
  t.match(human.stdout, /^ {2}file:\/etc\/nginx\/nginx\.conf +sha256:[0-9a-f]{64}$/m);
  const json = await runStead(['compile', '--repo', demo, '--host', 'web-1', '--json']);
  t.equal(json.code, 0);
  const cat = JSON.parse(json.stdout) as { id: string; host: string; resources: unknown[] };
  t.equal(cat.host, 'web-1');
  t.match(human.stdout, cat.id, 'same catalog id both ways');
  const missing = await runStead(['compile', '--repo', demo]);
  t.equal(missing.code, 64);
  const unknown = await runStead(['compile', '--repo', demo, '--host', 'nope']);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /host nope is not in the inventory/);
});

t.test('stead validate: every error as file:line:col path: message, exit 1', async (t) => {
  const files = baseRepoFiles();
  files['groups/web.yaml'] = files['groups/web.yaml']!.replace('roles: [app]', 'roles: [app, nosuch]');
  files['groups/bad.yaml'] = 'kind: custom\nvars: [1\n';
  const dir = writeRepo(freshDir(t), files);
  const r = await runStead(['validate', '--repo', dir]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^groups\/web\.yaml:5:14: \/roles\/1: no role nosuch/m);
  t.match(r.stderr, /^groups\/bad\.yaml:\d+:\d+: \/: /m);
  t.match(r.stderr, /INVALID/);
  const json = await runStead(['validate', '--repo', dir, '--json']);
  t.equal(json.code, 1);
  const v = JSON.parse(json.stdout) as { ok: boolean; problems: { code: string }[] };
  t.equal(v.ok, false);
  t.ok(v.problems.some((p) => p.code === 'UNKNOWN_ROLE'));
  const good = await runStead(['validate'], { cwd: demo, env: { STEAD_SECRET_KEY_FILE: keyFile } });
  t.equal(good.code, 0, good.stderr);
  t.match(good.stdout, /valid, revision [0-9a-f]{16}: 7\/7 hosts compiled; 0 errors/);
});

t.test('stead vars show/explain: YAML, flat table, layers; secrets redacted', async (t) => {
  const flat = await runStead(['vars', 'show', '--repo', demo, '--host', 'db-1', '--flat']);
  t.equal(flat.code, 0, flat.stderr);
  t.match(flat.stdout, /^region\.mongodb\.hosts = \["172\.27\.117\.201"\]$/m);
  t.match(flat.stdout, /^database\.admin_password = "\[secret sha256:[0-9a-f]{12}\]"$/m);
  t.notMatch(flat.stdout, /demo-admin-pw/);
  const yaml = await runStead(['vars', 'show', '--repo', demo, '--host', 'web-2']);
  t.match(yaml.stdout, /^# layers, lowest first: role:base < role:web < global < group:idc-sh < group:set-prod-b < group:prod < group:web < host:web-2$/m);
  const ex = await runStead(['vars', 'explain', '--repo', demo, '--host', 'web-2', 'app.workers']);
  t.equal(ex.code, 0, ex.stderr);
  t.match(ex.stdout, /^app\.workers = 8\n {2}set by {3}group:set-prod-b \(set, priority 0\) groups\/set-prod-b\.yaml:\d+:\d+\n {2}overrides {2}global \(global\) vars\/global\.yaml:\d+:\d+ = 4$/m);
  const exJson = await runStead(['vars', 'explain', '--repo', demo, '--host', 'db-1', 'database.admin_password', '--json']);
  const e = JSON.parse(exJson.stdout) as { value: string; winner: { layer: string } };
  t.match(e.value, /^\[secret sha256:/);
  t.equal(e.winner.layer, 'group:database');
  const notSet = await runStead(['vars', 'explain', '--repo', demo, '--host', 'db-1', 'no.such.key']);
  t.equal(notSet.code, 1);
});

t.test('stead vars keygen and encrypt produce a key and a usable !secret', async (t) => {
  const dir = freshDir(t);
  const key = join(dir, 'k.key');
  const kg = await runStead(['vars', 'keygen', '--key-file', key]);
  t.equal(kg.code, 0, kg.stderr);
  t.equal(statSync(key).mode & 0o777, 0o600);
  t.equal((await runStead(['vars', 'keygen', '--key-file', key])).code, 1, 'never overwrites');
  const plain = join(dir, 'plain.txt');
  writeFileSync(plain, 'pipe-secret-77\n', { mode: 0o600 });
  const enc = await runStead(['vars', 'encrypt', '--key-file', key, '--value-file', plain]);
  t.equal(enc.code, 0, enc.stderr);
  t.match(enc.stdout, /^!secret v1:[A-Za-z0-9_-]+\n$/);
  const files = baseRepoFiles();
  files['groups/web.yaml'] += `  pw: ${enc.stdout.trim()}\n`;
  files['templates/app.conf.j2'] += 'pw={{ pw }}\n';
  const repoDir = writeRepo(join(dir, 'repo'), files);
  const c = await runStead(['compile', '--repo', repoDir, '--host', 'h1', '--key-file', key, '--json']);
  t.equal(c.code, 0, c.stderr);
  t.notMatch(c.stdout, /pipe-secret-77/);
  t.match(c.stdout, /"sensitive": true/);
  t.notMatch(readFileSync(join(repoDir, 'groups/web.yaml'), 'utf8'), /pipe-secret-77/, 'encrypted at rest');
});
