/**
 * Schedules launch through the real job service (server/services/jobs/schedule-launcher.ts): a
 * schedule fires on a fake clock and its job reaches a signed agent; a fire launched twice (the
 * first server died before recording it) is one job; a schedule of a saved plan, named by its
 * name; a stored body that is no longer valid is refused with the reason.
 */
import t from 'tap';
import { ManualClock } from '../../../server/domain/clock.js';
import { scheduleLauncher } from '../../../server/services/jobs/schedule-launcher.js';
import { agentRound, result, startJobServer } from '../../helpers/job-fixture.js';
import { ManualTimer, until } from '../../helpers/manual-timer.js';

t.test('a schedule fires on a fake clock and its job runs on the agent', async (t) => {
  const start = Date.parse('2026-11-26T10:00:01Z');
  const clock = new ManualClock(start);
  const timer = new ManualTimer(clock);
  const fx = await startJobServer(t, { clock, schedules: { timer, pollMs: 86_400_000 } });
  const c = await fx.json('POST', '/api/v1/schedules', { name: 'minutely-uptime', spec: { cron: '0 * * * * *' }, job: { targets: 'host:web-1', script: { lang: 'shell', source: 'uptime' } } });
  t.equal(c.status, 201, c.body.toString());
  await until(() => timer.sleeping >= 1);
  t.same((await fx.json('GET', '/api/v1/jobs')).json().jobs, [], 'nothing before the fire time');
  timer.set(start + 59_000);
  let jobs: { id: string; scheduleId?: string }[] = [];
  await until(() => jobs.length === 1 || (void fx.json('GET', '/api/v1/jobs').then((r) => (jobs = r.json().jobs)), false), 120_000);
  await fx.settle();
  const round = await agentRound(fx.agents['web-1']!, () => result('succeeded', { stdout: 'up 3 days\n' }));
  t.equal(round.work.length, 1, 'the scheduled job reached the agent');
  const view = await fx.job(jobs[0]!.id);
  t.equal(view.state, 'succeeded');
  t.equal(view.scheduleId, c.json().id, 'the job names its schedule');
  const s = await fx.json('GET', '/api/v1/schedules/minutely-uptime');
  t.equal(s.json().lastRun.jobId, view.id, 'the schedule shows the job it launched');
  const fired = (await fx.server.services.auditLog.search({ target: `job:${view.id}` })).events;
  t.match(fired, [{ action: 'job.launch', actor: 'schedule:minutely-uptime', address: `schedule:${c.json().id}`, details: { runsAs: 'admin' } }], 'the audit log names the schedule as the actor of its fire');
  t.match((await fx.server.services.auditLog.search({ action: 'schedule.create' })).events, [{ actor: 'admin', target: 'schedule:minutely-uptime' }]);
});

t.test('the launcher: one job per fire, plans by name, stale bodies refused', async (t) => {
  const fx = await startJobServer(t);
  const { jobs, plans } = fx.server.services;
  const launcher = scheduleLauncher(jobs, plans);
  const meta = { scheduleId: 'sc_1', fireId: 'sc_1@1764154800000', scheduledAt: '2026-11-26T11:00:00.000Z', missedRuns: 0 };
  const body = { targets: 'host:web-2', script: { lang: 'shell', source: 'true' } };
  const a = await launcher.launch(body, 'admin', meta);
  const b = await launcher.launch(body, 'admin', meta);
  t.equal(b.id, a.id, 'a fire launched again is the same job');
  const other = await launcher.launch(body, 'admin', { ...meta, fireId: 'sc_1@1764158400000' });
  t.not(other.id, a.id, 'the next fire is a new job');
  t.equal(await launcher.state!(a.id), 'running');
  t.equal(await launcher.state!('no-such-job'), undefined);

  const p = await fx.json('POST', '/api/v1/plans', { name: 'nightly', targets: 'host:db-1', steps: [{ kind: 'script', script: { lang: 'shell', source: 'true' } }] });
  t.equal(p.status, 201, p.body.toString());
  const viaName = await launcher.launch({ targets: 'host:web-1' }, 'admin', { ...meta, fireId: 'sc_2@1', planId: 'nightly' });
  t.same((await jobs.get(viaName.id, false)).hosts.map((h: { host: string }) => h.host), ['web-1'], 'the plan, by name, with the schedule\'s target override');
  await t.rejects(launcher.launch({}, 'admin', { ...meta, fireId: 'sc_3@1', planId: 'gone' }), { code: 'NOT_FOUND' });
  await t.rejects(launcher.launch({ targets: 'host:web-1' }, 'admin', { ...meta, fireId: 'sc_4@1' }), { code: 'BAD_REQUEST', message: /needs steps/ });
  await t.rejects(launcher.launch({ bogus: 1 }, 'admin', { ...meta, fireId: 'sc_5@1', planId: 'nightly' }), { code: 'BAD_REQUEST' });
  const run = await fx.json('POST', '/api/v1/plans/nightly/run', {});
  t.equal(run.status, 201, 'POST /plans/:name/run works by name too');
  t.equal((await fx.json('POST', '/api/v1/plans/missing/run', {})).status, 404);
});
