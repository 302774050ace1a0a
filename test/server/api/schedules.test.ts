/**
 * /api/v1/schedules over HTTP against a composed server whose runner sleeps on the fixture's
 * ManualClock: create, list, get, preview, enable/disable, delete; validation and auth errors;
 * a fire through compose's wiring (a recording launcher stands behind the JobLauncher port);
 * answers checked against their schemas; the routes in the OpenAPI document.
 */
import t from 'tap';
import { scheduleListSchema, schedulePreviewSchema, scheduleViewSchema } from '../../../schemas/api/schedules.js';
import { compileGuard } from '../../../schemas/validate.js';
import { ManualClock } from '../../../server/domain/clock.js';
import { ManualTimer, until } from '../../helpers/manual-timer.js';
import { RecordingLauncher } from '../../helpers/recording-launcher.js';
import { rawRequest, startServer } from '../../helpers/server-fixture.js';
import { ScheduleService } from '../../../server/services/schedules/schedule-service.js';

const view = compileGuard(scheduleViewSchema);
const list = compileGuard(scheduleListSchema);
const preview = compileGuard(schedulePreviewSchema);
const job = { targets: 'group:web', script: { lang: 'shell', source: 'uptime' } };

t.test('schedule routes, and a fire through the composed server', async (t) => {
  const launcher = new RecordingLauncher();
  const clock = new ManualClock(Date.parse('2026-11-26T10:00:00Z')); // a Thursday
  const timer = new ManualTimer(clock);
  const fx = await startServer(t, { clock, jobLauncher: launcher, schedules: { timer, pollMs: 86_400_000 } });

  const p = await fx.json('POST', '/api/v1/schedules/preview', { spec: { text: 'weekdays at 09:00 in Europe/Berlin' } });
  t.equal(p.status, 200);
  t.same(preview.check(p.json()), []);
  t.same(p.json(), { description: 'weekdays at 09:00 (Europe/Berlin)', tz: 'Europe/Berlin', nextRuns: ['2026-11-27T08:00:00.000Z', '2026-11-30T08:00:00.000Z', '2026-12-01T08:00:00.000Z', '2026-12-02T08:00:00.000Z', '2026-12-03T08:00:00.000Z'] });
  const p2 = await fx.json('POST', '/api/v1/schedules/preview', { spec: { cron: '*/10 * * * * *' }, count: 2 });
  t.same(p2.json().nextRuns, ['2026-11-26T10:00:10.000Z', '2026-11-26T10:00:20.000Z']);
  const bad = await fx.json('POST', '/api/v1/schedules/preview', { spec: { cron: '0 25 * * *' } });
  t.equal(bad.status, 400);
  t.match(bad.json().error.message, /hour field "25"/);
  const unknownKey = await fx.json('POST', '/api/v1/schedules/preview', { spec: { hourly: '05' } });
  t.equal(unknownKey.status, 400);
  t.equal(unknownKey.json().error.code, 'SCHEMA_INVALID');

  const c = await fx.json('POST', '/api/v1/schedules', { name: 'uptime', spec: { cron: '0 0 * * * *' }, job, missed: 'run-once' });
  t.equal(c.status, 201, c.body.toString());
  t.same(view.check(c.json()), []);
  t.match(c.json(), { name: 'uptime', description: 'cron "0 0 * * * *" (UTC)', enabled: true, missed: 'run-once', createdBy: 'admin', job, nextRuns: ['2026-11-26T11:00:00.000Z'] });
  t.equal(c.json().nextRuns.length, 5);
  t.equal((await fx.json('POST', '/api/v1/schedules', { name: 'uptime', spec: { daily: '03:00' }, job })).status, 409, 'names are unique');
  t.equal((await fx.json('POST', '/api/v1/schedules', { name: 'UP', spec: { daily: '03:00' }, job })).status, 400, 'name pattern');
  t.equal((await fx.json('POST', '/api/v1/schedules', { name: 'x', spec: { daily: '03:00' }, job: { steps: [] } })).status, 400, 'a job needs targets');
  t.equal((await fx.json('POST', '/api/v1/schedules', { name: 'x', spec: { daily: '03:00' } })).status, 400, 'a job or a plan');
  const plan = await fx.json('POST', '/api/v1/schedules', { name: 'deploy', spec: { text: 'once at 2026-11-26 12:30' }, plan: { id: 'deploy-web', body: { targets: 'tag:canary' } } });
  t.equal(plan.status, 201);
  t.same(plan.json().plan, { id: 'deploy-web', body: { targets: 'tag:canary' } });

  const readonly = await fx.token('readonly', 'viewer');
  t.equal((await fx.json('GET', '/api/v1/schedules', undefined, readonly)).status, 200, 'readonly may list');
  t.equal((await fx.json('POST', '/api/v1/schedules/preview', { spec: { daily: '01:00' } }, readonly)).status, 200, 'readonly may preview');
  t.equal((await fx.json('POST', '/api/v1/schedules', { name: 'y', spec: { daily: '03:00' }, job }, readonly)).status, 403, 'readonly may not create');
  t.equal((await fx.json('DELETE', '/api/v1/schedules/uptime', undefined, readonly)).status, 403);
  t.equal((await fx.json('POST', '/api/v1/schedules/uptime/disable', undefined, readonly)).status, 403);
  t.equal((await fx.json('GET', '/api/v1/schedules', undefined, null)).status, 401);

  // The runner fires at 11:00 on the fake clock.
  await until(() => timer.sleeping === 1);
  timer.set(Date.parse('2026-11-26T11:00:00Z'));
  await until(() => launcher.launches.length === 1);
  t.equal(launcher.launches[0]!.meta.scheduleId, c.json().id);
  const got = await fx.json('GET', '/api/v1/schedules/uptime');
  t.equal(got.status, 200);
  t.same(view.check(got.json()), []);
  const l = await fx.json('GET', '/api/v1/schedules');
  t.same(list.check(l.json()), []);
  t.equal(l.json().firing, true);
  t.same(l.json().schedules.map((s: { name: string }) => s.name), ['deploy', 'uptime']);

  const off = await fx.json('POST', '/api/v1/schedules/uptime/disable');
  t.equal(off.status, 200);
  t.equal(off.json().enabled, false);
  t.same(off.json().nextRuns, []);
  const on = await fx.json('POST', '/api/v1/schedules/uptime/enable');
  t.equal(on.json().enabled, true);
  t.equal(on.json().nextRuns[0], '2026-11-26T12:00:00.000Z');

  t.equal((await fx.json('GET', '/api/v1/schedules/nope')).status, 404);
  t.equal((await fx.json('GET', '/api/v1/schedules/..%2Fetc')).status, 400);
  t.equal((await fx.json('DELETE', '/api/v1/schedules/deploy')).status, 204);
  t.equal((await fx.json('DELETE', '/api/v1/schedules/deploy')).status, 404);

  const doc = (await rawRequest(fx.base, { method: 'GET', path: '/api/v1/openapi.json' })).json();
  for (const path of ['/api/v1/schedules', '/api/v1/schedules/preview', '/api/v1/schedules/{name}', '/api/v1/schedules/{name}/enable', '/api/v1/schedules/{name}/disable']) t.ok(doc.paths[path], `OpenAPI has ${path}`);
});

