/** Why a host is in each repository group (compiler explainGroups), and the agent/record mismatches. */
import t from 'tap';
import { explainGroups, groupsOfHost } from '../../../../compiler/repo/membership.js';
import type { Repository } from '../../../../compiler/repo/repository.js';
import { mismatchesOf } from '../../../../server/services/inventory/mismatches.js';

const groups = new Map(
  Object.entries({
    listed: { hosts: ['web-1'] },
    rules: { match: [{ idc: 'gz' }, { idc: 'sz', tags: 'canary' }] },
    parent: { children: ['rules'] },
    facty: { match: [{ facts: { 'os.family': 'debian' } }] },
    other: { match: [{ business: { in: ['crm'] } }] },
    loop: { children: ['loop2'] },
    loop2: { children: ['loop'] },
  }).map(([name, def]) => [name, { name, file: `groups/${name}.yaml`, def: { kind: 'custom', ...def }, factBased: false }] as const),
) as unknown as Repository['groups'];

t.test('explainGroups gives the first reason of every group, as groupsOfHost finds them', async (t) => {
  const host = { name: 'web-1', file: 'inventory/x.yaml', record: { idc: 'sz', tags: ['web', 'canary'], business: 'pay/api' } };
  const facts = { os: { family: 'debian' } };
  const got = explainGroups(groups, host, facts);
  t.same(got, [
    { group: 'facty', why: 'rule 1 matched (facts.os.family=debian)' },
    { group: 'listed', why: 'listed in hosts' },
    { group: 'parent', why: 'member of child group rules' },
    { group: 'rules', why: 'rule 2 matched (idc=sz, tags contains canary)' },
  ]);
  t.same(got.map((g) => g.group), groupsOfHost({ groups } as Repository, host, facts).sort(), 'the same groups as membership');
  t.same(explainGroups(groups, { ...host, name: 'db-1', record: { business: 'crm' } }, undefined), [{ group: 'other', why: 'rule 1 matched (business in crm)' }], 'a cycle of children is no member');
});

t.test('mismatches: addresses, hostname, kind', async (t) => {
  const facts = { hostname: 'web-1', fqdn: 'web-1.example', ips: [{ interface: 'eth0', family: 'IPv4', address: '10.0.0.1' }], ipv4: ['10.0.0.1'], virtualization: 'kvm' };
  t.same(mismatchesOf('web-1', { hostname: 'web-1', ips: ['10.0.0.1'] }, facts), [], 'all agree');
  const m = mismatchesOf('web-1', { hostname: 'web-1', ips: ['10.0.0.1', '10.0.0.9'], kind: 'physical' }, { ...facts, hostname: 'other', fqdn: 'other.example' });
  t.same(m.map((x) => x.field), ['ip', 'hostname', 'kind']);
  t.match(m[0], { recorded: '10.0.0.9', reported: '10.0.0.1' });
  t.same(mismatchesOf('web-1.example', { hostname: 'web-1.example' }, facts), [], 'a short hostname of the same machine is no mismatch');
  t.same(mismatchesOf('web-1', { hostname: 'web-1', kind: 'vm' }, { ...facts, virtualization: 'physical' }).map((x) => x.field), ['kind']);
  t.same(mismatchesOf('web-1', { hostname: 'web-1', ips: ['10.0.0.9'] }, { hostname: 'web-1' }), [], 'no reported addresses: nothing to compare');
});
