/**
 * The schedule runner on a fake clock, against the real embedded store: a schedule firing on
 * a ManualClock through the runner's own loop; two runners on one store fire each time once;
 * runs missed while no runner ran are skipped or run once (policy) across a restart; a claim
 * whose server died is taken over; a failed launch is recorded.
 */
import t, { type Test } from 'tap';
import { ManualClock } from '../../../../server/domain/clock.js';
import { silentLogger } from '../../../../server/log.js';
import { ScheduleService } from '../../../../server/services/schedules/schedule-service.js';
import { openScheduleCollections } from '../../../../server/services/schedules/schedule-records.js';
import { ScheduleRunner } from '../../../../server/services/schedules/schedule-runner.js';
import { openStore } from '../../../../server/store/open.js';
import type { DocumentStore } from '../../../../server/store/types.js';
import { ManualTimer, until } from '../../../helpers/manual-timer.js';
import { RecordingLauncher } from '../../../helpers/recording-launcher.js';

const at = (iso: string): number => Date.parse(iso);
const job = { targets: 'group:web', script: { lang: 'shell', source: 'echo hi' } };

async function store(t: Test): Promise<DocumentStore> {
  const s = await openStore({ dataDir: t.testdir() });
  t.teardown(() => s.close());
  return s;
}

t.test('a schedule firing on a fake clock', async (t) => {
  const db = await store(t);
  const clock = new ManualClock(at('2026-03-07T09:58:00Z'));
  const timer = new ManualTimer(clock);
  const launcher = new RecordingLauncher();
  const svc = await ScheduleService.open(db, clock, { launcher });
  const created = await svc.create({ name: 'nightly', spec: { daily: '10:00' }, job }, 'alice');
  t.same(created.nextRuns.slice(0, 2), [at('2026-03-07T10:00:00Z'), at('2026-03-08T10:00:00Z')]);
  const runner = svc.startRunner(timer, silentLogger, { pollMs: 7 * 86_400_000 });
  t.teardown(() => svc.stopRunner());

  await until(() => timer.sleeping === 1);
  t.equal(timer.nextWake, at('2026-03-07T10:00:00Z'), 'the runner sleeps until the next fire time');
  timer.advance(60_000);
  await until(() => timer.sleeping === 1);
  t.equal(launcher.launches.length, 0, 'nothing fires before its time');

  timer.set(at('2026-03-07T10:00:00Z'));
  await until(() => launcher.launches.length === 1);
  const l = launcher.launches[0]!;
  t.same(l.body, job, 'the stored launch body');
  t.equal(l.by, 'alice', 'launched as the creator');
  t.same(l.meta, { scheduleId: created.id, scheduleName: 'nightly', fireId: `${created.id}@${at('2026-03-07T10:00:00Z')}`, scheduledAt: '2026-03-07T10:00:00.000Z', missedRuns: 0 });
  await until(() => timer.sleeping === 1);
  t.equal(timer.nextWake, at('2026-03-08T10:00:00Z'), 'then sleeps until tomorrow');

  const after = await svc.get('nightly');
  t.same(after.last, { at: at('2026-03-07T10:00:00Z'), firedAt: at('2026-03-07T10:00:00Z'), missedRuns: 0, jobId: 'job-1', jobState: 'running' });
  t.same(after.nextRuns[0], at('2026-03-08T10:00:00Z'));

  timer.set(at('2026-03-08T10:00:00Z'));
  await until(() => launcher.launches.length === 2);
  t.equal(runner.owner.length > 0, true);

  // A schedule created while the runner sleeps wakes it.
  await until(() => timer.sleeping === 1);
  await svc.create({ name: 'soon', spec: { once: '2026-03-08T10:00:30Z' }, plan: { id: 'deploy', body: { targets: 'host:web-1' } } }, 'bob');
  await until(() => timer.sleeping === 1 && timer.nextWake === at('2026-03-08T10:00:30Z'));
  timer.set(at('2026-03-08T10:00:30Z'));
  await until(() => launcher.launches.length === 3);
  t.same(launcher.launches[2]!.meta.planId, 'deploy');
  t.same(launcher.launches[2]!.body, { targets: 'host:web-1' });
  t.same((await svc.get('soon')).nextRuns, [], 'a once schedule has no next run after it fired');

  // Disabled: nothing fires; enabled again: the runs it slept through are not "missed".
  // The tick that fired 'soon' must be over first: a tick that read the schedules before the
  // disable and the clock after the jump would fire nightly (a race of the test, not a missed disable).
  await until(() => timer.sleeping === 1);
  await svc.setEnabled('nightly', false);
  timer.set(at('2026-03-10T10:00:00Z'));
  await until(() => timer.sleeping === 1);
  t.equal(launcher.launches.length, 3, 'a disabled schedule does not fire');
  t.same((await svc.get('nightly')).nextRuns, []);
  await svc.setEnabled('nightly', true);
  await until(() => timer.sleeping === 1);
  t.equal(launcher.launches.length, 3, 'enabling does not run what fell while disabled');
  timer.set(at('2026-03-11T10:00:00Z'));
  await until(() => launcher.launches.length === 4);
});

