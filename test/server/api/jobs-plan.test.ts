/**
 * The plan driver through the operator API and signed agents: failure policies, failedOf,
 * results passed to later steps, cancel, redo, confirm, dry run, deadlines, the safety audit,
 * library scripts, probes and local steps, paging.
 */
import net from 'node:net';
import t from 'tap';
import { jobViewSchema } from '../../../schemas/api/jobs.js';
import { compileGuard } from '../../../schemas/validate.js';
import { agentRound, result, startJobServer, type JobFixture } from '../../helpers/job-fixture.js';

const viewGuard = compileGuard(jobViewSchema);

const ok = () => result('succeeded');
/** web-2 fails, everyone else succeeds. */
const web2Fails = (w: any) => (w.id.endsWith('.web-2') ? result('failed', { stderr: 'boom' }) : ok());

async function launchOk(t: any, fx: JobFixture, body: unknown): Promise<any> {
  const r = await fx.launch(body);
  t.equal(r.status, 201, r.body.toString());
  return r.json();
}

async function roundAll(fx: JobFixture, answer: (w: any) => any = ok): Promise<void> {
  for (const h of ['web-1', 'web-2', 'db-1']) await agentRound(fx.agents[h]!, answer);
  await fx.settle();
}

const three = (onFailure: string) => [
  { kind: 'script', name: 'first', onFailure, script: { lang: 'shell', source: 'step 0' } },
  { kind: 'script', script: { lang: 'shell', source: 'step 1' } },
  { kind: 'script', script: { lang: 'shell', source: 'step 2' } },
];

t.test('three steps under each failure policy', async (t) => {
  const fx = await startJobServer(t);

  t.test('stop', async (t) => {
    const job = await launchOk(t, fx, { targets: 'group:web', steps: three('stop') });
    t.same(job.unavailable, [{ host: 'ghost-1', reason: 'not enrolled' }], 'the unenrolled host cannot run');
    await roundAll(fx, web2Fails);
    const v = await fx.job(job.id);
    t.equal(v.state, 'failed');
    t.same(v.steps.map((s: any) => s.state), ['failed', 'skipped', 'skipped']);
    t.same(v.steps[0].counts, { failed: 1, succeeded: 1 });
    t.equal((await fx.server.services.jobs.dispatches(job.id)).length, 2, 'no dispatch of later steps');
    t.match(v.hosts.find((h: any) => h.host === 'web-2'), { state: 'failed', exitCode: 1, stderr: 'boom' });
  });

  t.test('ignore', async (t) => {
    const job = await launchOk(t, fx, { targets: 'group:web', steps: three('ignore') });
    await roundAll(fx, web2Fails);
    let v = await fx.job(job.id);
    t.same(v.steps.map((s: any) => s.state), ['failed', 'running', 'pending'], 'the plan went on');
    await roundAll(fx);
    await roundAll(fx);
    v = await fx.job(job.id);
    t.same(v.steps.map((s: any) => s.state), ['failed', 'succeeded', 'succeeded']);
    t.equal(v.state, 'failed', 'an ignored failure still shows in the job state');
  });

  t.test('pause, then continue', async (t) => {
    const job = await launchOk(t, fx, { targets: 'group:web', steps: three('pause') });
    await roundAll(fx, web2Fails);
    let v = await fx.job(job.id);
    t.equal(v.state, 'paused');
    t.same(v.steps.map((s: any) => s.state), ['waiting', 'pending', 'pending']);
    t.same((await agentRound(fx.agents['web-1']!, ok)).work, [], 'nothing offered while paused');
    t.equal((await fx.json('POST', `/api/v1/jobs/${job.id}/confirm`, { step: 1, action: 'continue' })).status, 409, 'only the waiting step');
    const readonly = await fx.token('readonly', 'viewer');
    t.equal((await fx.json('POST', `/api/v1/jobs/${job.id}/confirm`, { step: 0, action: 'continue' }, readonly)).status, 403);
    const c = await fx.json('POST', `/api/v1/jobs/${job.id}/confirm`, { step: 0, action: 'continue' });
    t.equal(c.status, 200, c.body.toString());
    t.match(c.json().steps[0], { state: 'failed', confirmedBy: 'admin' });
    await roundAll(fx);
    await roundAll(fx);
    v = await fx.job(job.id);
    t.same(v.steps.map((s: any) => s.state), ['failed', 'succeeded', 'succeeded']);
    t.equal(v.state, 'failed');
    const ev = await fx.server.services.auditLog.list({ target: `job:${job.id}` });
    t.ok(ev.some((e) => e.action === 'job.confirm'));
  });

  t.test('pause, then stop', async (t) => {
    const job = await launchOk(t, fx, { targets: 'group:web', steps: three('pause') });
    await roundAll(fx, web2Fails);
    const c = await fx.json('POST', `/api/v1/jobs/${job.id}/confirm`, { step: 0, action: 'stop' });
    t.equal(c.status, 200);
    t.equal(c.json().state, 'failed');
    t.same(c.json().steps.map((s: any) => s.state), ['failed', 'skipped', 'skipped']);
  });
});

