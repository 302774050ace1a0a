/**
 * Rollouts through the API on a ManualClock and the real store (ADR 0017 §3): a revision
 * rollout pins hosts of started batches to the new revision, gates, the batch timeout, the
 * threshold, continue/pause/abort/rollback, 409 ROLLOUT_ACTIVE, the audit log; a job rollout
 * runs one job per batch. The driver's timer is off: tests kick it and settle.
 */
import t from 'tap';
import { makeReport } from '../../helpers/server-reports.js';
import { agentRound, jobRepo, result, startJobServer, type JobFixture } from '../../helpers/job-fixture.js';
import type { TestAgent } from '../../helpers/server-fixture.js';

async function rollouts(t: Parameters<typeof startJobServer>[0]): Promise<JobFixture & { drive(id: string): Promise<any> }> {
  const fx = await startJobServer(t, { rollouts: { driver: { tickMs: 3_600_000 } } });
  return Object.assign(fx, {
    async drive(id: string) {
      const d = fx.server.services.rollouts.driver;
      await d.kick(id);
      await d.settle();
      return (await fx.json('GET', `/api/v1/rollouts/${id}`)).json();
    },
  });
}

function repo(name: string): Record<string, string> {
  return { ...jobRepo(), 'stead.yaml': `stead: 1\nname: ${name}\n` };
}

async function catalogRevision(a: TestAgent): Promise<string> {
  const r = await a.request('GET', `/api/v1/hosts/${a.host}/catalog`);
  if (r.status !== 200) throw new Error(`catalog of ${a.host}: ${r.status} ${r.body.toString()}`);
  return r.json().revision;
}

/** Catalogs name their revision by its first 16 characters. */
const short = (id: string): string => id.slice(0, 16);

let runs = 0;
/** Agents report the catalog's revision (its first 16 characters); every other report here sends the whole id. */
async function report(a: TestAgent, revision: string, outcome: 'in-sync' | 'failed' = 'in-sync'): Promise<void> {
  const r = await a.request('POST', `/api/v1/hosts/${a.host}/reports`, { ...makeReport(a.host, `run-${++runs}`, { outcome }), revision: runs % 2 === 0 ? revision : revision.slice(0, 16) });
  if (r.status !== 200 && r.status !== 201 && r.status !== 202) throw new Error(`report: ${r.status} ${r.body.toString()}`);
}

