/**
 * Editing manifests through the API (issue 12) against a real server with the real `git`:
 * the quick check locates YAML, shape and template-syntax errors at their line; the key table
 * reads and edits variables (comments kept); a preview renders a template for a host from a
 * draft; the plan of a draft; a commit is refused when main moved or when the draft does not
 * compile, and otherwise lands in the same history as git push (cloned with the git client);
 * publishing makes it live; a viewer may read and check but not draft.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { encryptSecret } from '../../../compiler/vars/secret-box.js';
import { demoSecretKey, startServer, type ServerFixture } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

const home = mkdtempSync(join(tmpdir(), 'stead-editor-test-home-'));
t.teardown(() => rmSync(home, { recursive: true, force: true }));
const gitEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };

function git(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', ['-c', 'user.name=Ada Tester', '-c', 'user.email=ada@example.test', ...args], { cwd, env: gitEnv, timeout: 120_000 }, (err, stdout, stderr) => (err ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(String(stdout))));
  });
}

function repoUrl(fx: ServerFixture): string {
  const u = new URL('/git/manifests.git', fx.base);
  u.username = 'x';
  u.password = fx.adminToken;
  return u.href;
}

async function newDraft(fx: ServerFixture, token?: string): Promise<string> {
  const r = await fx.json('POST', '/api/v1/manifests/drafts', undefined, token);
  if (r.status !== 201) throw new Error(`draft: ${r.status} ${r.body.toString()}`);
  return r.json().id as string;
}

t.test('the editor API', async (t) => {
  const fx = await startServer(t);
  const files = smallRepo();
  files['groups/web.yaml'] = `# the web tier\nkind: custom\npriority: 10\nmatch:\n  - tags: web\nroles: [app]\nvars:\n  app:\n    port: 8080 # the port\n`;
  t.equal((await fx.publish(files)).status, 201);

  t.test('tree and file', async (t) => {
    const tree = (await fx.json('GET', '/api/v1/manifests/tree')).json();
    t.ok(tree.revision);
    t.same(tree.files.find((f: { path: string }) => f.path === 'templates/app.conf.j2')?.kind, 'template');
    const f = await fx.json('GET', '/api/v1/manifests/file?path=groups/web.yaml');
    t.equal(f.status, 200);
    t.match(f.json().content, /port: 8080/);
    t.equal((await fx.json('GET', '/api/v1/manifests/file?path=../etc/passwd')).status, 400);
    t.equal((await fx.json('GET', '/api/v1/manifests/file?path=groups/nosuch.yaml')).status, 404);
  });

  t.test('the quick check locates problems at their line', async (t) => {
    const check = async (path: string, content: string) => {
      const r = await fx.json('POST', '/api/v1/manifests/check', { path, content });
      t.equal(r.status, 200, r.body.toString());
      return r.json();
    };
    const good = await check('groups/web.yaml', files['groups/web.yaml']!);
    t.equal(good.ok, true);
    t.same(good.problems, []);
    const syntax = await check('groups/web.yaml', 'kind: custom\nroles: [app\nvars:\n  a: 1\n');
    t.equal(syntax.ok, false);
    t.equal(syntax.problems[0].code, 'YAML_SYNTAX');
    t.ok(syntax.problems[0].line >= 2 && syntax.problems[0].line <= 3, `line ${syntax.problems[0].line}`);
    const shape = await check('groups/web.yaml', 'kind: custom\npriority: high\nroles: [app]\n');
    const p = shape.problems.find((x: { code: string }) => x.code === 'INVALID_VALUE');
    t.ok(p, JSON.stringify(shape.problems));
    t.equal(p.line, 2);
    t.equal(p.path, '/priority');
    const unknownRole = await check('groups/web.yaml', 'kind: custom\nmatch:\n  - tags: web\nroles: [app, nosuch]\n');
    t.equal(unknownRole.problems.find((x: { code: string }) => x.code === 'UNKNOWN_ROLE')?.line, 4);
    const tmpl = await check('templates/app.conf.j2', 'port={{ app.port }}\nname={% if %}\n');
    t.equal(tmpl.ok, false);
    t.equal(tmpl.problems[0].code, 'TEMPLATE_ERROR');
    t.equal(tmpl.problems[0].line, 2);
    const okTmpl = await check('templates/app.conf.j2', 'port={{ app.port }}\n{% for x in [1, 2] %}{{ x }}{% endfor %}\n');
    t.equal(okTmpl.ok, true, JSON.stringify(okTmpl));
  });

  t.test('key table, draft, preview, plan, commit, publish', async (t) => {
    const table = (await fx.json('GET', '/api/v1/manifests/vars?path=groups/web.yaml')).json();
    t.same(table.rows, [{ key: 'app.port', value: '8080', line: 9 }]);
    const inv = (await fx.json('GET', '/api/v1/manifests/vars?path=inventory/hosts.yaml&host=web-2')).json();
    t.same(inv.hosts, ['web-1', 'web-2', 'db-1']);

    const id = await newDraft(fx);
    const edit = await fx.json('POST', `/api/v1/manifests/drafts/${id}/vars`, { path: 'groups/web.yaml', edits: [{ key: 'app.port', value: '9090' }, { key: 'app.workers', value: '4' }] });
    t.equal(edit.status, 200, edit.body.toString());
    t.match(edit.json().content, /# the web tier/, 'comments are kept');
    t.match(edit.json().content, /port: 9090/);
    t.same(edit.json().rows.map((r: { key: string }) => r.key), ['app.port', 'app.workers']);
    t.equal((await fx.json('POST', `/api/v1/manifests/drafts/${id}/vars`, { path: 'groups/web.yaml', edits: [{ key: 'a.__proto__.x', value: '1' }] })).status, 400);
    const read = (await fx.json('GET', `/api/v1/manifests/file?path=groups/web.yaml&draft=${id}`)).json();
    t.equal(read.draft, 'write');

    const preview = await fx.json('POST', '/api/v1/manifests/preview', { template: 'templates/app.conf.j2', host: 'web-1', draft: id });
    t.equal(preview.status, 200, preview.body.toString());
    t.equal(preview.json().content, 'port=9090\nhost=web-1\n');
    const livePreview = (await fx.json('POST', '/api/v1/manifests/preview', { template: 'templates/app.conf.j2', host: 'db-1', content: 'p={{ app.port }} {{ app.nosuch }}\n' })).json();
    t.equal(livePreview.ok, false);
    t.equal(livePreview.problems[0].line, 1);
    t.equal((await fx.json('POST', '/api/v1/manifests/preview', { template: 'templates/app.conf.j2', host: 'nosuch' })).status, 404);

    const plan = await fx.json('GET', `/api/v1/manifests/drafts/${id}/plan`);
    t.equal(plan.status, 200, plan.body.toString());
    t.equal(plan.json().summary.changed, 2, 'web-1 and web-2 change');

    // Another draft started now conflicts once the first is committed.
    const other = await newDraft(fx);
    t.equal((await fx.json('POST', `/api/v1/manifests/drafts/${other}/files`, { path: 'vars/global.yaml', content: 'app:\n  port: 8001\n  name: shop\n' })).status, 200);

    const committed = await fx.json('POST', `/api/v1/manifests/drafts/${id}/commit`, { message: 'web: port 9090' });
    t.equal(committed.status, 200, committed.body.toString());
    t.equal(committed.json().state, 'committed');
    t.ok(committed.json().commit);
    const liveBefore = (await fx.json('GET', '/api/v1/revisions/live')).json().id;
    t.not(liveBefore, committed.json().revision, 'a commit alone is not live');

    const moved = await fx.json('POST', `/api/v1/manifests/drafts/${other}/commit`, { message: 'late' });
    t.equal(moved.status, 409, 'the base moved');
    t.match(moved.json().error.message, /main moved/);

    const published = await fx.json('POST', `/api/v1/manifests/drafts/${id}/publish`);
    t.equal(published.status, 200, published.body.toString());
    t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, committed.json().revision);

    // A draft that does not compile is refused with its problems.
    const broken = await newDraft(fx);
    await fx.json('POST', `/api/v1/manifests/drafts/${broken}/files`, { path: 'templates/app.conf.j2', content: 'port={{ app.port }}\n{{ app.nosuch }}\n' });
    const refused = await fx.json('POST', `/api/v1/manifests/drafts/${broken}/commit`, { message: 'broken' });
    t.equal(refused.status, 422);
    t.equal(refused.json().error.details.problems[0].file, 'templates/app.conf.j2');
    t.equal(refused.json().error.details.problems[0].line, 2);
    t.equal((await fx.json('DELETE', `/api/v1/manifests/drafts/${broken}`)).status, 204);

    // The commit is in the history git push writes: a clone shows it, by its author, and a push on top works.
    const parent = mkdtempSync(join(home, 'w-'));
    await git(parent, ['clone', '--quiet', repoUrl(fx), 'work']);
    const work = join(parent, 'work');
    const log = await git(work, ['log', '--format=%an|%s']);
    t.match(log.split('\n')[0], /^admin\|web: port 9090$/, log);
    t.match(readFileSync(join(work, 'groups/web.yaml'), 'utf8'), /port: 9090/);
    writeFileSync(join(work, 'vars/global.yaml'), 'app:\n  port: 8002\n  name: shop\n');
    await git(work, ['commit', '-qam', 'pushed after the console']);
    await git(work, ['push', '--quiet', 'origin', 'main']);
    const history = (await fx.json('GET', '/api/v1/revisions')).json().revisions.map((r: { message: string }) => r.message);
    t.same(history.slice(0, 2), ['pushed after the console', 'web: port 9090']);
    // A draft started before that push is refused.
    const stale = await fx.json('POST', `/api/v1/manifests/drafts/${other}/commit`, { message: 'still late' });
    t.equal(stale.status, 409);
  });

  t.test('secrets: a preview that depends on one is withheld, the key table shows the marker', async (t) => {
    const plaintext = 'canary-pw-7f3a91';
    const id = await newDraft(fx);
    const global = `app:\n  port: 8000\n  name: shop\n  password: !secret ${encryptSecret(plaintext, demoSecretKey())}\n`;
    t.equal((await fx.json('POST', `/api/v1/manifests/drafts/${id}/files`, { path: 'vars/global.yaml', content: global })).status, 200);
    const answers: string[] = [];
    const p = await fx.json('POST', '/api/v1/manifests/preview', { template: 'templates/app.conf.j2', host: 'db-1', draft: id, content: 'pw={{ app.password }}\n' });
    answers.push(p.body.toString());
    t.equal(p.status, 200, p.body.toString());
    t.same({ ok: p.json().ok, sensitive: p.json().sensitive, content: p.json().content }, { ok: true, sensitive: true, content: undefined });
    const table = await fx.json('GET', `/api/v1/manifests/vars?path=vars/global.yaml&draft=${id}`);
    answers.push(table.body.toString());
    t.match(table.json().rows.find((r: { key: string }) => r.key === 'app.password'), { secret: true, value: /^\[secret sha256:/ });
    const edit = await fx.json('POST', `/api/v1/manifests/drafts/${id}/vars`, { path: 'vars/global.yaml', edits: [{ key: 'app.password', value: 'plain' }] });
    t.equal(edit.status, 400, 'a secret is not edited in the key table');
    const check = await fx.json('POST', '/api/v1/manifests/check', { path: 'vars/global.yaml', content: global, draft: id });
    answers.push(check.body.toString());
    t.equal(check.json().ok, true);
    for (const a of answers) t.notMatch(a, plaintext, 'the plaintext appears in no answer');
    t.equal((await fx.json('DELETE', `/api/v1/manifests/drafts/${id}`)).status, 204);
  });

  t.test('a viewer reads and checks but does not draft', async (t) => {
    const viewer = await fx.token('readonly', 'viewer-1');
    t.equal((await fx.json('GET', '/api/v1/manifests/tree', undefined, viewer)).status, 200);
    t.equal((await fx.json('POST', '/api/v1/manifests/check', { path: 'vars/global.yaml', content: 'a: 1\n' }, viewer)).status, 200);
    t.equal((await fx.json('POST', '/api/v1/manifests/drafts', undefined, viewer)).status, 403);
    t.equal((await fx.json('POST', '/api/v1/manifests/preview', { template: 'templates/app.conf.j2', host: 'web-1' }, viewer)).status, 403);
    const mine = await newDraft(fx);
    t.equal((await fx.json('GET', `/api/v1/manifests/drafts/${mine}`, undefined, viewer)).status, 404, 'another operator\'s draft is not found');
  });
});
