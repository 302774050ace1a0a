/**
 * Two `stead server --cluster` processes on one MongoDB-wire store (FerretDB started by the
 * mongo-wire helper, or the MongoDB of MONGODB_URL), each with its own data directory, and two
 * real agents polling one server each: a revision published on one server reaches the agent of
 * the other, an agent enrolled on one is approved on the other, and the reports of both are read
 * through either. Run by `npm run test:mongo`; under plain `npm test` it says why it is skipped.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import t from 'tap';
import { AgentProcess, buildOnce, fleetRepository, freePort, ServerProcess, waitFor } from '../helpers/e2e-fleet.js';
import { startMongoWire, wireKinds, withDatabase } from '../helpers/mongo-wire.js';

const { kind, skip } = wireKinds()[0]!; // MongoDB, else FerretDB on SQLite

t.test(`two servers on one MongoDB-wire store (${kind})`, { skip: skip ?? false }, async (t) => {
  await buildOnce();
  const wire = await startMongoWire(kind);
  t.teardown(() => wire.stop());
  const dbName = `stead_e2e_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(wire.url, dbName);
  t.teardown(async () => {
    const client = await MongoClient.connect(wire.url);
    await client.db(dbName).dropDatabase();
    await client.close();
  });
  const dir = t.testdir({ s1: {}, s2: {}, a1: { root: {}, data: {} }, b1: { root: {}, data: {} } });
  const s1 = new ServerProcess(join(dir, 's1'), await freePort());
  const s2 = new ServerProcess(join(dir, 's2'), await freePort());
  for (const s of [s1, s2]) s.extraArgs.push('--cluster', '--mongodb-url', url);
  t.teardown(() => {
    if (t.counts.fail > 0) for (const s of [s1, s2]) t.comment(`server ${s.port} stderr (last 20 lines):\n${s.stderr.slice(-20).join('\n')}`);
  });
  await s1.start(t);
  await s2.start(t);
  for (const s of [s1, s2]) {
    if (kind === 'mongodb') t.notMatch(s.stderr.join('\n'), /not atomic/, 'no FerretDB warning on MongoDB');
    else t.match(s.stderr.join('\n'), /FerretDB v1\.24\.2.*use it for tests only/, 'the server warns that FerretDB v1 is for tests only');
  }

  const pub = await s1.publish(fleetRepository());
  t.equal(pub.status, 201, `published on server 1: ${JSON.stringify(pub.body).slice(0, 300)}`);
  const live2 = await waitFor('the revision live on server 2', async () => {
    const r = await s2.api('GET', '/api/v1/revisions/live');
    return r.status === 200 ? r : undefined;
  });
  t.equal(live2.body.id, (await s1.api('GET', '/api/v1/revisions/live')).body.id, 'both servers serve the same live revision');

  const a1 = new AgentProcess({ host: 'a1', server: s1.url, root: join(dir, 'a1', 'root'), dataDir: join(dir, 'a1', 'data'), intervalSeconds: 1 }).start(t);
  const b1 = new AgentProcess({ host: 'b1', server: s2.url, root: join(dir, 'b1', 'root'), dataDir: join(dir, 'b1', 'data'), intervalSeconds: 1 }).start(t);
  for (const [h, other] of [['a1', s2], ['b1', s1]] as const) {
    await waitFor(`${h} pending on the other server`, async () => {
      const r = await other.api('GET', `/api/v1/agents/${h}`);
      return r.status === 200 && r.body.status === 'pending';
    });
    t.equal((await other.api('POST', `/api/v1/agents/${h}/approve`)).status, 200, `${h} approved on the server it does not poll`);
  }
  for (const agent of [a1, b1]) {
    const run = await agent.waitForRun('first converging run', (r) => r.outcome === 'changed');
    t.equal(run.counts?.failed, 0);
  }
  t.equal(await a1.read('srv/app/greeting.conf'), 'greeting=hello-alpha\n', 'a1 converged through server 1');
  t.equal(await b1.read('srv/app/greeting.conf'), 'greeting=hello-beta\n', 'b1 converged through server 2');

  const last = b1.runs.at(-1)!;
  const seen = await waitFor('b1\'s report read through server 1', async () => (await s1.reports('b1')).find((r) => r.runId === last.runId));
  t.equal(seen.outcome, last.outcome, 'a report sent to server 2 is read through server 1');

  // A second revision published on server 2 reaches the agent of server 1.
  const mark = a1.runs.length;
  t.equal((await s2.publish(fleetRepository({ alphaGreeting: 'bonjour-alpha' }))).status, 201, 'published on server 2');
  await a1.waitForRun('the new revision on a1', (r) => r.catalogSource === 'fresh' && r.outcome === 'changed', mark);
  t.equal(await a1.read('srv/app/greeting.conf'), 'greeting=bonjour-alpha\n');

  for (const agent of [a1, b1]) t.equal(await agent.stop(), 0, 'agent stopped cleanly');
  await s1.stop();
  await s2.stop();
  for (const s of [s1, s2]) t.same(s.stderr.filter((l) => /"level":"error"/.test(l)), [], `server ${s.port} logged no error over the wire store`);
});
