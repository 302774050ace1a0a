import { spawnSync } from 'node:child_process';
import t from 'tap';
import { collectInventory, reportDigest } from '../../../agent/inventory/collect.js';
import type { InventoryCollector } from '../../../agent/inventory/collector.js';
import { agentInventoryReportSchema, compileGuard, type AgentInventoryReport, type Guard } from '../../../schemas/index.js';
import { inventoryEnv, trackingConfig } from '../../helpers/inventory-env.js';

const isReport: Guard<AgentInventoryReport> = compileGuard(agentInventoryReportSchema);

t.test('a whole report from this machine: valid, sorted, and its digest ignores only collectedAt', async (t) => {
  const config = trackingConfig({
    virtuals: true,
    packages: [{ name: 'bash', manager: 'dpkg' }, { name: 'stead-none', manager: 'dpkg' }, { name: 'nothing-here', manager: 'rpm' }],
    services: [{ name: 'zz-proc', kind: 'process', pattern: 'stead-no-such-process-pattern-xyz' }, { name: 'aa-unit', kind: 'systemd' }],
    collectors: [{ name: 'static', lang: 'shell', source: 'echo \'{"resources":[{"kind":"db-instance","name":"pg-5432","attributes":{"b":1,"a":2}}]}\'\n' }],
  });
  let now = Date.UTC(2026, 0, 1);
  const env = inventoryEnv(t.testdir(), { now: () => now });
  const a = await collectInventory(config, env);
  t.same(isReport.check(a), [], 'the report passes the schema');
  t.equal(a.collectedAt, '2026-01-01T00:00:00.000Z');
  t.same(a.services.map((s) => s.name), ['aa-unit', 'zz-proc'], 'every tracked service, sorted');
  t.match(a.services[1], { state: 'stopped', processes: 0 });
  t.same(a.packages.map((p) => `${p.manager}:${p.name}`), spawnSync('rpm', ['--version']).error ? ['dpkg:bash', 'dpkg:stead-none'] : ['dpkg:bash', 'dpkg:stead-none', 'rpm:nothing-here']);
  t.ok(a.virtuals.some((v) => v.source === 'static' && v.name === 'pg-5432'));
  if (spawnSync('virsh', ['--version']).error === undefined) t.ok(a.virtuals.some((v) => v.source === 'libvirt'), 'libvirt domains (test driver)');
  now += 60_000;
  const b = await collectInventory(config, env);
  t.not(b.collectedAt, a.collectedAt);
  t.equal(reportDigest(b), reportDigest(a), 'nothing changed: the same digest');
  t.not(reportDigest({ ...b, packages: b.packages.map((p) => ({ ...p, version: '0' })) }), reportDigest(a));
});

t.test('a collector that throws is an errors entry, never a failed report', async (t) => {
  const broken: InventoryCollector = { source: 'broken', wanted: () => true, collect: () => Promise.reject(new Error('kaput')) };
  const r = await collectInventory(trackingConfig(), inventoryEnv(t.testdir()), { collectors: [broken] });
  t.same(r.errors, [{ source: 'broken', message: 'the collector failed: kaput' }]);
  t.same(isReport.check(r), []);
});
