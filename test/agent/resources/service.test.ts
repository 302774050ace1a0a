import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Host } from '../../../agent/host/host.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { registry } from '../../../agent/resources/registry.js';
import { serviceResource } from '../../../agent/resources/service.js';
import type { ServiceResource } from '../../../schemas/resources/service.js';
import { converge, osContext } from '../../helpers/os-context.js';
import { killMatching, pidsMatching, uniqueMarker, uniqueSleepSeconds } from '../../helpers/os-processes.js';
import { resourceContract } from './contract.js';
import { worldDir } from '../../helpers/world-dir.js';

t.test('validate', async (t) => {
  const s = (x: Partial<ServiceResource>): ServiceResource => ({ type: 'service', name: 'web', ...x });
  t.same(serviceResource.validate(s({ start: 'x', ensure: 'running' })), []);
  t.same(serviceResource.validate(s({})), [], 'systemd-style: nothing else needed');
  t.equal(serviceResource.validate(s({ pattern: '(' }))[0]?.path, '/pattern');
  t.equal(serviceResource.validate(s({ provider: 'process' }))[0]?.path, '/start');
  t.equal(serviceResource.validate(s({ provider: 'process', pattern: 'x', ensure: 'running' }))[0]?.path, '/start');
  t.equal(serviceResource.validate(s({ provider: 'process', start: 'x', enable: true }))[0]?.path, '/enable');
});

t.test('diff', async (t) => {
  const up = { provider: 'process' as const, running: true, enabled: undefined, pids: [5] };
  const s = (x: Partial<ServiceResource>): ServiceResource => ({ type: 'service', name: 'web', ...x });
  t.same(serviceResource.diff(s({}), up), [], 'nothing managed');
  t.same(serviceResource.diff(s({ ensure: 'running' }), up), []);
  t.same(serviceResource.diff(s({ ensure: 'stopped' }), up), [{ property: 'ensure', before: 'running', after: 'stopped' }]);
  t.same(serviceResource.diff(s({ ensure: 'running', enable: true }), { ...up, running: false }), [{ property: 'ensure', before: 'stopped', after: 'running' }], 'enable ignored where the provider has none');
  t.same(serviceResource.diff(s({ enable: true }), { ...up, provider: 'systemd', enabled: false }), [{ property: 'enable', before: false, after: true }]);
  t.same(serviceResource.diff(s({ ensure: 'stopped', enable: false }), { ...up, provider: 'systemd', enabled: true }), [{ property: 'ensure', before: 'running', after: 'stopped' }], 'an ensure change comes alone');
});

t.test('process provider with real processes: pattern from the start command', async (t) => {
  const dir = t.testdir({ state: {}, root: {} });
  const n = uniqueSleepSeconds();
  const needle = `sleep ${n}`;
  t.teardown(() => killMatching(needle));
  const ctx = osContext(createNodeHost({ root: join(dir, 'root') }), join(dir, 'state'));
  const svc: ServiceResource = { type: 'service', name: 'sleeper', ensure: 'running', start: `sleep ${n}` };

  t.same(await serviceResource.read(svc, ctx), { provider: 'process', running: false, enabled: undefined, pids: [] });
  let r = await converge(serviceResource, svc, ctx);
  t.same(r.changes, [{ property: 'ensure', before: 'stopped', after: 'running' }]);
  const first = pidsMatching(needle);
  t.ok(first.length > 0, 'the process runs');
  t.equal(r.after?.pids.length, 1, 'read() reports one service process (the group leader)');
  t.ok(first.includes(r.after?.pids[0] ?? -1), 'and it is one of those running');

  // A new context is a new run (the engine builds one per resource and run).
  const run2 = osContext(ctx.host, join(dir, 'state'));
  r = await converge(serviceResource, svc, run2);
  t.same(r.changes, [], 'second run: in sync, nothing started');
  t.same(pidsMatching(needle), first);

  await serviceResource.refresh(svc, run2);
  const second = pidsMatching(needle);
  t.ok(second.length > 0, 'running after refresh');
  t.notOk(second.some((p) => first.includes(p)), 'refresh restarted it: none of the old pids remain');

  r = await converge(serviceResource, { ...svc, ensure: 'stopped' }, ctx);
  t.same(r.changes, [{ property: 'ensure', before: 'running', after: 'stopped' }]);
  t.same(pidsMatching(needle), [], 'stopped: no process left');
  await serviceResource.refresh({ ...svc, ensure: 'stopped' }, ctx);
  t.same(pidsMatching(needle), [], 'refresh does not start a service that should be stopped');
});

