import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { dpkgCollector } from '../../../agent/inventory/packages.js';
import { processCollector } from '../../../agent/inventory/services.js';
import { killMatching, uniqueSleepSeconds } from '../../helpers/os-processes.js';
import { executeDispatch } from '../../../agent/jobs/job-executor.js';
import { compileGuard, jobProtocolSchemas, jobResultSchema, jobWorkSchema, registerSchemas, type Guard, type JobResult, type JobWork } from '../../../schemas/index.js';
import { aptUnavailable, buildRepo, makeAptRoot } from '../../helpers/os-apt-repo.js';
import { inventoryEnv, trackingConfig } from '../../helpers/inventory-env.js';
import { jobCtx, tempDir } from './job-fixtures.js';

registerSchemas(jobProtocolSchemas);
const isResult: Guard<JobResult> = compileGuard(jobResultSchema);
const isWork: Guard<JobWork> = compileGuard(jobWorkSchema);
const never = new AbortController().signal;

function resourcesWork(resources: NonNullable<JobWork['resources']>, noop = false): JobWork {
  const w: JobWork = { id: 'u1.0.web-1', jobId: 'u1', step: 0, kind: 'resources', noop, timeoutSeconds: 300, resources };
  isWork.assert(w);
  return w;
}

const why = aptUnavailable();
t.test('a resources step installs a package from a local apt repository through the engine', { skip: why ?? false }, async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'root');
  const repo = buildRepo(dir, [
    { name: 'stead-testpkg', version: '1.0-1', files: { 'usr/share/stead-testpkg/VERSION': 'one\n' } },
    { name: 'stead-testpkg', version: '1.1-1', files: { 'usr/share/stead-testpkg/VERSION': 'one point one\n' } },
  ]);
  makeAptRoot(root, repo);
  const ctx = await jobCtx(t, dir, { root });
  const inventory = () => dpkgCollector.collect(trackingConfig({ packages: [{ name: 'stead-testpkg', manager: 'dpkg' }] }), inventoryEnv(join(dir, 'inv'), { host: ctx.host }));

  // A dry run: would-change, nothing installed.
  let r = await executeDispatch(resourcesWork([{ type: 'package', name: 'stead-testpkg', ensure: '1.0-1' }], true), ctx, never);
  isResult.assert(r);
  t.equal(r.state, 'succeeded');
  t.same(r.resources, [{ resource: 'package[stead-testpkg]', outcome: 'would-change', changes: ['ensure absent -> 1.0-1'] }]);
  t.same((await inventory()).packages, [{ name: 'stead-testpkg', manager: 'dpkg', version: null }], 'the dry run installed nothing');

  // Installed at 1.0-1, then "upgrade to approved" 1.1-1; a bad version beside it fails alone.
  r = await executeDispatch(resourcesWork([{ type: 'package', name: 'stead-testpkg', ensure: '1.0-1' }]), ctx, never);
  isResult.assert(r);
  t.same(r.resources, [{ resource: 'package[stead-testpkg]', outcome: 'changed', changes: ['ensure absent -> 1.0-1'] }]);
  t.equal(readFileSync(join(root, 'usr/share/stead-testpkg/VERSION'), 'utf8'), 'one\n');
  t.match((await inventory()).packages, [{ name: 'stead-testpkg', version: '1.0-1', arch: 'all' }], 'the inventory collector sees what the step installed');

  r = await executeDispatch(resourcesWork([{ type: 'package', name: 'stead-testpkg', ensure: '1.1-1' }, { type: 'package', name: 'stead-no-such-pkg', ensure: 'present' }]), ctx, never);
  isResult.assert(r);
  t.equal(r.state, 'failed');
  t.equal(r.message, '1 of 2 resources failed');
  t.same(r.resources?.[0], { resource: 'package[stead-testpkg]', outcome: 'changed', changes: ['ensure 1.0-1 -> 1.1-1'] });
  t.match(r.resources?.[1], { resource: 'package[stead-no-such-pkg]', outcome: 'failed', message: /./ });
  t.equal(readFileSync(join(root, 'usr/share/stead-testpkg/VERSION'), 'utf8'), 'one point one\n');
  t.match((await inventory()).packages, [{ name: 'stead-testpkg', version: '1.1-1' }]);

  r = await executeDispatch(resourcesWork([{ type: 'package', name: 'stead-testpkg', ensure: '1.1-1' }]), ctx, never);
  isResult.assert(r);
  t.same(r.resources, [{ resource: 'package[stead-testpkg]', outcome: 'in-sync' }]);
  t.equal(r.state, 'succeeded');
});

t.test('a cancelled resources step stops before the next resource', async (t) => {
  const dir = tempDir(t);
  const ctx = await jobCtx(t, dir, { root: dir });
  const stop = new AbortController();
  stop.abort('cancel');
  const r = await executeDispatch(resourcesWork([{ type: 'package', name: 'stead-testpkg' }]), ctx, stop.signal);
  isResult.assert(r);
  t.equal(r.state, 'cancelled');
  t.same(r.resources, []);
});

t.test('a resources step starts and stops a service (process provider); the inventory sees both', async (t) => {
  const dir = tempDir(t);
  const n = uniqueSleepSeconds();
  t.teardown(() => killMatching(`sleep ${n}`));
  const ctx = await jobCtx(t, dir, { root: dir });
  const tracked = trackingConfig({ services: [{ name: 'sleeper', kind: 'process', pattern: `sleep ${n}` }] });
  const seen = async () => (await processCollector.collect(tracked, inventoryEnv(join(dir, 'inv')))).services?.[0];

  let r = await executeDispatch(resourcesWork([{ type: 'service', name: 'sleeper', ensure: 'running', start: `sleep ${n}` }]), ctx, never);
  isResult.assert(r);
  t.same(r.resources, [{ resource: 'service[sleeper]', outcome: 'changed', changes: ['ensure stopped -> running'] }]);
  // The process provider starts it through /bin/sh: the shell's command line holds the pattern too.
  const running = await seen();
  t.match(running, { name: 'sleeper', state: 'running', pid: Number });
  t.ok((running?.processes ?? 0) >= 1);

  r = await executeDispatch(resourcesWork([{ type: 'service', name: 'sleeper', ensure: 'stopped', start: `sleep ${n}` }], true), ctx, never);
  t.same(r.resources, [{ resource: 'service[sleeper]', outcome: 'would-change', changes: ['ensure running -> stopped'] }]);
  t.match(await seen(), { state: 'running' }, 'a dry run stops nothing');

  r = await executeDispatch(resourcesWork([{ type: 'service', name: 'sleeper', ensure: 'stopped', start: `sleep ${n}` }]), ctx, never);
  t.same(r.resources, [{ resource: 'service[sleeper]', outcome: 'changed', changes: ['ensure running -> stopped'] }]);
  t.equal(r.state, 'succeeded');
  t.match(await seen(), { name: 'sleeper', state: 'stopped', pid: null, processes: 0 });
});
