/**
 * Failure behaviour end to end, with real server and agent processes on loopback:
 * - the server SIGKILLed while agents poll: they keep enforcing their cached catalogs (drift is
 *   repaired during the outage), and after a restart every report arrives, none lost, none twice;
 * - forged, tampered, replayed and cross-host requests are refused; a revoked agent asks for
 *   approval of a new key;
 * - an agent stopped by SIGTERM mid-run exits 0 at once and keeps its report; one SIGKILLed
 *   mid-run converges on the next run.
 */
import { createPrivateKey } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { AgentClient } from '../../agent/client/agent-client.js';
import { ApiError } from '../../agent/client/api-error.js';
import { loadOrCreateIdentity } from '../../agent/identity/agent-identity.js';
import { newNonce, signRequest } from '../../agent/identity/request-signature.js';
import { AgentProcess, buildOnce, fleetRepository, freePort, hasCommand, ServerProcess, waitFor, type RunLine } from '../helpers/e2e-fleet.js';

await buildOnce();
const skip = (await hasCommand('server')) ? false : 'the build has no `stead server` command yet (cli/commands/server.ts)';

async function bootstrapToken(server: ServerProcess, host: string): Promise<string> {
  const r = await server.api('POST', '/api/v1/bootstrap-tokens', { host, ttlSeconds: 600 });
  if (r.status !== 201) throw new Error(`bootstrap token: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token as string;
}

t.test('server killed while agents poll: cached catalogs enforced, every report delivered once', { skip }, async (t) => {
  const dir = t.testdir({ server: {}, a1: { root: {}, data: {} }, a2: { root: {}, data: {} }, b1: { root: {}, data: {} } });
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  await server.start(t);
  t.equal((await server.publish(fleetRepository())).status, 201);
  const hosts = ['a1', 'a2', 'b1'] as const;
  const agents: Record<string, AgentProcess> = {};
  for (const h of hosts) {
    agents[h] = new AgentProcess({ host: h, server: server.url, root: join(dir, h, 'root'), dataDir: join(dir, h, 'data'), intervalSeconds: 1, bootstrapToken: await bootstrapToken(server, h) }).start(t);
  }
  for (const h of hosts) await agents[h]!.waitForRun('converged (approved by bootstrap token)', (r) => r.outcome === 'in-sync');

  // Outage.
  await server.kill();
  const mark = Object.fromEntries(hosts.map((h) => [h, agents[h]!.runs.length]));
  for (const h of hosts) await agents[h]!.waitForRun('two runs on the cached catalog', (r) => r.catalogSource === 'cached' && r.outcome === 'in-sync', mark[h]! + 1);
  await fsp.writeFile(join(dir, 'a1/root/srv/app/host'), 'drifted while the server is down\n');
  const repair = await agents.a1!.waitForRun('the repair during the outage', (r) => r.catalogSource === 'cached' && r.outcome === 'changed', mark.a1);
  t.equal(repair.counts?.corrective, 1, 'drift repaired from the cached catalog, as corrective');
  t.equal(await agents.a1!.read('srv/app/host'), 'a1\n');
  for (const h of hosts) t.ok(agents[h]!.runs.at(-1)!.pendingReports > 0, `${h}: reports queued during the outage`);
  for (const h of hosts) t.ok(agents[h]!.logs.some((l) => l.includes('enforcing the cached catalog')), `${h} logged why it enforces the cached catalog`);

  // Restart on the same port and data dir.
  await server.start(t);
  const settled: Record<string, RunLine> = {};
  for (const h of hosts) {
    const from = agents[h]!.runs.length;
    settled[h] = await agents[h]!.waitForRun('a run with nothing left in the spool', (r) => r.serverReachable && r.pendingReports === 0, from);
  }
  for (const h of hosts) {
    const runs = agents[h]!.runs;
    const upTo = runs.indexOf(settled[h]!);
    const expected = runs.slice(0, upTo + 1).filter((r) => r.outcome !== undefined).map((r) => r.runId);
    const onServer = (await server.reports(h)).map((r) => r.runId);
    t.equal(new Set(onServer).size, onServer.length, `${h}: no report stored twice`);
    const missing = expected.filter((id) => !onServer.includes(id));
    t.same(missing, [], `${h}: every report arrived (${expected.length} runs, ${runs.slice(0, upTo + 1).filter((r) => r.catalogSource === 'cached').length} during the outage)`);
    const spool = (await fsp.readdir(join(dir, h, 'data/spool'))).filter((f) => f.endsWith('.json'));
    t.ok(spool.length <= 1, `${h}: spool drained (${spool.length} left from a run in flight)`);
  }

  // Identity checks against the live server.
  const ac = new AbortController();
  const a1Key = createPrivateKey(await fsp.readFile(join(dir, 'a1/data/identity/key.pem')));
  const forgedIdentity = await loadOrCreateIdentity(join(dir, 'forger'));
  const forged = new AgentClient({ serverUrl: server.url, host: 'a1', privateKey: forgedIdentity.privateKey });
  t.teardown(() => forged.close());
  const e1 = await forged.fetchCatalog(undefined, ac.signal).catch((e: unknown) => e);
  t.ok(e1 instanceof ApiError && e1.identityRefused, `a key that was never approved for a1 is refused (${String(e1)})`);

  const a1 = new AgentClient({ serverUrl: server.url, host: 'a1', privateKey: a1Key });
  t.teardown(() => a1.close());
  t.equal((await a1.fetchCatalog(undefined, ac.signal)).kind, 'catalog', 'the real key of a1 reads its own catalog');
  const other = await a1.request({ method: 'GET', path: '/api/v1/hosts/a2/catalog' }, ac.signal);
  t.ok(other.status === 403 || other.status === 404, `a1 asking for a2's catalog is refused (${other.status})`);
  t.notMatch(other.body.toString(), /hello-alpha|"resources"/, 'and gets nothing of it');
  const lying = new AgentClient({ serverUrl: server.url, host: 'a2', privateKey: a1Key });
  t.teardown(() => lying.close());
  const e2 = await lying.fetchCatalog(undefined, ac.signal).catch((e: unknown) => e);
  t.ok(e2 instanceof ApiError && e2.identityRefused, 'a1\'s key claiming to be a2 is refused');

  // Tampered body and replayed request, hand-built.
  const path = '/api/v1/hosts/a1/facts';
  const signed = { method: 'PUT', pathWithQuery: path, body: Buffer.from('{"hostname":"a1"}'), host: 'a1', timeMs: Date.now(), nonce: newNonce() };
  const headers = { ...signRequest(signed, a1Key), 'content-type': 'application/json' };
  const tampered = await fetch(`${server.url}${path}`, { method: 'PUT', headers, body: '{"hostname":"evil"}' });
  t.ok(tampered.status === 401 || tampered.status === 403, `a body changed after signing is refused (${tampered.status})`);
  const fresh = { ...signed, nonce: newNonce(), timeMs: Date.now() };
  const freshHeaders = { ...signRequest(fresh, a1Key), 'content-type': 'application/json' };
  const first = await fetch(`${server.url}${path}`, { method: 'PUT', headers: freshHeaders, body: fresh.body });
  t.ok(first.status >= 200 && first.status < 300, `a correctly signed request is taken (${first.status})`);
  const replay = await fetch(`${server.url}${path}`, { method: 'PUT', headers: freshHeaders, body: fresh.body });
  t.ok(replay.status === 401 || replay.status === 403 || replay.status === 409, `the same request replayed is refused (${replay.status})`);

  // Revocation: the b1 agent is refused on its next poll; it enrolls a new key and waits for
  // approval instead of exiting (test/e2e/reenroll.test.ts follows it to the end).
  t.equal((await server.api('POST', '/api/v1/agents/b1/revoke')).status, 200);
  await waitFor('b1 to ask for approval of a new key', () => agents.b1!.logs.some((l) => l.includes('enrollment pending')) || (agents.b1!.child?.exitCode ?? null) !== null);
  t.equal(agents.b1!.child?.exitCode, null, 'a revoked agent keeps running');
  t.ok(agents.b1!.logs.some((l) => l.includes('refuses this agent')), 'and says why');

  for (const h of ['a1', 'a2', 'b1']) t.equal(await agents[h]!.stop(), 0);
  await server.stop();
});