t.test('failedOf targets, and results passed to later steps', async (t) => {
  const fx = await startJobServer(t);
  const job = await launchOk(t, fx, {
    targets: 'group:web',
    vars: { release: 'r7' },
    steps: [
      { kind: 'script', onFailure: 'ignore', script: { lang: 'shell', source: 'build' } },
      { kind: 'script', targets: { failedOf: 0 }, script: { lang: 'shell', source: 'repair' } },
      { kind: 'script', script: { lang: 'shell', source: 'report' } },
    ],
  });
  await roundAll(fx, (w) => (w.id.endsWith('.web-2') ? result('failed') : result('succeeded', { results: { version: '42', 'a.b-c': 'x' } })));
  const w1 = await agentRound(fx.agents['web-1']!, ok);
  t.same(w1.work, [], 'web-1 did not fail: step 1 is not for it');
  const w2 = await agentRound(fx.agents['web-2']!, () => result('succeeded', { results: { version: '43' } }));
  t.equal(w2.work.length, 1);
  t.equal(w2.work[0].step, 1);
  await fx.settle();
  const r1 = await agentRound(fx.agents['web-1']!, ok);
  t.equal(r1.work[0].step, 2);
  t.match(r1.work[0].script.env, { STEAD_RESULT_VERSION: '42', STEAD_RESULT_A_B_C: 'x', STEAD_VAR_RELEASE: 'r7' });
  const r2 = await agentRound(fx.agents['web-2']!, ok);
  t.equal(r2.work[0].script.env.STEAD_RESULT_VERSION, '43', 'per host, the later step wins');
  const v = await fx.job(job.id);
  t.same(v.steps.map((s: any) => s.state), ['failed', 'succeeded', 'succeeded']);
  t.same(v.steps[1].counts, { succeeded: 1 });

  const bad = await fx.launch({ targets: 'group:web', steps: [{ kind: 'script', targets: { failedOf: 0 }, script: { lang: 'shell', source: 'x' } }] });
  t.equal(bad.status, 400);
  t.match(bad.json().error.message, /failedOf must name an earlier step/);
});