t.test('a revision rollout: pinning, the manual gate, the threshold, continue, completion, rollback', async (t) => {
  const fx = await rollouts(t);
  const a = (await fx.json('GET', '/api/v1/revisions/live')).json().id as string;
  const pub = await fx.json('POST', '/api/v1/revisions', { files: repo('second'), message: 'canary', rollout: { batches: '1,100%', gate: 'manual' } });
  t.equal(pub.status, 201, pub.body.toString());
  const b = pub.json().id as string;
  t.not(b, a);
  t.equal(pub.json().live, false, 'stored, not live');
  const ro = pub.json().rollout;
  t.equal(ro.state, 'running');
  t.same(ro.batches.map((x: any) => x.hosts), [['db-1'], ['web-1', 'web-2']], 'inventory order, one per IDC first; ghost-1 (not enrolled) is left out');
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, a, 'live did not move');

  const again = await fx.json('POST', '/api/v1/revisions', { files: repo('third') });
  t.equal(again.status, 409);
  t.equal(again.json().error.code, 'ROLLOUT_ACTIVE');

  let v = await fx.drive(ro.id);
  t.equal(v.current, 0);
  t.equal(v.batches[0].state, 'running');
  t.ok(v.batches[0].startedAt);
  // w1: the canary (db-1, the only host of its IDC); w2 and d1: the second batch.
  const { 'db-1': w1, 'web-2': w2, 'web-1': d1 } = fx.agents as Record<string, TestAgent>;
  t.equal(await catalogRevision(w1!), short(b), 'a host of a started batch gets the new revision');
  t.equal(await catalogRevision(w2!), short(a), 'the others keep the live one');
  t.equal(await catalogRevision(d1!), short(a));

  await report(w1!, a); // a run of the old revision does not count
  v = await fx.drive(ro.id);
  t.equal(v.batches[0].state, 'running', 'waiting for a run of the new revision');
  await report(w1!, b);
  v = await fx.drive(ro.id);
  t.equal(v.batches[0].state, 'succeeded');
  t.equal(v.batches[0].succeeded, 1);
  t.equal(v.state, 'waiting');
  t.equal(v.gate, 'manual');
  t.equal(await catalogRevision(w2!), short(a), 'the manual gate holds the next batch');

  const cont = await fx.json('POST', `/api/v1/rollouts/${ro.id}/continue`, { reason: 'canary looks fine' });
  t.equal(cont.status, 200, cont.body.toString());
  v = await fx.drive(ro.id);
  t.equal(v.current, 1);
  t.equal(v.batches[1].state, 'running');
  t.equal(await catalogRevision(w2!), short(b));
  t.equal(await catalogRevision(d1!), short(b));
  await report(w2!, b);
  await report(d1!, b, 'failed');
  v = await fx.drive(ro.id);
  t.equal(v.state, 'paused', 'any failure pauses by default');
  t.equal(v.batches[1].state, 'failed');
  t.match(v.batches[1].failures, [{ host: 'web-1', reason: /failed: 1 resource failed/ }]);
  t.match(v.reason, /batch 2 of 2: 1 of 2 hosts failed, more than the 0 tolerated/);
  t.same(v.threshold, { overall: 0, batch: 0 });
  t.equal(v.failures, 1);
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, a);

  t.equal((await fx.json('POST', `/api/v1/rollouts/${ro.id}/rollback`, { reason: 'x'.repeat(1001) })).status, 400, 'reason is bounded');
  const bad = await fx.json('POST', `/api/v1/rollouts/${ro.id}/pause`);
  t.equal(bad.status, 409, 'a paused rollout does not pause again');
  t.equal((await fx.json('POST', `/api/v1/rollouts/${ro.id}/continue`)).status, 200);
  v = await fx.drive(ro.id);
  t.equal(v.state, 'completed', 'a paused failed batch is not re-run: past the last batch the rollout completes');
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, b, 'completion makes the revision live');

  const rb = await fx.json('POST', `/api/v1/rollouts/${ro.id}/rollback`);
  t.equal(rb.status, 200, rb.body.toString());
  t.equal(rb.json().state, 'rolled-back');
  await fx.drive(ro.id);
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, a, 'rollback makes the previous revision live');
  t.equal((await fx.json('POST', `/api/v1/rollouts/${ro.id}/rollback`)).status, 409);
  // The manifest history records it (ADR 0017): the canary's commit, then a new commit equal to the previous revision.
  const history = (await fx.json('GET', '/api/v1/revisions?limit=3')).json().revisions as { id: string; commit?: string; parent?: string; live: boolean }[];
  t.equal(history[0]!.id, a, 'the newest history entry is the rollback, equal to the previous revision');
  t.equal(history[0]!.live, true);
  t.equal(history[1]!.id, b, 'on top of the rolled-out revision\'s own commit');
  t.equal(history[0]!.parent, history[1]!.commit, 'one linear history');

  const actions = (await fx.server.services.auditLog.list({ target: `rollout:${ro.id}` })).map((e) => e.action);
  for (const x of ['rollout.start', 'rollout.continue', 'rollout.threshold', 'rollout.complete', 'rollout.rollback']) t.ok(actions.includes(x), `audit: ${x}`);

  const list = (await fx.json('GET', '/api/v1/rollouts')).json();
  t.equal(list.rollouts[0].id, ro.id);
  t.equal((await fx.json('GET', '/api/v1/rollouts/nope')).status, 404);
  t.equal((await fx.json('GET', '/api/v1/rollouts/a$b')).status, 400);
});

