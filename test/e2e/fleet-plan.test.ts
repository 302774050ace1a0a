/**
 * The fleet plan end to end (issue 10, ADR 0017 §2): a real `stead server` and three real
 * `stead agent` daemons. A change to one group's variable (used by a template) is planned with
 * `stead plan DIR` — the plan lists exactly the hosts of that group — then published; the
 * agents' reports of the new revision match the stored plan (no surprise); a file edited by hand
 * on a host (drift the plan could not predict) shows as a surprise, on a host planned to change
 * and on one planned unchanged.
 */
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { AgentProcess, buildOnce, fleetRepository, freePort, hasCommand, mainJs, ServerProcess, waitFor, steadAsOperator } from '../helpers/e2e-fleet.js';

await buildOnce();
const ready = await hasCommand('server');

const stead = steadAsOperator;

async function writeRepo(dir: string, files: Record<string, string>): Promise<void> {
  for (const [p, c] of Object.entries(files)) {
    await fsp.mkdir(dirname(join(dir, p)), { recursive: true });
    await fsp.writeFile(join(dir, p), c);
  }
}

/** Catalogs (and so runs) name their revision by the first 16 hex characters of its id. */
const sameRevision = (short: string | undefined, id: string): boolean => short !== undefined && short.length >= 12 && id.startsWith(short);

type Plan = { base: string | null; target: string; summary: Record<string, number>; hosts: { host: string; status: string; changes: { resource: string; action: string; attributes?: string[]; diff?: string }[] }[] };
type Surprises = { revision: string; planned: boolean; surprises: { host: string; resource: string; runId: string; reason: string }[] };

