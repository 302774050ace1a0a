/**
 * The agent job channel end to end on a real server: launch → poll → start → result → job
 * succeeded; idempotent start and result; own host only; the long-poll woken by a launch;
 * a newer poll replacing an older one; job blobs served to the dispatch's host only.
 */
import t from 'tap';
import { jobListSchema, jobPreviewSchema, jobViewSchema } from '../../../schemas/api/jobs.js';
import { jobPollResponseSchema, jobProtocolSchemas, jobResultAckSchema, jobStartResponseSchema } from '../../../schemas/job-protocol.js';
import { compileGuard, registerSchemas } from '../../../schemas/validate.js';
import { agentRound, result, startJobServer } from '../../helpers/job-fixture.js';

registerSchemas(jobProtocolSchemas);
const guards = { view: compileGuard(jobViewSchema), list: compileGuard(jobListSchema), preview: compileGuard(jobPreviewSchema), poll: compileGuard(jobPollResponseSchema), start: compileGuard(jobStartResponseSchema), ack: compileGuard(jobResultAckSchema) };

t.test('launch, poll, start, result: the job succeeds', async (t) => {
  const fx = await startJobServer(t);
  const web1 = fx.agents['web-1']!;
  const l = await fx.launch({ targets: 'host:web-1', script: { lang: 'shell', source: 'echo hi\n' }, vars: { region: 'sz' } });
  t.equal(l.status, 201, l.body.toString());
  const job = l.json();
  t.same(guards.view.check(job), [], 'the launch answer is a JobView');
  t.equal(job.state, 'running');
  t.same(job.steps.map((s: any) => s.state), ['running']);
  const poll = await web1.request('GET', '/api/v1/hosts/web-1/jobs?wait=0');
  t.equal(poll.status, 200);
  t.same(guards.poll.check(poll.json()), [], 'the poll answer matches the wire contract');
  const { work, cancel } = poll.json();
  t.same(cancel, []);
  t.equal(work.length, 1);
  const w = work[0];
  t.equal(w.id, `${job.id}.0.web-1`);
  t.equal(w.kind, 'script');
  t.equal(w.noop, false);
  t.equal(w.script.source, 'echo hi\n');
  t.equal(w.script.env.STEAD_VAR_REGION, 'sz', 'job vars become STEAD_VAR_<KEY>');

  const s1 = await web1.request('POST', `/api/v1/hosts/web-1/jobs/${w.id}/start`, {});
  t.same(s1.json(), { run: true });
  t.same(guards.start.check(s1.json()), []);
  const s2 = await web1.request('POST', `/api/v1/hosts/web-1/jobs/${w.id}/start`, {});
  t.same(s2.json(), { run: true }, 'a retried start answers run: true again');
  t.same((await web1.request('GET', '/api/v1/hosts/web-1/jobs?wait=0')).json(), { work: [], cancel: [] }, 'a started dispatch is not offered again');

  const other = await fx.agents['web-2']!.request('POST', `/api/v1/hosts/web-2/jobs/${w.id}/start`, {});
  t.same(other.json(), { run: false, reason: 'unknown dispatch' }, 'another host cannot start it');
  const forged = await fx.agents['web-2']!.request('POST', `/api/v1/hosts/web-1/jobs/${w.id}/start`, {});
  t.equal(forged.status, 403, 'nor through the other host\'s path');

  const r1 = await web1.request('POST', `/api/v1/hosts/web-1/jobs/${w.id}/result`, result('succeeded', { stdout: 'hi\n', results: { 'app.version': '1.2' } }));
  t.same(r1.json(), { stored: true, duplicate: false });
  t.same(guards.ack.check(r1.json()), []);
  const r2 = await web1.request('POST', `/api/v1/hosts/web-1/jobs/${w.id}/result`, result('failed', { stdout: 'other' }));
  t.same(r2.json(), { stored: false, duplicate: true }, 'the first result is kept');
  const bad = await web1.request('POST', `/api/v1/hosts/web-1/jobs/${w.id}/result`, { state: 'nope' });
  t.equal(bad.status, 400);
  const unknown = await web1.request('POST', `/api/v1/hosts/web-1/jobs/${job.id}.5.web-1/result`, result('succeeded'));
  t.equal(unknown.status, 404);
  const late = await web1.request('POST', `/api/v1/hosts/web-1/jobs/${job.id}.0.web-1/start`, {});
  t.same(late.json(), { run: false, reason: 'already succeeded' });

  const done = await fx.job(job.id);
  t.same(guards.view.check(done), [], 'the view with output matches jobViewSchema');
  t.equal(done.state, 'succeeded');
  t.same(guards.list.check((await fx.json('GET', '/api/v1/jobs')).json()), []);
  const preview = await fx.json('POST', '/api/v1/jobs/preview', { targets: 'group:web,host:nowhere', steps: [{ kind: 'script', script: { lang: 'shell', source: 'rm -rf /' } }, { kind: 'confirm', message: 'ok?' }] });
  t.same(guards.preview.check(preview.json()), [], 'the preview matches jobPreviewSchema');
  t.ok(done.finishedAt);
  t.equal(done.hosts.length, 1);
  t.match(done.hosts[0], { host: 'web-1', state: 'succeeded', exitCode: 0, stdout: 'hi\n', results: { 'app.version': '1.2' } });
  t.equal(done.hosts[0].steps[0].startAcks, 2, 'both start acknowledgements counted');
  const short = (await fx.json('GET', `/api/v1/jobs/${job.id}`)).json();
  t.notOk('stdout' in short.hosts[0], 'no output without output=true');

  const events = await fx.server.services.auditLog.list({ target: `job:${job.id}` });
  t.same(events.map((e) => e.action), ['job.launch']);
  t.equal(events[0]!.actor, 'admin');
});