t.test('the batch timeout, the wait between batches, the percent threshold, pause and abort', async (t) => {
  const fx = await rollouts(t);
  const a = (await fx.json('GET', '/api/v1/revisions/live')).json().id as string;
  const bad = await fx.json('POST', '/api/v1/revisions', { files: repo('x'), rollout: { batches: '1,+x' } });
  t.equal(bad.status, 400, 'the schema pattern refuses it');
  const bad2 = await fx.json('POST', '/api/v1/revisions', { files: repo('x'), rollout: { batches: '1,150%' } });
  t.equal(bad2.status, 400);
  t.match(bad2.json().error.message, /character 3: a percentage is at most 100/);
  t.equal((await fx.json('GET', '/api/v1/rollouts')).json().rollouts.length, 0, 'nothing started');

  const pub = await fx.json('POST', '/api/v1/revisions', { files: repo('timer'), rollout: { batches: '1,2,100%', waitBetweenSeconds: 30, batchTimeoutSeconds: 60, maxFailures: { count: 1 } } });
  t.equal(pub.status, 201, pub.body.toString());
  const id = pub.json().rollout.id;
  const b = pub.json().id;
  let v = await fx.drive(id);
  t.equal(v.batches[0].state, 'running');
  fx.clock.advance(61_000);
  v = await fx.drive(id);
  t.equal(v.batches[0].state, 'succeeded', 'one failure is tolerated');
  t.same(v.batches[0].failures, [{ host: 'db-1', reason: 'no report within 60 s' }]);
  t.equal(v.state, 'waiting');
  t.equal(v.gate, 'timer');
  t.equal(Date.parse(v.nextAt), fx.clock.now() + 30_000);
  fx.clock.advance(29_000);
  v = await fx.drive(id);
  t.equal(v.state, 'waiting');
  fx.clock.advance(1_000);
  v = await fx.drive(id);
  t.equal(v.state, 'running');
  t.equal(v.current, 1);
  const p = await fx.json('POST', `/api/v1/rollouts/${id}/pause`, { reason: 'lunch' });
  t.equal(p.json().state, 'paused');
  t.equal(p.json().reason, 'lunch');
  await report(fx.agents['web-1']!, b);
  v = await fx.drive(id);
  t.equal(v.batches[1].state, 'running', 'a paused rollout does not judge');
  t.equal((await fx.json('POST', `/api/v1/rollouts/${id}/continue`)).json().state, 'waiting', 'continue drives at once: the batch is judged and the timer runs');
  v = await fx.drive(id);
  t.equal(v.batches[1].state, 'succeeded');
  t.equal(v.state, 'waiting');
  t.equal(await catalogRevision(fx.agents['web-1']!), short(b));
  const ab = await fx.json('POST', `/api/v1/rollouts/${id}/abort`);
  t.equal(ab.json().state, 'aborted');
  for (const h of ['web-1', 'web-2', 'db-1']) t.equal(await catalogRevision(fx.agents[h]!), short(a), `${h} is back on the previous revision`);
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, a);
  t.equal((await fx.json('POST', `/api/v1/rollouts/${id}/continue`)).status, 409);
  const next = await fx.json('POST', '/api/v1/revisions', { files: repo('after') });
  t.equal(next.status, 201, 'publishing works again once the rollout is over');
});

t.test('a restart resumes where the store says, without delivering a batch twice', async (t) => {
  const dir = t.testdir();
  const same = { testdir: () => dir, teardown: (fn: () => unknown) => t.teardown(fn) };
  const fx1 = await startJobServer(same, { rollouts: { driver: { tickMs: 3_600_000 } } });
  const pub = await fx1.json('POST', '/api/v1/jobs', { targets: 'group:web', script: { lang: 'shell', source: 'true' } });
  t.equal(pub.status, 201);
  const r = await fx1.json('POST', '/api/v1/rollouts', { job: { targets: 'group:web', script: { lang: 'shell', source: 'echo batch' } }, policy: { batches: '1,100%' } });
  t.equal(r.status, 201, r.body.toString());
  const id = r.json().id;
  await fx1.server.services.rollouts.driver.settle();
  const v1 = (await fx1.json('GET', `/api/v1/rollouts/${id}`)).json();
  const job0 = v1.batches[0].jobId;
  t.ok(job0, 'batch 0 launched its job');
  await fx1.close();
  const fx2 = await startJobServer(same, { rollouts: { driver: { tickMs: 3_600_000 } } }, { publish: false, enroll: false });
  const d = fx2.server.services.rollouts.driver;
  await d.kick(id);
  await d.settle();
  const v2 = (await fx2.json('GET', `/api/v1/rollouts/${id}`)).json();
  t.equal(v2.batches[0].jobId, job0, 'the same job');
  const jobs = (await fx2.json('GET', '/api/v1/jobs')).json().jobs.filter((j: any) => j.name !== undefined);
  t.equal(jobs.length, 2, 'the plain job and one batch job: nothing launched twice');
});

t.test('a job rollout runs one job per batch', async (t) => {
  const fx = await rollouts(t);
  const bad = await fx.json('POST', '/api/v1/rollouts', { job: { targets: 'group:nope', script: { lang: 'shell', source: 'x' } }, policy: { batches: '1' } });
  t.equal(bad.status, 400);
  const r = await fx.json('POST', '/api/v1/rollouts', { job: { targets: 'group:web', script: { lang: 'shell', source: 'echo hi' } }, policy: { batches: '1,100%' } });
  t.equal(r.status, 201, r.body.toString());
  const id = r.json().id;
  t.equal(r.json().kind, 'job');
  t.same(r.json().batches.map((b: any) => b.hosts), [['web-1'], ['web-2']]);
  let v = await fx.drive(id);
  const j0 = v.batches[0].jobId;
  t.ok(j0);
  const job0 = await fx.job(j0);
  t.same(job0.hosts.map((h: any) => h.host), ['web-1'], 'the batch job runs on the batch hosts only');
  t.equal((await agentRound(fx.agents['web-2']!, () => result('succeeded'))).work.length, 0, 'web-2 gets nothing yet');
  await agentRound(fx.agents['web-1']!, () => result('succeeded'));
  await fx.settle();
  v = await fx.drive(id);
  t.equal(v.batches[0].state, 'succeeded');
  t.equal(v.current, 1);
  const j1 = v.batches[1].jobId;
  t.ok(j1);
  t.not(j1, j0);
  await agentRound(fx.agents['web-2']!, () => result('failed'));
  await fx.settle();
  v = await fx.drive(id);
  t.equal(v.state, 'paused');
  t.match(v.batches[1].failures, [{ host: 'web-2', reason: new RegExp(`job ${j1} step 0 failed \\(exit 1\\)`) }]);
  t.equal((await fx.json('POST', `/api/v1/rollouts/${id}/rollback`)).status, 409, 'a job rollout is not rolled back');
  t.equal((await fx.json('POST', `/api/v1/rollouts/${id}/abort`)).json().state, 'aborted');
  const pub = await fx.json('POST', '/api/v1/revisions', { files: repo('free') });
  t.equal(pub.status, 201, 'a job rollout does not block publishing');
});