t.test('two runners on one store fire each time exactly once', async (t) => {
  const db = await store(t);
  const clock = new ManualClock(at('2026-03-07T10:00:00Z'));
  const launcher = new RecordingLauncher();
  const a = await ScheduleService.open(db, clock, { launcher });
  const b = await ScheduleService.open(db, clock, { launcher });
  await a.create({ name: 'every-second', spec: { cron: '* * * * * *' }, job }, 'alice');
  await a.create({ name: 'every-minute', spec: { cron: '* * * * *' }, job }, 'alice');
  const cols = await openScheduleCollections(db);
  const ra = new ScheduleRunner(cols, launcher, clock, new ManualTimer(clock), silentLogger, { owner: 'server-a' });
  const rb = new ScheduleRunner(cols, launcher, clock, new ManualTimer(clock), silentLogger, { owner: 'server-b' });
  let fired = 0;
  let lost = 0;
  for (let i = 0; i < 120; i++) {
    clock.advance(1000);
    const [x, y] = await Promise.all([ra.tick(), rb.tick()]);
    fired += x.fired + y.fired;
    lost += x.lost + y.lost;
  }
  t.equal(launcher.launches.length, fired, 'every launch was one won claim');
  const ids = launcher.launches.map((l) => l.meta.fireId);
  t.equal(new Set(ids).size, ids.length, 'no fire launched twice');
  t.equal(launcher.launches.length, 120 + 2, '120 seconds + 2 minutes, each once');
  t.ok(lost > 0, `the other runner lost ${lost} claims`);
  const owners = await cols.fires.countBy('owner', {});
  t.equal(owners.reduce((n, g) => n + g.count, 0), 122, 'one claim per fire');
});

