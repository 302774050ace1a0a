/**
 * The fleet plan over the API (ADR 0017 §2) on a real server with the real compiler: the plan
 * of an upload and of a stored revision, failing hosts, refused repositories, secrets, roles,
 * the plan stored at publish and the surprises reports raise against it.
 */
import t from 'tap';
import { create as tarCreate } from 'tar';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encryptSecret } from '../../../compiler/vars/secret-box.js';
import { fleetPlanSchema, surpriseListSchema } from '../../../schemas/api/fleet-plan.js';
import { compileGuard } from '../../../schemas/validate.js';
import { demoSecretKey, rawRequest, startServer } from '../../helpers/server-fixture.js';
import { smallRepo } from '../../helpers/server-repo.js';
import { makeReport } from '../../helpers/server-reports.js';

type Plan = { base: string | null; target: string; summary: Record<string, number>; hosts: { host: string; status: string; changes: { resource: string; action: string; attributes?: string[]; diff?: string; sensitive?: boolean }[]; problems?: { code: string; file: string; line?: number; message: string }[] }[] };

/** Compiles in the test process load TypeScript on the fly and the machine may be busy: generous deadlines, one worker. */
const slow = { compileTimeoutMs: 300_000, compileWorkers: 1, fleetPlan: { hostDeadlineMs: 600_000 } };

const planGuard = compileGuard(fleetPlanSchema);
const surpriseGuard = compileGuard(surpriseListSchema);

const planOf = (plan: Plan, host: string) => plan.hosts.find((h) => h.host === host)!;

t.test('the plan of an upload: exactly the hosts of the changed group, with diffs; nothing stored', async (t) => {
  const fx = await startServer(t, slow);
  const first = await fx.json('POST', '/api/v1/revisions/plan', { files: smallRepo() });
  t.equal(first.status, 200);
  t.equal(first.json().base, null, 'nothing live: no base');
  t.same(first.json().summary, { hosts: 3, changed: 3, unchanged: 0, failed: 0, resources: 9 }, 'every host is added');
  const a = await fx.publish(smallRepo());
  t.equal(a.status, 201);
  const live = a.json().id as string;

  const r = await fx.json('POST', '/api/v1/revisions/plan', { files: smallRepo({ webPort: 9090 }) });
  t.equal(r.status, 200, r.body.toString().slice(0, 500));
  const plan = r.json() as Plan;
  t.same(planGuard.check(plan), [], 'the answer is a fleet plan (schemas/api/fleet-plan.ts)');
  t.equal(plan.base, live, 'the base is the live revision');
  t.match(plan.target, /^[0-9a-f]{64}$/);
  t.same(plan.summary, { hosts: 3, changed: 2, unchanged: 1, failed: 0, resources: 2 });
  t.same(plan.hosts.map((h) => [h.host, h.status]), [['web-1', 'changes'], ['web-2', 'changes'], ['db-1', 'unchanged']], 'changed hosts first');
  const change = planOf(plan, 'web-1').changes[0]!;
  t.same({ resource: change.resource, action: change.action, attributes: change.attributes }, { resource: 'file:/srv/app/app.conf', action: 'modify', attributes: ['content'] });
  t.match(change.diff, /^-port=8080$/m);
  t.match(change.diff, /^\+port=9090$/m);
  t.same(planOf(plan, 'db-1').changes, []);

  // Not stored, not live.
  t.equal((await fx.json('GET', `/api/v1/revisions/${plan.target}`)).status, 404, 'the upload is not a revision');
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, live);
  t.equal((await fx.json('GET', '/api/v1/revisions')).json().revisions.length, 1);

  // The same upload as a tar.gz.
  const dir = t.testdir();
  for (const [p, c] of Object.entries(smallRepo({ webPort: 9090 }))) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  const chunks: Buffer[] = [];
  for await (const c of tarCreate({ gzip: true, cwd: dir, portable: true }, Object.keys(smallRepo())) as AsyncIterable<Buffer>) chunks.push(c);
  const gz = await rawRequest(fx.base, { method: 'POST', path: '/api/v1/revisions/plan', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'application/gzip' }, body: Buffer.concat(chunks) });
  t.equal(gz.status, 200, gz.body.toString().slice(0, 300));
  t.equal(gz.json().target, plan.target, 'the same content: the same would-be id');

  // Against an explicit base: the live revision planned against itself changes nothing.
  const self = await fx.json('GET', `/api/v1/revisions/${live}/plan`);
  t.equal(self.status, 200);
  t.same(self.json().summary, { hosts: 3, changed: 0, unchanged: 3, failed: 0, resources: 0 });
});

