/**
 * Where the agent contradicts the inventory record (ADR 0018 §1): a recorded address the agent
 * does not report, another hostname, or a kind contradicted by the virtualisation fact.
 */
import type { FromSchema } from 'json-schema-to-ts';
import type { InventoryRecord, inventoryMismatchSchema } from '../../../schemas/api/inventory.js';

/** One contradiction (schemas/api/inventory.ts inventoryMismatchSchema). */
export type Mismatch = FromSchema<typeof inventoryMismatchSchema>;

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Addresses the agent reported: facts.ips[].address and facts.ipv4/ipv6 lists. */
export function reportedAddresses(facts: Record<string, unknown>): string[] {
  const out = new Set<string>();
  if (Array.isArray(facts['ips'])) {
    for (const e of facts['ips']) {
      if (typeof e === 'string') out.add(e);
      else if (e && typeof e === 'object' && typeof (e as { address?: unknown }).address === 'string') out.add((e as { address: string }).address);
    }
  }
  for (const a of [...strings(facts['ipv4']), ...strings(facts['ipv6'])]) out.add(a);
  return [...out];
}

const physicalWords = new Set(['physical', 'none', 'bare-metal', 'baremetal']);

export function mismatchesOf(host: string, record: InventoryRecord, facts: Record<string, unknown>): Mismatch[] {
  const out: Mismatch[] = [];
  const addrs = reportedAddresses(facts);
  if (addrs.length > 0) {
    for (const ip of record.ips ?? []) {
      if (!addrs.includes(ip)) out.push({ field: 'ip', recorded: ip, reported: addrs.slice(0, 16).join(', '), message: `the inventory records ${ip} but the agent does not report that address` });
    }
  }
  const reported = typeof facts['hostname'] === 'string' ? facts['hostname'] : undefined;
  const fqdn = typeof facts['fqdn'] === 'string' ? facts['fqdn'] : undefined;
  if (reported !== undefined) {
    const same = (a: string | undefined): boolean => a !== undefined && (a.toLowerCase() === host.toLowerCase() || a.toLowerCase().split('.')[0] === host.toLowerCase().split('.')[0]);
    if (!same(reported) && !same(fqdn)) out.push({ field: 'hostname', recorded: host, reported, message: `the agent enrolled as ${host} reports the hostname ${reported}` });
  }
  const virt = typeof facts['virtualization'] === 'string' ? facts['virtualization'] : typeof facts['virtual'] === 'string' ? facts['virtual'] : undefined;
  if (virt !== undefined && record.kind !== undefined) {
    const isPhysical = physicalWords.has(virt.toLowerCase());
    if (record.kind === 'physical' && !isPhysical) out.push({ field: 'kind', recorded: 'physical', reported: virt, message: `recorded as a physical machine, but the agent reports virtualisation "${virt}"` });
    if ((record.kind === 'vm' || record.kind === 'mgmt-vm') && isPhysical) out.push({ field: 'kind', recorded: record.kind, reported: virt, message: `recorded as a ${record.kind}, but the agent reports a physical machine` });
  }
  return out;
}
