/**
 * Backup retention in a real `stead agent` daemon against a real `stead server`: each drift the
 * agent repairs leaves a backup of the drifted content; with --backup-keep 1 only the newest
 * backup of the path is left after the runs, and the agent logs what it pruned.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { AgentProcess, buildOnce, fleetRepository, freePort, hasCommand, ServerProcess, waitFor } from '../helpers/e2e-fleet.js';
import { listBackups } from '../../agent/resources/file-backup.js';

await buildOnce();
const skip = (await hasCommand('server')) ? false : 'the build has no `stead server` command yet';

t.test('the daemon prunes backups after its runs and logs it', { skip }, async (t) => {
  const dir = t.testdir({ server: {}, a1: { root: {}, data: {} } });
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  await server.start(t);
  t.equal((await server.publish(fleetRepository())).status, 201);
  const agent = new AgentProcess({ host: 'a1', server: server.url, root: join(dir, 'a1/root'), dataDir: join(dir, 'a1/data'), intervalSeconds: 1, extraArgs: ['--backup-keep', '1'] }).start(t);
  const fp = await waitFor('a pending key', async () => (await server.api('GET', '/api/v1/agents/a1')).body?.keys?.[0]?.fingerprint as string | undefined);
  t.equal((await server.api('POST', '/api/v1/agents/a1/approve', { fingerprint: fp })).status, 200);
  await agent.waitForRun('converged', (r) => r.outcome === 'in-sync');
  const stateDir = join(dir, 'a1/data/state');
  for (const n of [1, 2, 3]) {
    await fsp.writeFile(join(dir, 'a1/root/srv/app/host'), `drift ${n}\n`);
    await waitFor(`drift ${n} repaired`, async () => (await agent.read('srv/app/host')) === 'a1\n');
    await waitFor(`a backup of drift ${n}`, async () => (await listBackups(stateDir, { path: '/srv/app/host' })).some((e) => e.path === '/srv/app/host' && e.size === `drift ${n}\n`.length));
  }
  const pruned = await waitFor('a "pruned file backups" log line', () => agent.logs.find((l) => l.includes('"msg":"pruned file backups"')));
  t.match(JSON.parse(pruned), { level: 'info', removedEntries: Number, removedFiles: Number, runId: String });
  await waitFor('one backup left for the path', async () => (await listBackups(stateDir, { path: '/srv/app/host' })).length === 1);
  const [left] = await listBackups(stateDir, { path: '/srv/app/host' });
  t.equal((await fsp.readFile(join(stateDir, 'backups', left!.sha256), 'utf8')), 'drift 3\n', 'the newest backup is the one kept');
  t.equal(await agent.stop(), 0);
  await server.stop();
});

t.test('a bad --backup-keep is a usage error', async (t) => {
  const agent = new AgentProcess({ host: 'a1', server: 'http://127.0.0.1:1', root: t.testdir(), dataDir: t.testdir(), extraArgs: ['--backup-keep', '0'] }).start(t);
  t.equal(await agent.exit, 64);
  t.match(agent.logs.join('\n'), /--backup-keep must be a whole number from 1 to 100000/);
});