t.test('bad polls and ids', async (t) => {
  const fx = await startJobServer(t);
  const web1 = fx.agents['web-1']!;
  t.equal((await web1.request('GET', '/api/v1/hosts/web-1/jobs?wait=56')).status, 400);
  t.equal((await web1.request('GET', '/api/v1/hosts/web-1/jobs?wait=x')).status, 400);
  t.equal((await web1.request('GET', '/api/v1/hosts/web-2/jobs?wait=0')).status, 403);
  t.equal((await web1.request('POST', '/api/v1/hosts/web-1/jobs/..%2Fx/start', {})).status, 400);
});

t.test('the long-poll is woken by a launch, and a newer poll replaces an older one', async (t) => {
  // A store re-check interval far beyond the test: only the in-process wake can answer early.
  const fx = await startJobServer(t, { jobs: { ...(await import('../../helpers/job-fixture.js')).testPorts(), driver: { tickMs: 3_600_000 }, pollRecheckMs: 3_600_000 } });
  const web1 = fx.agents['web-1']!;
  const channel = fx.server.services.jobs.channel;
  const order: string[] = [];
  const older = web1.request('GET', '/api/v1/hosts/web-1/jobs?wait=55').then((r) => {
    order.push('older answered');
    return r;
  });
  while (!channel.waitingHosts().includes('web-1')) await new Promise((r) => setImmediate(r));
  const newer = web1.request('GET', '/api/v1/hosts/web-1/jobs?wait=55').then((r) => {
    order.push('newer answered');
    return r;
  });
  const o = await older;
  t.same(o.json(), { work: [], cancel: [] }, 'the replaced poll answers empty lists');
  order.push('launch');
  const l = await fx.launch({ targets: 'host:web-1', script: { lang: 'shell', source: 'true' } });
  t.equal(l.status, 201);
  const n = await newer;
  t.same(order, ['older answered', 'launch', 'newer answered']);
  t.equal(n.json().work.length, 1, 'the waiting poll got the new work');
  t.equal(n.json().work[0].jobId, l.json().id);
});

