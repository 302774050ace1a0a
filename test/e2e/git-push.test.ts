/**
 * A `git push` reaches a real agent daemon (issue 10): a real `stead server`, the real `git`
 * client pushing to /git/manifests.git, and a real `stead agent` that converges the pushed
 * change; a refused push leaves the agent's files alone.
 */
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { AgentProcess, buildOnce, fleetRepository, freePort, hasCommand, ServerProcess, waitFor } from '../helpers/e2e-fleet.js';

await buildOnce();
const ready = await hasCommand('server');

t.test('a pushed change reaches the agent', { skip: ready ? false : 'the build has no `stead server` command' }, async (t) => {
  const dir = t.testdir({ server: {}, home: {}, work: {}, b1: { root: {}, data: {} } });
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: join(dir, 'home'), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
  const git = (args: string[]): Promise<{ code: number; stderr: string }> =>
    new Promise((resolve) => {
      execFile('git', ['-c', 'user.name=E2E', '-c', 'user.email=e2e@example.test', ...args], { cwd: join(dir, 'work'), env, timeout: 120_000 }, (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr: String(stderr) }));
    });
  const write = async (files: Record<string, string>): Promise<void> => {
    for (const [p, c] of Object.entries(files)) {
      await fsp.mkdir(dirname(join(dir, 'work', p)), { recursive: true });
      await fsp.writeFile(join(dir, 'work', p), c);
    }
  };
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  await server.start(t);
  t.teardown(() => {
    if (t.counts.fail > 0) t.comment(`server stderr (last 40 lines):\n${server.stderr.slice(-40).join('\n')}`);
  });
  const remote = new URL('/git/manifests.git', server.url);
  remote.username = 'e2e';
  remote.password = server.adminToken;
  t.equal((await git(['init', '--quiet', '--initial-branch=main', '.'])).code, 0);
  t.equal((await git(['remote', 'add', 'origin', remote.href])).code, 0);
  await write(fleetRepository());
  await git(['add', '-A']);
  await git(['commit', '--quiet', '-m', 'first']);
  const first = await git(['push', 'origin', 'main']);
  t.equal(first.code, 0, first.stderr);

  const agent = new AgentProcess({ host: 'b1', server: server.url, root: join(dir, 'b1', 'root'), dataDir: join(dir, 'b1', 'data'), intervalSeconds: 1 }).start(t);
  t.teardown(() => agent.kill());
  await waitFor('b1 pending', async () => (await server.api('GET', '/api/v1/agents/b1')).status === 200);
  t.equal((await server.api('POST', '/api/v1/agents/b1/approve')).status, 200);
  await agent.waitForRun('first run', (r) => r.outcome === 'changed');
  t.equal(await agent.read('srv/app/greeting.conf'), 'greeting=hello-beta\n');

  await write({ 'groups/beta.yaml': fleetRepository({ betaGreeting: 'pushed-by-git' })['groups/beta.yaml']! });
  await git(['commit', '--quiet', '-am', 'beta: new greeting']);
  const mark = agent.runs.length;
  const second = await git(['push', 'origin', 'main']);
  t.equal(second.code, 0, second.stderr);
  const live = (await server.api('GET', '/api/v1/revisions/live')).body.id as string;
  const run = await agent.waitForRun('a run of the pushed revision', (r) => r.catalogSource === 'fresh' && r.outcome === 'changed', mark);
  t.ok(run.revision !== undefined && live.startsWith(run.revision), 'the run applied the pushed revision');
  t.equal(await agent.read('srv/app/greeting.conf'), 'greeting=pushed-by-git\n', 'the agent converged the pushed change');

  await write({ 'templates/greeting.j2': 'greeting={{ greeting \n' });
  await git(['commit', '--quiet', '-am', 'broken']);
  const bad = await git(['push', 'origin', 'main']);
  t.not(bad.code, 0);
  t.match(bad.stderr, /remote: templates\/greeting\.j2:\d+/);
  t.equal((await server.api('GET', '/api/v1/revisions/live')).body.id, live, 'live unchanged');
  t.equal(await agent.read('srv/app/greeting.conf'), 'greeting=pushed-by-git\n');
});
