/**
 * Inventory import (ADR 0018 §3) against the real store of a composed server: a 10,000-host CSV
 * with broken rows is refused naming every broken line and writes nothing; fixed, it applies in
 * one generation; an apply killed midway (a throw from the write hook) is finished by the next
 * open of the service, and the generation moves once.
 */
import t from 'tap';
import { InventoryService } from '../../../../server/services/inventory/inventory-service.js';
import { startJobServer } from '../../../helpers/job-fixture.js';

function csv(n: number, broken: ReadonlyMap<number, string> = new Map(), lifecycle = 'online'): string {
  const lines = ['hostname,ip,idc,rack,business,lifecycle,tags,owner'];
  for (let i = 0; i < n; i++) lines.push(broken.get(i) ?? `h-${String(i).padStart(5, '0')},10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},idc${i % 7},r${i % 40},pay/api,${lifecycle},a;b,ops`);
  return `${lines.join('\n')}\n`;
}

const admin = { name: 'admin' };

t.test('a 10,000-host CSV: refused with broken rows, then applied; a crash mid-apply is finished at open', async (t) => {
  const fx = await startJobServer(t, {}, { enroll: false });
  const s = fx.server.services;
  const inv = s.inventory;
  const broken = new Map([
    [41, 'h-00041,10.0.0.41,sz,r1,pay/api,sleeping,a,ops'],
    [5000, 'bad host!,10.0.0.1,sz,r1,pay/api,online,a,ops'],
    [9998, 'h-09998,10.0.0.1,sz,r1,,online,a'],
  ]);
  const refused = await inv.import(csv(10_000, broken), { format: 'csv', dryRun: false, mode: 'merge' }, admin);
  t.equal(refused.applied, false);
  t.same(refused.problems.map((p) => p.line), [43, 5002, 10000], 'every broken row by its line (header is line 1)');
  t.match(refused.problems[0], { column: 'lifecycle', hostname: 'h-00041' });
  t.match(refused.problems[2]!.message, /7 cells where the header has 8/);
  t.equal(await inv.generation(), 0, 'nothing written: the generation did not move');
  t.equal((await inv.overlay()).records.size, 0, 'no record');

  const dry = await inv.import(csv(10_000), { format: 'csv', dryRun: true, mode: 'merge' }, admin);
  t.match(dry, { dryRun: true, applied: false, counts: { added: 10_000, changed: 0, removed: 0 }, problems: [] });
  t.equal(dry.added.length, 1000, 'names are capped, counts are exact');
  t.equal(await inv.generation(), 0, 'a dry run writes nothing');

  const ok = await inv.import(csv(10_000), { format: 'csv', dryRun: false, mode: 'merge' }, admin);
  t.match(ok, { applied: true, counts: { added: 10_000 }, generation: 1 });
  const o = await inv.overlay();
  t.equal(o.records.size, 10_000);
  t.same(o.records.get('h-00007'), { hostname: 'h-00007', ips: ['10.0.0.7'], idc: 'idc0', rack: 'r7', business: 'pay/api', lifecycle: 'online', tags: ['a', 'b'], attributes: { owner: 'ops' } });
  const again = await inv.import(csv(10_000), { format: 'csv', dryRun: false, mode: 'merge' }, admin);
  t.match(again, { applied: true, unchanged: 10_000, counts: { added: 0, changed: 0 }, generation: 1 }, 'the same file again changes nothing');

  // A second service on the same store dies after 3,000 writes of a 10,000-row change.
  const dying = await InventoryService.open(fx.server.store, { revisions: s.revisions, hostStates: s.hostStates, auditLog: s.auditLog, clock: fx.clock, log: fx.server.services.inventory['d' as never]['log' as never] }, {
    beforeImportWrite: (i) => {
      if (i === 3000) throw new Error('killed');
    },
  });
  await t.rejects(dying.import(csv(10_000, new Map(), 'maintenance'), { format: 'csv', dryRun: false, mode: 'merge' }, admin), /killed/);
  t.equal(await dying.generation(), 1, 'the generation did not move: selectors see no half import');
  const half = await inv.export('json');
  t.match(half, /"lifecycle":"maintenance"/, 'the killed apply had written some records');
  t.match(half, /"lifecycle":"online"/, 'and not the others');

  const reopened = await InventoryService.open(fx.server.store, { revisions: s.revisions, hostStates: s.hostStates, auditLog: s.auditLog, clock: fx.clock, log: fx.server.services.inventory['d' as never]['log' as never] });
  t.equal(await reopened.generation(), 2, 'open finished the staged import and moved the generation once');
  const after = await reopened.overlay();
  t.equal([...after.records.values()].filter((r) => r.lifecycle === 'maintenance').length, 10_000, 'every record has its imported value');
  const ev = await reopened.events('h-09999');
  t.match(ev, [{ from: 'online', to: 'maintenance', by: 'admin' }], 'the lifecycle change of a row imported after the crash is recorded');
  t.match(await reopened.events('h-00001'), [{ from: 'online', to: 'maintenance' }, { from: null, to: 'online' }], 'and of one imported before it, once (after its creation)');
  t.equal((await reopened.events('h-00001')).length, 2);
});

t.test('replace mode removes records absent from the file; JSON import and export round trip', async (t) => {
  const fx = await startJobServer(t, {}, { enroll: false });
  const inv = fx.server.services.inventory;
  await inv.import(csv(5), { format: 'csv', dryRun: false, mode: 'merge' }, admin);
  const json = await inv.export('json');
  const fewer = JSON.stringify({ hosts: (JSON.parse(json) as { hosts: { hostname: string }[] }).hosts.slice(0, 3) });
  const dry = await inv.import(fewer, { format: 'json', dryRun: true, mode: 'replace' }, admin);
  t.same(dry.removed, ['h-00003', 'h-00004']);
  t.equal(dry.unchanged, 3);
  const bad = await inv.import('{"hosts":[\n {"hostname":"a"},\n {"hostname":"b","kind":"toaster"},\n {"hostname":"c","attributes":{"x y":1}}\n]}', { format: 'json', dryRun: false, mode: 'merge' }, admin);
  t.same(bad.problems.map((p) => [p.line, p.column]), [[3, 'kind'], [4, 'attributes']], 'JSON problems carry the line of the record');
  const applied = await inv.import(fewer, { format: 'json', dryRun: false, mode: 'replace' }, admin);
  t.match(applied, { applied: true, counts: { removed: 2 } });
  const csvOut = await inv.export('csv');
  const round = await inv.import(csvOut, { format: 'csv', dryRun: true, mode: 'replace' }, admin);
  t.match(round, { counts: { added: 0, changed: 0, removed: 0 }, unchanged: 3 }, 'CSV export imports back unchanged');
  t.equal(JSON.parse(await inv.export('json')).hosts.length, 3);
});