t.test('cancel: unstarted dispatches at once, running ones through the agent', async (t) => {
  const fx = await startJobServer(t);
  const job = await launchOk(t, fx, { targets: 'host:web-1,host:web-2', steps: three('stop') });
  const id1 = `${job.id}.0.web-1`;
  const id2 = `${job.id}.0.web-2`;
  t.same((await fx.agents['web-1']!.request('POST', `/api/v1/hosts/web-1/jobs/${id1}/start`, {})).json(), { run: true });
  const c = await fx.json('POST', `/api/v1/jobs/${job.id}/cancel`);
  t.equal(c.status, 200, c.body.toString());
  t.equal(c.json().state, 'cancelled');
  t.same(c.json().steps.map((s: any) => s.state), ['cancelled', 'skipped', 'skipped']);
  const byHost = Object.fromEntries(c.json().hosts.map((h: any) => [h.host, h.state]));
  t.same(byHost, { 'web-1': 'cancelling', 'web-2': 'cancelled' });
  t.same((await fx.agents['web-2']!.request('POST', `/api/v1/hosts/web-2/jobs/${id2}/start`, {})).json(), { run: false, reason: 'cancelled' });
  const poll = (await fx.agents['web-1']!.request('GET', '/api/v1/hosts/web-1/jobs?wait=0')).json();
  t.same(poll, { work: [], cancel: [id1] }, 'the running dispatch is listed to cancel');
  const ack = await fx.agents['web-1']!.request('POST', `/api/v1/hosts/web-1/jobs/${id1}/result`, result('cancelled'));
  t.same(ack.json(), { stored: true, duplicate: false });
  const v = await fx.job(job.id);
  t.same(Object.fromEntries(v.hosts.map((h: any) => [h.host, h.state])), { 'web-1': 'cancelled', 'web-2': 'cancelled' });
  t.equal((await fx.json('POST', `/api/v1/jobs/${job.id}/cancel`)).status, 200, 'cancelling again is harmless');
  const ev = await fx.server.services.auditLog.list({ target: `job:${job.id}`, action: 'job.cancel' });
  t.equal(ev.length, 1);
  t.same(ev[0]!.before, { state: 'running' });

  // A running dispatch whose agent never confirms the cancel is cancelled after the grace.
  const j2 = await launchOk(t, fx, { targets: 'host:web-1', script: { lang: 'shell', source: 'sleep 100' } });
  t.same((await fx.agents['web-1']!.request('POST', `/api/v1/hosts/web-1/jobs/${j2.id}.0.web-1/start`, {})).json(), { run: true });
  await fx.json('POST', `/api/v1/jobs/${j2.id}/cancel`);
  fx.clock.advance(31_000);
  await fx.server.services.jobs.driver.tick();
  const v2 = await fx.job(j2.id);
  t.equal(v2.hosts[0].state, 'cancelled');
  t.match(v2.hosts[0].message, /did not confirm/);

  const done = await launchOk(t, fx, { targets: 'host:db-1', script: { lang: 'shell', source: 'true' } });
  await roundAll(fx);
  t.equal((await fx.json('POST', `/api/v1/jobs/${done.id}/cancel`)).status, 409, 'a finished job cannot be cancelled');
  t.equal((await fx.json('POST', '/api/v1/jobs/nope/cancel')).status, 404);
});

t.test('redo failed hosts, all hosts, chosen steps', async (t) => {
  const fx = await startJobServer(t);
  const job = await launchOk(t, fx, { targets: 'group:web', steps: [{ kind: 'script', script: { lang: 'shell', source: 'a' } }, { kind: 'script', script: { lang: 'shell', source: 'b' } }] });
  t.equal((await fx.json('POST', `/api/v1/jobs/${job.id}/redo`, { hosts: 'failed' })).status, 409, 'not while running');
  await roundAll(fx, web2Fails);
  t.equal((await fx.job(job.id)).state, 'failed');
  const r = await fx.json('POST', `/api/v1/jobs/${job.id}/redo`, { hosts: 'failed' });
  t.equal(r.status, 201, r.body.toString());
  const redo = r.json();
  t.equal(redo.redoOf, job.id);
  t.not(redo.id, job.id);
  t.same((await agentRound(fx.agents['web-1']!, ok)).work, [], 'web-1 did not fail');
  const w2 = await agentRound(fx.agents['web-2']!, ok);
  t.equal(w2.work[0].jobId, redo.id);
  await fx.settle();
  await agentRound(fx.agents['web-2']!, ok);
  const v = await fx.job(redo.id);
  t.equal(v.state, 'succeeded');
  t.same(v.hosts.map((h: any) => h.host), ['web-2']);
  t.equal((await fx.json('POST', `/api/v1/jobs/${redo.id}/redo`, { hosts: 'failed' })).status, 400, 'no failed host');

  const some = await fx.json('POST', `/api/v1/jobs/${job.id}/redo`, { hosts: 'all', steps: [1] });
  t.equal(some.status, 201);
  await fx.settle();
  const w = await agentRound(fx.agents['web-1']!, ok);
  t.equal(w.work[0].step, 1, 'only the chosen step runs');
  await agentRound(fx.agents['web-2']!, ok);
  const sv = await fx.job(some.json().id);
  t.same(sv.steps.map((s: any) => s.state), ['skipped', 'succeeded']);
  t.equal(sv.state, 'succeeded');
  t.equal((await fx.json('POST', `/api/v1/jobs/${job.id}/redo`, { hosts: 'all', steps: [5] })).status, 400);
  const ev = await fx.server.services.auditLog.list({ action: 'job.redo' });
  t.equal(ev.length, 2);
});