t.test('missed runs across a restart: skip or run once', async (t) => {
  const db = await store(t);
  const clock = new ManualClock(at('2026-03-07T10:00:00Z'));
  const launcher = new RecordingLauncher();
  const first = await ScheduleService.open(db, clock, { launcher });
  await first.create({ name: 'hourly-skip', spec: { cron: '0 * * * *' }, job }, 'alice');
  await first.create({ name: 'hourly-once', spec: { cron: '0 * * * *' }, job, missed: 'run-once' }, 'alice');
  const timer1 = new ManualTimer(clock);
  first.startRunner(timer1, silentLogger);
  timer1.set(at('2026-03-07T11:00:00Z'));
  await until(() => launcher.launches.length === 2);
  await first.stopRunner();

  // Every server is down from 11:00:00 to 15:30; five runs (12, 13, 14, 15 h) fall meanwhile.
  clock.set(at('2026-03-07T15:30:00Z'));
  const second = await ScheduleService.open(db, clock, { launcher });
  const timer2 = new ManualTimer(clock);
  const runner = second.startRunner(timer2, silentLogger);
  t.teardown(() => second.stopRunner());
  await until(() => launcher.launches.length === 3);
  await until(() => timer2.sleeping === 1);
  const once = launcher.launches[2]!;
  t.equal(once.meta.scheduledAt, '2026-03-07T15:00:00.000Z', 'run-once: one launch, for the newest missed time');
  t.equal(once.meta.missedRuns, 4, 'standing for the four missed runs');
  const skip = await second.get('hourly-skip');
  t.same(skip.skipped, { count: 4, capped: false, latest: at('2026-03-07T15:00:00Z'), at: at('2026-03-07T15:30:00Z') }, 'skip: recorded, not run');
  t.equal(skip.last?.at, at('2026-03-07T11:00:00Z'));
  t.equal((await second.get('hourly-once')).last?.missedRuns, 4);
  const again = await runner.tick();
  t.same(again, { fired: 0, skipped: 0, lost: 0, takenOver: 0 }, 'a second tick does nothing more');

  timer2.set(at('2026-03-07T16:00:00Z'));
  await until(() => launcher.launches.length === 5);
  t.same(launcher.launches.slice(3).map((l) => l.meta.missedRuns), [0, 0], 'both back on time');
});

t.test('a claim whose server died is taken over; a failed launch is recorded', async (t) => {
  const db = await store(t);
  const clock = new ManualClock(at('2026-03-07T10:00:00Z'));
  const launcher = new RecordingLauncher();
  const svc = await ScheduleService.open(db, clock, { launcher });
  const s = await svc.create({ name: 'hourly', spec: { cron: '0 * * * *' }, job }, 'alice');
  const cols = await openScheduleCollections(db);
  // Server A claimed 11:00 and died before launching.
  await cols.fires.insertOne({ _id: `${s.id}@${at('2026-03-07T11:00:00Z')}`, scheduleId: s.id, at: at('2026-03-07T11:00:00Z'), state: 'claimed', owner: 'dead', claimedAt: at('2026-03-07T11:00:00Z'), leaseUntil: at('2026-03-07T11:05:00Z'), missedRuns: 0 });
  const runner = new ScheduleRunner(cols, launcher, clock, new ManualTimer(clock), silentLogger, { owner: 'b', leaseMs: 300_000 });
  clock.set(at('2026-03-07T11:00:01Z'));
  t.same(await runner.tick(), { fired: 0, skipped: 0, lost: 1, takenOver: 0 }, 'inside the lease: the claim stands');
  t.equal(launcher.launches.length, 0);
  clock.set(at('2026-03-07T11:06:00Z'));
  t.same(await runner.tick(), { fired: 0, skipped: 0, lost: 0, takenOver: 1 }, 'after the lease: taken over');
  t.equal(launcher.launches[0]?.meta.fireId, `${s.id}@${at('2026-03-07T11:00:00Z')}`, 'launched with the same fire id');
  t.equal((await cols.fires.findOne({ _id: `${s.id}@${at('2026-03-07T11:00:00Z')}` }))?.state, 'launched');

  launcher.failWith = 'audit: rm -rf / is blocked';
  clock.set(at('2026-03-07T12:00:00Z'));
  t.same(await runner.tick(), { fired: 1, skipped: 0, lost: 0, takenOver: 0 });
  const got = await svc.get('hourly');
  t.equal(got.last?.error, 'audit: rm -rf / is blocked', 'the launch error is kept');
  t.equal(got.last?.jobId, undefined);
  t.equal((await cols.fires.findOne({ _id: `${s.id}@${at('2026-03-07T12:00:00Z')}` }))?.state, 'failed');
  launcher.failWith = undefined;
  clock.set(at('2026-03-07T12:10:00Z'));
  t.same(await runner.tick(), { fired: 0, skipped: 0, lost: 0, takenOver: 0 }, 'a failed launch is not retried');

  // A claim for a schedule deleted meanwhile is closed, not launched.
  await cols.fires.insertOne({ _id: 'gone@1', scheduleId: 'gone', at: 1, state: 'claimed', owner: 'dead', claimedAt: 1, leaseUntil: 2, missedRuns: 0 });
  t.same(await runner.tick(), { fired: 0, skipped: 0, lost: 0, takenOver: 0 });
  t.equal((await cols.fires.findOne({ _id: 'gone@1' }))?.error, 'the schedule was deleted');
});

