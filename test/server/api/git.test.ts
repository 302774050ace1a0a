/**
 * /git/manifests.git with the real `git` client against a real server (ADR 0017 §1): clone,
 * push accepted and live, a broken template refused with its file:line in git's output,
 * non-fast-forward refused, concurrent pushes, API uploads and activations as commits in the
 * same history, a second server on the same store syncing from bundles, 401/403.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';
import { rawRequest, startServer, type ServerFixture } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';

const home = mkdtempSync(join(tmpdir(), 'stead-git-test-home-'));
t.teardown(() => import('node:fs').then((fs) => fs.rmSync(home, { recursive: true, force: true })));
const gitEnv = {
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  HOME: home,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Ada Tester',
  GIT_AUTHOR_EMAIL: 'ada@example.test',
  GIT_COMMITTER_NAME: 'Ada Tester',
  GIT_COMMITTER_EMAIL: 'ada@example.test',
  LC_ALL: 'C',
};

interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

function gitIn(cwd: string, args: string[]): Promise<GitResult> {
  return new Promise((resolve) => {
    execFile('git', ['-c', 'user.name=Ada Tester', '-c', 'user.email=ada@example.test', '-c', 'init.defaultBranch=main', ...args], { cwd, env: gitEnv, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function ok(cwd: string, args: string[]): Promise<string> {
  const r = await gitIn(cwd, args);
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

function url(fx: ServerFixture, token: string | undefined = fx.adminToken): string {
  const u = new URL('/git/manifests.git', fx.base);
  if (token !== undefined) {
    u.username = 'anyone';
    u.password = token;
  }
  return u.href;
}

function writeRepo(dir: string, files: Record<string, string>): void {
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
}

/** A fresh directory under the test's home (t.testdir() would wipe the server's data dir). */
function scratch(): string {
  return mkdtempSync(join(home, 'w-'));
}

async function clone(_t: unknown, fx: ServerFixture, token?: string): Promise<string> {
  const parent = scratch();
  await ok(parent, ['clone', '--quiet', url(fx, token), 'work']);
  return join(parent, 'work');
}

async function live(fx: ServerFixture): Promise<string | undefined> {
  const r = await fx.json('GET', '/api/v1/revisions/live');
  return r.status === 200 ? (r.json().id as string) : undefined;
}

t.test('clone, commit, push: accepted and live; the history shows the commit', async (t) => {
  const fx = await startServer(t);
  const work = await clone(t, fx);
  writeRepo(work, smallRepo());
  await ok(work, ['add', '-A']);
  await ok(work, ['commit', '--quiet', '-m', 'first manifests']);
  const push = await gitIn(work, ['push', 'origin', 'main']);
  t.equal(push.code, 0, push.stderr);
  t.match(push.stderr, /remote: stead: revision [0-9a-f]{12} recorded/);
  const head = (await ok(work, ['rev-parse', 'HEAD'])).trim();
  const liveId = await live(fx);
  t.ok(liveId, 'a revision is live');
  const list = (await fx.json('GET', '/api/v1/revisions')).json().revisions;
  t.equal(list.length, 1);
  t.equal(list[0].commit, head);
  t.equal(list[0].id, liveId);
  t.equal(list[0].live, true);
  t.equal(list[0].message, 'first manifests');
  t.equal(list[0].author, 'Ada Tester <ada@example.test>');
  t.equal(list[0].createdBy, 'admin');

  // A second push on top, then a broken template: refused with file:line, live unchanged.
  writeFileSync(join(work, 'groups/web.yaml'), smallRepo({ webPort: 9090 })['groups/web.yaml']!);
  await ok(work, ['commit', '--quiet', '-am', 'web port 9090']);
  t.equal((await gitIn(work, ['push', 'origin', 'main'])).code, 0);
  const live2 = await live(fx);
  t.not(live2, liveId);
  const vars = (await fx.json('GET', '/api/v1/hosts/web-1/variables?view=flat')).json();
  t.equal(vars.revision, live2);
  t.match(JSON.stringify(vars.flat), /9090/, 'the pushed change is what hosts get');

  writeFileSync(join(work, 'templates/app.conf.j2'), smallRepo({ templateError: true })['templates/app.conf.j2']!);
  await ok(work, ['commit', '--quiet', '-am', 'broken template']);
  const bad = await gitIn(work, ['push', 'origin', 'main']);
  t.not(bad.code, 0, 'the push is refused');
  t.match(bad.stderr, /remote: templates\/app\.conf\.j2:\d+(:\d+)?: /, 'git shows the template file and line');
  t.match(bad.stderr, /pre-receive hook declined/);
  t.equal(await live(fx), live2, 'the live revision is unchanged');
  t.equal((await fx.json('GET', '/api/v1/revisions')).json().revisions.length, 2, 'no history entry for the refused push');
  const remoteHead = (await ok(work, ['ls-remote', 'origin', 'refs/heads/main'])).split('\t')[0];
  t.equal(remoteHead, (await ok(work, ['rev-parse', 'HEAD~1'])).trim(), 'main on the server did not move');

  // Each accepted push is in the audit log once (the refused one is not), with the pusher's address.
  const pushes = (await fx.server.services.auditLog.search({ action: 'revision.push' })).events;
  t.equal(pushes.length, 2, 'two accepted pushes recorded');
  t.match(pushes[0], { actor: 'admin', target: `revision:${live2}`, before: { live: liveId }, after: { revision: live2, live: live2, commit: String }, details: { message: 'web port 9090', author: 'Ada Tester <ada@example.test>' } });
  t.match(pushes[0]!.address, /127\.0\.0\.1/);
  t.match(pushes[1], { after: { revision: liveId, commit: head }, before: { live: null } });
});

