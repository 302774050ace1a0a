/**
 * SoftwareService tables from reports (ADR 0018 §6–§7) on the embedded store: per host and per
 * package rows with statuses ordered as each manager orders versions, the fleet view of versions,
 * artifact checksums mapped to labels, paging, a second service instance on the same store seeing
 * the first one's ingests (incremental refresh), the inventory host set, and drift in the service
 * table. Actions need the job core and are tested through the API (test/server/api/software.test.ts).
 */
import t from 'tap';
import type { AgentInventoryReport } from '../../../../schemas/inventory-protocol.js';
import { ManualClock } from '../../../../server/domain/clock.js';
import { AuditLog } from '../../../../server/services/audit-log.js';
import type { EffectiveHost, InventoryHosts } from '../../../../server/services/inventory/ports.js';
import type { JobService } from '../../../../server/services/jobs/job-service.js';
import type { RolloutService } from '../../../../server/services/rollouts/rollout-service.js';
import { SoftwareService } from '../../../../server/services/software/software-service.js';
import { openStore } from '../../../../server/store/open.js';

const admin = { name: 'alice', role: 'admin' as const };

function report(packages: AgentInventoryReport['packages'], services: AgentInventoryReport['services'] = []): AgentInventoryReport {
  return { configVersion: 'x', collectedAt: '2026-11-26T10:00:00.000Z', packages, services, virtuals: [], errors: [] };
}

async function open(t: { testdir(): string; teardown(fn: () => unknown): void }) {
  const dataDir = t.testdir();
  const store = await openStore({ dataDir });
  t.teardown(() => store.close());
  const clock = new ManualClock(Date.parse('2026-11-26T10:00:00Z'));
  const auditLog = await AuditLog.open(store, clock);
  // Tables never launch anything: the job core is not needed here (actions: the API test).
  const sw = await SoftwareService.open(store, clock, { jobs: undefined as unknown as JobService, rollouts: undefined as unknown as RolloutService, auditLog }, { refreshMs: 0, configTtlMs: 0 });
  return { sw, clock, auditLog, dataDir, store };
}

t.test('package rows and the fleet view order versions as the manager does', async (t) => {
  const { sw, auditLog } = await open(t);
  await sw.trackPackage('dpkg', 'curl', { name: 'curl', manager: 'dpkg', approved: '7.88.1-10+deb12u12' }, admin);
  await sw.trackPackage('pip', 'requests', { name: 'requests', manager: 'pip', approved: '2.31.0' }, admin);
  await sw.trackPackage('artifact', 'app', { name: 'app', manager: 'artifact', path: '/opt/app', approved: 'r42', versions: { r41: 'a'.repeat(64), r42: 'b'.repeat(64) } }, admin);
  await sw.ingest('web-1', report([{ name: 'curl', manager: 'dpkg', version: '7.88.1-10+deb12u5', arch: 'amd64' }, { name: 'requests', manager: 'pip', version: '2.31.0.post1' }, { name: 'app', manager: 'artifact', version: 'sha256:aaaaaaaaaaaa', sha256: 'a'.repeat(64) }]));
  await sw.ingest('web-2', report([{ name: 'curl', manager: 'dpkg', version: '7.88.1-10+deb12u12' }, { name: 'requests', manager: 'pip', version: '2.31.0rc1' }, { name: 'app', manager: 'artifact', version: 'sha256:bbbbbbbbbbbb', sha256: 'b'.repeat(64) }]));
  await sw.ingest('db-1', report([{ name: 'curl', manager: 'dpkg', version: null }, { name: 'untracked', manager: 'dpkg', version: '1.0' }]));
  const all = await sw.packageTable();
  t.equal(all.total, 7, 'untracked packages are not rows');
  t.same(all.packages.map((r) => `${r.host} ${r.manager}/${r.name} ${r.installed} ${r.status}`), [
    'db-1 dpkg/curl null missing',
    'web-1 artifact/app r41 outdated',
    'web-1 dpkg/curl 7.88.1-10+deb12u5 outdated',
    'web-1 pip/requests 2.31.0.post1 ahead',
    'web-2 artifact/app r42 up-to-date',
    'web-2 dpkg/curl 7.88.1-10+deb12u12 up-to-date',
    'web-2 pip/requests 2.31.0rc1 outdated',
  ]);
  t.equal(all.packages[2]!.arch, 'amd64');
  const curl = all.versions.find((v) => v.name === 'curl')!;
  t.same(curl.counts, [
    { version: '7.88.1-10+deb12u12', hosts: 1, status: 'up-to-date' },
    { version: '7.88.1-10+deb12u5', hosts: 1, status: 'outdated' },
    { version: null, hosts: 1, status: 'missing' },
  ], 'newest first (deb12u12 > deb12u5, which string order gets wrong), not installed last');
  const byName = await sw.packageTable({ name: 'curl', status: 'outdated' });
  t.same(byName.packages.map((r) => r.host), ['web-1']);
  t.same(byName.tracked.map((p) => p.name), ['curl']);
  const host = await sw.packageTable({ host: 'web-2' });
  t.same(host.packages.map((r) => r.name), ['app', 'curl', 'requests']);
  t.same(host.versions.find((v) => v.name === 'curl')!.counts, [{ version: '7.88.1-10+deb12u12', hosts: 1, status: 'up-to-date' }], 'the fleet view follows the host filter');
  const events = await auditLog.list({ target: 'software:package:dpkg/curl' });
  t.same(events.map((e) => e.action), ['software.track-package'], 'tracking is audited');
});

