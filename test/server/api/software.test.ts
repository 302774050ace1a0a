/**
 * Software and services through the real app on loopback (ADR 0018 §5–§7): operators track, agents
 * fetch the tracking config with signed requests (ETag / 304, the X-Stead-Tracking header on
 * catalogs) and PUT inventory reports (validated, bounded, their own host only), the tables read
 * them, "upgrade to approved" starts a job rollout whose job has one resources step (dispatched
 * to the agent), and a service action is an audited job whose script runs systemctl.
 */
import t from 'tap';
import type { AgentInventoryReport } from '../../../schemas/inventory-protocol.js';
import { agentRound, result, startJobServer, type JobFixture } from '../../helpers/job-fixture.js';
import type { TestAgent } from '../../helpers/server-fixture.js';

function report(packages: AgentInventoryReport['packages'], services: AgentInventoryReport['services'] = [], configVersion = 'none'): AgentInventoryReport {
  return { configVersion, collectedAt: '2026-11-26T10:00:00.000Z', packages, services, virtuals: [{ kind: 'container', name: 'redis-1', state: 'running', source: 'docker' }], errors: [{ source: 'rpm', message: 'rpm is not installed' }] };
}

async function put(a: TestAgent, body: unknown): Promise<any> {
  const r = await a.request('PUT', `/api/v1/hosts/${a.host}/inventory`, body);
  if (r.status !== 200) throw new Error(`inventory of ${a.host}: ${r.status} ${r.body.toString()}`);
  return r.json();
}

async function server(t: Parameters<typeof startJobServer>[0]): Promise<JobFixture> {
  return startJobServer(t, { rollouts: { driver: { tickMs: 3_600_000 } }, software: { configTtlMs: 0, refreshMs: 0 } });
}

t.test('tracking config: signed, ETag and 304, a new version when tracking changes, the catalog header', async (t) => {
  const fx = await server(t);
  const web1 = fx.agents['web-1']!;
  const first = await web1.request('GET', '/api/v1/hosts/web-1/tracking');
  t.equal(first.status, 200, first.body.toString());
  const etag = first.headers.etag!;
  t.equal(etag, `"${first.json().version}"`);
  t.same(first.json().packages, []);
  const again = await web1.request('GET', '/api/v1/hosts/web-1/tracking', undefined, { 'if-none-match': etag });
  t.equal(again.status, 304);
  t.equal((await web1.request('GET', '/api/v1/hosts/web-2/tracking')).status, 403, 'another host\'s config');

  t.equal((await fx.json('PUT', '/api/v1/software/packages/dpkg/nginx', { name: 'nginx', manager: 'dpkg', approved: '1.22.1-9' })).status, 201);
  t.equal((await fx.json('PUT', '/api/v1/software/packages/dpkg/nginx', { name: 'nginx', manager: 'dpkg', approved: '1.22.1-10' })).status, 200, 'replaced');
  t.equal((await fx.json('PUT', '/api/v1/software/services/nginx', { name: 'nginx', kind: 'systemd' })).status, 201);
  t.equal((await fx.json('PUT', '/api/v1/software/collectors/vms', { name: 'vms', lang: 'shell', source: 'echo \'{"resources":[]}\'' })).status, 201);
  const changed = await web1.request('GET', '/api/v1/hosts/web-1/tracking', undefined, { 'if-none-match': etag });
  t.equal(changed.status, 200);
  const config = changed.json();
  t.not(config.version, first.json().version);
  t.same(config.packages, [{ name: 'nginx', manager: 'dpkg' }]);
  t.same(config.services, [{ name: 'nginx', kind: 'systemd' }]);
  t.equal(config.collectors[0].name, 'vms', 'collectors travel in the signed config');
  const catalog = await web1.request('GET', '/api/v1/hosts/web-1/catalog');
  t.equal(catalog.status, 200);
  t.equal(catalog.headers['x-stead-tracking'], config.version, 'catalog answers say which tracking config is current');

  const readonly = await fx.token('readonly', 'viewer');
  t.equal((await fx.json('GET', '/api/v1/software/collectors', undefined, readonly)).status, 403, 'collectors are readable by admins only');
  t.equal((await fx.json('PUT', '/api/v1/software/packages/dpkg/curl', { name: 'curl', manager: 'dpkg' }, readonly)).status, 403);
  const listed = await fx.json('GET', '/api/v1/software/collectors');
  t.equal(listed.json().collectors[0].updatedBy, 'admin');
  t.equal((await fx.json('PUT', '/api/v1/software/packages/dpkg/curl', { name: 'wget', manager: 'dpkg' })).status, 400, 'the body must name the path\'s package');
  const ev = await fx.server.services.auditLog.list({ target: 'software:collector:vms' });
  t.same(ev.map((e) => e.action), ['software.put-collector']);
});