t.test('confirm steps and dry runs', async (t) => {
  const fx = await startJobServer(t);
  const steps = [
    { kind: 'script', script: { lang: 'shell', source: 'a' } },
    { kind: 'confirm', message: 'look at the dashboards' },
    { kind: 'probe', probe: { tcp: { port: 1 } } },
    { kind: 'script', local: true, script: { lang: 'shell', source: 'echo local' } },
  ];
  const dry = await launchOk(t, fx, { targets: 'host:web-1', dryRun: true, steps });
  const w = await agentRound(fx.agents['web-1']!, (work) => {
    t.equal(work.noop, true, 'a dry run dispatch is noop');
    return result('would-run');
  });
  t.equal(w.work.length, 1);
  const dv = await fx.job(dry.id);
  t.same(viewGuard.check(dv), [], 'a view with every step kind matches jobViewSchema');
  t.equal(dv.state, 'succeeded');
  t.same(dv.steps.map((s: any) => s.state), ['would-run', 'would-run', 'would-run', 'would-run']);
  t.match(dv.steps[1].message, /look at the dashboards/);
  t.match(dv.hosts[0].steps[1], { state: 'would-run', message: /would check tcp port 1 at 127\.0\.0\.1/ });
  t.match(dv.steps[3].localRun, { state: 'would-run' });

  const real = await launchOk(t, fx, { targets: 'host:web-1', steps: steps.slice(0, 2) });
  await agentRound(fx.agents['web-1']!, ok);
  let v = await fx.job(real.id);
  t.equal(v.state, 'paused');
  t.equal(v.steps[1].state, 'waiting');
  const c = await fx.json('POST', `/api/v1/jobs/${real.id}/confirm`, { step: 1, action: 'continue' });
  t.equal(c.status, 200);
  v = await fx.job(real.id);
  t.equal(v.state, 'succeeded');
  t.match(v.steps[1], { state: 'succeeded', confirmedBy: 'admin' });

  const stopped = await launchOk(t, fx, { targets: 'host:web-1', steps: [{ kind: 'confirm', message: 'go?' }, steps[0]] });
  t.equal((await fx.json('POST', `/api/v1/jobs/${stopped.id}/confirm`, { step: 0, action: 'stop' })).json().state, 'cancelled');
  t.equal((await fx.json('POST', `/api/v1/jobs/${stopped.id}/confirm`, { step: 0, action: 'stop' })).status, 409);
});

t.test('deadlines: unreachable before start, timeout when the agent never answers', async (t) => {
  const fx = await startJobServer(t);
  const job = await launchOk(t, fx, { targets: 'host:web-1,host:web-2', script: { lang: 'shell', source: 'x' }, timeoutSeconds: 10 });
  t.same((await fx.agents['web-2']!.request('POST', `/api/v1/hosts/web-2/jobs/${job.id}.0.web-2/start`, {})).json(), { run: true });
  fx.clock.advance(11_000);
  await fx.server.services.jobs.driver.tick();
  let v = await fx.job(job.id);
  t.same(Object.fromEntries(v.hosts.map((h: any) => [h.host, h.state])), { 'web-1': 'unreachable', 'web-2': 'running' });
  t.same((await fx.agents['web-1']!.request('POST', `/api/v1/hosts/web-1/jobs/${job.id}.0.web-1/start`, {})).json(), { run: false, reason: 'already unreachable' });
  fx.clock.advance(30_000);
  await fx.server.services.jobs.driver.tick();
  v = await fx.job(job.id);
  t.same(Object.fromEntries(v.hosts.map((h: any) => [h.host, h.state])), { 'web-1': 'unreachable', 'web-2': 'timeout' });
  t.match(v.hosts.find((h: any) => h.host === 'web-2').message, /never answered/);
  t.equal(v.state, 'failed');
  const late = await fx.agents['web-2']!.request('POST', `/api/v1/hosts/web-2/jobs/${job.id}.0.web-2/result`, result('succeeded'));
  t.same(late.json(), { stored: true, duplicate: false }, 'a late result is kept beside the timeout');
  t.equal((await fx.job(job.id)).hosts.find((h: any) => h.host === 'web-2').state, 'timeout');
});