t.test('paging walks every row once; a second server on the same store sees new reports', async (t) => {
  const a = await open(t);
  await a.sw.trackPackage('dpkg', 'curl', { name: 'curl', manager: 'dpkg', approved: '8.0-1' }, admin);
  await a.sw.trackPackage('dpkg', 'nginx', { name: 'nginx', manager: 'dpkg', approved: '1.22.1-9' }, admin);
  for (let i = 0; i < 25; i++) await a.sw.ingest(`h-${String(i).padStart(2, '0')}`, report([{ name: 'curl', manager: 'dpkg', version: '7.0-1' }, { name: 'nginx', manager: 'dpkg', version: '1.22.1-9' }]));
  const seen: string[] = [];
  let after: string | undefined;
  for (let page = 0; page < 20; page++) {
    const p = await a.sw.packageTable({ limit: 7, ...(after !== undefined ? { after } : {}) });
    t.equal(p.total, 50);
    seen.push(...p.packages.map((r) => `${r.host}/${r.name}`));
    if (p.next === undefined) break;
    after = p.next;
  }
  t.equal(seen.length, 50);
  t.equal(new Set(seen).size, 50, 'no row twice');
  // Another service instance on the same store (another server): it loads everything once, then
  // sees a report the first one ingests through its incremental refresh.
  const b = await SoftwareService.open(a.store, a.clock, { jobs: undefined as unknown as JobService, rollouts: undefined as unknown as RolloutService, auditLog: a.auditLog }, { refreshMs: 0, configTtlMs: 0 });
  t.equal((await b.packageTable()).total, 50);
  a.clock.advance(1000);
  await a.sw.ingest('h-00', report([{ name: 'curl', manager: 'dpkg', version: '8.0-1' }, { name: 'nginx', manager: 'dpkg', version: '1.22.1-9' }]));
  await a.sw.ingest('z-new', report([{ name: 'curl', manager: 'dpkg', version: '8.0-1' }]));
  const seenByB = await b.packageTable({ name: 'curl', status: 'up-to-date' });
  t.same(seenByB.packages.map((r) => r.host), ['h-00', 'z-new'], 'the other instance sees the changed and the new host');
  t.equal((await b.packageTable()).total, 51);
});

t.test('the inventory host set limits the tables: unknown and retired hosts are left out', async (t) => {
  const { sw } = await open(t);
  await sw.trackPackage('npm', 'pm2', { name: 'pm2', manager: 'npm', approved: '5.3.0' }, admin);
  for (const h of ['a', 'b', 'c']) await sw.ingest(h, report([{ name: 'pm2', manager: 'npm', version: '5.3.0-beta.1' }]));
  const host = (hostname: string, lifecycle: EffectiveHost['lifecycle']): EffectiveHost => ({ hostname, record: { hostname }, lifecycle, source: 'store', groups: [] }) as EffectiveHost;
  const inv: InventoryHosts = { all: async () => [host('a', 'online'), host('b', 'retired')] };
  sw.setInventoryHosts(inv);
  const table = await sw.packageTable();
  t.same(table.packages.map((r) => `${r.host} ${r.status}`), ['a outdated'], 'semver: a pre-release is older than its release');
  t.same(table.versions[0]!.counts, [{ version: '5.3.0-beta.1', hosts: 1, status: 'outdated' }]);
});