t.test('the last run is shown after a fire, with the job state from the launcher', async (t) => {
  const launcher = new RecordingLauncher();
  const clock = new ManualClock(Date.parse('2026-11-26T10:59:00Z'));
  const timer = new ManualTimer(clock);
  const fx = await startServer(t, { clock, jobLauncher: launcher, schedules: { timer, pollMs: 86_400_000 } });
  t.equal((await fx.json('POST', '/api/v1/schedules', { name: 'hourly', spec: { cron: '0 * * * *' }, job })).status, 201);
  await until(() => timer.sleeping === 1 && timer.nextWake === Date.parse('2026-11-26T11:00:00Z'));
  timer.set(Date.parse('2026-11-26T11:00:00Z'));
  await until(() => launcher.launches.length === 1);
  let last: unknown;
  for (let i = 0; i < 200 && last === undefined; i++) {
    last = (await fx.json('GET', '/api/v1/schedules/hourly')).json().lastRun;
    if (last === undefined) await new Promise((r) => setTimeout(r, 5));
  }
  t.same(last, { at: '2026-11-26T11:00:00.000Z', firedAt: '2026-11-26T11:00:00.000Z', missedRuns: 0, jobId: 'job-1', jobState: 'running' });
});

t.test('the composed server fires schedules through the job service; a service without a launcher keeps them unfired', async (t) => {
  const fx = await startServer(t);
  t.equal((await fx.json('POST', '/api/v1/schedules', { name: 'kept', spec: { daily: '03:00' }, job })).status, 201);
  t.equal((await fx.json('GET', '/api/v1/schedules')).json().firing, true);
  const bare = await ScheduleService.open(fx.server.store, fx.clock);
  t.equal(bare.firing, false);
});
