/**
 * systemd is not PID 1 on the test machine, so the systemd provider is tested through a recording
 * Host that plays systemctl (test/helpers/os-recording-host.ts): the exact commands are asserted,
 * and the same resource contract suite as the real providers runs over it.
 */
import t from 'tap';
import { serviceResource } from '../../../agent/resources/service.js';
import { registry } from '../../../agent/resources/registry.js';
import { parseSystemctlShow } from '../../../agent/providers/systemd.js';
import type { ServiceResource } from '../../../schemas/resources/service.js';
import { converge, osContext } from '../../helpers/os-context.js';
import { createSystemdRecordingHost, type SystemdRecordingHost } from '../../helpers/os-recording-host.js';
import { resourceContract } from '../resources/contract.js';

const web = (x: Partial<ServiceResource> = {}): ServiceResource => ({ type: 'service', name: 'nginx.service', ...x });

t.test('parses systemctl show', async (t) => {
  t.same(parseSystemctlShow('LoadState=loaded\nActiveState=active\nUnitFileState=enabled\nExecMainStartTimestamp=Thu 2026-11-26 01:00:00 UTC\n'), {
    LoadState: 'loaded', ActiveState: 'active', UnitFileState: 'enabled', ExecMainStartTimestamp: 'Thu 2026-11-26 01:00:00 UTC',
  });
});

t.test('commands: start + enable, then stop + disable, with the name after --', async (t) => {
  const host = createSystemdRecordingHost();
  host.units.set('nginx.service', { active: false, fileState: 'disabled' });
  const ctx = osContext(host, t.testdir());
  let r = await converge(serviceResource, web({ ensure: 'running', enable: true }), ctx);
  t.same(r.changes, [{ property: 'ensure', before: 'stopped', after: 'running' }], 'ensure comes alone (the contract); apply converges enable with it');
  t.same(r.after, { provider: 'systemd', running: true, enabled: true, pids: [] });
  const cmds = host.calls.map((c) => [c.file, ...c.args].join(' '));
  t.same(cmds, [
    'systemctl show --property=LoadState,ActiveState,UnitFileState,NeedDaemonReload -- nginx.service',
    'systemctl show --property=LoadState,ActiveState,UnitFileState,NeedDaemonReload -- nginx.service',
    'systemctl start -- nginx.service',
    'systemctl enable -- nginx.service',
    'systemctl show --property=LoadState,ActiveState,UnitFileState,NeedDaemonReload -- nginx.service',
  ]);
  t.ok(host.calls.every((c) => c.opts.env?.LC_ALL === 'C'), 'parsed output is never translated');

  host.calls.length = 0;
  r = await converge(serviceResource, web({ ensure: 'stopped', enable: false }), ctx);
  t.same(r.changes.map((c) => c.property), ['ensure']);
  t.same(host.calls.map((c) => c.args[0]), ['show', 'stop', 'disable', 'show']);
});

t.test('daemon-reload before start when the unit file changed; refresh restarts; a restart command wins', async (t) => {
  const host = createSystemdRecordingHost();
  host.units.set('nginx.service', { active: false, fileState: 'enabled', needReload: true });
  await converge(serviceResource, web({ ensure: 'running' }), osContext(host, t.testdir()));
  t.same(host.calls.map((c) => c.args[0]), ['show', 'show', 'daemon-reload', 'start', 'show']);

  host.calls.length = 0;
  const run2 = osContext(host, t.testdir());
  await serviceResource.refresh(web({ ensure: 'running' }), run2);
  t.same(host.calls.map((c) => c.args[0]), ['show', 'show', 'restart']);
  t.equal(host.units.get('nginx.service')?.invocations, 2, 'restarted once');

  host.calls.length = 0;
  await serviceResource.refresh(web({ ensure: 'running', restart: '/usr/sbin/nginx -s reload' }), osContext(host, t.testdir()));
  t.same(host.calls.map((c) => [c.file, ...c.args]), [
    ['systemctl', 'show', '--property=LoadState,ActiveState,UnitFileState,NeedDaemonReload', '--', 'nginx.service'],
    ['/bin/sh', '-c', '/usr/sbin/nginx -s reload'],
  ]);

  host.calls.length = 0;
  await serviceResource.refresh(web({ ensure: 'stopped' }), osContext(host, t.testdir()));
  t.same(host.calls, [], 'a service that should be stopped is not restarted');
});

t.test('an unknown unit fails with systemctl\'s message; a service name cannot become an option', async (t) => {
  const host = createSystemdRecordingHost();
  await t.rejects(converge(serviceResource, web({ name: 'nope.service', ensure: 'running' }), osContext(host, t.testdir())), { code: 'NOT_FOUND' });
  host.units.set('-H', { active: false, fileState: 'disabled' });
  await converge(serviceResource, web({ name: '-H', ensure: 'running' }), osContext(host, t.testdir()));
  t.ok(host.calls.filter((c) => c.file === 'systemctl' && c.args.includes('-H')).every((c) => c.args.indexOf('-H') === c.args.indexOf('--') + 1), '"-H" always follows "--"');
});

t.test('provider: systemd under a confined root is refused', async (t) => {
  const host = { ...createSystemdRecordingHost(), root: '/tmp/x' };
  await t.rejects(serviceResource.read(web({ provider: 'systemd' }), osContext(host, t.testdir())), { code: 'UNSUPPORTED' });
});

const unit = (state: { active: boolean; fileState: string }) => (_root: string, host: unknown) => {
  (host as SystemdRecordingHost).units.set('nginx.service', { ...state });
};
await resourceContract(t, {
  impl: serviceResource as never,
  registry,
  makeHost: () => createSystemdRecordingHost(),
  cases: [
    { name: 'systemd: start and enable', desired: () => web({ ensure: 'running', enable: true }), prepare: unit({ active: false, fileState: 'disabled' }) },
    { name: 'systemd: stop and disable', desired: () => web({ ensure: 'stopped', enable: false }), prepare: unit({ active: true, fileState: 'enabled' }) },
    { name: 'systemd: enable only', desired: () => web({ enable: true }), prepare: unit({ active: true, fileState: 'disabled' }) },
    { name: 'systemd: in sync', desired: () => web({ ensure: 'running', enable: true }), prepare: unit({ active: true, fileState: 'enabled' }), changes: false },
    { name: 'systemd: static unit counts as enabled', desired: () => web({ enable: true }), prepare: unit({ active: true, fileState: 'static' }), changes: false },
  ],
});
