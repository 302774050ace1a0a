/**
 * The resources job step (ADR 0018 §6) on the server side: a launch stores it, the driver
 * dispatches it to the agent as work of kind "resources" with the resources as given, and the
 * agent's per-resource outcomes are recorded and shown on the job view. A failing resource fails
 * the host like any other step. Real server, real store, signed agent requests on loopback.
 */
import t from 'tap';
import { agentRound, result, startJobServer } from '../../helpers/job-fixture.js';

t.test('a resources step is stored, dispatched as resources work, and its outcomes recorded', async (t) => {
  const fx = await startJobServer(t);
  const launch = await fx.launch({
    targets: 'host:web-1,host:web-2',
    steps: [{ kind: 'resources', name: 'nginx to 1.22', resources: [{ type: 'package', name: 'nginx', ensure: '1.22.1-9' }, { type: 'service', name: 'nginx', ensure: 'running' }] }],
  });
  t.equal(launch.status, 201, launch.body.toString());
  const id = launch.json().id as string;
  await fx.settle();
  const seen: any[] = [];
  await agentRound(fx.agents['web-1']!, (w) => {
    seen.push(w);
    return result('succeeded', { resources: [{ resource: 'package[nginx]', outcome: 'changed', changes: ['version 1.22.1-8 -> 1.22.1-9'] }, { resource: 'service[nginx]', outcome: 'in-sync' }] });
  });
  await agentRound(fx.agents['web-2']!, () => result('failed', { exitCode: null, message: '1 of 2 resources failed', resources: [{ resource: 'package[nginx]', outcome: 'failed', message: 'apt-get: no such version' }, { resource: 'service[nginx]', outcome: 'in-sync' }] }));
  t.equal(seen.length, 1);
  t.equal(seen[0].kind, 'resources');
  t.same(seen[0].resources, [{ type: 'package', name: 'nginx', ensure: '1.22.1-9' }, { type: 'service', name: 'nginx', ensure: 'running' }]);
  t.notOk(seen[0].script, 'no script in resources work');
  const job = await fx.job(id);
  t.equal(job.steps[0].kind, 'resources');
  t.equal(job.state, 'failed', 'web-2 failed, the step fails (policy stop)');
  const byHost = Object.fromEntries(job.hosts.map((h: any) => [h.host, h]));
  t.equal(byHost['web-1'].state, 'succeeded');
  t.same(byHost['web-1'].resources[0], { resource: 'package[nginx]', outcome: 'changed', changes: ['version 1.22.1-8 -> 1.22.1-9'] });
  t.equal(byHost['web-2'].state, 'failed');
  t.equal(byHost['web-2'].resources[0].outcome, 'failed');
});

t.test('a dry run dispatches noop work; a resource given twice is refused', async (t) => {
  const fx = await startJobServer(t);
  const dry = await fx.launch({ targets: 'host:db-1', dryRun: true, steps: [{ kind: 'resources', resources: [{ type: 'package', name: 'curl', ensure: 'latest' }] }] });
  t.equal(dry.status, 201, dry.body.toString());
  await fx.settle();
  const round = await agentRound(fx.agents['db-1']!, () => result('succeeded', { resources: [{ resource: 'package[curl]', outcome: 'would-change', changes: ['version 7.88.1-10+deb12u5 -> 7.88.1-10+deb12u12'] }] }));
  t.equal(round.work[0].noop, true);
  const twice = await fx.launch({ targets: 'host:db-1', steps: [{ kind: 'resources', resources: [{ type: 'package', name: 'curl' }, { type: 'package', name: 'curl', ensure: 'absent' }] }] });
  t.equal(twice.status, 400);
  t.match(twice.json().error.message, /package\[curl\] appears twice/);
});
