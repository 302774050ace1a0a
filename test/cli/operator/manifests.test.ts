/**
 * `stead manifests …` as a built `stead` process against a real server: list and read the live
 * files, validate a broken file (file:line: message, exit 1), preview a template for a host,
 * edit a variable into a draft, plan it, commit and publish it (live), a conflict when main
 * moved (exit 2), and --json shapes.
 */
import t from 'tap';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStead, type SteadResult } from '../../helpers/cli.js';
import { startServer } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

const fx = await startServer(t);
t.equal((await fx.publish(smallRepo())).status, 201);
const dir = mkdtempSync(join(tmpdir(), 'stead-manifests-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'token'), `${fx.adminToken}\n`);
chmodSync(join(dir, 'token'), 0o600);
const env = { STEAD_SERVER: fx.base, STEAD_TOKEN_FILE: join(dir, 'token'), STEAD_TOKEN: '' };
const stead = (args: string[]): Promise<SteadResult> => runStead(args, { cwd: dir, env, timeoutMs: 180_000 });

t.test('ls and cat', async (t) => {
  const ls = await stead(['manifests', 'ls']);
  t.equal(ls.code, 0, ls.stderr);
  t.match(ls.stdout, /^PATH\s+KIND\s+BYTES\s+DRAFT\n/);
  t.match(ls.stdout, /templates\/app\.conf\.j2\s+template\s+\d+/);
  const cat = await stead(['manifests', 'cat', 'groups/web.yaml']);
  t.equal(cat.code, 0, cat.stderr);
  t.equal(cat.stdout, smallRepo()['groups/web.yaml']);
  const missing = await stead(['manifests', 'cat', 'groups/nosuch.yaml']);
  t.equal(missing.code, 2);
  t.equal((await stead(['manifests', 'cat'])).code, 64);
});

t.test('validate and preview', async (t) => {
  writeFileSync(join(dir, 'bad.j2'), 'port={{ app.port }}\n{% if %}\n');
  const bad = await stead(['manifests', 'validate', 'templates/app.conf.j2', '--file', 'bad.j2']);
  t.equal(bad.code, 1, bad.stderr);
  t.match(bad.stdout, /^templates\/app\.conf\.j2:2:\d+: .*syntax error/m);
  const good = await stead(['manifests', 'validate', 'groups/web.yaml']);
  t.equal(good.code, 0, good.stdout + good.stderr);
  t.match(good.stdout, /groups\/web\.yaml: no errors/);
  writeFileSync(join(dir, 'shape.yaml'), 'kind: custom\npriority: high\n');
  const shape = JSON.parse((await stead(['manifests', 'validate', 'groups/web.yaml', '--file', 'shape.yaml', '--json'])).stdout) as { ok: boolean; problems: { line: number; path: string }[] };
  t.equal(shape.ok, false);
  t.equal(shape.problems[0]?.line, 2);
  t.equal(shape.problems[0]?.path, '/priority');
  const p = await stead(['manifests', 'preview', 'templates/app.conf.j2', '--host', 'web-2']);
  t.equal(p.code, 0, p.stderr);
  t.equal(p.stdout, 'port=8080\nhost=web-2\n');
  writeFileSync(join(dir, 'undef.j2'), 'x={{ nosuch }}\n');
  const u = await stead(['manifests', 'preview', 'templates/app.conf.j2', '--host', 'web-2', '--file', 'undef.j2']);
  t.equal(u.code, 1);
  t.match(u.stderr, /:1.*nosuch/);
  t.equal((await stead(['manifests', 'preview', 'templates/app.conf.j2'])).code, 64, '--host is required');
});

t.test('a draft: vars --set, edit, plan, commit, publish', async (t) => {
  const set = await stead(['manifests', 'vars', 'groups/web.yaml', '--set', 'app.port=9393']);
  t.equal(set.code, 0, set.stderr);
  t.match(set.stdout, /^app\.port = 9393$/m);
  const draft = /saved to draft (d-[0-9a-z]+)/.exec(set.stderr)?.[1];
  t.ok(draft, set.stderr);
  writeFileSync(join(dir, 'global.yaml'), 'app:\n  port: 8000\n  name: market\n');
  const edit = await stead(['manifests', 'edit', 'vars/global.yaml', '--file', 'global.yaml']);
  t.equal(edit.code, 0, edit.stderr);
  t.match(edit.stdout, new RegExp(`^draft ${draft} \\(open\\)`), 'the same (newest open) draft');
  t.match(edit.stdout, /~ groups\/web\.yaml\n\s+~ vars\/global\.yaml/);
  const plan = await stead(['manifests', 'plan', '--draft', draft!]);
  t.equal(plan.code, 0, plan.stderr);
  t.match(plan.stdout, /2 of 3 host\(s\) change/);
  t.match(plan.stdout, /\+port=9393/);

  // A draft started now is refused once the first is committed (main moved).
  const stale = (await fx.json('POST', '/api/v1/manifests/drafts')).json().id as string;
  await fx.json('POST', `/api/v1/manifests/drafts/${stale}/files`, { path: 'files/robots.txt', content: 'User-agent: *\n' });

  const commit = await stead(['manifests', 'commit', '--draft', draft!, '-m', 'web: port 9393', '--json']);
  t.equal(commit.code, 0, commit.stderr);
  const c = JSON.parse(commit.stdout) as { state: string; commit: string; revision: string };
  t.equal(c.state, 'committed');
  const conflict = await stead(['manifests', 'commit', '--draft', stale, '-m', 'late']);
  t.equal(conflict.code, 2);
  t.match(conflict.stderr, /main moved/);

  const pub = await stead(['manifests', 'publish', '--draft', draft!]);
  t.equal(pub.code, 0, pub.stderr);
  t.match(pub.stdout, /Published: live on every host\./);
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, c.revision);
  const history = (await fx.json('GET', '/api/v1/revisions')).json().revisions;
  t.equal(history[0].commit, c.commit);
  t.equal(history[0].message, 'web: port 9393');

  const drafts = await stead(['manifests', 'drafts']);
  t.match(drafts.stdout, new RegExp(`${draft}\\s+published`));
  const discard = await stead(['manifests', 'discard', '--draft', stale]);
  t.equal(discard.code, 0, discard.stderr);
});

t.test('a draft that does not compile is refused with its problems', async (t) => {
  writeFileSync(join(dir, 'undef2.j2'), 'port={{ app.port }}\n{{ app.nosuch }}\n');
  t.equal((await stead(['manifests', 'edit', 'templates/app.conf.j2', '--file', 'undef2.j2'])).code, 0);
  const r = await stead(['manifests', 'commit', '-m', 'broken']);
  t.equal(r.code, 2);
  t.match(r.stderr, /^templates\/app\.conf\.j2:2: /m);
  t.equal((await stead(['manifests', 'discard'])).code, 0);
});
