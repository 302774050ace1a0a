/**
 * Saved job plans through the API (server/api/plan-routes.ts, server/services/jobs/plan-service.ts)
 * on a real server: create, list, get, versioned update with compare-and-swap, earlier versions,
 * delete, roles, schema and semantic validation, and the launch body a run is built from.
 */
import t from 'tap';
import { startServer } from '../../helpers/server-fixture.js';

const plan = {
  name: 'deploy web',
  description: 'Ship the web tier',
  targets: 'group:web',
  vars: { release: '42' },
  steps: [
    { kind: 'script', name: 'stop', script: { lang: 'shell', source: 'systemctl stop app' }, timeoutSeconds: 60 },
    { kind: 'files', files: [{ path: '/etc/app.conf', template: 'app.conf.j2', mode: '0644' }, { path: '/etc/motd', content: 'hi' }] },
    { kind: 'probe', probe: { http: { port: 8080, path: '/health' } }, onFailure: 'pause' },
    { kind: 'confirm', message: 'Looks good?' },
    { kind: 'script', script: { lang: 'shell', source: 'echo retry' }, targets: { failedOf: 2 }, onFailure: 'ignore' },
    { kind: 'script', script: { lang: 'python', source: 'print(1)' }, local: true },
  ],
};

t.test('create, list, get, update (versioned), earlier versions, delete', async (t) => {
  const fx = await startServer(t);
  const created = await fx.json('POST', '/api/v1/plans', plan);
  t.equal(created.status, 201, created.body.toString());
  const p = created.json();
  t.match(p, { name: 'deploy web', description: 'Ship the web tier', targets: 'group:web', vars: { release: '42' }, version: 1, createdBy: 'admin', updatedBy: 'admin', createdAt: '2026-11-26T10:00:00.000Z' });
  t.match(p.id, /^pl_[A-Za-z0-9_-]+$/);
  t.same(p.steps, plan.steps);

  const list = await fx.json('GET', '/api/v1/plans', undefined, await fx.token('readonly', 'viewer'));
  t.equal(list.status, 200);
  t.same(list.json(), { plans: [{ id: p.id, name: 'deploy web', description: 'Ship the web tier', targets: 'group:web', version: 1, steps: 6, updatedAt: '2026-11-26T10:00:00.000Z' }] });

  const got = await fx.json('GET', `/api/v1/plans/${p.id}`);
  t.same(got.json(), p);

  fx.clock.advance(60_000);
  const { description: _d, vars: _v, ...bare } = plan;
  const updated = await fx.json('PUT', `/api/v1/plans/${p.id}`, { ...bare, name: 'deploy web v2', steps: [plan.steps[0]], version: 1 });
  t.equal(updated.status, 200, updated.body.toString());
  t.match(updated.json(), { id: p.id, name: 'deploy web v2', version: 2, createdAt: '2026-11-26T10:00:00.000Z', updatedAt: '2026-11-26T10:01:00.000Z' });
  t.equal(updated.json().description, undefined, 'a field left out is removed');
  t.equal(updated.json().vars, undefined);

  const stale = await fx.json('PUT', `/api/v1/plans/${p.id}`, { ...plan, version: 1 });
  t.equal(stale.status, 409);
  t.match(stale.json().error.message, /is at version 2, not 1/);
  // Without a version the edit is saved on top of whatever is current.
  t.equal((await fx.json('PUT', `/api/v1/plans/${p.id}`, plan)).json().version, 3);

  const v1 = await fx.json('GET', `/api/v1/plans/${p.id}?version=1`);
  t.same(v1.json(), p, 'version 1 is kept');
  t.equal((await fx.json('GET', `/api/v1/plans/${p.id}?version=2`)).json().name, 'deploy web v2');
  t.equal((await fx.json('GET', `/api/v1/plans/${p.id}?version=9`)).status, 404);
  t.equal((await fx.json('GET', `/api/v1/plans/${p.id}?version=x`)).status, 400);

  // The launch body of a run: the plan's steps, targets and vars with overrides on top.
  const plans = fx.server.services.plans;
  t.same(await plans.toLaunchBody(p.id), { name: 'deploy web', targets: 'group:web', vars: { release: '42' }, steps: plan.steps });
  t.same(await plans.toLaunchBody(p.id, { targets: 'host:web-1', vars: { extra: 'x', release: '43' }, dryRun: true, name: 'hotfix' }), { name: 'hotfix', targets: 'host:web-1', vars: { release: '43', extra: 'x' }, dryRun: true, steps: plan.steps });
  t.same(await plans.toLaunchBody(p.id, { version: 2 }), { name: 'deploy web v2', targets: 'group:web', steps: [plan.steps[0]] });
  await t.rejects(plans.toLaunchBody(p.id, { version: 7 }), { code: 'NOT_FOUND' });
  await t.rejects(plans.toLaunchBody('pl_nothere'), { code: 'NOT_FOUND' });

  t.equal((await fx.json('DELETE', `/api/v1/plans/${p.id}`)).status, 204);
  t.equal((await fx.json('GET', `/api/v1/plans/${p.id}`)).status, 404);
  t.equal((await fx.json('GET', `/api/v1/plans/${p.id}?version=1`)).status, 404, 'its versions went too');
  t.equal((await fx.json('DELETE', `/api/v1/plans/${p.id}`)).status, 404);
  t.equal((await fx.json('PUT', `/api/v1/plans/${p.id}`, plan)).status, 404);
  t.same((await fx.json('GET', '/api/v1/plans')).json(), { plans: [] });
});