t.test('process provider: pidfile under the root, cwd, and a refresh right after start is skipped', async (t) => {
  const dir = t.testdir({ state: {}, root: { run: {}, srv: { app: {} } } });
  const root = join(dir, 'root');
  const marker = uniqueMarker();
  t.teardown(() => killMatching(marker));
  const ctx = osContext(createNodeHost({ root }), join(dir, 'state'));
  // $STEAD_ROOT is set by the Host under --root; the loop writes a file in its cwd, then its pid.
  const start = `pwd > started-in; echo $$ > "$STEAD_ROOT/run/app.pid"; while :; do sleep 1; done # ${marker}`;
  const svc: ServiceResource = { type: 'service', name: 'app', ensure: 'running', start, pidfile: '/run/app.pid', cwd: '/srv/app' };

  const r = await converge(serviceResource, svc, ctx);
  t.same(r.changes, [{ property: 'ensure', before: 'stopped', after: 'running' }]);
  const { readFileSync } = await import('node:fs');
  const pid = Number(readFileSync(join(root, 'run/app.pid'), 'utf8'));
  t.same(r.after?.pids, [pid], 'found through the pidfile');
  t.equal(readFileSync(join(root, 'srv/app/started-in'), 'utf8').trim(), join(root, 'srv/app'), 'started in cwd under the root');

  await serviceResource.refresh(svc, ctx);
  t.equal(Number(readFileSync(join(root, 'run/app.pid'), 'utf8')), pid, 'no restart in the run that started it');

  const ctx2 = osContext(createNodeHost({ root }), join(dir, 'state'));
  await serviceResource.refresh(svc, ctx2);
  const pid2 = Number(readFileSync(join(root, 'run/app.pid'), 'utf8'));
  t.not(pid2, pid, 'a later run restarts it on refresh');
  t.same(pidsMatching(marker), [pid2], 'the old process is gone, the new one runs');

  writeFileSync(join(root, 'run/app.pid'), '999999999\n');
  t.same((await serviceResource.read(svc, ctx2))?.running, false, 'a stale pidfile does not count as running');
  writeFileSync(join(root, 'run/app.pid'), `${pid2}\n`);
  await converge(serviceResource, { ...svc, ensure: 'stopped' }, ctx2);
  t.same(pidsMatching(marker), [], 'stopped');
});

t.test('process provider: stop/restart commands and run-as user from the root\'s passwd', { skip: process.getuid?.() === 0 ? false : 'run-as needs root' }, async (t) => {
  const dir = worldDir(t, { state: {}, root: { etc: {}, run: {} } }); // nobody must reach it wherever the checkout is
  const root = join(dir, 'root');
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  mkdirSync(join(root, 'tmp'));
  chmodSync(join(root, 'tmp'), 0o1777);
  const marker = uniqueMarker();
  t.teardown(() => killMatching(marker));
  const ctx = osContext(createNodeHost({ root }), join(dir, 'state'));
  const svc: ServiceResource = {
    type: 'service', name: 'worker', ensure: 'running', user: 'nobody', pattern: marker, pidfile: '/tmp/worker.pid',
    start: `echo $$ > "$STEAD_ROOT/tmp/worker.pid"; while :; do sleep 1; done # ${marker}`,
    stop: 'kill -s TERM -- "-$(cat "$STEAD_ROOT/tmp/worker.pid")"',
  };
  await converge(serviceResource, svc, ctx);
  const pids = pidsMatching(marker);
  t.equal(pids.length, 1);
  const { readFileSync } = await import('node:fs');
  const status = readFileSync(`/proc/${pids[0]}/status`, 'utf8');
  t.match(status, /^Uid:\s+65534\s/m, 'runs as nobody');
  const env = readFileSync(`/proc/${pids[0]}/environ`, 'utf8').split('\0');
  t.ok(env.includes('HOME=/nonexistent') && env.includes('USER=nobody') && env.includes('LOGNAME=nobody'), 'with the user\'s login variables');
  t.notOk(env.some((e) => e.startsWith('LC_ALL=')), 'an operator command keeps the Host\'s locale');
  await converge(serviceResource, { ...svc, ensure: 'stopped' }, ctx);
  t.same(pidsMatching(marker), [], 'the stop command stopped it');
});

{
  const n = uniqueSleepSeconds();
  const m = n + 1;
  t.teardown(() => {
    killMatching(`sleep ${n}`);
    killMatching(`sleep ${m}`);
  });
  const startFirst = async (root: string, host: Host) => {
    await converge(serviceResource, { type: 'service', name: 'c', ensure: 'running', start: `sleep ${m}` }, osContext(host, join(root, '..', 'prepare-state')));
  };
  await resourceContract(t, {
    impl: serviceResource as never,
    registry,
    cases: [
      { name: 'process: start', desired: () => ({ type: 'service', name: 'a', ensure: 'running', start: `sleep ${n}` }) },
      { name: 'process: stop', desired: () => ({ type: 'service', name: 'c', ensure: 'stopped', start: `sleep ${m}` }), prepare: startFirst },
      { name: 'process: running is in sync', desired: () => ({ type: 'service', name: 'c', ensure: 'running', start: `sleep ${m}` }), prepare: startFirst, changes: false },
    ],
  });
}