t.test('non-fast-forward and other refs are refused; concurrent pushes: one wins, the other rebases', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const a = await clone(t, fx);
  const b = await clone(t, fx);
  t.equal((await ok(a, ['log', '--oneline'])).trim().split('\n').length, 1, 'the API upload is a commit');

  writeFileSync(join(a, 'files/robots.txt'), 'User-agent: *\nDisallow: /a\n');
  await ok(a, ['commit', '--quiet', '-am', 'from a']);
  writeFileSync(join(b, 'vars/global.yaml'), 'app:\n  port: 8001\n  name: shop\n');
  await ok(b, ['commit', '--quiet', '-am', 'from b']);
  const [pa, pb] = await Promise.all([gitIn(a, ['push', 'origin', 'main']), gitIn(b, ['push', 'origin', 'main'])]);
  t.equal([pa, pb].filter((r) => r.code === 0).length, 1, `exactly one push wins:\n${pa.stderr}\n${pb.stderr}`);
  const [winner, loser] = pa.code === 0 ? [a, b] : [b, a];
  const lost = pa.code === 0 ? pb : pa;
  t.match(lost.stderr, /fetch first|rejected/);
  await ok(loser, ['pull', '--quiet', '--rebase', 'origin', 'main']);
  const again = await gitIn(loser, ['push', 'origin', 'main']);
  t.equal(again.code, 0, again.stderr);
  await ok(winner, ['pull', '--quiet', '--rebase', 'origin', 'main']);
  t.equal((await ok(winner, ['log', '--oneline'])).trim().split('\n').length, 3, 'one linear history');

  // A stale clone cannot overwrite main, not even with --force.
  await ok(winner, ['reset', '--quiet', '--hard', 'HEAD~2']);
  writeFileSync(join(winner, 'files/robots.txt'), 'stale\n');
  await ok(winner, ['commit', '--quiet', '-am', 'stale']);
  const nff = await gitIn(winner, ['push', 'origin', 'main']);
  t.not(nff.code, 0);
  t.match(nff.stderr, /rejected/);
  const forced = await gitIn(winner, ['push', '--force', 'origin', 'main']);
  t.not(forced.code, 0, 'a forced non-fast-forward is refused');
  const other = await gitIn(winner, ['push', 'origin', 'HEAD:refs/heads/feature']);
  t.not(other.code, 0, 'other branches are refused');
  t.match(other.stderr, /only refs\/heads\/main/);
  const del = await gitIn(loser, ['push', 'origin', ':main']);
  t.not(del.code, 0, 'deleting main is refused');
});

