/**
 * Enrollment end to end with a real `stead server` and a real `stead agent` process:
 * - a pending agent logs its key's fingerprint, and the API lists exactly that fingerprint;
 * - a revoked agent does not exit: it enrolls a new key (logging its fingerprint), waits for
 *   approval, and converges again once approved; the revoked key stays unusable (ADR 0009).
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { AgentProcess, buildOnce, fleetRepository, freePort, hasCommand, ServerProcess, waitFor } from '../helpers/e2e-fleet.js';
import { keyFingerprint } from '../../schemas/key-fingerprint.js';

await buildOnce();
const skip = (await hasCommand('server')) ? false : 'the build has no `stead server` command yet (cli/commands/server.ts)';

/** The fingerprints the agent logged in "enrollment pending" lines, oldest first. */
function pendingFingerprints(agent: AgentProcess): string[] {
  const out: string[] = [];
  for (const l of agent.logs) {
    try {
      const rec = JSON.parse(l) as { msg?: string; fingerprint?: string };
      if (rec.msg?.startsWith('enrollment pending') && rec.fingerprint) out.push(rec.fingerprint);
    } catch {
      // not a log line
    }
  }
  return out;
}

t.test('pending fingerprint logged = listed; revoked agent re-enrolls a new key and waits', { skip }, async (t) => {
  const dir = t.testdir({ server: {}, a1: { root: {}, data: {} } });
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  await server.start(t);
  t.equal((await server.publish(fleetRepository())).status, 201);
  const agent = new AgentProcess({ host: 'a1', server: server.url, root: join(dir, 'a1/root'), dataDir: join(dir, 'a1/data'), intervalSeconds: 1 }).start(t);

  // 1. First enrollment without a token: pending, fingerprint in the log and in the API.
  const [first] = await waitFor('the agent to log its pending fingerprint', () => (pendingFingerprints(agent).length > 0 ? pendingFingerprints(agent) : undefined));
  t.match(first, /^[0-9a-f]{64}$/);
  t.equal(first, keyFingerprint(await fsp.readFile(join(dir, 'a1/data/identity/key.pub.pem'), 'utf8')), 'the logged fingerprint is the key on disk');
  const listed = await server.api('GET', '/api/v1/agents/a1');
  t.same(listed.body.keys.map((k: { fingerprint: string; status: string }) => [k.fingerprint, k.status]), [[first, 'pending']], 'the API lists the same fingerprint');
  t.equal((await server.api('POST', '/api/v1/agents/a1/approve', { fingerprint: first })).status, 200);
  await agent.waitForRun('converged after approval', (r) => r.outcome === 'in-sync');

  // 2. Revoked: the agent keeps running, enrolls a new key and waits.
  t.equal((await server.api('POST', '/api/v1/agents/a1/revoke')).status, 200);
  const second = await waitFor('a new pending fingerprint', () => pendingFingerprints(agent)[1]);
  t.not(second, first, 'a new key');
  t.equal(agent.child?.exitCode, null, 'the revoked agent did not exit');
  t.ok(agent.logs.some((l) => l.includes('enrolling a new key')), 'and said why');
  t.equal(second, keyFingerprint(await fsp.readFile(join(dir, 'a1/data/identity/key.pub.pem'), 'utf8')));
  const view = (await server.api('GET', '/api/v1/agents/a1')).body;
  t.equal(view.status, 'revoked', 'the host stays revoked until an operator approves');
  t.same(view.keys.map((k: { fingerprint: string; status: string }) => [k.fingerprint, k.status]), [[first, 'approved'], [second, 'pending']], 'the new key is listed as pending under the fingerprint the agent logged');

  const mark = agent.runs.length;
  const approve = await server.api('POST', '/api/v1/agents/a1/approve', { fingerprint: second });
  t.equal(approve.status, 200, JSON.stringify(approve.body));
  t.same(approve.body.keys.map((k: { status: string }) => k.status), ['retired', 'approved'], 'the revoked key is retired for good');
  await fsp.writeFile(join(dir, 'a1/root/srv/app/host'), 'drifted\n');
  const run = await agent.waitForRun('a run with the new key after approval', (r) => r.serverReachable && r.outcome !== undefined, mark);
  t.ok(run.outcome === 'changed' || run.outcome === 'in-sync', `the agent converges again (${run.outcome})`);
  await waitFor('the drift repaired', async () => (await agent.read('srv/app/host')) === 'a1\n');
  t.equal(await agent.stop(), 0);
  await server.stop();
});
