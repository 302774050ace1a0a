/**
 * `stead publish DIR` and `stead rollout …` as a built `stead` process against a real server
 * (test/helpers/server-fixture.ts, the composed server on loopback): the rollout flags and the
 * policy they send (bad values exit 2 before anything is sent), publishing at once (human and
 * --json), a refused revision printed as file:line: message, and the rollout printed for a
 * person. The rollout engine itself is tested with real agents elsewhere; here a rollout is
 * started, listed, shown, paused, continued and aborted through the CLI.
 */
import t from 'tap';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runStead, type SteadResult } from '../../helpers/cli.js';
import { startServer } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';
import { batchBar, formatRollout, maxFailures, rolloutPolicyFromFlags, RolloutOptionError } from '../../../cli/operator/rollout-view.js';

function writeRepo(dir: string, files: Record<string, string>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

t.test('the rollout policy from the flags', async (t) => {
  t.equal(rolloutPolicyFromFlags({}), undefined, 'no --batches: published at once');
  t.same(rolloutPolicyFromFlags({ batches: '1,10%,+20%,100%', gate: 'manual', 'wait-between': '30', 'max-failures': '3' }), { batches: '1,10%,+20%,100%', gate: 'manual', waitBetweenSeconds: 30, maxFailures: { count: 3 } });
  t.same(maxFailures('10%'), { percent: 10 });
  t.same(maxFailures('2.5%'), { percent: 2.5 });
  t.same(maxFailures('0'), { count: 0 });
  for (const bad of ['ten', '-1', '3.5', '101%', '%', '1e3', '']) t.throws(() => maxFailures(bad), RolloutOptionError, `--max-failures ${JSON.stringify(bad)}`);
  for (const bad of ['', 'abc', '1,,2', '10%%', '1;rm']) t.throws(() => rolloutPolicyFromFlags({ batches: bad }), RolloutOptionError, `--batches ${JSON.stringify(bad)}`);
  t.throws(() => rolloutPolicyFromFlags({ batches: '1,100%', gate: 'sometimes' }), RolloutOptionError);
  t.throws(() => rolloutPolicyFromFlags({ batches: '1,100%', 'wait-between': '1.5' }), RolloutOptionError);
  t.throws(() => rolloutPolicyFromFlags({ batches: '1,100%', 'wait-between': '604801' }), RolloutOptionError);
  t.throws(() => rolloutPolicyFromFlags({ gate: 'manual' }), /--gate needs --batches/);
});

t.test('a rollout for a person: state, policy, a bar per batch, failures; hostile text inert', async (t) => {
  t.equal(batchBar(4, 2, 1), '[##########xxxxx.....]');
  t.equal(batchBar(0, 0, 0), `[${' '.repeat(20)}]`);
  const lines = formatRollout({
    id: 'r1',
    kind: 'revision',
    state: 'paused',
    reason: 'failures exceed the threshold\x1b[2J',
    revision: 'a'.repeat(64),
    previous: 'b'.repeat(64),
    createdAt: '2026-12-07T02:00:00.000Z',
    createdBy: 'admin',
    policy: { batches: '1,25%,100%', gate: 'manual', maxFailures: { percent: 10 } },
    current: 1,
    hosts: 8,
    failures: 1,
    threshold: { overall: 1, batch: 0 },
    batches: [
      { index: 0, hosts: ['h1'], state: 'succeeded', failures: [], succeeded: 1 },
      { index: 1, hosts: ['h2', 'h3'], state: 'failed', failures: [{ host: 'h3', reason: 'run failed: 1 resource failed' }], succeeded: 1 },
      { index: 2, hosts: ['h4', 'h5', 'h6', 'h7', 'h8'], state: 'pending', failures: [] },
    ],
  });
  const text = lines.join('\n');
  t.match(text, /^Rollout r1 of revision a{64}: paused: failures exceed the threshold\\x1b\[2J \(stead rollout continue r1 resumes/);
  t.match(text, /Policy: batches 1,25%,100% · gate manual · wait 0 s · max failures 10%/);
  t.match(text, /Failures: 1 of 8 hosts \(tolerated: 1 overall, 0 in this batch\)/);
  t.match(text, /BATCH +HOSTS +STATE +PASSED +FAILED\n 0 +1 +succeeded +\[#{20}\] 1\/1 +0\n>1 +2 +failed +\[#{10}x{10}\] 1\/2 +1\n 2 +5 +pending +\[\.{20}\] 0\/5 +0/);
  t.match(text, /Failed hosts:\n {2}batch 1 h3: run failed: 1 resource failed$/);
  t.notMatch(text, /\x1b/, 'no raw escape reaches the terminal');
});

t.test('stead publish and stead rollout against a real server', async (t) => {
  const fx = await startServer(t);
  const dir = t.testdir({ token: `${fx.adminToken}\n` });
  chmodSync(join(dir, 'token'), 0o600);
  const env = { STEAD_SERVER: fx.base, STEAD_TOKEN_FILE: join(dir, 'token'), STEAD_TOKEN: '' };
  const stead = (args: string[], more: NodeJS.ProcessEnv = {}): Promise<SteadResult> => runStead(args, { cwd: dir, env: { ...env, ...more }, timeoutMs: 120_000 });
  const good = writeRepo(join(dir, 'good'), smallRepo());
  mkdirSync(join(good, '.git'));
  writeFileSync(join(good, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  const bad = writeRepo(join(dir, 'bad'), smallRepo({ templateError: true }));

  await t.test('bad rollout values: exit 2 before anything is sent', async (t) => {
    for (const args of [['--batches', '1,,2'], ['--batches', '1,100%', '--max-failures', 'ten'], ['--batches', '1,100%', '--gate', 'sometimes'], ['--batches', '1,100%', '--wait-between=-5'], ['--max-failures', '3']]) {
      const r = await stead(['publish', 'good', ...args]);
      t.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      t.match(r.stderr, /^stead publish: .*\nRun "stead publish --help" for usage\.\n$/);
    }
    const json = await stead(['publish', 'good', '--batches', 'x', '--json']);
    t.equal(json.code, 2);
    t.match(JSON.parse(json.stdout), { error: { code: 'BAD_REQUEST', message: /--batches/ } });
    t.equal((await fx.json('GET', '/api/v1/revisions')).json().revisions.length, 0, 'nothing was published');
    const noDir = await stead(['publish']);
    t.equal(noDir.code, 64, 'no DIR is a usage error');
    const missing = await stead(['publish', 'nope']);
    t.equal(missing.code, 64);
    t.match(missing.stderr, /cannot read nope: ENOENT/);
  });

  await t.test('a refused revision: every problem as file:line: message, exit 2, nothing live', async (t) => {
    const r = await stead(['publish', 'bad', '--message', 'broken template']);
    t.equal(r.code, 2, r.stderr);
    t.match(r.stderr, /^stead publish: REVISION_INVALID: /);
    t.match(r.stderr, /^templates\/app\.conf\.j2:\d+: .+$/m, 'the template problem with its line');
    t.equal(r.stdout, '');
    const json = await stead(['publish', 'bad', '--json']);
    t.equal(json.code, 2);
    const out = JSON.parse(json.stdout) as { error: { code: string; problems: { file: string; line?: number }[] } };
    t.equal(out.error.code, 'REVISION_INVALID');
    t.ok(out.error.problems.some((p) => p.file === 'templates/app.conf.j2' && typeof p.line === 'number'));
    t.equal((await fx.json('GET', '/api/v1/revisions')).json().revisions.length, 0, 'nothing was published');
  });

  await t.test('published at once: human line, then --json without a rollout key', async (t) => {
    const r = await stead(['publish', 'good', '--message', 'first']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^Published revision [0-9a-f]{64} \(8 files\)(, commit [0-9a-f]{12})?: live on every host\.\n$/, '.git left out');
    const live = (await fx.json('GET', '/api/v1/revisions/live')).json() as { id: string; message: string; files: Record<string, string> };
    t.equal(live.message, 'first');
    t.notOk(Object.keys(live.files).some((f) => f.startsWith('.git')), 'no .git file was uploaded');
    writeFileSync(join(good, 'files', 'robots.txt'), 'User-agent: *\n');
    const j = await stead(['publish', 'good', '--json']);
    t.equal(j.code, 0, j.stderr);
    const out = JSON.parse(j.stdout) as Record<string, unknown>;
    t.same(Object.keys(out), ['revision'], 'no rollout key when published at once');
    t.match(out['revision'], /^[0-9a-f]{64}$/);
    t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, out['revision'], 'live now');
  });

  await t.test('--batches: a rollout; --json prints exactly revision and rollout {id, state, batches}; rollout list/show/pause/continue/abort', async (t) => {
    for (const h of ['web-1', 'web-2', 'db-1']) await fx.approvedAgent(h);
    writeFileSync(join(good, 'files', 'robots.txt'), 'User-agent: canary\n');
    const r = await stead(['publish', 'good', '--message', 'canary', '--batches', '1,100%', '--gate', 'manual', '--wait-between', '0', '--max-failures', '10%', '--json']);
    t.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { revision: string; rollout: { id: string; state: string; batches: { hosts: string[] }[] } };
    t.same(Object.keys(out), ['revision', 'rollout']);
    t.same(Object.keys(out.rollout), ['id', 'state', 'batches']);
    t.match(out.revision, /^[0-9a-f]{64}$/);
    t.equal(out.rollout.batches.length, 2);
    t.same(out.rollout.batches.map((b) => b.hosts.length), [1, 2], '1 host, then the rest');
    const id = out.rollout.id;
    const view = (await fx.json('GET', `/api/v1/rollouts/${id}`)).json() as { policy: unknown; revision: string };
    t.same(view.policy, { batches: '1,100%', gate: 'manual', waitBetweenSeconds: 0, maxFailures: { percent: 10 } }, 'the policy the flags built');
    t.equal(view.revision, out.revision);
    t.not((await fx.json('GET', '/api/v1/revisions/live')).json().id, out.revision, 'not live on every host yet');

    const again = await stead(['publish', 'good', '--batches', '1,100%']);
    t.equal(again.code, 2, 'one revision rollout at a time');
    t.match(again.stderr, /ROLLOUT_ACTIVE|already live/);

    const list = await stead(['rollout', 'list']);
    t.equal(list.code, 0, list.stderr);
    t.match(list.stdout, /^ID +STATE +BATCHES +FAILED +CREATED +BY +WHAT\n/);
    t.match(list.stdout, new RegExp(`^${id} +(running|waiting) +0/2 +0/3 .* admin +revision [0-9a-f]{12}$`, 'm'));
    t.equal((JSON.parse((await stead(['rollout', 'list', '--json'])).stdout) as { rollouts: { id: string }[] }).rollouts[0]?.id, id);

    const show = await stead(['rollout', 'show', id]);
    t.equal(show.code, 0, show.stderr);
    t.match(show.stdout, new RegExp(`^Rollout ${id} of revision ${out.revision}`));
    t.match(show.stdout, /Policy: batches 1,100% · gate manual · wait 0 s · max failures 10%/);
    t.match(show.stdout, /BATCH +HOSTS +STATE +PASSED +FAILED\n>0 +1 +running +\[\.{20}\] 0\/1 +0\n 1 +2 +pending +\[\.{20}\] 0\/2 +0/);
    const showJson = JSON.parse((await stead(['rollout', 'show', id, '--json'])).stdout) as { id: string; kind: string };
    t.equal(showJson.id, id);
    t.equal(showJson.kind, 'revision');

    const pause = await stead(['rollout', 'pause', id, '--reason', 'lunch']);
    t.equal(pause.code, 0, pause.stderr);
    t.match(pause.stdout, new RegExp(`^Paused rollout ${id}: now paused: lunch`));
    const cont = await stead(['rollout', 'continue', id, '--json']);
    t.equal(cont.code, 0, cont.stderr);
    t.not((JSON.parse(cont.stdout) as { state: string }).state, 'paused');
    const abort = await stead(['rollout', 'abort', id]);
    t.equal(abort.code, 0, abort.stderr);
    t.match(abort.stdout, new RegExp(`^Aborted rollout ${id}: now aborted`));
    const refused = await stead(['rollout', 'pause', id]);
    t.equal(refused.code, 2, 'an aborted rollout cannot be paused');
    const none = await stead(['rollout', 'show', 'no-such-rollout']);
    t.equal(none.code, 2);
    t.match(none.stderr, /NOT_FOUND/);
    const usage = await stead(['rollout', 'frob', id]);
    t.equal(usage.code, 64);
  });

  await t.test('a symbolic link in the directory is refused (usage error)', async (t) => {
    const linked = writeRepo(join(dir, 'linked'), smallRepo());
    symlinkSync('/etc/passwd', join(linked, 'files', 'passwd'));
    const r = await stead(['publish', 'linked']);
    t.equal(r.code, 64);
    t.match(r.stderr, /files\/passwd: symbolic links and special files are not allowed/);
  });
});