t.test('plan a group change, publish it, reports match the plan, drift is a surprise', { skip: ready ? false : 'the build has no `stead server` command' }, async (t) => {
  const dir = t.testdir({ server: {}, checkout: {}, a1: { root: {}, data: {} }, a2: { root: {}, data: {} }, b1: { root: {}, data: {} } });
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  await server.start(t);
  t.teardown(() => {
    if (t.counts.fail > 0) t.comment(`server stderr (last 30 lines):\n${server.stderr.slice(-30).join('\n')}`);
  });
  const pub1 = await server.publish(fleetRepository());
  t.equal(pub1.status, 201, `first revision: ${JSON.stringify(pub1.body).slice(0, 300)}`);
  const rev1 = pub1.body.id as string;

  const hosts = ['a1', 'a2', 'b1'] as const;
  const agents = Object.fromEntries(hosts.map((h) => [h, new AgentProcess({ host: h, server: server.url, root: join(dir, h, 'root'), dataDir: join(dir, h, 'data'), intervalSeconds: 1 }).start(t)])) as Record<(typeof hosts)[number], AgentProcess>;
  for (const h of hosts) {
    await waitFor(`${h} pending`, async () => (await server.api('GET', `/api/v1/agents/${h}`)).body?.status === 'pending');
    t.equal((await server.api('POST', `/api/v1/agents/${h}/approve`)).status, 200);
  }
  for (const h of hosts) await agents[h].waitForRun('an in-sync run of the first revision', (r) => r.outcome === 'in-sync' && sameRevision(r.revision, rev1));

  // The plan of a checkout that changes group alpha's greeting (a template variable).
  const checkout = join(dir, 'checkout');
  await writeRepo(checkout, fleetRepository({ alphaGreeting: 'bonjour-alpha' }));
  const json = await stead(server, ['plan', checkout, '--json']);
  t.equal(json.code, 0, `stead plan --json: ${json.stderr}`);
  const plan = JSON.parse(json.stdout) as Plan;
  t.equal(plan.base, rev1, 'against the live revision');
  t.same(plan.hosts.filter((h) => h.status !== 'unchanged').map((h) => h.host), ['a1', 'a2'], 'exactly the hosts of group alpha');
  t.same(plan.hosts.find((h) => h.host === 'b1')?.status, 'unchanged');
  t.same(plan.summary, { hosts: 3, changed: 2, unchanged: 1, failed: 0, resources: 2 });
  for (const h of ['a1', 'a2']) {
    const changes = plan.hosts.find((x) => x.host === h)!.changes;
    t.same(changes.map((c) => [c.resource, c.action, c.attributes]), [['file:/srv/app/greeting.conf', 'modify', ['content']]], `${h}: the greeting file`);
    t.match(changes[0]!.diff, /^-greeting=hello-alpha$/m);
    t.match(changes[0]!.diff, /^\+greeting=bonjour-alpha$/m);
  }
  const human = await stead(server, ['plan', checkout]);
  t.equal(human.code, 0, human.stderr);
  t.match(human.stdout, /^plan of [0-9a-f]{12} against [0-9a-f]{12}: 2 of 3 host\(s\) change \(2 resource change\(s\)\), 1 unchanged, 0 would fail to compile$/m);
  t.match(human.stdout, /^a1: 1 change\(s\)\n {2}~ file:\/srv\/app\/greeting\.conf \(content\)$/m);
  t.match(human.stdout, /^ {6}\+greeting=bonjour-alpha$/m);
  t.notMatch(human.stdout, /^b1/m, 'unchanged hosts are only counted');
  t.equal((await server.api('GET', '/api/v1/revisions/live')).body.id, rev1, 'planning published nothing');

  // Publish it: the plan is stored, the agents apply it, and their reports match the plan.
  const before = { a1: agents.a1.runs.length, a2: agents.a2.runs.length, b1: agents.b1.runs.length };
  const pub2 = await server.publish(fleetRepository({ alphaGreeting: 'bonjour-alpha' }));
  t.equal(pub2.status, 201);
  const rev2 = pub2.body.id as string;
  t.equal(rev2, plan.target, 'the plan named the id the revision got');
  await waitFor('the stored plan', async () => ((await server.api('GET', `/api/v1/revisions/${rev2}/surprises`)).body as Surprises).planned);
  const stored = (await server.api('GET', `/api/v1/revisions/${rev2}/plan?base=${rev1}`)).body as Plan;
  t.same(stored.hosts.map((h) => [h.host, h.status, h.changes.map((c) => c.resource)]), plan.hosts.map((h) => [h.host, h.status, h.changes.map((c) => c.resource)]), 'the stored plan is the one shown before');
  for (const h of ['a1', 'a2'] as const) {
    const run = await agents[h].waitForRun('the new revision applied', (r) => sameRevision(r.revision, rev2) && r.outcome === 'changed', before[h]);
    const report = await waitFor(`${h}: the report on the server`, async () => {
      const r = await server.api('GET', `/api/v1/hosts/${h}/reports/${run.runId}`);
      return r.status === 200 ? r.body : undefined;
    });
    const changed = (report.resources as { id: string; state: string }[]).filter((r) => r.state === 'changed').map((r) => r.id);
    t.same(changed, stored.hosts.find((x) => x.host === h)!.changes.map((c) => c.resource), `${h}: the run changed exactly what the plan said`);
  }
  // b1's catalog is the same under both revisions: the same catalog id, nothing applied. The
  // server sends it once more so that b1's runs name the new revision (a revision rollout counts
  // only runs of its revision), then 304s again.
  const b1Before = agents.b1.since(0).filter((r) => r.catalogId !== undefined).at(-1)?.catalogId;
  await agents.b1.waitForRun('a run of the new revision', (r) => sameRevision(r.revision, rev2), before.b1);
  const b1Runs = agents.b1.since(before.b1);
  t.ok(b1Runs.every((r) => r.outcome === 'in-sync'), 'b1: nothing changed, as planned');
  t.ok(b1Before !== undefined && b1Runs.every((r) => r.catalogId === undefined || r.catalogId === b1Before), 'b1: the same catalog under the new revision');
  t.ok(b1Runs.filter((r) => r.catalogSource === 'fresh').length <= 1, 'b1: the unchanged catalog was sent again at most once');

  // Drift by hand: on a1 a file outside the plan, on b1 (planned unchanged) the greeting.
  const marks = { a1: agents.a1.runs.length, b1: agents.b1.runs.length };
  await fsp.writeFile(join(dir, 'a1/root/srv/app/host'), 'edited-by-hand\n');
  await fsp.writeFile(join(dir, 'b1/root/srv/app/greeting.conf'), 'greeting=edited-by-hand\n');
  const repairA = await agents.a1.waitForRun('the repair run', (r) => r.outcome === 'changed', marks.a1);
  const repairB = await agents.b1.waitForRun('the repair run', (r) => r.outcome === 'changed', marks.b1);
  const found = await waitFor('both surprises', async () => {
    const s = (await server.api('GET', `/api/v1/revisions/${rev2}/surprises`)).body as Surprises;
    return s.surprises.length >= 2 ? s : undefined;
  });
  t.same(
    found.surprises.map((s) => [s.host, s.resource, s.runId, s.reason]).sort(),
    [
      ['a1', 'file:/srv/app/host', repairA.runId, 'not in the plan of this host'],
      ['b1', 'file:/srv/app/greeting.conf', repairB.runId, 'the plan predicted no change'],
    ],
    'exactly the drift: the runs that applied the plan raised none',
  );

  for (const h of hosts) t.equal(await agents[h].stop(), 0, `${h} stopped cleanly`);
  await server.stop();
});