t.test('job blobs are served to the dispatch host while in flight', async (t) => {
  const fx = await startJobServer(t);
  const l = await fx.launch({ targets: 'host:web-1', steps: [{ kind: 'files', files: [{ path: '/etc/motd', content: 'hello jobs\n', mode: '0644' }] }] });
  t.equal(l.status, 201, l.body.toString());
  const poll = (await fx.agents['web-1']!.request('GET', '/api/v1/hosts/web-1/jobs?wait=0')).json();
  const w = poll.work[0];
  t.equal(w.kind, 'files');
  const sha = w.files[0].source.slice('sha256:'.length);
  t.equal(w.blobs[`sha256:${sha}`], 11);
  const got = await fx.agents['web-1']!.request('GET', `/api/v1/blobs/${sha}`);
  t.equal(got.status, 200);
  t.equal(got.body.toString(), 'hello jobs\n');
  const stranger = await fx.agents['web-2']!.request('GET', `/api/v1/blobs/${sha}`);
  t.equal(stranger.status, 404, 'another host cannot read it');
  await agentRound(fx.agents['web-1']!, () => result('succeeded', { files: [{ path: '/etc/motd', outcome: 'changed' }] }));
  const after = await fx.agents['web-1']!.request('GET', `/api/v1/blobs/${sha}`);
  t.equal(after.status, 404, 'nor the host itself once the dispatch finished');
  const job = await fx.job(l.json().id);
  t.equal(job.state, 'succeeded');
  t.same(job.hosts[0].files, [{ path: '/etc/motd', outcome: 'changed' }]);
});

t.test('the composed server wires the real ports: safety audit, script library, accounts, step runners', async (t) => {
  const fx = await startJobServer(t, { jobs: { driver: { tickMs: 3_600_000 } } });
  const blocked = await fx.launch({ targets: 'host:web-1', script: { lang: 'shell', source: 'echo start\nrm -rf /\n' } });
  t.equal(blocked.status, 400, 'the real audit blocks rm -rf /');
  t.match(blocked.json().error.message, /line 2/);
  const harmless = await fx.json('POST', '/api/v1/jobs/preview', { targets: 'host:web-1', script: { lang: 'shell', source: "echo 'rm -rf /'\n" } });
  t.equal(harmless.status, 200, 'a quoted danger is harmless');
  t.same(harmless.json().audit.map((a: any) => a.verdict), ['pass']);
  const base = await fx.json('POST', '/api/v1/jobs/preview', { targets: 'host:web-1', script: { scriptId: 'disk-usage' } });
  t.equal(base.status, 200, `a base script of the library resolves: ${JSON.stringify(base.json())}`);
  const unknown = await fx.json('POST', '/api/v1/jobs/preview', { targets: 'host:web-1', script: { scriptId: 'no-such-script' } });
  t.equal(unknown.status, 404);
  const acc = await fx.json('POST', '/api/v1/jobs/preview', { targets: 'host:web-1', steps: [{ kind: 'script', script: { lang: 'shell', source: 'true', account: 'nobody-here' } }] });
  t.equal(acc.status, 400, 'an unknown execution account is refused');
  t.equal((await fx.json('POST', '/api/v1/jobs/preview', { targets: 'host:web-1', steps: [{ kind: 'script', script: { lang: 'shell', source: 'true', account: 'root' } }] })).status, 200, 'the seeded root account');
  const l = await fx.launch({ targets: 'host:web-1', steps: [{ kind: 'files', files: [{ path: '/etc/motd', content: 'real runner\n' }] }] });
  t.equal(l.status, 201);
  await fx.settle();
  const w = await fx.agents['web-1']!.request('GET', '/api/v1/hosts/web-1/jobs?wait=0');
  const work = JSON.parse(w.body.toString()).work;
  t.equal(work.length, 1, 'the real files runner prepared the work');
  t.equal(work[0].files[0].path, '/etc/motd');
});
