/**
 * A lifecycle transition is written with its record; a server stopped before the event and the
 * on-online plan launch finishes both when the inventory service opens — and launching again
 * (another open, the same event) never makes a second job (the launch is keyed by the event id).
 */
import t from 'tap';
import { InventoryService } from '../../../../server/services/inventory/inventory-service.js';
import { planLauncher } from '../../../../server/services/inventory/plan-launcher.js';
import { startJobServer } from '../../../helpers/job-fixture.js';

t.test('an unfinished transition is finished at open, its plan launched once', async (t) => {
  const fx = await startJobServer(t);
  const s = fx.server.services;
  const plan = await fx.json('POST', '/api/v1/plans', { name: 'init', targets: 'group:web', steps: [{ kind: 'script', script: { lang: 'shell', source: 'echo init' } }] });
  t.equal(plan.status, 201, plan.body.toString());
  t.equal((await fx.json('PUT', '/api/v1/inventory/settings', { onOnlinePlan: 'init' })).status, 200);
  // What a server killed right after writing the record leaves behind.
  const hosts = await fx.server.store.collection<{ _id: string; recordJson: string; version: number; updatedAt: number; updatedBy: string; pendingJson?: string }>('inventory_hosts');
  const pending = { id: 'ev_crash_1', host: 'web-1', from: 'deploying', to: 'online', by: 'ana', at: fx.clock.now(), reason: 'racked' };
  await hosts.insertOne({ _id: 'web-1', recordJson: JSON.stringify({ hostname: 'web-1', lifecycle: 'online' }), version: 1, updatedAt: fx.clock.now(), updatedBy: 'ana', pendingJson: JSON.stringify(pending) });
  const deps = { revisions: s.revisions, hostStates: s.hostStates, auditLog: s.auditLog, clock: fx.clock, log: fx.server.services.inventory['d' as never]['log' as never] };
  const opened = await InventoryService.open(fx.server.store, { ...deps, launcher: planLauncher(s.jobs, s.plans) });
  const events = await opened.events('web-1');
  t.equal(events.length, 1, 'the event was recorded once');
  t.match(events[0], { from: 'deploying', to: 'online', by: 'ana', reason: 'racked', planJob: /./ });
  t.notOk((await hosts.findOne({ _id: 'web-1' }))?.pendingJson, 'the mark is cleared');
  const job = await fx.job(events[0]!.planJob!);
  t.same(job.hosts.map((h: { host: string }) => h.host), ['web-1'], 'the plan ran on that host');
  // The same transition finished again (a second server, a retry) launches nothing new.
  const again = await planLauncher(s.jobs, s.plans).launchOn('init', 'web-1', 'ana', 'ev_crash_1');
  t.equal(again, events[0]!.planJob, 'keyed by the event: the first job');
  const all = await fx.json('GET', '/api/v1/jobs');
  t.equal((all.json().jobs as unknown[]).length, 1, 'one job in all');
});
