/**
 * A job survives a server restart (close, then compose again on the same data directory): the
 * driver resumes it, a dispatch started before the restart is not offered again, one only
 * offered is offered again. And two drivers on one store make each transition once.
 */
import t from 'tap';
import { openJobCollections } from '../../../server/services/jobs/job-model.js';
import { PlanDriver } from '../../../server/services/jobs/plan-driver.js';
import { JobChannel } from '../../../server/services/jobs/job-channel.js';
import { TargetResolver } from '../../../server/services/jobs/targets.js';
import { createLogger } from '../../../server/log.js';
import { agentRound, rebind, result, startJobServer, testRunners } from '../../helpers/job-fixture.js';

t.test('restart mid-job', async (t) => {
  const dir = t.testdir();
  const same = { testdir: () => dir, teardown: (fn: () => unknown) => t.teardown(fn) };
  const fx1 = await startJobServer(same);
  const l = await fx1.launch({ targets: 'host:web-1,host:web-2', steps: [{ kind: 'script', script: { lang: 'shell', source: 'one' } }, { kind: 'script', script: { lang: 'shell', source: 'two' } }] });
  t.equal(l.status, 201);
  const id = l.json().id;
  const w1 = `${id}.0.web-1`;
  t.equal((await fx1.agents['web-1']!.request('GET', '/api/v1/hosts/web-1/jobs?wait=0')).json().work[0].id, w1);
  t.same((await fx1.agents['web-1']!.request('POST', `/api/v1/hosts/web-1/jobs/${w1}/start`, {})).json(), { run: true });
  t.equal((await fx1.agents['web-2']!.request('GET', '/api/v1/hosts/web-2/jobs?wait=0')).json().work.length, 1, 'web-2 was offered its dispatch but did not start it');
  await fx1.close();

  const fx2 = await startJobServer(same, {}, { publish: false, enroll: false });
  const web1 = rebind(fx1.agents['web-1']!, fx2);
  const web2 = rebind(fx1.agents['web-2']!, fx2);
  await fx2.settle();
  t.same((await web1.request('GET', '/api/v1/hosts/web-1/jobs?wait=0')).json(), { work: [], cancel: [] }, 'the started dispatch is not offered again');
  const again = (await web2.request('GET', '/api/v1/hosts/web-2/jobs?wait=0')).json();
  t.equal(again.work[0]?.id, `${id}.0.web-2`, 'the unstarted one is offered again');
  t.same((await web1.request('POST', `/api/v1/hosts/web-1/jobs/${w1}/start`, {})).json(), { run: true }, 'a start retried across the restart');
  t.same((await web1.request('POST', `/api/v1/hosts/web-1/jobs/${w1}/result`, result('succeeded'))).json(), { stored: true, duplicate: false });
  await agentRound(web2, () => result('succeeded'));
  await fx2.settle();
  const next = await agentRound(web1, () => result('succeeded'));
  t.equal(next.work[0].step, 1, 'the restarted server drove the job to its next step');
  await agentRound(web2, () => result('succeeded'));
  const v = await fx2.job(id);
  t.equal(v.state, 'succeeded');
  t.equal(v.hosts.find((h: any) => h.host === 'web-1').steps[0].startAcks, 2);
});

t.test('two drivers on one store make each transition once', async (t) => {
  const fx = await startJobServer(t);
  const s = fx.server.services;
  const c = await openJobCollections(fx.server.store);
  const other = new PlanDriver(c, fx.clock, new TargetResolver(s.revisions, s.enrollment, s.hostStates), testRunners, new JobChannel(c, fx.clock), createLogger({ write: () => {} }));
  const l = await fx.launch({ targets: 'group:web', steps: [1, 2, 3].map((n) => ({ kind: 'script', script: { lang: 'shell', source: `s${n}` } })) });
  const id = l.json().id;
  for (let step = 0; step < 3; step++) {
    for (const h of ['web-1', 'web-2']) {
      const r = await agentRound(fx.agents[h]!, () => result('succeeded'));
      t.equal(r.work.length, 1, `${h} gets step ${step} once`);
    }
    await Promise.all([s.jobs.driver.kick(id), other.kick(id), s.jobs.driver.kick(id), other.kick(id)]);
    await Promise.all([s.jobs.driver.settle(), other.settle()]);
  }
  const job = await s.jobs.record(id);
  t.equal(job.state, 'succeeded');
  t.equal((await s.jobs.dispatches(id)).length, 6, 'one dispatch per step and host');
  t.equal(job.version, 1 + 3 * 2 + 1, 'start and finish of each step, and the job\'s end: one CAS each');
  await other.stop();
});

t.test('a poll finds work another server created', async (t) => {
  const fx = await startJobServer(t);
  const s = fx.server.services;
  await s.jobs.driver.stop(); // this server no longer drives jobs: another one will
  const c = await openJobCollections(fx.server.store);
  const other = new PlanDriver(c, fx.clock, new TargetResolver(s.revisions, s.enrollment, s.hostStates), testRunners, new JobChannel(c, fx.clock), createLogger({ write: () => {} }));
  const l = await fx.launch({ targets: 'host:web-1', script: { lang: 'shell', source: 'x' } });
  t.equal(l.status, 201);
  t.same(l.json().hosts, [], 'nothing dispatched yet');
  const order: string[] = [];
  const poll = fx.agents['web-1']!.request('GET', '/api/v1/hosts/web-1/jobs?wait=55').then((r) => {
    order.push('poll answered');
    return r;
  });
  while (!s.jobs.channel.waitingHosts().includes('web-1')) await new Promise((r) => setImmediate(r));
  order.push('other server dispatches');
  await other.kick(l.json().id);
  const r = await poll;
  t.same(order, ['other server dispatches', 'poll answered']);
  t.equal(r.json().work[0]?.id, `${l.json().id}.0.web-1`, 'found by the store recheck');
  await other.stop();
});