t.test('service table: drift, filters, a host view', async (t) => {
  const { sw, clock } = await open(t);
  await sw.trackService('nginx', { name: 'nginx', kind: 'systemd' }, admin);
  await sw.trackService('worker', { name: 'worker', kind: 'process', pattern: 'worker.py', start: 'systemd-run /opt/worker.py' }, admin);
  const running = { state: 'running' as const, pid: 42, startedAt: '2026-11-26T09:00:00.000Z', user: 'www-data', processes: 3 };
  await sw.ingest('web-1', report([], [{ name: 'nginx', ...running }, { name: 'worker', ...running }]));
  await sw.ingest('web-2', report([], [{ name: 'nginx', state: 'stopped', pid: null, startedAt: null, user: null }]));
  clock.advance(60_000);
  await sw.ingest('web-1', report([], [{ name: 'nginx', state: 'failed', pid: null, startedAt: null, user: null, message: 'Result=exit-code' }, { name: 'worker', ...running }]));
  const table = await sw.serviceTable();
  t.same(table.services.map((r) => `${r.host} ${r.name} ${r.state} ${r.drift}`), ['web-1 nginx failed true', 'web-1 worker running false', 'web-2 nginx stopped false']);
  const worker = table.services[1]!;
  t.equal(worker.uptimeSeconds, 3600, 'collectedAt − startedAt');
  t.equal(worker.kind, 'process');
  t.equal(worker.processes, 3);
  t.same((await sw.serviceTable({ drift: true })).services.map((r) => r.host), ['web-1']);
  t.same((await sw.serviceTable({ host: 'web-2' })).services.map((r) => r.name), ['nginx']);
  const view = await sw.hostView('web-1');
  t.same(view.services.map((s) => `${s.name} ${s.drift}`), ['nginx true', 'worker false']);
  t.same(await sw.hostView('nowhere'), { host: 'nowhere', packages: [], services: [] });
  t.equal((await sw.latest('web-1'))?.report.services[0]?.message, 'Result=exit-code', 'latest() gives the last report');
});

t.test('the tracking config: sorted, versioned by content, collectors admin-only', async (t) => {
  const { sw } = await open(t);
  const v0 = (await sw.trackingConfig()).version;
  await sw.trackPackage('dpkg', 'nginx', { name: 'nginx', manager: 'dpkg', approved: '1.22.1-9' }, admin);
  await sw.trackPackage('dpkg', 'curl', { name: 'curl', manager: 'dpkg' }, admin);
  const c1 = await sw.trackingConfig();
  t.not(c1.version, v0);
  t.same(c1.packages.map((p) => p.name), ['curl', 'nginx']);
  t.equal(c1.intervalSeconds, 60);
  await sw.trackPackage('dpkg', 'nginx', { name: 'nginx', manager: 'dpkg', approved: '1.22.1-10' }, admin);
  t.equal((await sw.trackingConfig()).version, c1.version, 'an approved version is not the agent\'s business: same config');
  await sw.putSettings({ intervalSeconds: 300 }, admin);
  t.equal((await sw.trackingConfig()).intervalSeconds, 300);
  await t.rejects(sw.putCollector('vms', { name: 'vms', lang: 'shell', source: 'echo {}' }, { name: 'bob', role: 'viewer' }), { code: 'FORBIDDEN' });
  await t.rejects(sw.trackPackage('dpkg', 'curl', { name: 'curl', manager: 'dpkg', approved: 'not a version' }, admin), { code: 'BAD_REQUEST' });
  await t.rejects(sw.trackPackage('artifact', 'app', { name: 'app', manager: 'artifact' }, admin), { code: 'BAD_REQUEST' }, 'an artifact needs a path');
  await sw.trackPackage('artifact', 'app', { name: 'app', manager: 'artifact', path: '/opt/app', approved: 'r2', versions: { r1: 'a'.repeat(64), r2: 'b'.repeat(64) } }, admin);
  t.same((await sw.trackingConfig()).packages.find((p) => p.name === 'app'), { name: 'app', manager: 'artifact', path: '/opt/app', versions: { r1: 'a'.repeat(64), r2: 'b'.repeat(64) } }, 'artifacts carry their known versions to the agent');
  await t.rejects(sw.untrackService('nope', admin), { code: 'NOT_FOUND' });
});

t.test('upgrade: a default target list longer than a selector can carry is refused with the count', async (t) => {
  const { sw } = await open(t);
  await sw.trackPackage('dpkg', 'curl', { name: 'curl', manager: 'dpkg', approved: '8.0-1' }, admin);
  for (let i = 0; i < 201; i++) await sw.ingest(`host-${String(i).padStart(3, '0')}`, report([{ name: 'curl', manager: 'dpkg', version: '7.0-1' }]));
  await t.rejects(sw.upgrade('dpkg', 'curl', {}, admin), { code: 'BAD_REQUEST', message: /201 hosts are behind/ });
  await t.rejects(sw.upgrade('rpm', 'curl', {}, admin), { code: 'NOT_FOUND' });
  await sw.trackPackage('npm', 'pm2', { name: 'pm2', manager: 'npm', approved: '5.3.0' }, admin);
  await t.rejects(sw.upgrade('npm', 'pm2', {}, admin), { code: 'BAD_REQUEST', message: /dpkg/ }, 'only dpkg goes through the engine');
});