t.test('two drivers on one store make each transition once', async (t) => {
  const fx = await rollouts(t);
  const s = fx.server.services;
  const { openRollouts } = await import('../../../server/services/rollouts/rollout-model.js');
  const { RolloutDriver } = await import('../../../server/services/rollouts/rollout-driver.js');
  const { JobTarget } = await import('../../../server/services/rollouts/job-target.js');
  const { TargetResolver } = await import('../../../server/services/jobs/targets.js');
  const { createLogger } = await import('../../../server/log.js');
  const resolver = new TargetResolver(s.revisions, s.enrollment, s.hostStates);
  const other = new RolloutDriver(await openRollouts(fx.server.store), fx.clock, (d) => new JobTarget(d.job!, d.createdBy, s.jobs, resolver), async () => ({ ok: true, message: '' }), s.auditLog, createLogger({ write: () => {} }));
  const r = await fx.json('POST', '/api/v1/rollouts', { job: { targets: 'group:web', script: { lang: 'shell', source: 'echo hi' } }, policy: { batches: '1,100%' } });
  const id = r.json().id;
  const both = async () => {
    await Promise.all([s.rollouts.driver.kick(id), other.kick(id), s.rollouts.driver.kick(id), other.kick(id)]);
    await Promise.all([s.rollouts.driver.settle(), other.settle()]);
  };
  await both();
  for (const h of ['web-1', 'web-2']) {
    await agentRound(fx.agents[h]!, () => result('succeeded'));
    await fx.settle();
    await both();
  }
  const v = (await fx.json('GET', `/api/v1/rollouts/${id}`)).json();
  t.equal(v.state, 'completed');
  const jobs = (await fx.json('GET', '/api/v1/jobs')).json().jobs;
  t.equal(jobs.length, 2, 'one job per batch, whichever driver launched it');
  const doc = await (await openRollouts(fx.server.store)).findOne({ _id: id });
  // Before the first batch (current 0), then per batch: start (the intent), delivered, judged (which moves on).
  t.equal(doc!.version, 1 + 1 + 2 * 3, 'each transition once');
  await other.stop();
});

t.test('health probes after a batch: tcp and a saved script, run by the server against each host', async (t) => {
  const fx = await rollouts(t);
  const net = await import('node:net');
  const listener = net.createServer((c) => c.destroy());
  await new Promise<void>((resolve) => listener.listen(0, '0.0.0.0', resolve));
  t.teardown(() => listener.close());
  const port = (listener.address() as { port: number }).port;
  const pub = await fx.json('POST', '/api/v1/revisions', { files: repo('probed'), rollout: { batches: '100%', maxFailures: { count: 1 }, probes: [{ tcp: { port } }, { script: 'greet', timeoutSeconds: 30 }] } });
  t.equal(pub.status, 201, pub.body.toString());
  const id = pub.json().rollout.id;
  const b = pub.json().id;
  await fx.drive(id);
  for (const h of ['web-1', 'web-2', 'db-1']) await report(fx.agents[h]!, b);
  let v = await fx.drive(id);
  for (let i = 0; i < 50 && v.state === 'running'; i++) {
    await new Promise((r) => setTimeout(r, 200));
    v = await fx.drive(id);
  }
  t.equal(v.state, 'completed', JSON.stringify(v.batches[0]));
  t.equal(v.batches[0].succeeded, 2, 'web-1 (127.0.0.1) and web-2 (127.0.0.2) answer, and the script passes');
  t.match(v.batches[0].failures, [{ host: 'db-1', reason: new RegExp(`^probe tcp port ${port}: `) }], 'db-1 has no address but its name, which does not resolve');
});