t.test('API uploads and activations are commits in the history git pull shows; diff', async (t) => {
  const fx = await startServer(t);
  const r1 = (await fx.publish(smallRepo())).json();
  t.match(r1.commit, /^[0-9a-f]{40}$/);
  const work = await clone(t, fx);
  writeFileSync(join(work, 'files/robots.txt'), 'pushed\n');
  await ok(work, ['commit', '--quiet', '-am', 'pushed change']);
  t.equal((await gitIn(work, ['push', 'origin', 'main'])).code, 0);
  const r3 = (await fx.publish(smallRepo({ webPort: 7070 }))).json();
  t.equal(r3.live, true);
  t.equal(r3.author, 'admin <admin@stead>');
  await ok(work, ['pull', '--quiet', '--ff-only', 'origin', 'main']);
  t.equal(readFileSync(join(work, 'files/robots.txt'), 'utf8'), smallRepo()['files/robots.txt'], 'the upload replaced the pushed file');
  t.match(readFileSync(join(work, 'groups/web.yaml'), 'utf8'), /port: 7070/);
  t.equal((await ok(work, ['rev-parse', 'HEAD'])).trim(), r3.commit);
  t.equal((await ok(work, ['log', '-1', '--format=%an <%ae>|%s'])).trim(), 'admin <admin@stead>|test');

  // Rollback: a new commit whose tree equals the first revision.
  const act = await fx.json('POST', `/api/v1/revisions/${r1.id.slice(0, 12)}/activate`);
  t.equal(act.status, 200);
  t.equal(act.json().id, r1.id);
  t.not(act.json().commit, r1.commit, 'a new commit');
  t.equal(act.json().parent, r3.commit);
  t.equal(await live(fx), r1.id);
  await ok(work, ['pull', '--quiet', '--ff-only', 'origin', 'main']);
  t.equal((await ok(work, ['rev-parse', 'HEAD^{tree}'])).trim(), (await ok(work, ['rev-parse', `${r1.commit}^{tree}`])).trim(), 'same tree as the first revision');
  const list = (await fx.json('GET', '/api/v1/revisions')).json().revisions;
  t.same(list.map((e: { commit: string }) => e.commit), [act.json().commit, r3.commit, list[2].commit, r1.commit], 'newest first');
  t.same(list.map((e: { live: boolean }) => e.live), [true, false, false, false], 'the newest entry of the live revision is live');
  t.equal(list[3].parent, undefined);
  t.equal(list[2].parent, r1.commit);

  const d = await fx.json('GET', `/api/v1/revisions/${r1.id}/diff/${r3.id}`);
  t.equal(d.status, 200);
  t.same(d.json().files.map((f: { path: string; status: string }) => [f.path, f.status]), [['groups/web.yaml', 'modified']]);
  t.match(d.json().files[0].diff, /-    port: 8080\n\+    port: 7070/);
  t.equal((await fx.json('GET', `/api/v1/revisions/live/diff/${r3.id.slice(0, 12)}`)).json().a, r1.id);
  t.equal((await fx.json('GET', '/api/v1/revisions/zz/diff/live')).status, 400);

  // Uploads, the push and the rollback are each recorded once, with their commits.
  const events = (await fx.server.services.auditLog.search({ action: 'revision.' })).events;
  t.same(events.map((e) => e.action), ['revision.activate', 'revision.publish', 'revision.push', 'revision.publish'], 'newest first');
  t.match(events[0], { actor: 'admin', target: `revision:${r1.id}`, before: { live: r3.id }, after: { live: r1.id, commit: act.json().commit } });
  t.match(events[1], { after: { revision: r3.id, commit: r3.commit } });
});

t.test('a second server on the same store sees the history (its mirror syncs from bundles)', async (t) => {
  const dataDir = join(scratch(), 'data');
  const fx1 = await startServer(t, { dataDir });
  t.equal((await fx1.publish(smallRepo())).status, 201);
  const work = await clone(t, fx1);
  writeFileSync(join(work, 'files/robots.txt'), 'from server one\n');
  await ok(work, ['commit', '--quiet', '-am', 'pushed to one']);
  t.equal((await gitIn(work, ['push', 'origin', 'main'])).code, 0);
  const head = (await ok(work, ['rev-parse', 'HEAD'])).trim();
  await fx1.close();
  // The embedded store serves one process at a time: the second server opens it after the first
  // closed, with a mirror of its own that starts empty.
  const fx2 = await startServer(t, { dataDir, gitRootDir: join(scratch(), 'mirror2') });
  const again = await clone(t, fx2);
  t.equal((await ok(again, ['rev-parse', 'HEAD'])).trim(), head, 'same head');
  t.equal((await ok(again, ['log', '--oneline'])).trim().split('\n').length, 2, 'whole history');
  t.equal(readFileSync(join(again, 'files/robots.txt'), 'utf8'), 'from server one\n');
  writeFileSync(join(again, 'files/robots.txt'), 'from server two\n');
  await ok(again, ['commit', '--quiet', '-am', 'pushed to two']);
  t.equal((await gitIn(again, ['push', 'origin', 'main'])).code, 0);
  t.equal((await fx2.json('GET', '/api/v1/revisions')).json().revisions.length, 3);
});

