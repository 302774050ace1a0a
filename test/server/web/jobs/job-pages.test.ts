/**
 * The console's job and plan pages over HTTP against the in-process server with the real job
 * service, the real safety audit (compiler/audit, as composed) and signed agent requests on the job channel:
 * the list, the launch form (preview: hosts, who cannot run, audit verdict; blocked script and
 * admin approval; field errors), the job page (steps, hosts, output with truncation, refresh
 * while running), cancel, redo, confirm, plans and their run; roles and form guards.
 */
import t from 'tap';
import { closeAuditWorker } from '../../../../compiler/audit/index.js';
import { rawRequest, startServer, type ServerFixture, type TestAgent } from '../../../helpers/server-fixture.js';

const repo: Record<string, string> = {
  'stead.yaml': 'stead: 1\nname: console-jobs\n',
  'inventory/hosts.yaml': 'hosts:\n  h1: {idc: sz, tags: [canary]}\n  h2: {idc: sz}\n  h3: {idc: gz, tags: [edge]}\n',
  'groups/web.yaml': 'description: web\nkind: custom\npriority: 10\nhosts: [h1, h2, h3]\nroles: [app]\n',
  'roles/app/role.yaml': 'description: app\nresources:\n  - type: directory\n    path: /srv\n    mode: "0755"\n',
};

const form = 'application/x-www-form-urlencoded';

async function login(fx: ServerFixture, token = fx.adminToken): Promise<string> {
  const r = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin: fx.base, 'content-type': form }, body: `token=${encodeURIComponent(token)}` });
  if (r.status !== 302) throw new Error(`login: ${r.status}`);
  return String(r.headers['set-cookie']![0]).split(';')[0]!;
}

const get = async (fx: ServerFixture, cookie: string, path: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> => {
  const r = await rawRequest(fx.base, { method: 'GET', path, headers: { cookie } });
  return { status: r.status, body: r.body.toString(), headers: r.headers };
};

const post = async (fx: ServerFixture, cookie: string | undefined, path: string, fields: [string, string][] | Record<string, string>, headers: Record<string, string> = { origin: fx.base }): Promise<{ status: number; body: string; location: string | undefined }> => {
  const r = await rawRequest(fx.base, { method: 'POST', path, headers: { ...(cookie ? { cookie } : {}), 'content-type': form, ...headers }, body: new URLSearchParams(fields).toString() });
  return { status: r.status, body: r.body.toString(), location: r.headers.location };
};

/** The agent side of one dispatch: poll, start, answer. */
async function answer(agent: TestAgent, jobId: string, step: number, result: Record<string, unknown>): Promise<void> {
  const id = `${jobId}.${step}.${agent.host}`;
  const poll = await agent.request('GET', `/api/v1/hosts/${agent.host}/jobs?wait=0`);
  if (poll.status !== 200 || !poll.json().work.some((w: { id: string }) => w.id === id)) throw new Error(`poll ${agent.host}: ${poll.status} ${poll.body.toString()}`);
  const start = await agent.request('POST', `/api/v1/hosts/${agent.host}/jobs/${id}/start`, {});
  if (start.status !== 200 || start.json().run !== true) throw new Error(`start ${id}: ${start.status} ${start.body.toString()}`);
  const now = new Date(agent.fx.clock.now()).toISOString();
  const r = await agent.request('POST', `/api/v1/hosts/${agent.host}/jobs/${id}/result`, { stdout: '', stderr: '', startedAt: now, finishedAt: now, ...result });
  if (r.status !== 200) throw new Error(`result ${id}: ${r.status} ${r.body.toString()}`);
}

async function jobState(fx: ServerFixture, id: string, want: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await fx.json('GET', `/api/v1/jobs/${id}`)).json().state === want) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`job ${id} never became ${want}`);
}

/** Job ids start with the launch time: the clock moves between launches so "newest first" is defined. */
const tick = (fx: ServerFixture): void => fx.clock.advance(1000);

