/**
 * Real data for the console's inventory, software and services page tests, put in through the
 * server's own API on a started fixture (server-fixture.ts): a published repository that declares
 * pm-1 (its own idc, set and env) and a group matching business pay/*; a CSV import of the CMDB
 * (pm-1 physical, its VM vm-1, `count` web hosts); a dynamic group; pm-1 moved to faulty with a
 * reason; two enrolled agents whose facts (pm-1 reports another address) and inventory reports
 * (nginx outdated on both, nginx on pm-1 running then failed: drift; pm-1's libvirt domain and
 * container) arrive over signed requests; nginx and a process pattern tracked. Hostile strings sit
 * wherever free text may go, to prove the pages escape them.
 */
import { rawRequest, type ServerFixture, type TestAgent } from './server-fixture.js';

export const hostile = '<script>alert(1)</script>';
export const hostileAttr = '"><img src=x onerror=alert(2)>';

const repo: Record<string, string> = {
  'stead.yaml': 'stead: 1\nname: console-inventory\n',
  'inventory/hosts.yaml': 'hosts:\n  pm-1: {ip: 10.0.0.1, idc: gz, set: s1, env: prod}\n',
  'groups/pay.yaml': 'description: pay\nkind: custom\npriority: 10\nmatch:\n  - business: pay/*\nroles: [app]\n',
  'roles/app/role.yaml': 'description: app\nresources:\n  - type: directory\n    path: /srv\n    mode: "0755"\n',
};

const csvCell = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

async function ok(what: string, p: Promise<{ status: number; body: Buffer }>, ...want: number[]): Promise<void> {
  const r = await p;
  if (!want.includes(r.status)) throw new Error(`${what}: ${r.status} ${r.body.toString().slice(0, 500)}`);
}

export interface Seeded {
  readonly agents: Record<'pm-1' | 'vm-1', TestAgent>;
}

export async function seedConsoleInventory(fx: ServerFixture, count = 3): Promise<Seeded> {
  await ok('publish', fx.publish(repo), 201);
  const rows = [
    ['hostname', 'ip', 'idc', 'rack', 'business', 'kind', 'parent', 'lifecycle', 'tags', 'owner', 'note'],
    ['pm-1', '10.0.0.1', 'sz', 'r1', 'pay/core', 'physical', '', 'online', 'canary', hostile, hostileAttr],
    ['vm-1', '10.0.1.1', 'sz', '', 'pay/api', 'vm', 'pm-1', 'online', 'canary;web', '', ''],
    ...Array.from({ length: count }, (_, i) => [`web-${String(i).padStart(3, '0')}`, `10.1.${Math.floor(i / 250)}.${i % 250}`, i % 2 ? 'gz' : 'sz', '', 'shop/web', 'vm', '', i === 0 ? 'maintenance' : 'online', 'web', '', '']),
  ];
  const csv = rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
  const r = await rawImport(fx, csv);
  if (r.status !== 200 || r.json().applied !== true) throw new Error(`import: ${r.status} ${r.body.toString().slice(0, 800)}`);
  await ok('group', fx.json('PUT', '/api/v1/inventory/groups/canaries', { name: 'canaries', filter: 'tag:canary', description: hostile }), 200, 201);
  await ok('faulty', fx.json('PATCH', '/api/v1/inventory/hosts/pm-1', { lifecycle: 'faulty', reason: `disk failed ${hostile}` }), 200);
  await ok('track nginx', fx.json('PUT', '/api/v1/software/packages/dpkg/nginx', { name: 'nginx', manager: 'dpkg', approved: '1.24.0-2', description: `front proxy ${hostile}` }), 200, 201);
  await ok('track left-pad', fx.json('PUT', '/api/v1/software/packages/npm/left-pad', { name: 'left-pad', manager: 'npm', approved: '1.3.0' }), 200, 201);
  await ok('track nginx service', fx.json('PUT', '/api/v1/software/services/nginx', { name: 'nginx', kind: 'systemd' }), 200, 201);
  await ok('track worker', fx.json('PUT', '/api/v1/software/services/worker', { name: 'worker', kind: 'process', pattern: 'worker.py' }), 200, 201);
  const pm = await fx.approvedAgent('pm-1');
  const vm = await fx.approvedAgent('vm-1');
  await ok('pm-1 facts', pm.request('PUT', '/api/v1/hosts/pm-1/facts', { hostname: 'pm-1', os: { name: 'Debian', version: '12' }, kernel: '6.1.0', ips: ['10.0.0.9'], memory: { total: 8_000_000_000 }, note: hostile }), 200);
  await ok('vm-1 facts', vm.request('PUT', '/api/v1/hosts/vm-1/facts', { hostname: 'vm-1', os: { name: 'Debian', version: '12' }, ips: ['10.0.1.1'], virtualization: 'kvm' }), 200);
  const config = (a: TestAgent) => a.request('GET', `/api/v1/hosts/${a.host}/tracking`).then((x) => x.json().version as string);
  const iso = (): string => new Date(fx.clock.now()).toISOString();
  const report = async (a: TestAgent, nginxState: 'running' | 'failed', nginxVersion: string | null, extra: { virtuals?: unknown[]; worker?: boolean } = {}): Promise<void> => {
    const up = nginxState === 'running';
    const body = {
      configVersion: await config(a),
      collectedAt: iso(),
      packages: [{ name: 'nginx', manager: 'dpkg', version: nginxVersion, ...(nginxVersion ? { arch: 'amd64' } : {}) }, { name: 'left-pad', manager: 'npm', version: '1.3.0' }],
      services: [
        { name: 'nginx', state: nginxState, pid: up ? 812 : null, startedAt: up ? new Date(fx.clock.now() - 3 * 86_400_000).toISOString() : null, user: up ? 'www-data' : null },
        ...(extra.worker ? [{ name: 'worker', state: 'running', pid: 900, startedAt: new Date(fx.clock.now() - 3_600_000).toISOString(), user: 'app', processes: 3 }] : []),
      ],
      virtuals: extra.virtuals ?? [],
      errors: [],
    };
    await ok(`${a.host} report`, a.request('PUT', `/api/v1/hosts/${a.host}/inventory`, body), 200);
  };
  const virtuals = [
    { kind: 'vm', name: 'vm-1', id: '6f1c2a9e-0000-4000-8000-000000000001', source: 'libvirt', state: 'running' },
    { kind: 'container', name: `c${hostileAttr}`.slice(0, 253), id: 'abc123', source: 'docker', state: 'exited' },
  ];
  await report(pm, 'running', '1.22.1-9', { virtuals });
  await report(vm, 'running', '1.22.1-9', { worker: true });
  fx.clock.advance(120_000);
  // nginx on pm-1 fails with no operator asking: drift.
  await report(pm, 'failed', '1.22.1-9', { virtuals });
  return { agents: { 'pm-1': pm, 'vm-1': vm } };
}

async function rawImport(fx: ServerFixture, csv: string): Promise<{ status: number; body: Buffer; json(): any }> {
  return rawRequest(fx.base, { method: 'POST', path: '/api/v1/inventory/import?format=csv', headers: { authorization: `Bearer ${fx.adminToken}`, 'content-type': 'text/csv' }, body: csv });
}
