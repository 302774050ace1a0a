/**
 * Canary rollouts end to end (issue 10, ADR 0017 §3): a real `stead server` and 20 real
 * `stead agent` daemons, each confined to its own --root.
 *
 * 1. A revision rolled out with "1,25%,100%" and maxFailures 10 %: a command that fails on two
 *    hosts of the second batch trips the threshold (2 > ceil(10 % of 4)); the rollout pauses
 *    and the third batch never gets the revision (its hosts keep running the previous one).
 *    Abort returns the delivered hosts to the previous revision.
 * 2. A revision with a manual gate: pause, continue, the server killed with SIGKILL while a
 *    batch runs and restarted on the same data directory: the rollout resumes, the batch is
 *    not started again, and the rollout completes with the revision live.
 * 3. A job rolled out in two batches: one ordinary job per batch, on that batch's hosts.
 */
import { join } from 'node:path';
import t from 'tap';
import { planBatches } from '../../server/services/rollouts/topology.js';
import { AgentProcess, buildOnce, freePort, hasCommand, ServerProcess, waitFor } from '../helpers/e2e-fleet.js';

await buildOnce();
const ready = await hasCommand('server');

const names = Array.from({ length: 20 }, (_, i) => `h${String(i + 1).padStart(2, '0')}`);
/** Two IDCs, four sets in each (h01, h09, h17 in x/s1, …). */
const topo = names.map((name, i) => ({ name, idc: i % 2 === 0 ? 'x' : 'y', set: `s${(i % 8 >> 1) + 1}` }));

function repository(greeting: string, failing: readonly string[] = []): Record<string, string> {
  const files: Record<string, string> = {
    'stead.yaml': 'stead: 1\nname: rollouts-e2e\n',
    'inventory/hosts.yaml': `hosts:\n${topo.map((h) => `  ${h.name}: { idc: ${h.idc}, set: ${h.set} }`).join('\n')}\n`,
    'groups/fleet.yaml': `description: every host\nkind: custom\npriority: 10\nhosts: [${names.join(', ')}]\nroles: [app]\nvars:\n  greeting: ${greeting}\n`,
    'roles/app/role.yaml': [
      'description: a small app',
      'resources:',
      '  - type: directory',
      '    path: /srv',
      '    mode: "0755"',
      '  - type: file',
      '    path: /srv/greeting',
      '    content: "{{ greeting }}\\n"',
      '    mode: "0644"',
      '    require: [directory:/srv]',
      '',
    ].join('\n'),
  };
  if (failing.length > 0) {
    files['groups/broken.yaml'] = `description: hosts where the new command fails\nkind: custom\npriority: 20\nhosts: [${failing.join(', ')}]\nroles: [broken]\n`;
    files['roles/broken/role.yaml'] = ['description: a command that fails', 'resources:', '  - type: exec', '    name: migrate', '    command: "echo the migration fails here >&2; exit 7"', ''].join('\n');
  }
  return files;
}