t.test('authentication: 401 without a valid token, 403 for a readonly push', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const none = await rawRequest(fx.base, { method: 'GET', path: '/git/manifests.git/info/refs?service=git-upload-pack' });
  t.equal(none.status, 401);
  t.equal(none.headers['www-authenticate'], 'Basic realm="stead"');
  const wrong = await rawRequest(fx.base, { method: 'GET', path: '/git/manifests.git/info/refs?service=git-upload-pack', headers: { authorization: `Basic ${Buffer.from('x:not-a-token').toString('base64')}` } });
  t.equal(wrong.status, 401);
  const bearer = await rawRequest(fx.base, { method: 'GET', path: '/git/manifests.git/info/refs?service=git-upload-pack', headers: { authorization: `Bearer ${fx.adminToken}` } });
  t.equal(bearer.status, 401);
  const parent = scratch();
  const failed = await gitIn(parent, ['clone', '--quiet', url(fx, 'nope-nope-nope-nope'), 'w']);
  t.not(failed.code, 0);
  t.match(failed.stderr, /Authentication failed|401/);

  const ro = await fx.token('readonly', 'viewer');
  const work = await clone(t, fx, ro);
  writeFileSync(join(work, 'files/robots.txt'), 'readonly\n');
  await ok(work, ['commit', '--quiet', '-am', 'readonly tries']);
  const push = await gitIn(work, ['push', 'origin', 'main']);
  t.not(push.code, 0);
  t.match(push.stderr, /403/);
  const refs = await rawRequest(fx.base, { method: 'GET', path: '/git/manifests.git/info/refs?service=git-receive-pack', headers: { authorization: `Basic ${Buffer.from(`x:${ro}`).toString('base64')}` } });
  t.equal(refs.status, 403);
  t.equal((await rawRequest(fx.base, { method: 'GET', path: '/git/manifests.git/HEAD', headers: { authorization: `Basic ${Buffer.from(`x:${fx.adminToken}`).toString('base64')}` } })).status, 404, 'the dumb protocol is not served');
});

t.test('push options: a rollout that cannot start refuses the push; a rollout starter gets the policy', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.publish(smallRepo())).status, 201);
  const work = await clone(t, fx);
  writeFileSync(join(work, 'files/robots.txt'), 'canary\n');
  await ok(work, ['commit', '--quiet', '-am', 'canary change']);
  const liveBefore = await live(fx);
  const commits = async () => ((await fx.json('GET', '/api/v1/revisions')).json().revisions as { commit?: string }[]).filter((r) => r.commit !== undefined).length;
  const historyBefore = await commits();
  const refused = await gitIn(work, ['push', '-o', 'batches=1,50%,100%', 'origin', 'main']);
  t.not(refused.code, 0);
  t.match(refused.stderr, /remote: stead: the rollout cannot start: the revision has no enrolled host to deliver to/, 'no agent is enrolled: nothing to deliver to');
  t.equal(await live(fx), liveBefore, 'the live revision is unchanged');
  t.equal(await commits(), historyBefore, 'and the history has no commit for the refused push');
  const bad = await gitIn(work, ['push', '-o', 'batches=1', '-o', 'gate=sometimes', 'origin', 'main']);
  t.not(bad.code, 0);
  t.match(bad.stderr, /remote: stead: push options do not form a valid rollout policy/);

  const started: unknown[] = [];
  // A starter of the test's own (the server's needs enrolled agents: test/e2e/rollouts.test.ts and the rollouts API tests have them).
  fx.server.services.git!.setRolloutStarter(async (revision, policy, by) => {
    started.push({ revision, policy, by });
    return { id: 'r-test' };
  });
  const pushed = await gitIn(work, ['push', '-o', 'batches=1,50%,100%', '-o', 'gate=manual', '-o', 'max-failures=10%', 'origin', 'main']);
  t.equal(pushed.code, 0, pushed.stderr);
  t.match(pushed.stderr, /remote: stead: rollout r-test started/);
  t.equal(started.length, 1);
  t.same(started[0], { revision: (await fx.json('GET', '/api/v1/revisions')).json().revisions[0].id, policy: { batches: '1,50%,100%', gate: 'manual', maxFailures: { percent: 10 } }, by: 'admin' });
  t.equal(await live(fx), liveBefore, 'a rollout delivers it: live does not move at once');
});

t.test('revisions published before the history: the first git request imports the live one', async (t) => {
  const fx = await startServer(t);
  const files = new Map(Object.entries(smallRepo()).map(([p, c]) => [p, Buffer.from(c)]));
  const before = await fx.server.services.revisions.publish(files, { createdBy: 'admin', message: 'before git' }, AbortSignal.timeout(120_000));
  t.equal((await fx.json('GET', '/api/v1/revisions')).json().revisions[0].commit, undefined, 'no commit yet');
  const work = await clone(t, fx);
  t.equal((await ok(work, ['log', '--format=%an|%s'])).trim(), `stead|import of revision ${before.id.slice(0, 12)}, live before the history began`);
  t.equal(readFileSync(join(work, 'groups/web.yaml'), 'utf8'), smallRepo()['groups/web.yaml']);
  const list = (await fx.json('GET', '/api/v1/revisions')).json().revisions;
  t.equal(list.length, 1);
  t.equal(list[0].id, before.id);
  t.match(list[0].commit, /^[0-9a-f]{40}$/);
});
