import { spawnSync } from 'node:child_process';
import t from 'tap';
import { containerEntry, dockerCollector, libvirtCollector, podmanCollector } from '../../../agent/inventory/virtuals.js';
import { inventoryEnv, trackingConfig } from '../../helpers/inventory-env.js';

const has = (tool: string): boolean => spawnSync(tool, ['--version']).status !== null && spawnSync(tool, ['--version']).error === undefined;

const noVirsh = has('virsh') ? false : 'virsh is not installed (apt package libvirt-clients)';
t.test('libvirt: the test driver of the real virsh (test:///default, no daemon)', { skip: noVirsh }, async (t) => {
  const out = await libvirtCollector.collect(trackingConfig({ virtuals: true }), inventoryEnv(t.testdir(), { libvirtUri: 'test:///default' }));
  t.same(out.errors, []);
  const direct = spawnSync('virsh', ['-c', 'test:///default', 'list', '--all', '--name'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.trim() !== '');
  t.same(out.virtuals?.map((v) => v.name), direct, 'every domain virsh lists');
  const uuid = /UUID:\s+(\S+)/.exec(spawnSync('virsh', ['-c', 'test:///default', 'dominfo', direct[0]!], { encoding: 'utf8' }).stdout)?.[1];
  t.match(out.virtuals?.[0], { kind: 'vm', source: 'libvirt', name: direct[0], id: uuid, state: 'running', attributes: { cpus: Number, maxMemoryKiB: Number, persistent: true } });
  t.notOk('cpuTime' in (out.virtuals?.[0]?.attributes ?? {}), 'no changing counters');

  const bad = await libvirtCollector.collect(trackingConfig({ virtuals: true }), inventoryEnv(t.testdir(), { libvirtUri: 'stead-bad:///nowhere' }));
  t.match(bad.errors, [{ source: 'libvirt' }], 'a connection that fails is an errors entry');
});

t.test('libvirt: virsh not on PATH → nothing at all (no error)', async (t) => {
  const env = inventoryEnv(t.testdir());
  const host = { ...env.host, exec: (f: string, a: readonly string[], o?: Parameters<typeof env.host.exec>[2]) => env.host.exec(f === 'virsh' ? 'stead-no-such-virsh' : f, a, o) };
  t.same(await libvirtCollector.collect(trackingConfig({ virtuals: true }), { ...env, host }), {});
});

t.test('containers: a client without a reachable engine is an errors entry; no client is nothing', async (t) => {
  for (const [client, collector] of [['docker', dockerCollector], ['podman', podmanCollector]] as const) {
    const out = await collector.collect(trackingConfig({ virtuals: true }), inventoryEnv(t.testdir()));
    if (!has(client)) {
      t.same(out, {}, `${client}: no client, nothing reported`);
      continue;
    }
    const live = spawnSync(client, ['ps', '-a'], { encoding: 'utf8' });
    if (live.status === 0) {
      t.comment(`${client}: the engine answers here; the unreachable case is not exercised`);
      t.same(out.errors, []);
    } else {
      t.same(out.virtuals ?? [], []);
      t.match(out.errors, [{ source: client, message: new RegExp(`the ${client} engine did not answer`) }], `${client} client present, engine down`);
    }
  }
});

t.test('container lines of docker and podman', async (t) => {
  t.same(containerEntry('docker', { ID: 'abc', Names: 'web,alias', State: 'running', Image: 'nginx:1', Status: 'Up 3 minutes', CreatedAt: '2026-01-01 00:00:00 +0000 UTC' }), { kind: 'container', name: 'web', source: 'docker', id: 'abc', state: 'running', attributes: { image: 'nginx:1', created: '2026-01-01 00:00:00 +0000 UTC' } });
  t.same(containerEntry('podman', { Id: 'def', Names: ['db'], State: 'exited', Image: 'pg', Created: 1700000000 }), { kind: 'container', name: 'db', source: 'podman', id: 'def', state: 'exited', attributes: { image: 'pg', created: 1700000000 } });
  t.equal(containerEntry('docker', { ID: 'x' }), undefined);
});