t.test('failing hosts, refused repositories, hosts entering and leaving', async (t) => {
  const fx = await startServer(t, slow);
  t.equal((await fx.publish(smallRepo())).status, 201);
  // web hosts get a template that does not compile; db-1 keeps the old one.
  const broken = { ...smallRepo(), 'groups/web.yaml': 'kind: custom\npriority: 10\nmatch:\n  - tags: web\nroles: [app, broken]\n', 'roles/broken/role.yaml': 'resources:\n  - type: file\n    path: /srv/broken\n    template: broken.j2\n', 'templates/broken.j2': 'ok\n{{ nope | no_such_filter }}\n' };
  const r = await fx.json('POST', '/api/v1/revisions/plan', { files: broken });
  t.equal(r.status, 200, r.body.toString().slice(0, 500));
  const plan = r.json() as Plan;
  t.same(planGuard.check(plan), [], 'a plan with failing hosts is a fleet plan too');
  t.equal(plan.summary.failed, 2);
  t.same(plan.hosts.map((h) => [h.host, h.status]), [['web-1', 'fails'], ['web-2', 'fails'], ['db-1', 'unchanged']]);
  const p = planOf(plan, 'web-1').problems![0]!;
  t.equal(p.file, 'templates/broken.j2', `located: ${JSON.stringify(p)}`);
  t.notMatch(JSON.stringify(plan), /plan-uploads|\/tmp\//, 'no server directory in the answer');

  const yamlErr = await fx.json('POST', '/api/v1/revisions/plan', { files: { ...smallRepo(), 'groups/web.yaml': 'kind: custom\nmatch: [\n' } });
  t.equal(yamlErr.status, 422);
  t.equal(yamlErr.json().error.code, 'REVISION_INVALID');
  t.equal(yamlErr.json().error.details.problems[0].file, 'groups/web.yaml');

  const moved = { ...smallRepo(), 'inventory/hosts.yaml': 'hosts:\n  web-1:\n    tags: [web]\n  web-3:\n    tags: [web]\n  db-1:\n    tags: [db]\n' };
  const m = (await fx.json('POST', '/api/v1/revisions/plan', { files: moved })).json() as Plan;
  t.equal(planOf(m, 'web-3').status, 'added');
  t.same(planOf(m, 'web-3').changes.map((c) => c.action), ['create', 'create', 'create'], 'an added host: everything is created');
  t.equal(planOf(m, 'web-2').status, 'removed');
  t.same(planOf(m, 'web-2').changes.map((c) => c.action), ['remove', 'remove', 'remove']);
  t.same(m.summary, { hosts: 4, changed: 2, unchanged: 2, failed: 0, resources: 6 });

  // Bad input.
  t.equal((await fx.json('POST', '/api/v1/revisions/plan?base=nothex', { files: smallRepo() })).status, 400);
  t.equal((await fx.json('POST', `/api/v1/revisions/plan?base=${'a'.repeat(64)}`, { files: smallRepo() })).status, 404);
  t.equal((await fx.json('POST', '/api/v1/revisions/plan', { files: { '../x': 'y' } })).status, 400);
  t.equal((await fx.json('GET', `/api/v1/revisions/${'b'.repeat(64)}/plan`)).status, 404);
});

t.test('secret-bearing files: no diff, no secret; readonly operators read plans but cannot plan uploads', async (t) => {
  const fx = await startServer(t, slow);
  const canary = 'CANARY-plan-5d1e';
  const withSecret = (port: number) => ({ ...smallRepo({ webPort: port }), 'vars/global.yaml': `app:\n  port: 8000\n  name: shop\n  password: !secret ${encryptSecret(canary, demoSecretKey())}\n`, 'templates/app.conf.j2': 'port={{ app.port }}\npassword={{ app.password }}\n' });
  const a = await fx.publish(withSecret(8080));
  t.equal(a.status, 201, a.body.toString().slice(0, 300));
  const r = await fx.json('POST', '/api/v1/revisions/plan', { files: withSecret(9090) });
  t.equal(r.status, 200);
  const c = planOf(r.json(), 'web-1').changes[0]!;
  t.same({ resource: c.resource, action: c.action, sensitive: c.sensitive, diff: c.diff }, { resource: 'file:/srv/app/app.conf', action: 'modify', sensitive: true, diff: undefined });
  t.notMatch(r.body.toString(), canary, 'the secret is nowhere in the plan');

  const ro = await fx.token('readonly');
  t.equal((await fx.json('POST', '/api/v1/revisions/plan', { files: withSecret(9090) }, ro)).status, 403, 'an upload is rendered with the secrets: admin only');
  const b = await fx.publish(withSecret(9091));
  t.equal(b.status, 201);
  const seen = await fx.json('GET', `/api/v1/revisions/${b.json().id}/plan?base=${a.json().id}`, undefined, ro);
  t.equal(seen.status, 200, 'readonly reads the plan of a stored revision');
  t.notMatch(seen.body.toString(), canary);
  t.equal((await fx.json('GET', `/api/v1/revisions/${b.json().id}/surprises`, undefined, ro)).status, 200);
  t.equal((await fx.json('GET', `/api/v1/revisions/${b.json().id}/plan`, undefined, null)).status, 401);
  await fx.server.services.fleetPlans.idle();
});

t.test('the plan stored at publish, and surprises from reports', async (t) => {
  const fx = await startServer(t, slow);
  const a = await fx.publish(smallRepo());
  const revA = a.json().id as string;
  const web1 = await fx.approvedAgent('web-1');
  const db1 = await fx.approvedAgent('db-1');
  // A run of the first revision (planned against nothing: every host added).
  const report = (host: string, runId: string, revision: string, changed: { id: string; routine?: boolean; refreshed?: boolean }[]) => {
    const r = makeReport(host, runId) as Record<string, any>;
    r.revision = revision.slice(0, 16); // as catalogs name it
    r.resources = changed.map((c) => ({ id: c.id, type: c.id.split(':')[0], state: 'changed', changes: c.refreshed ? [] : [{ property: 'content', corrective: false, ...(c.routine ? { routine: true } : {}) }], durationMs: 1, ...(c.refreshed ? { refreshed: true } : {}) }));
    r.outcome = 'changed';
    r.counts = { total: changed.length, inSync: 0, changed: changed.length, wouldChange: 0, failed: 0, skipped: 0, corrective: 0 };
    return r;
  };
  t.equal((await web1.request('POST', '/api/v1/hosts/web-1/reports', report('web-1', 'before-plan', revA, [{ id: 'file:/srv/app/app.conf' }]))).status, 200);

  const b = await fx.publish(smallRepo({ webPort: 9090 }));
  t.equal(b.status, 201);
  const revB = b.json().id as string;
  // A report that arrives while the plan is computed is judged once it is stored.
  t.equal((await db1.request('POST', '/api/v1/hosts/db-1/reports', report('db-1', 'early', revB, [{ id: 'file:/srv/app/static.txt' }]))).status, 200);
  await fx.server.services.fleetPlans.idle();

  const stored = await fx.json('GET', `/api/v1/revisions/${revB}/plan?base=${revA}`);
  t.equal(stored.status, 200);
  t.same(stored.json().summary, { hosts: 3, changed: 2, unchanged: 1, failed: 0, resources: 2 });
  const first = await fx.json('GET', `/api/v1/revisions/${revA}/surprises`);
  t.same(first.json(), { revision: revA, planned: true, surprises: [] }, 'the first revision\'s plan adds every host: its first apply is no surprise');

  // As planned: no surprise. Routine changes and refreshes are never surprises.
  await web1.request('POST', '/api/v1/hosts/web-1/reports', report('web-1', 'planned', revB, [{ id: 'file:/srv/app/app.conf' }, { id: 'exec:always', routine: true }, { id: 'service:app', refreshed: true }]));
  // Unplanned on a host with changes, and on a host the plan left unchanged; twice the same run.
  const drift = report('web-1', 'drift', revB, [{ id: 'file:/srv/app/robots.txt' }]);
  await web1.request('POST', '/api/v1/hosts/web-1/reports', drift);
  await web1.request('POST', '/api/v1/hosts/web-1/reports', drift);
  // A host the plan leaves unchanged keeps its catalog, which names the base revision: judged against the new plan.
  await db1.request('POST', '/api/v1/hosts/db-1/reports', report('db-1', 'kept-catalog', revA, [{ id: 'file:/srv/app/robots.txt' }]));
  // A host planned to change that still runs the base's catalog: judged against the base's own plan (robots.txt is created there).
  await web1.request('POST', '/api/v1/hosts/web-1/reports', report('web-1', 'not-yet', revA, [{ id: 'file:/srv/app/robots.txt' }]));
  await fx.server.services.fleetPlans.idle();
  const s = await fx.json('GET', `/api/v1/revisions/${revB.slice(0, 12)}/surprises`);
  t.equal(s.status, 200);
  const body = s.json() as { revision: string; planned: boolean; surprises: { host: string; resource: string; runId: string; reason: string; at: string }[] };
  t.same(surpriseGuard.check(body), [], 'the answer is a surprise list');
  t.equal(body.revision, revB);
  t.equal(body.planned, true);
  t.same(
    body.surprises.map((x) => [x.host, x.resource, x.runId, x.reason]).sort(),
    [
      ['db-1', 'file:/srv/app/robots.txt', 'kept-catalog', 'the plan predicted no change'],
      ['db-1', 'file:/srv/app/static.txt', 'early', 'the plan predicted no change'],
      ['web-1', 'file:/srv/app/robots.txt', 'drift', 'not in the plan of this host'],
    ],
  );
  t.same((await fx.json('GET', `/api/v1/revisions/${revA}/surprises`)).json().surprises, [], 'nothing against the base');
  // Re-publishing the live revision does not replace its plan.
  t.equal((await fx.publish(smallRepo({ webPort: 9090 }))).status, 201);
  await fx.server.services.fleetPlans.idle();
  t.equal((await fx.json('GET', `/api/v1/revisions/${revB}/plan?base=${revA}`)).json().computedAt, stored.json().computedAt, 'the stored plan stays');
});
