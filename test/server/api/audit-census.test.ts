/**
 * Audit census (issue 12): every change route of the API route table declares the audit
 * actions it records, and this test makes one successful request of each (in a real server
 * over loopback) and proves that each was recorded: one of its declared actions, once per
 * target, with the operator as actor and the client address. A change route added without a
 * declaration, or without a case here, fails the census. The fixture runs the router's strict
 * audit check too (a declared action not recorded answers 500), so every other API test of a
 * change route checks the same.
 */
import t from 'tap';
import { needsAuditDeclaration } from '../../../server/api/audit-check.js';
import type { AuditEvent } from '../../../server/services/audit-log.js';
import { startJobServer, jobRepo, type JobFixture } from '../../helpers/job-fixture.js';
import type { RawResponse } from '../../helpers/server-fixture.js';

type Case = (fx: JobFixture, ctx: Record<string, string>) => Promise<RawResponse>;

const shell = (source: string) => ({ lang: 'shell', source });

/** One request per change route, in an order where each finds what it needs. */
const cases: [route: string, run: Case][] = [
  ['POST /api/v1/revisions', (fx) => fx.json('POST', '/api/v1/revisions', { files: { ...jobRepo(), 'groups/extra.yaml': 'kind: custom\npriority: 5\nmatch:\n  - tags: db\nroles: []\n' }, message: 'census' })],
  ['POST /api/v1/revisions/:id/activate', async (fx, c) => {
    const list = (await fx.json('GET', '/api/v1/revisions')).json().revisions as { id: string }[];
    c['first'] = list[list.length - 1]!.id;
    return fx.json('POST', `/api/v1/revisions/${c['first']}/activate`);
  }],
  ['POST /api/v1/revisions/plan', (fx) => fx.json('POST', '/api/v1/revisions/plan', { files: jobRepo() })],
  ['POST /api/v1/bootstrap-tokens', (fx) => fx.json('POST', '/api/v1/bootstrap-tokens', { ttlSeconds: 600, host: 'new-1' })],
  ['POST /api/v1/agents/:host/approve', async (fx) => {
    const a = fx.agent('cache-1');
    await a.enroll();
    return fx.json('POST', '/api/v1/agents/cache-1/approve');
  }],
  ['POST /api/v1/agents/:host/reject', async (fx, c) => {
    const a = fx.agent('cache-2');
    await a.enroll();
    c['fp'] = (await fx.json('GET', '/api/v1/agents/cache-2')).json().keys[0].fingerprint;
    return fx.json('POST', '/api/v1/agents/cache-2/reject', { fingerprint: c['fp'] });
  }],
  ['DELETE /api/v1/agents/:host/keys/:fingerprint', (fx, c) => fx.json('DELETE', `/api/v1/agents/cache-2/keys/${c['fp']}`)],
  ['POST /api/v1/agents/:host/revoke', (fx) => fx.json('POST', '/api/v1/agents/cache-1/revoke')],
  ['POST /api/v1/operator-tokens', (fx) => fx.json('POST', '/api/v1/operator-tokens', { name: 'census', role: 'readonly' })],
  ['POST /api/v1/operator-tokens/:name/revoke', (fx) => fx.json('POST', '/api/v1/operator-tokens/census/revoke')],
  ['POST /api/v1/users', (fx) => fx.json('POST', '/api/v1/users', { name: 'census-user', role: 'viewer', password: 'census password 123' })],
  ['PATCH /api/v1/users/:name', (fx) => fx.json('PATCH', '/api/v1/users/census-user', { role: 'operator' })],
  ['DELETE /api/v1/users/:name', (fx) => fx.json('DELETE', '/api/v1/users/census-user')],
  ['PUT /api/v1/audit/rules', (fx) => fx.json('PUT', '/api/v1/audit/rules', { rules: [{ rule: 'rm-root', mode: 'scan' }] })],
  ['POST /api/v1/accounts', (fx) => fx.json('POST', '/api/v1/accounts', { name: 'deploy', user: 'deploy' })],
  ['DELETE /api/v1/accounts/:name', (fx) => fx.json('DELETE', '/api/v1/accounts/deploy')],
  ['POST /api/v1/scripts', (fx) => fx.json('POST', '/api/v1/scripts', { name: 'census', lang: 'shell', source: 'echo 1\n' })],
  ['POST /api/v1/scripts/:id/versions', (fx) => fx.json('POST', '/api/v1/scripts/census/versions', { source: 'echo 2\n' })],
  ['POST /api/v1/scripts/:id/clone', (fx) => fx.json('POST', '/api/v1/scripts/census/clone', { name: 'census copy' })],
  ['DELETE /api/v1/scripts/:id', (fx) => fx.json('DELETE', '/api/v1/scripts/census-copy')],
  ['POST /api/v1/plans', async (fx, c) => {
    const r = await fx.json('POST', '/api/v1/plans', { name: 'census', targets: 'group:web', steps: [{ kind: 'script', name: 'hi', script: shell('echo hi') }] });
    c['plan'] = r.json().id;
    return r;
  }],
  ['PUT /api/v1/plans/:id', (fx, c) => fx.json('PUT', `/api/v1/plans/${c['plan']}`, { name: 'census', targets: 'group:web', steps: [{ kind: 'script', name: 'hi', script: shell('echo hi again') }], version: 1 })],
  ['POST /api/v1/plans/:id/run', (fx, c) => fx.json('POST', `/api/v1/plans/${c['plan']}/run`, { dryRun: true })],
  ['POST /api/v1/jobs', async (fx, c) => {
    const r = await fx.json('POST', '/api/v1/jobs', { targets: 'group:web', steps: [{ kind: 'confirm', message: 'go?' }, { kind: 'script', script: shell('true') }] });
    c['job'] = r.json().id;
    await fx.settle();
    return r;
  }],
  ['POST /api/v1/jobs/:id/confirm', (fx, c) => fx.json('POST', `/api/v1/jobs/${c['job']}/confirm`, { step: 0, action: 'continue' })],
  ['POST /api/v1/jobs/:id/cancel', async (fx, c) => {
    await fx.settle();
    return fx.json('POST', `/api/v1/jobs/${c['job']}/cancel`);
  }],
  ['POST /api/v1/jobs/:id/redo', async (fx, c) => {
    await fx.settle();
    return fx.json('POST', `/api/v1/jobs/${c['job']}/redo`, { hosts: 'all' });
  }],
  ['DELETE /api/v1/plans/:id', (fx, c) => fx.json('DELETE', `/api/v1/plans/${c['plan']}`)],
  ['POST /api/v1/schedules', (fx) => fx.json('POST', '/api/v1/schedules', { name: 'census', spec: { cron: '0 0 * * * *' }, job: { targets: 'group:web', script: shell('uptime') } })],
  ['POST /api/v1/schedules/:name/disable', (fx) => fx.json('POST', '/api/v1/schedules/census/disable')],
  ['POST /api/v1/schedules/:name/enable', (fx) => fx.json('POST', '/api/v1/schedules/census/enable')],
  ['DELETE /api/v1/schedules/:name', (fx) => fx.json('DELETE', '/api/v1/schedules/census')],
  ['POST /api/v1/rollouts', async (fx, c) => {
    const r = await fx.json('POST', '/api/v1/rollouts', { job: { targets: 'group:web', script: shell('true') }, policy: { batches: '1,100%', gate: 'manual' } });
    c['rollout'] = r.json().id;
    return r;
  }],
  ['POST /api/v1/rollouts/:id/pause', (fx, c) => fx.json('POST', `/api/v1/rollouts/${c['rollout']}/pause`, { reason: 'census' })],
  ['POST /api/v1/rollouts/:id/continue', (fx, c) => fx.json('POST', `/api/v1/rollouts/${c['rollout']}/continue`)],
  ['POST /api/v1/rollouts/:id/abort', (fx, c) => fx.json('POST', `/api/v1/rollouts/${c['rollout']}/abort`)],
  ['POST /api/v1/rollouts/:id/rollback', async (fx, c) => {
    const pub = await fx.json('POST', '/api/v1/revisions', { files: { ...jobRepo(), 'groups/later.yaml': 'kind: custom\npriority: 5\nmatch:\n  - tags: web\nroles: []\n' }, rollout: { batches: '1,100%', gate: 'manual' } });
    if (pub.status !== 201) return pub;
    c['revRollout'] = pub.json().rollout.id;
    return fx.json('POST', `/api/v1/rollouts/${c['revRollout']}/rollback`, { reason: 'census' });
  }],
  ['PATCH /api/v1/inventory/hosts/:host', (fx) => fx.json('PATCH', '/api/v1/inventory/hosts/web-2', { lifecycle: 'maintenance', reason: 'census' })],
  ['DELETE /api/v1/inventory/hosts/:host', (fx) => fx.json('DELETE', '/api/v1/inventory/hosts/web-2')],
  ['POST /api/v1/inventory/import', (fx) => fx.json('POST', '/api/v1/inventory/import?format=json', [{ hostname: 'db-1', idc: 'gz', business: 'census' }])],
  ['PUT /api/v1/inventory/groups/:name', (fx) => fx.json('PUT', '/api/v1/inventory/groups/census', { name: 'census', filter: 'idc=gz' })],
  ['DELETE /api/v1/inventory/groups/:name', (fx) => fx.json('DELETE', '/api/v1/inventory/groups/census')],
  ['PUT /api/v1/inventory/settings', (fx) => fx.json('PUT', '/api/v1/inventory/settings', {})],
  ['PUT /api/v1/software/packages/:manager/:name', (fx) => fx.json('PUT', '/api/v1/software/packages/dpkg/nginx', { name: 'nginx', manager: 'dpkg', approved: '1.22.1-9' })],
  ['POST /api/v1/software/packages/:manager/:name/upgrade', (fx) => fx.json('POST', '/api/v1/software/packages/dpkg/nginx/upgrade', { targets: 'host:web-1', policy: { batches: '100%' } })],
  ['DELETE /api/v1/software/packages/:manager/:name', (fx) => fx.json('DELETE', '/api/v1/software/packages/dpkg/nginx')],
  ['PUT /api/v1/software/services/:name', (fx) => fx.json('PUT', '/api/v1/software/services/nginx', { name: 'nginx', kind: 'systemd' })],
  ['POST /api/v1/software/services/:name/actions', (fx) => fx.json('POST', '/api/v1/software/services/nginx/actions', { action: 'start', targets: 'host:web-1' })],
  ['POST /api/v1/software/services/:name/start', (fx) => fx.json('POST', '/api/v1/software/services/nginx/start', { targets: 'host:web-1' })],
  ['POST /api/v1/software/services/:name/stop', (fx) => fx.json('POST', '/api/v1/software/services/nginx/stop', { targets: 'host:web-1' })],
  ['POST /api/v1/software/services/:name/restart', (fx) => fx.json('POST', '/api/v1/software/services/nginx/restart', { targets: 'host:web-1' })],
  ['DELETE /api/v1/software/services/:name', (fx) => fx.json('DELETE', '/api/v1/software/services/nginx')],
  ['PUT /api/v1/software/collectors/:name', (fx) => fx.json('PUT', '/api/v1/software/collectors/vms', { name: 'vms', lang: 'shell', source: 'echo \'{"resources":[]}\'' })],
  ['DELETE /api/v1/software/collectors/:name', (fx) => fx.json('DELETE', '/api/v1/software/collectors/vms')],
  ['PUT /api/v1/software/settings', (fx) => fx.json('PUT', '/api/v1/software/settings', { intervalSeconds: 600 })],
  ['POST /api/v1/manifests/drafts', async (fx, c) => {
    const r = await fx.json('POST', '/api/v1/manifests/drafts');
    if (r.status === 201) c['draft'] = r.json().id;
    return r;
  }],
  ['POST /api/v1/manifests/drafts/:id/files', (fx, c) => fx.json('POST', `/api/v1/manifests/drafts/${c['draft']}/files`, { path: 'groups/census.yaml', content: 'kind: custom\npriority: 5\nmatch:\n  - tags: census\nroles: []\nvars:\n  port: 80\n' })],
  ['POST /api/v1/manifests/drafts/:id/vars', (fx, c) => fx.json('POST', `/api/v1/manifests/drafts/${c['draft']}/vars`, { path: 'groups/census.yaml', edits: [{ key: 'port', value: '8080' }] })],
  ['POST /api/v1/manifests/preview', (fx, c) => fx.json('POST', '/api/v1/manifests/preview', { template: 'templates/census.j2', host: 'web-1', content: 'port {{ 1 + 1 }}\n', draft: c['draft'] })],
  ['POST /api/v1/manifests/drafts/:id/commit', (fx, c) => fx.json('POST', `/api/v1/manifests/drafts/${c['draft']}/commit`, { message: 'census draft' })],
  ['POST /api/v1/manifests/drafts/:id/publish', (fx, c) => fx.json('POST', `/api/v1/manifests/drafts/${c['draft']}/publish`)],
  ['DELETE /api/v1/manifests/drafts/:id', async (fx) => {
    const r = await fx.json('POST', '/api/v1/manifests/drafts');
    return fx.json('DELETE', `/api/v1/manifests/drafts/${r.json().id}`);
  }],
];