t.test('inventory reports: validated, bounded, own host only; the tables read them', async (t) => {
  const fx = await server(t);
  await fx.json('PUT', '/api/v1/software/packages/dpkg/curl', { name: 'curl', manager: 'dpkg', approved: '7.88.1-10+deb12u12' });
  await fx.json('PUT', '/api/v1/software/services/nginx', { name: 'nginx', kind: 'systemd' });
  const version = (await fx.json('GET', '/api/v1/software/tracked')).status;
  t.equal(version, 200);
  const web1 = fx.agents['web-1']!;
  const ack = await put(web1, report([{ name: 'curl', manager: 'dpkg', version: '7.88.1-10+deb12u5', arch: 'amd64' }], [{ name: 'nginx', state: 'running', pid: 10, startedAt: '2026-11-26T09:00:00.000Z', user: 'root' }]));
  t.equal(ack.accepted, true);
  t.match(ack.configVersion, /^[0-9a-f]{32}$/);
  await put(fx.agents['web-2']!, report([{ name: 'curl', manager: 'dpkg', version: '7.88.1-10+deb12u12' }]));
  await put(fx.agents['db-1']!, report([{ name: 'curl', manager: 'dpkg', version: null }]));

  const bad = await web1.request('PUT', '/api/v1/hosts/web-1/inventory', { ...report([]), packages: [{ name: 'curl', manager: 'yum', version: '1' }] });
  t.equal(bad.status, 400);
  t.equal(bad.json().error.code, 'SCHEMA_INVALID');
  const missing = await web1.request('PUT', '/api/v1/hosts/web-1/inventory', { packages: [] });
  t.equal(missing.status, 400);
  const huge = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
  const tooBig = await web1.request('PUT', '/api/v1/hosts/web-1/inventory', huge);
  t.equal(tooBig.status, 413, 'over 4 MiB');
  const other = await web1.request('PUT', '/api/v1/hosts/web-2/inventory', report([]));
  t.equal(other.status, 403, 'only its own host');
  const flood = await startJobServer(t, { software: { reportsPerMinute: 2 } });
  const fa = flood.agents['web-1']!;
  t.equal((await fa.request('PUT', '/api/v1/hosts/web-1/inventory', report([]))).status, 200);
  t.equal((await fa.request('PUT', '/api/v1/hosts/web-1/inventory', report([]))).status, 200);
  const limited = await fa.request('PUT', '/api/v1/hosts/web-1/inventory', report([]));
  t.equal(limited.status, 429, 'over the per-host rate');
  t.equal(limited.headers['retry-after'], '60');
  flood.clock.advance(61_000);
  t.equal((await fa.request('PUT', '/api/v1/hosts/web-1/inventory', report([]))).status, 200, 'a minute later');
  const tooMany = await web1.request('PUT', '/api/v1/hosts/web-1/inventory', report(Array.from({ length: 1001 }, (_, i) => ({ name: `p${i}`, manager: 'dpkg' as const, version: '1' }))));
  t.equal(tooMany.status, 400, 'more than 1,000 packages');

  const table = (await fx.json('GET', '/api/v1/software/packages')).json();
  t.same(table.packages.map((r: any) => `${r.host} ${r.installed} ${r.status}`), ['db-1 null missing', 'web-1 7.88.1-10+deb12u5 outdated', 'web-2 7.88.1-10+deb12u12 up-to-date'], 'the bad reports changed nothing');
  t.same(table.versions[0].counts.map((c: any) => `${c.version}:${c.hosts}`), ['7.88.1-10+deb12u12:1', '7.88.1-10+deb12u5:1', 'null:1']);
  const one = (await fx.json('GET', '/api/v1/software/packages/dpkg/curl?status=outdated')).json();
  t.same(one.packages.map((r: any) => r.host), ['web-1']);
  t.equal((await fx.json('GET', '/api/v1/software/packages/dpkg/nope')).status, 404);
  t.equal((await fx.json('GET', '/api/v1/software/packages?status=weird')).status, 400);
  // Host names follow the API's one rule: "_" is allowed (as in enrollment), "a..b" is not.
  t.equal((await fx.json('GET', '/api/v1/software/packages?host=db_1')).status, 200);
  t.equal((await fx.json('GET', '/api/v1/software/services?host=a..b')).status, 400);
  const host = (await fx.json('GET', '/api/v1/software/hosts/web-1')).json();
  t.equal(host.packages[0].arch, 'amd64');
  t.equal(host.services[0].state, 'running');
  t.same(host.virtuals, [{ kind: 'container', name: 'redis-1', state: 'running', source: 'docker' }]);
  t.same(host.errors, [{ source: 'rpm', message: 'rpm is not installed' }]);
  const services = (await fx.json('GET', '/api/v1/software/services?host=web-1')).json();
  t.same(services.services.map((s: any) => `${s.host} ${s.name} ${s.state} ${s.drift}`), ['web-1 nginx running false']);
  const latest = await fx.server.services.software.virtualsOf('web-1');
  t.equal(latest?.virtuals[0]?.name, 'redis-1', 'AgentInventory.virtualsOf');
  t.equal(latest?.virtuals[0]?.host, undefined, 'no host of that name');
  // A VM that is itself a reporting host is linked to it.
  await put(fx.agents['web-2']!, { ...report([]), virtuals: [{ kind: 'vm', name: 'db-1', state: 'running', source: 'libvirt' }] });
  t.equal((await fx.server.services.software.virtualsOf('web-2'))?.virtuals[0]?.host, 'db-1');
});