t.test('an agent stopped (SIGTERM) or killed (SIGKILL) mid-run: clean exit, report kept, next run converges', { skip }, async (t) => {
  const dir = t.testdir({ server: {}, a1: { root: {}, data: {} } });
  const root = join(dir, 'a1/root');
  const started1 = join(dir, 'slow-started-1');
  const started2 = join(dir, 'slow-started-2');
  // A slow command the first two times (the agent is stopped, then killed, while it runs), quick afterwards.
  const command = `if [ ! -e ${started1} ]; then touch ${started1}; sleep 30; elif [ ! -e ${started2} ]; then touch ${started2}; sleep 30; fi; touch ${root}/srv/app/done`;
  const extra = [
    '  - type: exec',
    '    name: slow-step',
    `    command: ${JSON.stringify(command)}`,
    '    creates: /srv/app/done',
    '    require: [file:/srv/app/host]',
    '  - type: file',
    '    path: /srv/app/after',
    '    content: "after the slow step\\n"',
    '    require: [exec:slow-step]',
  ].join('\n');
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  await server.start(t);
  const pub = await server.publish(fleetRepository({ extraResources: extra }));
  t.equal(pub.status, 201, JSON.stringify(pub.body).slice(0, 500));
  const opts = { host: 'a1', server: server.url, root, dataDir: join(dir, 'a1/data'), intervalSeconds: 1, bootstrapToken: await bootstrapToken(server, 'a1') };
  const exists = (p: string) => () => fsp.access(p).then(() => true, () => false);

  // 1. SIGTERM while the slow step runs: the step is aborted, the report is kept, exit 0, promptly.
  const first = new AgentProcess(opts).start(t);
  await waitFor('the slow step to start', exists(started1));
  const stopAt = Date.now();
  t.equal(await first.stop(), 0, 'SIGTERM mid-run exits 0');
  t.ok(Date.now() - stopAt < 15_000, `and within a few seconds (${Date.now() - stopAt} ms), not after the 30 s command`);
  const stoppedRun = first.runs.find((r) => r.outcome !== undefined);
  t.equal(stoppedRun?.outcome, 'failed', 'the interrupted run is reported as failed');
  await t.rejects(fsp.access(join(root, 'srv/app/after')), 'the step after the slow one did not run');

  // 2. SIGKILL while it runs again: nothing is reported for that run.
  const second = new AgentProcess(opts).start(t);
  await waitFor('the slow step to start again', exists(started2));
  await second.kill();
  t.same(second.runs.filter((r) => r.outcome !== undefined), [], 'killed before the run finished');

  // 3. The next start converges, and the interrupted run's report reached the server.
  const third = new AgentProcess(opts).start(t);
  const run = await third.waitForRun('a completed run', (r) => r.outcome !== undefined);
  t.equal(run.outcome, 'changed', JSON.stringify(run));
  t.equal(run.counts?.failed, 0);
  t.equal(await third.read('srv/app/after'), 'after the slow step\n');
  t.equal(await third.read('srv/app/greeting.conf'), 'greeting=hello-alpha\n');
  await third.waitForRun('then in sync', (r) => r.outcome === 'in-sync', third.runs.indexOf(run) + 1);
  const onServer = (await server.reports('a1')).map((r) => r.runId);
  t.ok(stoppedRun && onServer.includes(stoppedRun.runId), 'the report of the SIGTERMed run was delivered');
  t.equal(await third.stop(), 0);
  await server.stop();
});