t.test('every change route declares its audit actions and records them once, with actor and address', async (t) => {
  const fx = await startJobServer(t, { rollouts: { driver: { tickMs: 3_600_000 } }, software: { configTtlMs: 0, refreshMs: 0 } });
  const routes = fx.server.app.routes;
  const change = routes.filter(needsAuditDeclaration);
  t.ok(change.length >= 45, `${change.length} change routes`);
  for (const r of change) t.ok(r.audit !== undefined, `${r.method} ${r.path} declares its audit actions`);
  const declaredByName = new Map(change.map((r) => [`${r.method} ${r.path}`, r.audit]));
  const caseNames = new Set(cases.map(([name]) => name));
  for (const name of declaredByName.keys()) t.ok(caseNames.has(name), `${name} has a census case`);
  for (const name of caseNames) t.ok(declaredByName.has(name), `census case ${name} is a change route`);

  const seen = new Set((await fx.server.services.auditLog.search({ limit: 500 })).events.map((e) => e.id));
  const context: Record<string, string> = {};
  for (const [name, run] of cases) {
    const declared = declaredByName.get(name);
    if (declared === undefined) continue;
    const res = await run(fx, context);
    t.ok(res.status >= 200 && res.status < 300, `${name} → ${res.status} ${res.status >= 300 ? res.body.toString().slice(0, 300) : ''}`);
    const fresh: AuditEvent[] = (await fx.server.services.auditLog.search({ limit: 500 })).events.filter((e) => !seen.has(e.id));
    for (const e of fresh) seen.add(e.id);
    if (!Array.isArray(declared)) {
      t.same(fresh.map((e) => e.action), [], `${name} changes nothing (${(declared as { none: string }).none}) and records nothing`);
      continue;
    }
    const mine = fresh.filter((e) => (declared as readonly string[]).includes(e.action));
    t.equal(mine.length, 1, `${name} recorded one of ${declared.join(', ')}: ${fresh.map((e) => `${e.action} ${e.target}`).join('; ')}`);
    const e = mine[0];
    if (!e) continue;
    t.equal(e.actor, 'admin', `${name}: the operator is the actor`);
    t.match(e.address ?? '', /^(::ffff:)?127\.0\.0\.1$/, `${name}: the client address is recorded`);
  }
});
