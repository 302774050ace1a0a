/**
 * The inventory, software and services the console page tests show: a small fleet with a faulty
 * physical host and its VMs, a mismatch, a lifecycle history, packages behind their approved
 * version, a drifted service, and hostile strings wherever free text may go (attributes, facts,
 * reasons, group reasons, virtual names, descriptions) to prove the pages escape them.
 */
import { MemoryInventory, MemorySoftware } from './memory-console-ports.js';

export const hostile = '<script>alert(1)</script>';
export const hostileAttr = '"><img src=x onerror=alert(2)>';

export function seedInventory(inv: MemoryInventory, count = 3): void {
  inv.add(
    { hostname: 'pm-1', ips: ['10.0.0.1'], idc: 'sz', rack: 'r1', business: 'pay/core', kind: 'physical', lifecycle: 'faulty', tags: ['canary'], attributes: { owner: hostile, note: hostileAttr } },
    {
      repository: { ips: ['10.0.0.1'], idc: 'gz', set: 's1', env: 'prod' },
      facts: { os: 'Debian 12', kernel: '6.1.0', memory: { total: 8_000_000_000 }, note: hostile },
      detail: {
        mismatches: [{ field: 'ip', recorded: '10.0.0.1', reported: '10.0.0.9', message: `The agent does not report 10.0.0.1 ${hostile}` }],
        groups: [
          { group: 'web', source: 'repository', why: 'rule 2 matched (idc=sz, tags contains canary)' },
          { group: 'canaries', source: 'inventory', why: `filter tag:canary ${hostile}` },
        ],
        virtuals: [
          { kind: 'vm', name: 'vm-1', source: 'libvirt', state: 'running', host: 'vm-1' },
          { kind: 'container', name: `c${hostileAttr}`, source: 'docker', state: 'exited' },
        ],
      },
    },
  );
  inv.hosts.get('pm-1')!.history.push({ host: 'pm-1', from: 'online', to: 'faulty', by: 'admin', at: '2026-11-26T09:00:00.000Z', reason: `disk failed ${hostile}` });
  inv.add({ hostname: 'vm-1', ips: ['10.0.1.1'], idc: 'sz', business: 'pay/api', kind: 'vm', parent: 'pm-1', tags: ['canary', 'web'] }, { facts: { os: 'Debian 12' } });
  for (let i = 0; i < count; i++) inv.add({ hostname: `web-${String(i).padStart(3, '0')}`, ips: [`10.1.${Math.floor(i / 250)}.${i % 250}`], idc: i % 2 ? 'gz' : 'sz', business: 'shop/web', kind: 'vm', lifecycle: i === 0 ? 'maintenance' : 'online', tags: ['web'] });
}

export function seedSoftware(sw: MemorySoftware): void {
  sw.tracked.push({ name: 'nginx', manager: 'dpkg', approved: '1.24.0-2', description: `front proxy ${hostile}` }, { name: 'left-pad', manager: 'npm', approved: '1.3.0' });
  const row = (host: string, name: string, manager: 'dpkg' | 'npm', installed: string | null, approved: string, status: 'up-to-date' | 'outdated' | 'missing' | 'ahead'): void => {
    sw.packageRows.push({ host, name, manager, installed, approved, status, reportedAt: '2026-11-26T10:00:00.000Z', ...(manager === 'dpkg' && installed ? { arch: 'amd64' } : {}) });
  };
  row('pm-1', 'nginx', 'dpkg', '1.22.1-9', '1.24.0-2', 'outdated');
  row('vm-1', 'nginx', 'dpkg', '1.24.0-2', '1.24.0-2', 'up-to-date');
  row('web-000', 'nginx', 'dpkg', '1.24.0-2', '1.24.0-2', 'up-to-date');
  row('web-001', 'nginx', 'dpkg', null, '1.24.0-2', 'missing');
  row('pm-1', 'left-pad', 'npm', '1.3.0', '1.3.0', 'up-to-date');
  sw.trackedServices.push({ name: 'nginx', kind: 'systemd' }, { name: 'worker', kind: 'process', pattern: 'worker.py' });
  sw.serviceRows.push(
    { host: 'pm-1', name: 'nginx', kind: 'systemd', state: 'failed', pid: null, startedAt: null, checkedAt: '2026-11-26T10:00:00.000Z', uptimeSeconds: null, user: 'root', drift: true },
    { host: 'vm-1', name: 'nginx', kind: 'systemd', state: 'running', pid: 812, startedAt: '2026-11-23T08:00:00.000Z', checkedAt: '2026-11-26T10:00:00.000Z', uptimeSeconds: 266400, user: 'www-data', drift: false, lastAction: { action: 'restart', by: 'admin', at: '2026-11-23T08:00:00.000Z', job: 'j-1' } },
    { host: 'vm-1', name: 'worker', kind: 'process', state: 'running', pid: 900, startedAt: '2026-11-26T09:00:00.000Z', checkedAt: '2026-11-26T10:00:00.000Z', uptimeSeconds: 3600, user: 'app', processes: 3, drift: false },
  );
}