t.test('upgrade to approved: a job rollout whose batch job has one resources step', async (t) => {
  const fx = await server(t);
  await fx.json('PUT', '/api/v1/software/packages/dpkg/curl', { name: 'curl', manager: 'dpkg', approved: '7.88.1-10+deb12u12' });
  await put(fx.agents['web-1']!, report([{ name: 'curl', manager: 'dpkg', version: '7.88.1-10+deb12u5' }]));
  await put(fx.agents['web-2']!, report([{ name: 'curl', manager: 'dpkg', version: '1:7.0-1' }]));
  await put(fx.agents['db-1']!, report([{ name: 'curl', manager: 'dpkg', version: null }]));
  t.equal((await fx.json('POST', '/api/v1/software/packages/pip/requests/upgrade', {})).status, 404, 'not tracked');
  const up = await fx.json('POST', '/api/v1/software/packages/dpkg/curl/upgrade', { policy: { batches: '1,100%' } });
  t.equal(up.status, 201, up.body.toString());
  const { rollout, hosts } = up.json();
  t.same([...hosts].sort(), ['db-1', 'web-1'], 'the hosts behind: outdated and missing, not web-2 which is ahead (epoch 1)');
  const d = fx.server.services.rollouts.driver;
  await d.kick(rollout);
  await d.settle();
  const view = (await fx.json('GET', `/api/v1/rollouts/${rollout}`)).json();
  const jobId = view.batches[0].jobId as string;
  t.ok(jobId, 'the first batch launched a job');
  const job = await fx.job(jobId);
  t.equal(job.steps.length, 1);
  t.equal(job.steps[0].kind, 'resources');
  const first = view.batches[0].hosts[0] as string;
  const round = await agentRound(fx.agents[first]!, () => result('succeeded', { resources: [{ resource: 'package[curl]', outcome: 'changed' }] }));
  t.same(round.work[0].resources, [{ type: 'package', name: 'curl', ensure: '7.88.1-10+deb12u12' }]);
  const ev = await fx.server.services.auditLog.list({ action: 'software.upgrade' });
  t.equal(ev.length, 1);
  // Older than 7.0-1: nobody, but db-1 lacks it: a missing host is behind too.
  const older = await fx.json('POST', '/api/v1/software/packages/dpkg/curl/upgrade', { version: '7.0-1', policy: { batches: '100%' } });
  t.same(older.json().hosts, ['db-1']);
  for (const h of ['web-1', 'db-1']) await put(fx.agents[h]!, report([{ name: 'curl', manager: 'dpkg', version: '7.88.1-10+deb12u12' }]));
  const none = await fx.json('POST', '/api/v1/software/packages/dpkg/curl/upgrade', {});
  t.equal(none.status, 400, 'every host is up to date');
});

t.test('a service action is an audited job; the table shows the last action and no drift after a stop', async (t) => {
  const fx = await server(t);
  await fx.json('PUT', '/api/v1/software/services/nginx', { name: 'nginx', kind: 'systemd', unit: 'nginx.service' });
  const web1 = fx.agents['web-1']!;
  await put(web1, report([], [{ name: 'nginx', state: 'running', pid: 10, startedAt: null, user: 'root' }]));
  const restart = await fx.json('POST', '/api/v1/software/services/nginx/stop', { targets: 'host:web-1' });
  t.equal(restart.status, 201, restart.body.toString());
  const { job: jobId, hosts } = restart.json();
  t.same(hosts, ['web-1']);
  await fx.settle();
  const round = await agentRound(web1, () => result('succeeded'));
  t.equal(round.work[0].kind, 'script');
  t.match(round.work[0].script.source, /systemctl stop -- 'nginx\.service'/);
  fx.clock.advance(10_000);
  await put(web1, report([], [{ name: 'nginx', state: 'stopped', pid: null, startedAt: null, user: null }]));
  const row = (await fx.json('GET', '/api/v1/software/services?host=web-1')).json().services[0];
  t.equal(row.drift, false, 'stopped by an operator: not drift');
  t.equal(row.lastAction.action, 'stop');
  t.equal(row.lastAction.job, jobId);
  const ev = await fx.server.services.auditLog.list({ action: 'software.service-stop' });
  t.equal(ev.length, 1);
  t.equal((await fx.server.services.auditLog.list({ target: `job:${jobId}`, action: 'job.launch' })).length, 1, 'the job launch is audited too');
  t.equal((await fx.json('POST', '/api/v1/software/services/nope/start', { targets: 'host:web-1' })).status, 404);
  const viaBody = await fx.json('POST', '/api/v1/software/services/nginx/actions', { action: 'start', targets: 'host:web-1', policy: { batches: '100%' } });
  t.equal(viaBody.status, 201, viaBody.body.toString());
  t.ok(viaBody.json().rollout, 'a batch policy makes it a rollout');
});