t.test('the service: names, bodies, limits, errors', async (t) => {
  const db = await store(t);
  const clock = new ManualClock(at('2026-03-07T10:00:00Z'));
  const svc = await ScheduleService.open(db, clock, { maxSchedules: 2 });
  t.equal(svc.firing, false, 'no launcher: schedules do not fire');
  t.throws(() => svc.startRunner(new ManualTimer(clock), silentLogger), /needs a JobLauncher/);
  await t.rejects(svc.create({ name: 'Bad_Name', spec: { daily: '03:00' }, job }, 'a'), { status: 400, message: /schedule name "Bad_Name"/ });
  await t.rejects(svc.create({ name: 'x', spec: { daily: '03:00' } }, 'a'), { status: 400, message: /exactly one of job/ });
  await t.rejects(svc.create({ name: 'x', spec: { daily: '03:00' }, job, plan: { id: 'p' } }, 'a'), { status: 400, message: /./ });
  await t.rejects(svc.create({ name: 'x', spec: { once: '2026-03-07 09:00' }, job }, 'a'), { status: 400, message: /never fires after now/ });
  await t.rejects(svc.create({ name: 'x', spec: { daily: '03:00' }, job: { targets: 'x', big: 'y'.repeat(300_000) } }, 'a'), { status: 413, message: /over/ });
  await svc.create({ name: 'a', spec: { daily: '03:00' }, job: { targets: 'all', vars: { 'a.b': '1' } }, disabled: true }, 'a');
  await t.rejects(svc.create({ name: 'a', spec: { daily: '04:00' }, job }, 'a'), { status: 409, message: /named a exists/ });
  await svc.create({ name: 'b', spec: { daily: '03:00' }, job }, 'a');
  await t.rejects(svc.create({ name: 'c', spec: { daily: '03:00' }, job }, 'a'), { status: 409, message: /already 2 schedules/ });
  const a = await svc.get('a');
  t.equal(a.enabled, false);
  t.same(a.job, { targets: 'all', vars: { 'a.b': '1' } }, 'bodies with dotted keys are kept');
  t.same(a.nextRuns, []);
  t.same((await svc.setEnabled('a', false)).enabled, false, 'disabling twice is a no-op');
  t.same((await svc.list()).map((s) => s.name), ['a', 'b']);
  await svc.delete('a');
  await t.rejects(svc.get('a'), { status: 404, message: /no schedule/ });
  await t.rejects(svc.delete('a'), { status: 404, message: /no schedule/ });
  await t.rejects(svc.setEnabled('a', true), { status: 404, message: /no schedule/ });
  await t.rejects(svc.get('../x'), { status: 400, message: /./ });
  const p = svc.preview({ text: 'weekdays at 09:00 in Europe/Berlin' });
  t.same(p, { description: 'weekdays at 09:00 (Europe/Berlin)', tz: 'Europe/Berlin', nextRuns: [at('2026-03-09T08:00:00Z'), at('2026-03-10T08:00:00Z'), at('2026-03-11T08:00:00Z'), at('2026-03-12T08:00:00Z'), at('2026-03-13T08:00:00Z')] });
});

t.test('the system timer sleeps for real and ends early on abort', async (t) => {
  const { systemTimer } = await import('../../../../server/services/schedules/timer.js');
  const keepAlive = setInterval(() => undefined, 1000); // its timers are unref'd: the server's sockets keep the process up
  t.teardown(() => clearInterval(keepAlive));
  await systemTimer.sleep(1, new AbortController().signal);
  const ac = new AbortController();
  const slept = systemTimer.sleep(60_000, ac.signal);
  ac.abort();
  await slept;
  t.pass('an aborted sleep resolves');
});