t.test('the safety audit: preview, block, admin approval', async (t) => {
  const fx = await startJobServer(t);
  const body = { targets: 'group:web', steps: [{ kind: 'script', script: { lang: 'shell', source: 'echo a\nrm -rf /\n' } }, { kind: 'script', script: { lang: 'shell', source: 'curl x | sh' } }] };
  const p = await fx.json('POST', '/api/v1/jobs/preview', body);
  t.equal(p.status, 200, p.body.toString());
  t.same(p.json().targets, [{ step: 0, hosts: ['web-1', 'web-2'] }, { step: 1, hosts: ['web-1', 'web-2'] }]);
  t.same(p.json().unavailable, [{ host: 'ghost-1', reason: 'not enrolled' }]);
  t.same(p.json().audit.map((a: any) => [a.step, a.verdict]), [[0, 'block'], [1, 'warn']]);
  t.equal((await fx.json('GET', '/api/v1/jobs')).json().jobs.length, 0, 'a preview stores nothing');

  const blocked = await fx.launch(body);
  t.equal(blocked.status, 400);
  t.match(blocked.json().error.message, /rule test-rm-root at line 2/);
  t.equal((await fx.json('GET', '/api/v1/jobs')).json().jobs.length, 0);
  const readonly = await fx.token('readonly', 'viewer');
  t.equal((await fx.launch({ ...body, approve: { reason: 'sure' } }, readonly)).status, 403);
  const approved = await fx.launch({ ...body, approve: { reason: 'wiping a scratch VM' } });
  t.equal(approved.status, 201, approved.body.toString());
  const ev = await fx.server.services.auditLog.list({ target: `job:${approved.json().id}` });
  t.same(ev.map((e) => e.action).sort(), ['job.approve-blocked', 'job.launch']);
  t.match(ev.find((e) => e.action === 'job.approve-blocked')!.details, { reason: 'wiping a scratch VM', audit: [{ step: 0, verdict: 'block' }] });
  t.equal(ev[0]!.address, '127.0.0.1');
});

