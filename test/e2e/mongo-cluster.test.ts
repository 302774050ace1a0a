/**
 * Several servers (issue 13): three `stead server --cluster` processes, each with its own data
 * directory, on one MongoDB-wire store (the MongoDB of MONGODB_URL, else the test suite's
 * FerretDB whose writes are serialized, ADR 0023), behind a round-robin proxy
 * (test/helpers/round-robin-proxy.ts) that four real agent daemons, the CLI and the API calls
 * go through. Checked:
 * - the agents poll through the proxy (every server answers some) and converge;
 * - a schedule fires once across the three servers: one job, one line per host;
 * - a job rollout whose batch is running when the server that delivered it is killed with
 *   SIGKILL is finished by the others: every host ran the step exactly once;
 * - a console session made on one server works on another, and a logout on one ends it on all;
 * - a signed agent request replayed to another server is refused (shared nonces).
 * Run by `npm run test:mongo`; under plain `npm test` it says why it is skipped.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import t from 'tap';
import { AgentProcess, buildOnce, freePort, ServerProcess, steadAsOperator, waitFor } from '../helpers/e2e-fleet.js';
import { startMongoWire, wireKinds, withDatabase } from '../helpers/mongo-wire.js';
import { startRoundRobinProxy } from '../helpers/round-robin-proxy.js';

const { kind, skip } = wireKinds()[0]!; // MongoDB, else FerretDB on SQLite
const hosts = ['h1', 'h2', 'h3', 'h4'];

function repository(greeting: string): Record<string, string> {
  return {
    'stead.yaml': 'stead: 1\nname: cluster-e2e\n',
    'inventory/hosts.yaml': `hosts:\n${hosts.map((h, i) => `  ${h}: { idc: ${i % 2 === 0 ? 'x' : 'y'} }`).join('\n')}\n`,
    'groups/fleet.yaml': `description: every host\nkind: custom\npriority: 10\nhosts: [${hosts.join(', ')}]\nroles: [app]\nvars:\n  greeting: ${greeting}\n`,
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
}

/** One raw HTTP request to a base URL (no redirects followed). */
function request(base: string, method: string, path: string, headers: http.OutgoingHttpHeaders = {}, body?: string | Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The lines of a file, [] when it does not exist. */
async function linesOf(path: string): Promise<string[]> {
  if (!existsSync(path)) return [];
  return (await fsp.readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
}

t.test(`three servers in a cluster behind a round-robin proxy (${kind})`, { skip: skip ?? false }, async (t) => {
  await buildOnce();
  const wire = await startMongoWire(kind);
  t.teardown(() => wire.stop());
  const dbName = `stead_cluster_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(wire.url, dbName);
  t.teardown(async () => {
    const client = await MongoClient.connect(wire.url);
    await client.db(dbName).dropDatabase();
    await client.close();
  });
  const dir = t.testdir({ s1: {}, s2: {}, s3: {}, marks: {}, ...Object.fromEntries(hosts.map((h) => [h, { root: {}, data: {} }])) });
  const marks = join(dir, 'marks');
  const servers = [new ServerProcess(join(dir, 's1'), await freePort()), new ServerProcess(join(dir, 's2'), await freePort()), new ServerProcess(join(dir, 's3'), await freePort())];
  for (const s of servers) s.extraArgs.push('--cluster', '--mongodb-url', url);
  t.teardown(() => {
    if (t.counts.fail > 0) for (const s of servers) t.comment(`server ${s.port} stderr (last 30 lines):\n${s.stderr.slice(-30).join('\n')}`);
  });
  for (const s of servers) await s.start(t);
  for (const s of servers) {
    if (kind === 'mongodb') t.notMatch(s.stderr.join('\n'), /FerretDB/, 'no FerretDB notice on MongoDB');
    else t.match(s.stderr.join('\n'), /FerretDB v1\.24\.2-stead-serialized-writes, the test suite's build whose writes are serialized/, 'the server sees the serialized FerretDB (stock FerretDB v1 is refused in cluster mode)');
  }

  const proxy = await startRoundRobinProxy(servers.map((s) => s.url));
  t.teardown(() => proxy.close());
  // The API through the proxy, with the admin token of server 1 (operator tokens live in the store).
  const lb = new ServerProcess(join(dir, 'lb-unused'), proxy.port);
  lb.adminToken = servers[0]!.adminToken;
  for (const s of servers) t.equal((await request(s.url, 'GET', '/api/v1/agents', { authorization: `Bearer ${lb.adminToken}` })).status, 200, `server ${s.port} takes server 1's admin token`);

  const pub = await lb.publish(repository('A'));
  t.equal(pub.status, 201, `published through the proxy: ${JSON.stringify(pub.body).slice(0, 300)}`);

  // Four agents poll through the proxy; each is approved through the proxy (any server).
  const agents = Object.fromEntries(hosts.map((h) => [h, new AgentProcess({ host: h, server: proxy.url, root: join(dir, h, 'root'), dataDir: join(dir, h, 'data'), intervalSeconds: 1 }).start(t)])) as Record<string, AgentProcess>;
  t.teardown(() => Promise.all(Object.values(agents).map((a) => a.kill())));
  for (const h of hosts) {
    await waitFor(`${h} enrolled`, async () => (await lb.api('GET', `/api/v1/agents/${h}`)).status === 200, 120_000);
    t.equal((await lb.api('POST', `/api/v1/agents/${h}/approve`)).status, 200, `${h} approved through the proxy`);
  }
  for (const h of hosts) await agents[h]!.waitForRun('the first converging run', (r) => r.outcome === 'changed' || r.outcome === 'in-sync', 0, 120_000);
  for (const h of hosts) t.equal(await agents[h]!.read('srv/greeting'), 'A\n', `${h} converged through the proxy`);
  t.ok(proxy.served.every((n) => n > 0), `every server answered requests through the proxy: ${proxy.served.join(', ')}`);

  // A revision published through the CLI (via the proxy) reaches every host.
  const cliDir = join(dir, 'cli-repo');
  await fsp.mkdir(cliDir, { recursive: true });
  for (const [p, text] of Object.entries(repository('B'))) {
    await fsp.mkdir(join(cliDir, p, '..'), { recursive: true });
    await fsp.writeFile(join(cliDir, p), text);
  }
  const cli = await steadAsOperator(lb, ['publish', cliDir, '--message', 'B through the CLI']);
  t.equal(cli.code, 0, `stead publish through the proxy: ${cli.stdout}${cli.stderr}`);
  for (const h of hosts) await waitFor(`${h} on B`, async () => (await agents[h]!.read('srv/greeting').catch(() => '')) === 'B\n', 120_000);
  t.pass('a revision published through the CLI reached every host');

  await t.test('a schedule fires once across the three servers', async (t) => {
    // Every server loads a schedule another made within its poll (30 s): 40 s ahead, all three
    // hold it and wake for that instant, so they race for the fire (run-once: a fire seen late
    // on a loaded machine still runs, once).
    const at = new Date(Date.now() + 40_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const created = await lb.api('POST', '/api/v1/schedules', { name: 'once-across', spec: { once: at }, missed: 'run-once', job: { targets: 'group:fleet', script: { lang: 'shell', source: `echo "$STEAD_JOB_ID" >> ${marks}/schedule-$STEAD_HOST\n` } } });
    t.equal(created.status, 201, JSON.stringify(created.body).slice(0, 300));
    const jobsOf = async (): Promise<any[]> => ((await lb.api('GET', '/api/v1/jobs?limit=500')).body.jobs as any[]).filter((j) => j.scheduleName === 'once-across' || j.scheduleId === created.body.id);
    const [job] = await waitFor('the scheduled job', async () => {
      const js = await jobsOf();
      return js.length > 0 && js.every((j) => ['succeeded', 'failed', 'cancelled'].includes(j.state)) ? js : undefined;
    }, 180_000, 500);
    t.equal(job.state, 'succeeded', JSON.stringify(job).slice(0, 500));
    // Every server has ticked past the fire time: each answers the schedule with its last run.
    for (const s of servers) {
      const view = await waitFor(`server ${s.port} answers the fire`, async () => {
        const r = await s.api('GET', '/api/v1/schedules/once-across');
        return r.status === 200 && r.body.lastRun !== undefined ? r.body : undefined;
      }, 120_000, 500);
      t.equal(view.lastRun.jobId, job.id, `server ${s.port}: the one fire launched job ${job.id}`);
    }
    t.equal((await jobsOf()).length, 1, 'exactly one job for the fire');
    for (const h of hosts) t.same(await linesOf(join(marks, `schedule-${h}`)), [job.id], `${h} ran the scheduled script once`);
  });

  await t.test('a rollout goes on when the server that delivered its batch is killed', async (t) => {
    // The step records its run on the host, then waits until the test releases it: the batch is
    // running on the hosts when the server is killed.
    const source = `echo "$STEAD_JOB_ID" >> ${marks}/rollout-$STEAD_HOST\nwhile [ ! -e ${marks}/release ]; do sleep 0.1; done\necho released\n`;
    const r = await lb.api('POST', '/api/v1/rollouts', { job: { name: 'steps-once', targets: 'group:fleet', script: { lang: 'shell', source } }, policy: { batches: '2,100%', batchTimeoutSeconds: 600 } });
    t.equal(r.status, 201, JSON.stringify(r.body).slice(0, 500));
    const id = r.body.id as string;
    const batch0 = r.body.batches[0].hosts as string[];
    t.equal(batch0.length, 2, 'two hosts in the first batch');
    await waitFor('the first batch running on its hosts', async () => {
      for (const h of batch0) if ((await linesOf(join(marks, `rollout-${h}`))).length === 0) return false;
      return true;
    }, 120_000, 200);
    const delivered = new RegExp(`rollout batch delivered.*${id}|${id}.*rollout batch delivered`);
    const driver = servers.findIndex((s) => s.stderr.some((l) => delivered.test(l)));
    t.ok(driver >= 0, 'one server logged the delivery of the first batch');
    t.comment(`killing server ${driver + 1} (port ${servers[driver]!.port}), which delivered batch 1 of rollout ${id}`);
    await servers[driver]!.kill();
    for (const h of hosts.filter((x) => !batch0.includes(x))) t.same(await linesOf(join(marks, `rollout-${h}`)), [], `${h} (second batch) has not run yet`);
    await fsp.writeFile(join(marks, 'release'), '');
    const done = await waitFor(`rollout ${id} completed by the other servers`, async () => {
      const x = await lb.api('GET', `/api/v1/rollouts/${id}`);
      return x.status === 200 && ['completed', 'paused', 'aborted'].includes(x.body.state) ? x.body : undefined;
    }, 300_000, 500);
    t.equal(done.state, 'completed', JSON.stringify(done.batches).slice(0, 1000));
    const jobIds = done.batches.map((b: any) => b.jobId);
    t.equal(new Set(jobIds).size, 2, 'one job per batch');
    for (const [i, b] of done.batches.entries()) {
      for (const h of b.hosts) t.same(await linesOf(join(marks, `rollout-${h}`)), [jobIds[i]], `${h} ran the step exactly once (job of batch ${i + 1})`);
    }
    const survivors = servers.filter((_, i) => i !== driver);
    t.ok(survivors.some((s) => s.stderr.some((l) => delivered.test(l))), 'a surviving server delivered the second batch');
    // Agents keep converging through the proxy with one server gone.
    const mark = Object.fromEntries(hosts.map((h) => [h, agents[h]!.runs.length]));
    t.equal((await lb.publish(repository('C'))).status, 201, 'published with a server down');
    for (const h of hosts) await agents[h]!.waitForRun('a run on C', (x) => x.catalogSource === 'fresh' && x.outcome === 'changed', mark[h], 120_000);
    for (const h of hosts) t.equal(await agents[h]!.read('srv/greeting'), 'C\n', `${h} on C`);
  });

  const live = servers.filter((s) => s.child?.exitCode === null && s.child?.signalCode === null);
  t.ok(live.length >= 2, 'two servers still run');
  const [one, two] = [live[0]!, live[1]!];

  await t.test('a console session made on one server works on another', async (t) => {
    const host = new URL(one.url).host;
    const login = await request(one.url, 'POST', '/login', { 'content-type': 'application/x-www-form-urlencoded', origin: `http://${host}` }, `token=${encodeURIComponent(lb.adminToken)}`);
    t.equal(login.status, 302, `login on server ${one.port}: ${login.text.slice(0, 200)}`);
    const cookie = (login.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!).filter((c) => !c.endsWith('=')).join('; ');
    t.not(cookie, '', 'a session cookie');
    const page = await request(two.url, 'GET', '/', { cookie });
    t.equal(page.status, 200, `the session is good on server ${two.port} (${page.headers.location ?? ''})`);
    const anonymous = await request(two.url, 'GET', '/');
    t.equal(anonymous.status, 302, 'without the cookie: to the login page');
    const out = await request(two.url, 'POST', '/logout', { origin: `http://${new URL(two.url).host}`, cookie, 'content-type': 'application/x-www-form-urlencoded' }, '');
    t.equal(out.status, 302, 'logged out on the second server');
    await waitFor(`the session ended on server ${one.port} too`, async () => {
      const r = await request(one.url, 'GET', '/', { cookie });
      return r.status === 302 && /\/login/.test(r.headers.location ?? '');
    }, 60_000, 250);
    t.pass('a logout on one server ends the session on the other');
  });

  await t.test('a signed agent request replayed to another server is refused', async (t) => {
    const pick = await waitFor('a signed agent GET answered through the proxy', () => [...proxy.recent].reverse().find((q) => q.method === 'GET' && typeof q.headers['x-stead-nonce'] === 'string' && q.status === 200 && servers[q.backend]!.child?.exitCode === null && servers[q.backend]!.child?.signalCode === null), 60_000, 100);
    const other = servers.find((s, i) => i !== pick.backend && s.child?.exitCode === null && s.child?.signalCode === null)!;
    const headers = { ...pick.headers };
    delete headers.host;
    const replay = await request(other.url, pick.method, pick.path, headers);
    t.equal(replay.status, 401, `the replay to server ${other.port} is refused: ${replay.text.slice(0, 200)}`);
    t.match(replay.text, /nonce|replay/i, 'as a replay');
  });

  // Every process is gone before tap removes the test directory.
  await Promise.all(Object.values(agents).map((a) => a.kill()));
  for (const s of live) await s.stop();
  for (const s of live) t.same(s.stderr.filter((l) => /"level":"error"/.test(l)), [], `server ${s.port} logged no error`);
});
