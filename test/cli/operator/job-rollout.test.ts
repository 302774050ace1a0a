/**
 * `stead job run --batches …` (ADR 0017 §3, docs/cli.md): a job delivered in batches through
 * the rollout engine, as a built `stead` process against a real `stead server` and three real
 * `stead agent` daemons. Bad rollout flags exit 2 before anything is sent; `--batches 1,100%
 * --gate manual --json` prints the rollout whose first batch job runs on one host, and `stead
 * rollout continue` runs the rest; `--wait` follows a rollout through the manual gate to its
 * completion (exit 0, a line per batch state change on stderr) and stops at a pause (exit 1).
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runStead, type SteadResult } from '../../helpers/cli.js';
import { AgentProcess, buildOnce, freePort, hasCommand, ServerProcess, waitFor } from '../../helpers/e2e-fleet.js';
import { rolloutProgress, rolloutSucceeded } from '../../../cli/operator/rollout-launch.js';

await buildOnce();
const ready = await hasCommand('server');

const hosts = ['h1', 'h2', 'h3'];
const repository: Record<string, string> = {
  'stead.yaml': 'stead: 1\nname: job-rollout-cli\n',
  'inventory/hosts.yaml': 'hosts:\n  h1: { idc: x }\n  h2: { idc: y }\n  h3: { idc: x }\n',
  'groups/fleet.yaml': 'description: every host\nkind: custom\npriority: 10\nhosts: [h1, h2, h3]\nroles: [app]\n',
  'roles/app/role.yaml': 'description: app\nresources:\n  - type: directory\n    path: /srv\n    mode: "0755"\n',
};

interface Batch {
  hosts: string[];
  state: string;
  jobId?: string;
  failures: { host: string; reason: string }[];
}
interface Rollout {
  id: string;
  kind: string;
  state: string;
  gate?: string;
  policy: Record<string, unknown>;
  batches: Batch[];
  failures: number;
}

t.test('progress lines: one per batch change and per rollout state; success is completed with no failure', async (t) => {
  const v1 = { id: 'r1', state: 'running', batches: [{ index: 0, hosts: ['a'], state: 'running', failures: [] }, { index: 1, hosts: ['b', 'c'], state: 'pending', failures: [] }] };
  t.same(rolloutProgress(undefined, v1), ['batch 1/2 (1 host): running', 'rollout r1: running'], 'pending batches are not announced');
  t.same(rolloutProgress(v1, v1), [], 'nothing changed, nothing printed');
  const v2 = { ...v1, state: 'waiting', gate: 'manual', batches: [{ ...v1.batches[0]!, state: 'succeeded', jobId: 'j\x1b[2J' }, v1.batches[1]!] };
  t.same(rolloutProgress(v1, v2), ['batch 1/2 (1 host): succeeded · job j\\x1b[2J', 'rollout r1: waiting for approval of the next batch (stead rollout continue r1)'], 'inert');
  t.ok(rolloutSucceeded({ state: 'completed', failures: 0, batches: [] }));
  t.notOk(rolloutSucceeded({ state: 'completed', failures: 1, batches: [] }), 'a failure tolerated by the threshold is still a failure');
  t.notOk(rolloutSucceeded({ state: 'paused', failures: 0, batches: [] }));
});

t.test('stead job run --batches against a real server and agent daemons', { skip: ready ? false : 'the build has no `stead server` command' }, async (t) => {
  const dir = t.testdir({ server: {}, cli: {}, ...Object.fromEntries(hosts.map((h) => [h, { root: {}, data: {} }])) });
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  await server.start(t);
  t.equal((await server.publish(repository)).status, 201);
  const agents = hosts.map((h) => new AgentProcess({ host: h, server: server.url, root: join(dir, h, 'root'), dataDir: join(dir, h, 'data'), intervalSeconds: 1 }).start(t));
  for (const h of hosts) {
    await waitFor(`${h} enrolled`, async () => (await server.api('GET', `/api/v1/agents/${h}`)).status === 200, 120_000);
    t.equal((await server.api('POST', `/api/v1/agents/${h}/approve`)).status, 200, `${h} approved`);
  }
  t.teardown(() => {
    if (t.counts.fail > 0) t.comment(`server stderr (last 30 lines):\n${server.stderr.slice(-30).join('\n')}`);
  });

  const tokenFile = join(dir, 'cli', 'token');
  writeFileSync(tokenFile, `${server.adminToken}\n`);
  chmodSync(tokenFile, 0o600);
  const env = { STEAD_SERVER: server.url, STEAD_TOKEN_FILE: tokenFile, STEAD_TOKEN: '' };
  const stead = (args: string[]): Promise<SteadResult> => runStead(args, { cwd: join(dir, 'cli'), env, timeoutMs: 180_000 });
  const rollout = async (id: string): Promise<Rollout> => (await server.api('GET', `/api/v1/rollouts/${id}`)).body as Rollout;
  const until = (id: string, what: string, pred: (r: Rollout) => boolean): Promise<Rollout> =>
    waitFor(`rollout ${id}: ${what}`, async () => {
      const r = await rollout(id);
      return pred(r) ? r : undefined;
    }, 120_000, 250);
  const job = async (id: string): Promise<{ state: string; hosts: { host: string; state: string; stdout?: string }[] }> => (await server.api('GET', `/api/v1/jobs/${id}?output=true`)).body;
  const run = ['job', 'run', '--targets', 'group:fleet', '--command', 'echo "batch on $STEAD_HOST"'];

  await t.test('bad rollout flags exit 2 before anything is sent', async (t) => {
    for (const args of [['--batches', '1,,2'], ['--batches', '1,100%', '--gate', 'sometimes'], ['--batches', '1,100%', '--max-failures', 'ten'], ['--batches', '1,100%', '--wait-between', '1.5'], ['--gate', 'manual']]) {
      const r = await stead([...run, ...args]);
      t.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      t.match(r.stderr, /^stead job run: .*\nRun "stead job --help" for usage\.\n$/);
    }
    const json = await stead([...run, '--batches', 'x', '--json']);
    t.equal(json.code, 2);
    t.match(JSON.parse(json.stdout), { error: { code: 'BAD_REQUEST', message: /--batches/ } });
    const dry = await stead([...run, '--batches', '1,100%', '--dry-run']);
    t.equal(dry.code, 64, 'a dry run is not delivered in batches');
    t.same((await server.api('GET', '/api/v1/rollouts')).body.rollouts, [], 'no rollout was started');
    t.same((await server.api('GET', '/api/v1/jobs')).body.jobs, [], 'no job was started');
  });

  await t.test('--batches 1,100% --gate manual --json: the first batch job on one host; stead rollout continue runs the rest', async (t) => {
    const r = await stead([...run, '--batches', '1,100%', '--gate', 'manual', '--max-failures', '0', '--json']);
    t.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Rollout;
    t.equal(out.kind, 'job');
    t.same(out.policy, { batches: '1,100%', gate: 'manual', maxFailures: { count: 0 } }, 'the policy the flags built');
    t.same(out.batches.map((b) => b.hosts.length), [1, 2], 'one host, then the rest');
    const gated = await until(out.id, 'waiting at the manual gate', (x) => x.state === 'waiting' || x.state === 'paused');
    t.equal(gated.state, 'waiting', JSON.stringify(gated.batches[0]?.failures));
    t.equal(gated.gate, 'manual');
    t.equal(gated.batches[0]!.state, 'succeeded');
    t.equal(gated.batches[1]!.state, 'pending');
    const first = await job(gated.batches[0]!.jobId!);
    t.equal(first.state, 'succeeded');
    t.same(first.hosts.map((h) => h.host), gated.batches[0]!.hosts, 'the first batch job ran on its one host');
    t.match(first.hosts[0]!.stdout, `batch on ${gated.batches[0]!.hosts[0]}`);

    const cont = await stead(['rollout', 'continue', out.id]);
    t.equal(cont.code, 0, cont.stderr);
    const done = await until(out.id, 'completed', (x) => x.state === 'completed' || x.state === 'paused');
    t.equal(done.state, 'completed');
    t.equal(done.failures, 0);
    const rest = await job(done.batches[1]!.jobId!);
    t.equal(rest.state, 'succeeded');
    t.same(rest.hosts.map((h) => h.host).sort(), [...done.batches[1]!.hosts].sort(), 'the second batch job ran on the other two hosts');
    t.same([...done.batches[0]!.hosts, ...done.batches[1]!.hosts].sort(), hosts);
  });

  await t.test('--wait follows the rollout through the manual gate to its end: exit 0, a line per batch change', async (t) => {
    const before = new Set(((await server.api('GET', '/api/v1/rollouts')).body.rollouts as Rollout[]).map((r) => r.id));
    // Continue only once the waiting command has printed the gate: it polls, and a continue sent
    // before its next poll would let it miss the waiting state (a race under load, not a bug).
    let sawGate = false;
    const waiting = runStead([...run, '--batches', '1,100%', '--gate', 'manual', '--wait'], { cwd: join(dir, 'cli'), env, timeoutMs: 180_000, onStderr: (s) => (sawGate ||= /waiting for approval of the next batch/.test(s)) });
    const started = await waitFor('the --wait rollout at its gate', async () => {
      const list = (await server.api('GET', '/api/v1/rollouts')).body.rollouts as Rollout[];
      return list.find((r) => !before.has(r.id) && (r.state === 'waiting' || r.state === 'paused'));
    }, 120_000, 250);
    t.equal(started.state, 'waiting');
    await waitFor('the waiting command to print the gate', async () => sawGate || undefined, 120_000, 100);
    const cont = await stead(['rollout', 'continue', started.id, '--json']);
    t.equal(cont.code, 0, cont.stderr);
    const r = await waiting;
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, /^batch 1\/2 \(1 host\): succeeded · job \S+$/m);
    t.match(r.stderr, new RegExp(`^rollout ${started.id}: waiting for approval of the next batch \\(stead rollout continue ${started.id}\\)$`, 'm'));
    t.match(r.stderr, /^batch 2\/2 \(2 hosts\): succeeded · job \S+$/m);
    t.match(r.stderr, new RegExp(`^rollout ${started.id}: completed$`, 'm'));
    t.match(r.stdout, new RegExp(`^Rollout ${started.id} of job: completed\n`), 'the final rollout for a person');
    t.match(r.stdout, /BATCH +HOSTS +STATE +PASSED +FAILED +JOB\n 0 +1 +succeeded .*\n 1 +2 +succeeded /);
  });

  await t.test('--wait stops at a pause (a failed host): exit 1, the paused rollout as JSON', async (t) => {
    const r = await stead(['job', 'run', '--targets', 'group:fleet', '--command', 'exit 3', '--batches', '1,100%', '--wait', '--json']);
    t.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as Rollout & { reason?: string };
    t.equal(out.state, 'paused');
    t.equal(out.batches[0]!.state, 'failed');
    t.match(out.batches[0]!.failures[0]!.reason, /exit 3/);
    t.equal(out.batches[1]!.state, 'pending', 'the rest never ran');
    t.match(r.stderr, /^batch 1\/2 \(1 host\): failed · 1 failed · job \S+$/m);
    const ab = await stead(['rollout', 'abort', out.id]);
    t.equal(ab.code, 0, ab.stderr);
  });

  await t.test('one batch, for a person: the rollout and how to follow it', async (t) => {
    const r = await stead([...run, '--batches', '100%']);
    t.equal(r.code, 0, r.stderr);
    const id = /^Rollout (\S+) of job: /.exec(r.stdout)?.[1];
    t.ok(id, r.stdout);
    t.match(r.stdout, /Policy: batches 100% · gate auto · wait 0 s · max failures 0 \(any failure pauses\)/);
    t.match(r.stdout, new RegExp(`Follow it with: stead rollout show ${id}\n$`));
    await until(id!, 'completed', (x) => x.state === 'completed');
  });

  await Promise.all(agents.map((a) => a.kill()));
  await server.kill();
});