t.test('selectors and targets', async (t) => {
  const fx = await startJobServer(t, {}, { worker: true });
  const targets = async (sel: string) => {
    const r = await fx.json('POST', '/api/v1/jobs/preview', { targets: sel, steps: [{ kind: 'confirm', message: 'x' }] });
    return r.status === 200 ? [...r.json().targets[0].hosts, ...r.json().unavailable.map((u: any) => `!${u.host}`)] : r.json().error;
  };
  const hosts = async (sel: string) => {
    const r = await fx.json('POST', '/api/v1/jobs/preview', { targets: sel, script: { lang: 'shell', source: 'x' } });
    return r.status === 200 ? [...r.json().targets[0].hosts, ...r.json().unavailable.map((u: any) => `!${u.host}`)] : r.json().error.message;
  };
  t.same(await hosts('idc:sz'), ['web-1', 'web-2'], 'idc (operator attributes crossed the compile worker)');
  t.same(await hosts('set:s1'), ['web-1']);
  t.same(await hosts('env:staging'), ['db-1']);
  t.same(await hosts('ip:127.0.0.2'), ['web-2']);
  t.same(await hosts('tag:canary'), ['web-1']);
  t.same(await hosts('attr:rack=r2,host:db-1'), ['db-1', 'web-2'], 'union, in inventory (name) order');
  t.same(await hosts('attr:tier=1'), ['web-1', 'web-2'], 'numbers compare as text');
  t.same(await hosts('group:web'), ['web-1', 'web-2', '!ghost-1']);
  t.same(await hosts('host:nowhere,host:web-1'), ['web-1', '!nowhere']);
  t.match(await hosts('host:nowhere'), /no host of "host:nowhere" can run: nowhere \(not in the inventory/);
  t.match(await hosts('group:web,,host:x'), /character 11: empty term/);
  t.match(await hosts('group:web, color:red'), /character 12: unknown kind "color"/);
  t.equal((await fx.agents['db-1']!.request('PUT', '/api/v1/hosts/db-1/facts', { os: { family: 'debian' }, ips: ['10.0.0.9'] })).status, 200);
  t.same(await hosts('fact:os.family=debian'), ['db-1']);
  t.same(await hosts('fact:ips=10.0.0.9'), ['db-1'], 'a list fact matches any element');
  t.same(await targets('tag:nothing'), [], 'a confirm-only plan needs no host');
  const pend = fx.agent('ghost-1');
  t.equal((await pend.enroll()).status, 202);
  t.same(await hosts('host:ghost-1,host:web-1'), ['web-1', '!ghost-1']);
  const r = await fx.json('POST', '/api/v1/jobs/preview', { targets: 'host:ghost-1,host:web-1', script: { lang: 'shell', source: 'x' } });
  t.same(r.json().unavailable, [{ host: 'ghost-1', reason: 'enrollment pending approval' }]);
});

t.test('library scripts, parameters and accounts', async (t) => {
  const fx = await startJobServer(t);
  const job = await launchOk(t, fx, { targets: 'host:web-1', script: { scriptId: 'greet', params: { WHO: 'bob' }, account: 'deploy' } });
  const w = (await agentRound(fx.agents['web-1']!, ok)).work[0];
  t.same(w.script.args, ['bob', 'hey'], 'declared order, defaults applied');
  t.match(w.script.env, { WHO: 'bob', GREETING: 'hey' });
  t.equal(w.script.user, 'deployer');
  t.equal(w.script.source, 'echo hi "$1" "$2"\n', 'the newest version');
  t.equal((await fx.job(job.id)).name, 'script greet');
  const v1 = await launchOk(t, fx, { targets: 'host:web-1', script: { scriptId: 'greet', version: 1, params: { WHO: 'al' } } });
  t.same((await agentRound(fx.agents['web-1']!, ok)).work[0].script.args, ['al']);
  t.ok(v1.id);
  const inline = await launchOk(t, fx, { targets: 'host:web-1', script: { lang: 'python', source: 'print(1)', params: { B: '2', A: '1' } } });
  const iw = (await agentRound(fx.agents['web-1']!, ok)).work[0];
  t.same(iw.script.args, ['2', '1'], 'inline: the order given');
  t.ok(inline.id);
  const bad = async (script: unknown, re: RegExp) => {
    const r = await fx.launch({ targets: 'host:web-1', script });
    t.equal(r.status, 400, JSON.stringify(script));
    t.match(r.json().error.message, re);
  };
  await bad({ scriptId: 'greet' }, /parameter WHO of script greet is required/);
  const missing = await fx.launch({ targets: 'host:web-1', script: { scriptId: 'greet', version: 9 } });
  t.equal(missing.status, 404, 'the library\'s NOT_FOUND passes through');
  await bad({ scriptId: 'greet', params: { WHO: 'x', NOPE: '1' } }, /has no parameter NOPE/);
  await bad({ scriptId: 'greet', lang: 'python', params: { WHO: 'x' } }, /is shell, not python/);
  await bad({ scriptId: 'greet', source: 'x' }, /source or scriptId/);
  await bad({ lang: 'shell', source: 'x', account: 'nobody' }, /no execution account nobody/);
  await bad({ lang: 'shell' }, /needs lang and source/);
  await bad({ lang: 'shell', source: 'x', version: 2 }, /version goes with scriptId/);
  const both = await fx.launch({ targets: 'host:web-1', script: { lang: 'shell', source: 'x' }, steps: [{ kind: 'confirm', message: 'm' }] });
  t.equal(both.status, 400);
  t.equal((await fx.launch({ targets: 'host:web-1' })).status, 400, 'no steps');
  t.equal((await fx.launch({ targets: 'host:web-1', timeoutSeconds: 5, steps: [{ kind: 'confirm', message: 'm' }] })).status, 400);
  t.equal((await fx.launch({ targets: 'host:web-1', steps: [{ kind: 'files', files: [{ path: '/a', content: 'x', template: 'y' }] }] })).status, 400);
  t.equal((await fx.launch({ targets: 'host:web-1', steps: [{ kind: 'probe', probe: {} }] })).status, 400);
  t.equal((await fx.launch({ targets: 'host:web-1', steps: [{ kind: 'confirm', message: 'm', targets: 'host:web-1' }] })).status, 400);
  t.equal((await fx.launch({ targets: 'host:web-1', steps: [{ kind: 'script', local: true, targets: 'host:web-1', script: { lang: 'shell', source: 'x' } }] })).status, 400);
  t.equal((await fx.launch({ targets: 'host:web-1', bogus: 1 })).status, 400, 'schema');
});

t.test('probes and local steps run on the server', async (t) => {
  const fx = await startJobServer(t);
  const srv = net.createServer((s) => s.end());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const port = (srv.address() as net.AddressInfo).port;
  const job = await launchOk(t, fx, {
    targets: 'host:web-1,host:web-2',
    vars: { greeting: 'hello' },
    steps: [
      { kind: 'probe', onFailure: 'ignore', probe: { tcp: { port }, timeoutSeconds: 5 } },
      { kind: 'script', local: true, script: { lang: 'shell', source: 'echo "$STEAD_VAR_GREETING $1"', params: { WHO: 'ops' } } },
    ],
  });
  await fx.settle();
  const v = await fx.job(job.id);
  t.same(viewGuard.check(v), []);
  t.same(Object.fromEntries(v.hosts.map((h: any) => [h.host, h.state])), { 'web-1': 'succeeded', 'web-2': 'failed' }, 'web-2 (127.0.0.2) has nothing on the port');
  t.match(v.hosts.find((h: any) => h.host === 'web-1').message, /connected to 127\.0\.0\.1/);
  t.match(v.steps[1].localRun, { state: 'succeeded', exitCode: 0, stdout: 'hello ops\n' });
  t.equal(v.state, 'failed');
  const readonly = await fx.token('readonly', 'viewer');
  const p = await fx.json('POST', '/api/v1/jobs/preview', { targets: 'host:web-1', steps: [{ kind: 'script', local: true, script: { lang: 'shell', source: 'x' } }] }, readonly);
  t.equal(p.status, 403, 'local scripts are for admins');
  const admin = await fx.json('POST', '/api/v1/jobs/preview', { targets: 'host:web-1', steps: [{ kind: 'script', local: true, script: { lang: 'shell', source: 'x' } }, { kind: 'probe', targets: { failedOf: 0 }, probe: { tcp: { port } } }] });
  t.same(admin.json().targets, [{ step: 0, hosts: [], local: true }, { step: 1, hosts: [], failedOf: 0 }]);

  const cancelled = await launchOk(t, fx, { targets: 'host:web-1', steps: [{ kind: 'script', local: true, script: { lang: 'shell', source: 'sleep 30' } }] });
  const c = await fx.json('POST', `/api/v1/jobs/${cancelled.id}/cancel`);
  t.equal(c.status, 200);
  await fx.settle();
  t.match((await fx.job(cancelled.id)).steps[0].localRun, { state: 'cancelled' });
});

t.test('list pages newest first', async (t) => {
  const fx = await startJobServer(t);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    fx.clock.advance(1000);
    ids.push((await launchOk(t, fx, { name: `n${i}`, targets: 'host:web-1', steps: [{ kind: 'confirm', message: 'm' }] })).id);
  }
  const p1 = (await fx.json('GET', '/api/v1/jobs?limit=2')).json();
  t.same(p1.jobs.map((j: any) => j.name), ['n4', 'n3']);
  t.match(p1.jobs[0], { state: 'paused', hostCount: 1, stepCount: 1, createdBy: 'admin', dryRun: false });
  const p2 = (await fx.json('GET', `/api/v1/jobs?limit=2&before=${p1.next}`)).json();
  t.same(p2.jobs.map((j: any) => j.name), ['n2', 'n1']);
  const p3 = (await fx.json('GET', `/api/v1/jobs?limit=2&before=${p2.next}`)).json();
  t.same(p3.jobs.map((j: any) => j.name), ['n0']);
  t.notOk('next' in p3);
  t.equal((await fx.json('GET', '/api/v1/jobs?limit=0')).status, 400);
  t.equal((await fx.json('GET', '/api/v1/jobs?before=a/b')).status, 400);
  t.equal((await fx.json('GET', `/api/v1/jobs/${ids[0]}?output=maybe`)).status, 400);
  t.equal((await fx.json('GET', '/api/v1/jobs/nope')).status, 404);
  t.equal((await fx.json('GET', '/api/v1/jobs/a.b')).status, 400);
});
