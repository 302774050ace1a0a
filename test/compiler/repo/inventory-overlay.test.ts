/**
 * The store's inventory merged over a revision's inventory files (ADR 0018 §1): per-field
 * precedence, store-only hosts, group rules over the CMDB fields, the content hash, and the
 * `inventory` variable templates read.
 */
import t from 'tap';
import { compileHost } from '../../../compiler/compile.js';
import { mergeInventoryRecord, OVERLAY_FILE } from '../../../compiler/repo/inventory-overlay.js';
import { loadRepository } from '../../../compiler/repo/load-repository.js';
import { groupsOfHost } from '../../../compiler/repo/membership.js';
import type { InventoryRecord } from '../../../schemas/api/inventory.js';
import { writeRepo } from '../../helpers/compiler-repo-fixture.js';

const files = {
  'stead.yaml': 'stead: 1\nname: overlay\n',
  'inventory/hosts.yaml': [
    'hosts:',
    '  web-1:',
    '    idc: gz',
    '    set: s1',
    '    ip: 10.0.0.1',
    '    tags: [web]',
    '    attributes: { rack: r1, tier: 1 }',
    '    vars: { greeting: hello }',
    '  web-2: { idc: gz, tags: [web], lifecycle: maintenance }',
    '',
  ].join('\n'),
  'groups/sz.yaml': 'kind: idc\nmatch:\n  - idc: sz\nvars: { region: south }\n',
  'groups/pay.yaml': 'kind: custom\nmatch:\n  - product: pay\n    lifecycle: online\nroles: [app]\n',
  'groups/canary.yaml': 'kind: custom\nhosts: [db-9]\n',
  'roles/app/role.yaml': 'resources:\n  - type: file\n    path: /etc/app.conf\n    template: app.conf.j2\n    mode: "0644"\n',
  'templates/app.conf.j2': 'idc={{ inventory.idc }} ip={{ inventory.ip }} business={{ inventory.business }} lifecycle={{ inventory.lifecycle }} tags={{ inventory.tags | join(",") }} region={{ region | default("none") }}\n',
};

function overlay(records: InventoryRecord[], digest = 'd1') {
  return { digest, records: new Map(records.map((r) => [r.hostname, r] as const)) };
}

t.test('precedence: the store wins per field, tags are a union, attributes merge, set/vars stay the repository\'s', async (t) => {
  const merged = mergeInventoryRecord(
    { idc: 'gz', set: 's1', ip: '10.0.0.1', tags: ['web'], attributes: { rack: 'r1', tier: 1 }, vars: { a: 1 }, roles: ['x'] },
    { hostname: 'web-1', idc: 'sz', ips: ['10.9.0.1', '10.9.0.2'], tags: ['canary', 'web'], attributes: { rack: 'r9' }, business: 'pay/gw', lifecycle: 'online' },
  );
  t.same(merged, { idc: 'sz', set: 's1', ip: '10.9.0.1', ips: ['10.9.0.1', '10.9.0.2'], tags: ['web', 'canary'], attributes: { rack: 'r9', tier: 1 }, vars: { a: 1 }, roles: ['x'], business: 'pay/gw', lifecycle: 'online' });
  t.same(mergeInventoryRecord({ idc: 'gz' }, undefined), { idc: 'gz' }, 'no store record: the repository record');
  t.same(mergeInventoryRecord(undefined, { hostname: 'x', idc: 'sz' }), { idc: 'sz' }, 'store only');
  const attrs = mergeInventoryRecord(undefined, { hostname: 'x', attributes: { __proto__: 'polluted' } as unknown as Record<string, string> }).attributes as Record<string, unknown>;
  t.equal(({} as Record<string, unknown>)['polluted'], undefined, 'no prototype pollution through attribute names');
  t.ok(attrs !== undefined);
});

t.test('a load with the overlay: merged hosts, store-only hosts, group rules on CMDB fields, templates', async (t) => {
  const dir = writeRepo(t.testdir(), files);
  const plain = await loadRepository(dir);
  t.same(plain.problems.filter((p) => p.severity !== 'warning').map((p) => p.code), ['UNKNOWN_HOST'], 'without the store, db-9 of groups/canary.yaml is unknown');
  const o = overlay([
    { hostname: 'web-1', idc: 'sz', business: 'pay/gateway', ips: ['10.9.0.1'], tags: ['canary'] },
    { hostname: 'db-9', idc: 'sz', business: 'pay/db', kind: 'db-instance', parent: 'web-1' },
    { hostname: 'web-2', lifecycle: 'online', business: 'pay/gateway' },
  ]);
  const repo = await loadRepository(dir, { inventoryOverlay: o });
  t.same(repo.problems.filter((p) => p.severity !== 'warning'), [], 'the store declares db-9');
  t.equal(repo.revision, plain.revision, 'the revision label does not change with the inventory');
  t.not(repo.contentHash, plain.contentHash, 'the content hash does: compile caches key on it');
  const again = await loadRepository(dir, { inventoryOverlay: overlay([...o.records.values()], 'd2') });
  t.not(again.contentHash, repo.contentHash, 'another digest, another content hash');
  t.same([...repo.hosts.keys()], ['db-9', 'web-1', 'web-2']);
  t.equal(repo.hosts.get('db-9')!.file, OVERLAY_FILE);
  t.equal(repo.hosts.get('web-1')!.file, 'inventory/hosts.yaml');
  t.same(repo.hosts.get('web-1')!.repositoryRecord?.idc, 'gz', 'the files\' record is kept beside the merged one');
  t.same(groupsOfHost(repo, repo.hosts.get('web-1')!, undefined), ['pay', 'sz']);
  t.same(groupsOfHost(repo, repo.hosts.get('db-9')!, undefined), ['canary', 'pay', 'sz']);
  t.same(groupsOfHost(repo, repo.hosts.get('web-2')!, undefined), ['pay'], 'the store moved web-2 online: the lifecycle rule holds');
  t.same(groupsOfHost(plain, plain.hosts.get('web-2')!, undefined), [], 'in the files alone web-2 is in maintenance and has no business');
  const r = compileHost(repo, 'web-1');
  t.same(r.problems.filter((p) => p.severity !== 'warning'), []);
  const blob = [...r.blobs.values()][0]!.toString();
  t.equal(blob, 'idc=sz ip=10.9.0.1 business=pay/gateway lifecycle=online tags=web,canary region=south\n', 'templates read the merged record; the idc group\'s variables apply');
});