t.test('names are unique; roles; ids and bodies are checked', async (t) => {
  const fx = await startServer(t);
  const a = (await fx.json('POST', '/api/v1/plans', plan)).json();
  const dup = await fx.json('POST', '/api/v1/plans', plan);
  t.equal(dup.status, 409);
  t.match(dup.json().error.message, /a plan named "deploy web" exists already/);
  const b = (await fx.json('POST', '/api/v1/plans', { ...plan, name: 'other' })).json();
  const rename = await fx.json('PUT', `/api/v1/plans/${b.id}`, plan);
  t.equal(rename.status, 409, 'renaming onto another plan\'s name');
  t.equal((await fx.json('GET', '/api/v1/plans')).json().plans.map((p: { name: string }) => p.name).join(','), 'deploy web,other');

  const ro = await fx.token('readonly', 'viewer');
  t.equal((await fx.json('POST', '/api/v1/plans', { ...plan, name: 'x' }, ro)).status, 403);
  t.equal((await fx.json('PUT', `/api/v1/plans/${a.id}`, plan, ro)).status, 403);
  t.equal((await fx.json('DELETE', `/api/v1/plans/${a.id}`, undefined, ro)).status, 403);
  t.equal((await fx.json('GET', `/api/v1/plans/${a.id}`, undefined, ro)).status, 200);
  t.equal((await fx.json('GET', '/api/v1/plans', undefined, null)).status, 401);

  t.equal((await fx.json('GET', '/api/v1/plans/..%2Fetc')).status, 400);
  t.equal((await fx.json('GET', '/api/v1/plans/pl_missing')).status, 404);
  t.equal((await fx.json('DELETE', '/api/v1/plans/nope')).status, 400);

  const bad = async (body: unknown, re: RegExp): Promise<void> => {
    const r = await fx.json('POST', '/api/v1/plans', body);
    t.equal(r.status, 400, `${re}: ${r.body.toString().slice(0, 300)}`);
    t.match(r.json().error.message, re);
  };
  await bad({ ...plan, version: 1 }, /leave "version" out/);
  await bad({ ...plan, name: 'x', steps: [] }, /steps/);
  await bad({ ...plan, name: 'x', extra: 1 }, /request body is invalid/);
  await bad({ ...plan, name: '../x' }, /name/);
  await bad({ ...plan, name: 'x', targets: 'a\nb' }, /targets/);
  await bad({ ...plan, name: 'x', vars: { 'a.b': 'x' } }, /vars/);
  await bad({ ...plan, name: 'x', steps: [{ kind: 'reboot' }] }, /steps/);
  await bad({ ...plan, name: 'x', steps: [{ kind: 'files', files: [{ path: 'relative', content: '' }] }] }, /steps/);
  await bad({ ...plan, name: 'x', steps: [{ kind: 'script', script: { lang: 'shell' } }] }, /exactly one of script.source or script.scriptId/);
  await bad({ ...plan, name: 'x', steps: [{ kind: 'script', script: { lang: 'shell', source: 'x', version: 2 } }] }, /script.version goes with script.scriptId/);
  await bad({ ...plan, name: 'x', steps: [{ kind: 'script', script: { lang: 'shell', source: 'x' }, targets: { failedOf: 0 } }] }, /failedOf must name an earlier step/);
  await bad({ ...plan, name: 'x', steps: [{ kind: 'files', files: [{ path: '/a', content: '' }, { path: '/a', template: 't' }] }] }, /\/a appears twice/);
  await bad({ ...plan, name: 'x', steps: [{ kind: 'files', files: [{ path: '/a/./b', content: '' }] }] }, /"\." or "\.\." segment/);
  await bad({ ...plan, name: 'x', steps: [{ kind: 'files', files: [{ path: '/a' }] }] }, /exactly one of content, contentBase64 or template/);
  await bad({ ...plan, name: 'x', steps: [{ kind: 'probe', probe: { timeoutSeconds: 3 } }] }, /a probe needs tcp or http/);
  const tooBig = await fx.json('POST', '/api/v1/plans', { ...plan, name: 'x', steps: [{ kind: 'files', files: [{ path: '/a', content: 'x'.repeat(9 * 1024 * 1024) }] }] });
  t.equal(tooBig.status, 413);
  t.equal((await fx.json('GET', '/api/v1/plans')).json().plans.length, 2, 'nothing else was saved');
});

t.test('the routes are in the OpenAPI document', async (t) => {
  const fx = await startServer(t);
  const doc = (await fx.json('GET', '/api/v1/openapi.json', undefined, null)).json();
  t.ok(doc.paths['/api/v1/plans']?.get && doc.paths['/api/v1/plans']?.post);
  t.ok(doc.paths['/api/v1/plans/{id}']?.put && doc.paths['/api/v1/plans/{id}']?.delete);
});