t.test('rollouts over 20 agent daemons', { skip: ready ? false : 'the build has no `stead server` command' }, async (t) => {
  const top = t;
  const dir = t.testdir({ server: {}, ...Object.fromEntries(names.map((h) => [h, { root: {}, data: {} }])) });
  const port = await freePort();
  let server = new ServerProcess(join(dir, 'server'), port);
  await server.start(t);
  t.teardown(() => {
    if (t.counts.fail > 0) t.comment(`server stderr (last 40 lines):\n${server.stderr.slice(-40).join('\n')}`);
  });
  const pubA = await server.publish(repository('A'));
  t.equal(pubA.status, 201, JSON.stringify(pubA.body).slice(0, 300));
  const revA = pubA.body.id as string;
  const agents = Object.fromEntries(names.map((h) => [h, new AgentProcess({ host: h, server: server.url, root: join(dir, h, 'root'), dataDir: join(dir, h, 'data'), intervalSeconds: 1 }).start(t)])) as Record<string, AgentProcess>;
  for (const h of names) {
    await waitFor(`${h} enrolled`, async () => (await server.api('GET', `/api/v1/agents/${h}`)).status === 200, 120_000);
    t.equal((await server.api('POST', `/api/v1/agents/${h}/approve`)).status, 200, `${h} approved`);
  }
  for (const h of names) await agents[h]!.waitForRun('the first converging run', (r) => r.outcome === 'changed' || r.outcome === 'in-sync', 0, 120_000);
  const short = (id: string): string => id.slice(0, 16);
  const greeting = (h: string) => agents[h]!.read('srv/greeting');
  const rollout = async (id: string) => (await server.api('GET', `/api/v1/rollouts/${id}`)).body;
  const until = (id: string, what: string, pred: (r: any) => boolean) => waitFor(`rollout ${id}: ${what}`, async () => {
    const r = await rollout(id);
    return pred(r) ? r : undefined;
  }, 120_000, 250);

  const expected = planBatches(topo, '1,25%,100%').map((b) => b.map((h) => h.name));
  t.same(expected.map((b) => b.length), [1, 4, 15]);
  t.same(new Set(expected[1]!.map((h) => topo.find((x) => x.name === h)!.idc)), new Set(['x', 'y']), 'the second batch spans both IDCs');

  await t.test('a failure in the second batch trips the 10 % threshold; the third batch keeps the previous revision', async (t) => {
    const failing = [expected[1]![1]!, expected[1]![3]!, expected[2]![0]!];
    const pub = await server.api('POST', '/api/v1/revisions', { files: repository('B', failing), message: 'B, canary', rollout: { batches: '1,25%,100%', maxFailures: { percent: 10 }, batchTimeoutSeconds: 120 } });
    t.equal(pub.status, 201, JSON.stringify(pub.body).slice(0, 500));
    const id = pub.body.rollout.id as string;
    const revB = pub.body.id as string;
    t.equal(pub.body.live, false);
    t.same(pub.body.rollout.batches.map((b: any) => b.hosts), expected, 'the batches the topology plan predicts');
    const busy = await server.publish(repository('C'));
    t.equal(busy.status, 409, 'publishing during a revision rollout is refused');
    t.equal(busy.body.error?.code, 'ROLLOUT_ACTIVE');

    const paused = await until(id, 'paused by the threshold', (r) => r.state === 'paused');
    t.equal(paused.batches[0].state, 'succeeded');
    t.equal(paused.batches[1].state, 'failed');
    t.same(paused.batches[1].failures.map((f: any) => f.host).sort(), [failing[0], failing[1]].sort());
    t.match(paused.batches[1].failures[0].reason, /failed: 1 resource failed/);
    t.equal(paused.batches[2].state, 'pending');
    t.match(paused.reason, /batch 2 of 3: 2 of 4 hosts failed, more than the 1 tolerated/);
    t.same(paused.threshold, { overall: 2, batch: 1 });
    for (const h of [...expected[0]!, ...expected[1]!]) t.equal(await greeting(h), 'B\n', `${h} (delivered) runs B`);
    // The third batch keeps being served A: each of its hosts runs again after the pause, on A.
    const marks = Object.fromEntries(expected[2]!.map((h) => [h, agents[h]!.runs.length]));
    for (const h of expected[2]!) {
      const run = await agents[h]!.waitForRun('a run after the pause', () => true, marks[h]);
      t.equal(run.revision, short(revA), `${h} still runs the previous revision`);
      t.equal(run.outcome, 'in-sync');
      t.equal(await greeting(h), 'A\n');
    }
    t.equal((await server.api('GET', '/api/v1/revisions/live')).body.id, revA, 'live never moved');

    const ab = await server.api('POST', `/api/v1/rollouts/${id}/abort`, { reason: 'the migration fails' });
    t.equal(ab.status, 200);
    t.equal(ab.body.state, 'aborted');
    for (const h of [...expected[0]!, ...expected[1]!]) {
      await waitFor(`${h} back on A`, async () => (await greeting(h)) === 'A\n', 120_000);
    }
    t.pass('every delivered host is back on the previous revision');
    t.not(revB, revA);
  });

  await t.test('pause, continue, and a server killed mid-rollout resumes without starting a batch again', async (t) => {
    const pub = await server.api('POST', '/api/v1/revisions', { files: repository('C'), message: 'C, gated', rollout: { batches: '1,25%,100%', gate: 'manual', batchTimeoutSeconds: 120 } });
    t.equal(pub.status, 201, JSON.stringify(pub.body).slice(0, 500));
    const id = pub.body.rollout.id as string;
    const revC = pub.body.id as string;
    const gated = await until(id, 'waiting at the manual gate', (r) => r.state === 'waiting');
    t.equal(gated.gate, 'manual');
    t.equal(await greeting(expected[0]![0]!), 'C\n');
    const p = await server.api('POST', `/api/v1/rollouts/${id}/pause`, { reason: 'hold on' });
    t.equal(p.body.state, 'paused');
    t.equal(p.body.reason, 'hold on');
    const c = await server.api('POST', `/api/v1/rollouts/${id}/continue`);
    t.equal(c.status, 200);
    t.equal(c.body.current, 1, 'the second batch started');
    const startedAt = c.body.batches[1].startedAt as string;
    t.ok(startedAt);
    await server.kill();
    server = new ServerProcess(join(dir, 'server'), port);
    await server.start(top); // killed when the whole test ends, not this subtest
    const resumed = await until(id, 'the second batch judged after the restart', (r) => r.state === 'waiting' && r.current === 1);
    t.equal(resumed.batches[1].state, 'succeeded');
    t.equal(resumed.batches[1].startedAt, startedAt, 'the batch was not started again');
    for (const h of expected[1]!) t.equal(await greeting(h), 'C\n');
    for (const h of expected[2]!) t.equal(await greeting(h), 'A\n', `${h} waits at the gate on A`);
    t.equal((await server.api('POST', `/api/v1/rollouts/${id}/continue`)).status, 200);
    const done = await until(id, 'completed', (r) => r.state === 'completed');
    t.equal(done.failures, 0);
    // Moving live is the completion's side effect, done by the driver right after the state change (stored with it, so a crash cannot lose it).
    await waitFor('live = C', async () => (await server.api('GET', '/api/v1/revisions/live')).body.id === revC, 120_000);
    t.pass('completion made C live');
    for (const h of names) await waitFor(`${h} on C`, async () => (await greeting(h)) === 'C\n', 120_000);
    t.pass('every host runs C');
  });

  await t.test('a job in batches: one ordinary job per batch', async (t) => {
    const r = await server.api('POST', '/api/v1/rollouts', { job: { name: 'hello', targets: 'group:fleet', script: { lang: 'shell', source: 'echo "hello from $STEAD_HOST"' } }, policy: { batches: '50%' } });
    t.equal(r.status, 201, JSON.stringify(r.body).slice(0, 500));
    t.same(r.body.batches.map((b: any) => b.hosts.length), [10, 10]);
    const done = await until(r.body.id, 'completed', (x) => x.state === 'completed' || x.state === 'paused');
    t.equal(done.state, 'completed', JSON.stringify(done.batches.map((b: any) => b.failures)));
    const jobIds = done.batches.map((b: any) => b.jobId);
    t.equal(new Set(jobIds).size, 2, 'two jobs');
    for (const [i, jid] of jobIds.entries()) {
      const j = (await server.api('GET', `/api/v1/jobs/${jid}?output=true`)).body;
      t.equal(j.state, 'succeeded');
      t.same(j.hosts.map((h: any) => h.host).sort(), [...done.batches[i].hosts].sort(), `job ${i} ran on batch ${i}'s hosts`);
      for (const h of j.hosts) t.match(h.stdout, `hello from ${h.host}`);
    }
  });

  // Every process is gone before tap removes the test directory (an agent writing its spool meanwhile made that fail).
  await Promise.all(Object.values(agents).map((a) => a.kill()));
  await server.kill();
});
