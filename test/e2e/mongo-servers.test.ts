/**
 * Two `stead server --cluster` processes on one MongoDB-wire store (FerretDB started by the
 * mongo-wire helper, or the MongoDB of MONGODB_URL), each with its own data directory, and two
 * real agents polling one server each: a revision published on one server reaches the agent of
 * the other, an agent enrolled on one is approved on the other, and the reports of both are read
 * through either. And stock FerretDB v1 (updates not atomic; STEAD_FERRETDB_STOCK_BINARY) is
 * refused by `--cluster` and only warned about by a single server (ADR 0023). Run by `npm run
 * test:mongo`; under plain `npm test` it says why it is skipped.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import t from 'tap';
import { AgentProcess, buildOnce, fleetRepository, freePort, mainJs, ServerProcess, waitFor } from '../helpers/e2e-fleet.js';
import { startFerretDB, startMongoWire, wireKinds, withDatabase } from '../helpers/mongo-wire.js';

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

// ADR 0023: stock FerretDB v1 (updates not atomic) is refused for several servers; one server
// starts with the warning. test:mongo builds the stock binary too and names it here.
const stock = process.env['STEAD_FERRETDB_STOCK_BINARY'] ?? '';
const stockSkip = skip ?? (kind === 'mongodb' ? 'against MONGODB_URL: no stock FerretDB to refuse' : stock === '' ? 'STEAD_FERRETDB_STOCK_BINARY is not set (npm run test:mongo builds and sets it)' : undefined);
t.test('stock FerretDB v1: --cluster refused, a single server warned', { skip: stockSkip ?? false }, async (t) => {
  await buildOnce();
  const wire = await startFerretDB(stock, 'sqlite');
  t.teardown(() => wire.stop());
  const url = withDatabase(wire.url, `stead_stock_${randomBytes(4).toString('hex')}`);
  const dir = t.testdir({ c: {}, one: {} });
  const refused = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    execFile(process.execPath, [mainJs, 'server', '--cluster', '--mongodb-url', url, '--port', '0', '--host', '127.0.0.1', '--data-dir', join(dir, 'c')], { timeout: 120_000 }, (err, _out, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stderr });
    });
  });
  t.equal(refused.code, 64, 'stead server --cluster exits 64 on stock FerretDB v1');
  t.match(refused.stderr, /several servers need atomic single-document updates.*FerretDB v1\.24\.2, whose updates are not atomic/s, refused.stderr.slice(0, 500));
  const one = new ServerProcess(join(dir, 'one'), await freePort());
  one.extraArgs.push('--mongodb-url', url);
  await one.start(t);
  t.match(one.stderr.join('\n'), /FerretDB v1\.24\.2, whose updates are not atomic/, 'a single server starts, with the warning');
  await one.stop();
});
