/**
 * `stead revisions list|diff|activate` as a built `stead` process against a real server: the
 * history (with commits), a per-file diff, and a rollback that becomes a new commit.
 */
import t from 'tap';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStead, type SteadResult } from '../helpers/cli.js';
import { startServer } from '../helpers/server-fixture.js';
import { smallRepo } from '../helpers/server-repo.js';

const fx = await startServer(t);
const r1 = (await fx.publish(smallRepo())).json();
const r2 = (await fx.publish(smallRepo({ webPort: 9191 }))).json();
const dir = mkdtempSync(join(tmpdir(), 'stead-revisions-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'token'), `${fx.adminToken}\n`);
chmodSync(join(dir, 'token'), 0o600);
const env = { STEAD_SERVER: fx.base, STEAD_TOKEN_FILE: join(dir, 'token'), STEAD_TOKEN: '' };
const stead = (args: string[]): Promise<SteadResult> => runStead(args, { cwd: dir, env, timeoutMs: 120_000 });

t.test('list: newest first with commits; --json is the API answer', async (t) => {
  const r = await stead(['revisions', 'list']);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.match(lines[0], /^COMMIT\s+REVISION\s+LIVE\s+WHEN\s+BY\s+MESSAGE$/);
  t.equal(lines.length, 3);
  t.match(lines[1], new RegExp(`^${r2.commit.slice(0, 10)}\\s+${r2.id.slice(0, 12)}\\s+live\\s`));
  t.match(lines[2], new RegExp(`^${r1.commit.slice(0, 10)}\\s+${r1.id.slice(0, 12)}\\s+\\S+Z\\s+admin <admin@stead>`));
  const j = await stead(['revisions', 'list', '--json', '--limit', '1']);
  t.equal(j.code, 0, j.stderr);
  const out = JSON.parse(j.stdout) as { revisions: { commit: string; parent: string }[] };
  t.equal(out.revisions.length, 1);
  t.equal(out.revisions[0]!.parent, r1.commit);
});

t.test('diff: the files that differ with unified diffs', async (t) => {
  const r = await stead(['revisions', 'diff', r1.id.slice(0, 12), 'live']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^modified groups\/web\.yaml\n/);
  t.match(r.stdout, /-    port: 8080\n\+    port: 9191/);
  const same = await stead(['revisions', 'diff', 'live', 'live']);
  t.match(same.stdout, /^No differences/);
  const j = JSON.parse((await stead(['revisions', 'diff', r1.id, r2.id, '--json'])).stdout) as { files: { path: string; status: string }[] };
  t.same(j.files.map((f) => f.status), ['modified']);
  const bad = await stead(['revisions', 'diff', 'xyz']);
  t.equal(bad.code, 64);
  const unknown = await stead(['revisions', 'diff', 'abcdefabcdef', 'live']);
  t.equal(unknown.code, 2);
});

t.test('activate: a rollback is a new commit and live', async (t) => {
  const r = await stead(['revisions', 'activate', r1.id.slice(0, 12)]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, new RegExp(`^Revision ${r1.id.slice(0, 12)} is live \\(commit [0-9a-f]{10}\\)\\.`));
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, r1.id);
  const list = (await fx.json('GET', '/api/v1/revisions')).json().revisions;
  t.equal(list.length, 3);
  t.equal(list[0].id, r1.id);
  t.equal(list[0].parent, r2.commit);
  const ro = await fx.token('readonly', 'viewer');
  const denied = await runStead(['revisions', 'activate', r2.id], { cwd: dir, env: { STEAD_SERVER: fx.base, STEAD_TOKEN: ro, STEAD_TOKEN_FILE: '' } });
  t.equal(denied.code, 3);
});