const jobIdOf = (location: string | undefined): string => {
  const m = /^\/jobs\/([A-Za-z0-9_-]+)$/.exec(location ?? '');
  if (!m) throw new Error(`not a job location: ${location}`);
  return m[1]!;
};

t.test('jobs: list, launch with preview and audit, job page, actions, roles', async (t) => {
  const fx = await startServer(t);
  t.teardown(closeAuditWorker);
  t.equal((await fx.publish(repo)).status, 201);
  const h1 = await fx.approvedAgent('h1');
  const h2 = await fx.approvedAgent('h2');
  const admin = await login(fx);
  const reader = await login(fx, await fx.token('readonly'));

  // The list, empty; the nav has Jobs and Plans.
  const empty = await get(fx, admin, '/jobs');
  t.equal(empty.status, 200);
  t.match(empty.body, /<a href="\/jobs" class="on">Jobs<\/a>\s*<a href="\/plans">Plans<\/a>/);
  t.match(empty.body, /No jobs yet/);
  t.match(empty.body, /href="\/jobs\/new">Launch a job/);
  t.notMatch((await get(fx, reader, '/jobs')).body, /href="\/jobs\/new">Launch a job/, 'no launch button for a readonly operator');

  // The form: every input has a label; pick-lists from the inventory.
  const blank = await get(fx, admin, '/jobs/new?targets=host:h1');
  t.equal(blank.status, 200);
  for (const id of ['name', 'targets', 'source', 'scriptId', 'version', 'params', 'lang', 'account', 'timeout', 'vars']) t.match(blank.body, new RegExp(`<label for="${id}">[\\s\\S]*id="${id}"`), `${id} has a label`);
  t.match(blank.body, /id="targets" type="text" name="targets" value="host:h1"/, '?targets= fills the selector');
  t.match(blank.body, /value="group:web">web/);
  t.match(blank.body, /value="idc:gz">gz<\/label>[\s\S]*value="idc:sz">sz/);
  t.match(blank.body, /value="tag:canary">canary/);
  t.match(blank.body, /<option value="log-cleanup">/, 'library scripts are offered');
  t.notMatch(blank.body, /http-equiv="refresh"/, 'the form does not refresh itself');

  // Preview: picks add to the selector; h3 has no agent; the audit found nothing.
  const pv = await post(fx, admin, '/jobs/new', [['targets', ''], ['pick', 'idc:sz'], ['pick', 'tag:edge'], ['source', 'echo hello'], ['lang', 'shell'], ['timeout', '60'], ['action', 'preview']]);
  t.equal(pv.status, 200, pv.body.slice(0, 300));
  t.match(pv.body, /value="idc:sz,tag:edge"/, 'the picks were added to the selector');
  t.match(pv.body, /<strong>2 host\(s\) match<\/strong>/);
  t.match(pv.body, /id="preview-hosts"><span>h1<\/span><span>h2<\/span>/);
  t.match(pv.body, /id="preview-cannot"><li><span class="mono">h3<\/span>: [^<]+<\/li>/, 'h3 cannot run (no agent)');
  t.match(pv.body, /Safety audit: nothing found/);
  t.match(pv.body, /<textarea id="source"[^>]*>echo hello<\/textarea>/, 'the form keeps what was typed');

  // A dangerous script: the audit blocks it with rule and line; launching needs an admin approval.
  const danger = [['targets', 'host:h1'], ['source', 'echo start\nrm -rf /'], ['lang', 'shell'], ['timeout', '60']] as [string, string][];
  const blocked = await post(fx, admin, '/jobs/new', [...danger, ['action', 'preview']]);
  t.match(blocked.body, /Safety audit: <span class="err">blocked<\/span>/);
  t.match(blocked.body, /<tr data-rule="[a-z-]+"><td data-label="Rule" class="mono">[a-z-]+<\/td><td data-label="Line">2:\d+<\/td>/, 'the finding with its line');
  t.match(blocked.body, /name="approve"/, 'an admin may approve');
  t.match((await post(fx, reader, '/jobs/new', [...danger, ['action', 'preview']])).body, /Only an admin can approve a blocked script/, 'a readonly operator may preview, not approve');
  const refused = await post(fx, admin, '/jobs/new', [...danger, ['action', 'launch']]);
  t.equal(refused.status, 400, 'launching a blocked script without approval is refused');
  t.match(refused.body, /role="alert">[^<]*(block|audit)/i);
  t.match(refused.body, /Safety audit: <span class="err">blocked<\/span>/, 'the refusal shows the verdict again');
  tick(fx);
  const approved = await post(fx, admin, '/jobs/new', [...danger, ['approve', 'on'], ['reason', 'wiping a scratch host'], ['dryRun', 'on'], ['action', 'launch']]);
  t.equal(approved.status, 303, approved.body.slice(0, 300));
  const dryId = jobIdOf(approved.location);
  const dry = (await fx.json('GET', `/api/v1/jobs/${dryId}`)).json();
  t.equal(dry.dryRun, true, 'launched as a dry run');

  // Field errors re-render the form with the message and keep the input.
  const bad = await post(fx, admin, '/jobs/new', { targets: 'host:h1', source: 'echo x', timeout: '0', action: 'launch' });
  t.equal(bad.status, 400);
  t.match(bad.body, /role="alert">the timeout must be a whole number from 1 to 86400/);
  t.match(bad.body, /value="host:h1"/);
  const badPick = await post(fx, admin, '/jobs/new', [['pick', 'group:x,host:y'], ['action', 'preview']]);
  t.equal(badPick.status, 400);
  t.match(badPick.body, /not a target pick/);
  const unknown = await post(fx, admin, '/jobs/new', { targets: 'host:nobody', source: 'echo x', action: 'launch' });
  t.ok(unknown.status >= 400 && unknown.status < 500, `a selector matching no runnable host is refused (${unknown.status})`);
  t.match(unknown.body, /role="alert">/);
  const badVar = await post(fx, admin, '/jobs/new', { targets: 'host:h1', source: 'echo x', vars: 'NOPE', action: 'preview' });
  t.equal(badVar.status, 400);
  t.match(badVar.body, /job variables, line 1/);

  // Launch for real on h1 and h2.
  tick(fx);
  const launched = await post(fx, admin, '/jobs/new', { name: 'hello <b>all</b>', targets: 'group:web', source: 'echo hello', lang: 'shell', timeout: '60', action: 'launch' });
  t.equal(launched.status, 303, launched.body.slice(0, 400));
  const id = jobIdOf(launched.location);
  const running = await get(fx, admin, `/jobs/${id}`);
  t.equal(running.status, 200);
  t.match(running.body, /<h1 class="wrap">hello &lt;b&gt;all&lt;\/b&gt; <span class="s jb-running">running<\/span>/);
  t.match(running.body, /<meta http-equiv="refresh" content="5">/, 'a running job refreshes itself');
  t.match(running.body, /<tr data-host="h1">/);
  t.match(running.body, /id="progress"><div class="pbar" role="img" aria-label="0 of 2 done">/);
  t.match(running.body, /action="\/jobs\/[^"]+\/cancel"/, 'cancel while running');
  t.notMatch(running.body, /\/redo"/, 'no redo while running');
  t.match(running.body, /Not run on<\/dt><dd id="unavailable"><div><span class="mono">h3<\/span>/, 'who was not run on, and why');
  t.notMatch((await get(fx, admin, `/jobs/${id}?refresh=0`)).body, /http-equiv="refresh"/, '?refresh=0 pauses');
  t.notMatch((await get(fx, reader, `/jobs/${id}`)).body, /<form method="post" action="\/jobs/, 'a readonly operator sees no action');

  // The agents answer: h1 succeeds with long output (truncated), h2 fails.
  await answer(h1, id, 0, { state: 'succeeded', exitCode: 0, stdout: 'hello <script>x</script>\n[output truncated]', stdoutTruncated: true });
  await answer(h2, id, 0, { state: 'failed', exitCode: 3, stderr: 'no such file' });
  await jobState(fx, id, 'failed');
  const done = await get(fx, admin, `/jobs/${id}`);
  t.notMatch(done.body, /http-equiv="refresh"/, 'a finished job does not refresh');
  t.match(done.body, /aria-label="2 of 2 done"/);
  t.match(done.body, /<tr data-host="h2"><td data-label="Host"><a href="\/hosts\/h2">h2<\/a><\/td><td data-label="State"><span class="s jb-failed">failed<\/span><\/td>\s*<td data-label="Exit" class="num">3<\/td>/);
  t.ok(done.body.indexOf('data-host="h2"') < done.body.indexOf('data-host="h1"'), 'failed hosts first');
  t.match(done.body, /<details class="out" id="out-h1" data-host="h1"><summary>/, 'a succeeded host\'s output is folded');
  t.match(done.body, /<details class="out" id="out-h2" data-host="h2" open>/, 'a failed host\'s output is open');
  t.match(done.body, /stdout · <span class="trunc">truncated<\/span><\/div><pre class="out" tabindex="0">hello &lt;script&gt;x&lt;\/script&gt;/);
  t.match(done.body, /<pre class="out err" tabindex="0">no such file<\/pre>/);
  t.match(done.body, /Redo failed \(1\)/);
  t.match(done.body, /href="\/jobs\/[^"?]+\?state=failed">failed \(1\)/, 'host state filters');
  const filtered = await get(fx, admin, `/jobs/${id}?state=failed`);
  t.notMatch(filtered.body, /<tr data-host="h1">/, 'the filter keeps only failed hosts');

  // Redo failed: a new job on h2 only.
  t.equal((await post(fx, reader, `/jobs/${id}/redo`, { hosts: 'failed' })).status, 403, 'readonly may not redo');
  t.equal((await post(fx, admin, `/jobs/${id}/redo`, { hosts: 'some' })).status, 400, 'hosts must be failed or all');
  tick(fx);
  const redo = await post(fx, admin, `/jobs/${id}/redo`, { hosts: 'failed' });
  t.equal(redo.status, 303, redo.body.slice(0, 300));
  const redoId = jobIdOf(redo.location);
  t.not(redoId, id);
  const redoPage = await get(fx, admin, `/jobs/${redoId}`);
  t.match(redoPage.body, new RegExp(`Redo of</dt><dd><a href="/jobs/${id}">`));
  t.match(redoPage.body, /<tr data-host="h2">/);
  t.notMatch(redoPage.body, /<tr data-host="h1">/, 'only the failed host runs again');

  // Cancel the redo: guards first, then the action.
  t.equal((await post(fx, reader, `/jobs/${redoId}/cancel`, {})).status, 403, 'readonly may not cancel');
  t.equal((await post(fx, undefined, `/jobs/${redoId}/cancel`, {})).status, 401, 'no session');
  t.equal((await post(fx, admin, `/jobs/${redoId}/cancel`, {}, { origin: 'http://evil.example' })).status, 403, 'cross-origin');
  t.equal((await rawRequest(fx.base, { method: 'POST', path: `/jobs/${redoId}/cancel`, headers: { cookie: admin, origin: fx.base, 'content-type': 'application/json' }, body: '{}' })).status, 415);
  const cancel = await post(fx, admin, `/jobs/${redoId}/cancel`, {});
  t.equal(cancel.status, 303);
  t.equal(cancel.location, `/jobs/${redoId}?done=cancelled`);
  t.match((await get(fx, admin, cancel.location!)).body, /role="status">Cancel requested\./);
  await jobState(fx, redoId, 'cancelled');
  const again = await post(fx, admin, `/jobs/${redoId}/cancel`, {});
  t.ok(again.status === 303 || again.status === 409, `cancelling a cancelled job is harmless or refused on the page (${again.status})`);

  // A refused action re-renders the job page with the service's message.
  const redoAll = await post(fx, admin, `/jobs/${id}/confirm`, { step: '0', action: 'continue' });
  t.equal(redoAll.status, 409, 'confirming a step that does not wait is a conflict');
  t.match(redoAll.body, /role="alert">/);
  t.equal((await post(fx, admin, `/jobs/${id}/confirm`, { step: 'x', action: 'continue' })).status, 400);
  t.equal((await post(fx, admin, `/jobs/${id}/confirm`, { step: '0', action: 'maybe' })).status, 400);
  t.equal((await post(fx, admin, '/jobs/no-such-job/cancel', {})).status, 404);
  t.equal((await post(fx, admin, '/jobs/bad%20id/cancel', {})).status, 404);

  // Confirm: a plan with a confirm step waits; Continue lets it go on.
  tick(fx);
  const conf = await fx.json('POST', '/api/v1/jobs', { targets: 'host:h1', steps: [{ kind: 'confirm', message: 'Go <ahead>?' }, { kind: 'script', script: { lang: 'shell', source: 'echo after' } }] });
  t.equal(conf.status, 201, conf.body.toString());
  const confId = conf.json().id as string;
  await jobState(fx, confId, 'paused');
  const paused = await get(fx, admin, `/jobs/${confId}`);
  t.match(paused.body, /Go &lt;ahead&gt;\?/);
  t.match(paused.body, /<input type="hidden" name="step" value="0"><input type="hidden" name="action" value="continue"><button class="btn primary" type="submit">Continue<\/button>/);
  t.match((await get(fx, reader, `/jobs/${confId}`)).body, /waiting for an admin to continue or stop/);
  t.equal((await post(fx, reader, `/jobs/${confId}/confirm`, { step: '0', action: 'continue' })).status, 403, 'readonly may not confirm');
  const cont = await post(fx, admin, `/jobs/${confId}/confirm`, { step: '0', action: 'continue' });
  t.equal(cont.status, 303);
  t.equal(cont.location, `/jobs/${confId}?done=continued`);
  await jobState(fx, confId, 'running');
  t.match((await get(fx, admin, cont.location!)).body, /The job continues\./);
  tick(fx);
  const conf2 = (await fx.json('POST', '/api/v1/jobs', { targets: 'host:h2', steps: [{ kind: 'confirm', message: 'stop me' }] })).json().id as string;
  await jobState(fx, conf2, 'paused');
  const stop = await post(fx, admin, `/jobs/${conf2}/confirm`, { step: '0', action: 'stop' });
  t.equal(stop.location, `/jobs/${conf2}?done=stopped`);
  t.match((await get(fx, admin, stop.location!)).body, /stopped at the confirmation/);

  // Readonly cannot launch; guards on the launch form.
  t.equal((await post(fx, reader, '/jobs/new', { targets: 'host:h1', source: 'echo x', action: 'launch' })).status, 403);
  t.equal((await post(fx, admin, '/jobs/new', { targets: 'host:h1', source: 'echo x', action: 'launch' }, {})).status, 403, 'no Origin/Referer');
  t.equal((await post(fx, undefined, '/jobs/new', { targets: 'host:h1', source: 'echo x', action: 'launch' })).status, 401);
  const huge = await rawRequest(fx.base, { method: 'POST', path: '/jobs/new', headers: { cookie: admin, origin: fx.base, 'content-type': form }, body: `source=${'x'.repeat(400 * 1024)}` });
  t.equal(huge.status, 413, 'the form body is bounded');

  // The list: newest first, states, who; a page before a cursor; bad cursors refused.
  const list = await get(fx, admin, '/jobs');
  const order = [...list.body.matchAll(/<tr data-job="([^"]+)">/g)].map((m) => m[1]);
  t.same(order, [conf2, confId, redoId, id, dryId], 'newest first');
  t.match(list.body, /<a href="\/jobs\/[^"]+">hello &lt;b&gt;all&lt;\/b&gt;<\/a>/);
  t.match(list.body, /<td data-label="By">admin<\/td>/);
  t.match(list.body, /<span class="muted">\(dry run\)<\/span>/);
  t.match(list.body, /http-equiv="refresh"/, 'the list refreshes while a job runs');
  const older = await get(fx, admin, `/jobs?before=${confId}`);
  t.same([...older.body.matchAll(/<tr data-job="([^"]+)">/g)].map((m) => m[1]), [redoId, id, dryId]);
  t.match(older.body, /href="\/jobs">Newest/);
  t.equal((await get(fx, admin, '/jobs?before=%3Cx%3E')).status, 400);

  // Unknown jobs are a page, not an error body.
  const missing = await get(fx, admin, '/jobs/nope');
  t.equal(missing.status, 404);
  t.match(missing.body, /No such job/);
  t.equal((await get(fx, admin, '/jobs/a.b')).status, 404);
  for (const path of ['/jobs', '/jobs/new', `/jobs/${id}`, '/plans']) {
    const anon = await rawRequest(fx.base, { method: 'GET', path });
    t.equal(anon.status, 302, `${path} without a session goes to the login`);
  }
});

t.test('plans: list, steps, run with a targets override', async (t) => {
  const fx = await startServer(t);
  t.teardown(closeAuditWorker);
  t.equal((await fx.publish(repo)).status, 201);
  await fx.approvedAgent('h1');
  await fx.approvedAgent('h2');
  const admin = await login(fx);
  const reader = await login(fx, await fx.token('readonly'));
  t.match((await get(fx, admin, '/plans')).body, /No saved plans/);
  const created = await fx.json('POST', '/api/v1/plans', {
    name: 'rolling restart',
    description: '<b>restart</b> the app',
    targets: 'group:web',
    steps: [
      { name: 'check', kind: 'script', script: { lang: 'shell', source: 'echo ok' } },
      { name: 'approve', kind: 'confirm', message: 'go on?' },
      { name: 'again', kind: 'script', onFailure: 'ignore', targets: { failedOf: 0 }, script: { lang: 'shell', source: 'echo retry' } },
    ],
  });
  t.equal(created.status, 201, created.body.toString());
  const planId = created.json().id as string;
  const list = await get(fx, admin, '/plans');
  t.match(list.body, new RegExp(`<tr data-plan="${planId}"><td data-label="Plan"><a href="/plans/${planId}">rolling restart</a><div class="muted">&lt;b&gt;restart&lt;/b&gt; the app</div>`));
  t.match(list.body, /<td data-label="Steps" class="num">3<\/td><td data-label="Targets" class="mono">group:web<\/td>/);
  const page = await get(fx, admin, `/plans/${planId}`);
  t.equal(page.status, 200);
  t.match(page.body, /<td data-label="Kind">confirm<\/td><td data-label="On failure">stop<\/td>/);
  t.match(page.body, /failed hosts of step 1/);
  t.match(page.body, /<label for="targets">Targets/);
  t.match((await get(fx, reader, `/plans/${planId}`)).body, /Only an admin can run a plan/);
  t.equal((await post(fx, reader, `/plans/${planId}/run`, { targets: 'host:h1' })).status, 403, 'readonly may not run');
  t.equal((await post(fx, admin, `/plans/${planId}/run`, { targets: 'host:h1' }, { origin: 'http://evil.example' })).status, 403);
  const run = await post(fx, admin, `/plans/${planId}/run`, { targets: 'host:h1', dryRun: 'on' });
  t.equal(run.status, 303, run.body.slice(0, 300));
  const job = (await fx.json('GET', `/api/v1/jobs/${jobIdOf(run.location)}`)).json();
  t.equal(job.targets, 'host:h1', 'the override replaced the plan targets');
  t.equal(job.dryRun, true);
  const bad = await post(fx, admin, `/plans/${planId}/run`, { targets: 'host:nobody' });
  t.ok(bad.status >= 400 && bad.status < 500, `no runnable host: refused on the plan page (${bad.status})`);
  t.match(bad.body, /role="alert">[\s\S]*value="host:nobody"/);
  t.equal((await get(fx, admin, '/plans/pl_nope')).status, 404);
  t.match((await get(fx, admin, '/plans/%3Cx%3E')).body, /No such plan/);
  t.equal((await post(fx, admin, '/plans/pl_nope/run', {})).status, 404);
});
