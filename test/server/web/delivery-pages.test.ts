/**
 * The change-delivery console pages over HTTP against the in-process server with its real
 * services (revisions, fleet plans, the rollout engine and its 1 s driver): history with the live
 * revision, a revision, the plan of a change to one group's variable (exactly that group's hosts,
 * with the rendered file's diff), a rollout with a manual gate approved, paused and aborted from
 * the page's forms; the forms' guards (session, same origin, admin role); hostile text inert.
 */
import t from 'tap';
import { rawRequest, startServer, type ServerFixture, type TestAgent } from '../../helpers/server-fixture.js';
import { makeReport } from '../../helpers/server-reports.js';
import { waitFor } from '../../helpers/e2e-fleet.js';

const evil = '<script>window.__pwned=1</script>"><img src=x onerror=alert(1)>{{7*7}}';

function repo(greeting: string): Record<string, string> {
  return {
    'stead.yaml': 'stead: 1\nname: delivery\n',
    'inventory/hosts.yaml': 'hosts:\n  w1: {idc: a}\n  w2: {idc: b}\n  d1: {idc: a}\n',
    'groups/web.yaml': `description: web\nkind: custom\npriority: 10\nhosts: [w1, w2]\nroles: [app]\nvars:\n  greeting: ${greeting}\n`,
    'groups/db.yaml': 'description: db\nkind: custom\npriority: 10\nhosts: [d1]\nroles: [app]\nvars:\n  greeting: db\n',
    'roles/app/role.yaml': 'description: app\nresources:\n  - type: file\n    path: /srv/motd\n    content: "{{ greeting }}\\n"\n    mode: "0644"\n',
  };
}

async function login(fx: ServerFixture, token = fx.adminToken): Promise<string> {
  const r = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin: fx.base, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(token)}` });
  if (r.status !== 302) throw new Error(`login: ${r.status}`);
  return String(r.headers['set-cookie']![0]).split(';')[0]!;
}

const page = async (fx: ServerFixture, cookie: string, path: string): Promise<{ status: number; body: string; location?: string }> => {
  const r = await rawRequest(fx.base, { method: 'GET', path, headers: { cookie } });
  return { status: r.status, body: r.body.toString(), ...(r.headers.location ? { location: String(r.headers.location) } : {}) };
};

const post = async (fx: ServerFixture, cookie: string | undefined, path: string, fields: Record<string, string>, headers: Record<string, string> = { origin: fx.base }): Promise<{ status: number; body: string; location: string | undefined }> => {
  const r = await rawRequest(fx.base, { method: 'POST', path, headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}), ...headers }, body: new URLSearchParams(fields).toString() });
  return { status: r.status, body: r.body.toString(), location: r.headers.location ? String(r.headers.location) : undefined };
};

t.test('history, revision, plan and a rollout steered from the console', async (t) => {
  const fx = await startServer(t, { rollouts: { driver: { tickMs: 100 } } });
  const v1 = (await fx.json('POST', '/api/v1/revisions', { files: repo('hello'), message: 'first' })).json().id as string;
  const agents: Record<string, TestAgent> = {};
  for (const h of ['w1', 'w2', 'd1']) agents[h] = await fx.approvedAgent(h);
  const pub2 = await fx.json('POST', '/api/v1/revisions', { files: repo('bonjour'), message: evil });
  t.equal(pub2.status, 201);
  const v2 = pub2.json().id as string;
  const cookie = await login(fx);

  const hist = await page(fx, cookie, '/revisions');
  t.equal(hist.status, 200);
  t.match(hist.body, new RegExp(`<tr data-revision="${v2}" data-live>`), 'the live revision is marked');
  t.match(hist.body, new RegExp(`<tr data-revision="${v1}">`));
  t.match(hist.body, new RegExp(`href="/revisions/${v1}/diff/${v2}">diff</a>`), 'a diff link to the previous revision');
  t.match(hist.body, /<form class="card compare" method="get" action="\/revisions\/diff"/);
  t.notMatch(hist.body, /<script>|<img src=x|>49</, 'the message is text');
  t.match(hist.body, /&lt;script&gt;window.__pwned=1&lt;\/script&gt;/);
  t.match(hist.body, /<a href="\/rollouts">Rollouts<\/a>/, 'Rollouts in the nav');

  const rev = await page(fx, cookie, `/revisions/${v1}`);
  t.equal(rev.status, 200);
  t.match(rev.body, /Make live again/, 'an old revision can be made live again (admin)');
  t.equal((await page(fx, cookie, `/revisions/${'f'.repeat(64)}`)).status, 404);
  t.equal((await page(fx, cookie, '/revisions/not-an-id')).status, 404);
  const cmp = await page(fx, cookie, `/revisions/diff?from=${v1}&to=${v2}`);
  t.equal(cmp.status, 302);
  t.equal(cmp.location, `/revisions/${v1}/diff/${v2}`);

  const diff = await page(fx, cookie, `/revisions/${v1}/diff/${v2}`);
  t.equal(diff.status, 200, diff.body.slice(0, 300));
  t.same([...diff.body.matchAll(/<details class="file" data-path="([^"]+)"/g)].map((m) => m[1]), ['groups/web.yaml'], 'one file changed');
  t.match(diff.body, /<span class="s dv-modified">modified<\/span>/);
  t.match(diff.body, /<span class="del">-  greeting: hello<\/span><span class="add">\+  greeting: bonjour<\/span>/);
  t.match(diff.body, /id="diff-summary">1 file\(s\) · <span class="add-n">\+1<\/span> <span class="del-n">−1<\/span>/);
  if (fx.server.services.git && (await fx.server.services.git.available())) {
    t.match(hist.body, new RegExp(`<tr data-revision="${v2}" data-live>\n<td data-label="Revision">.*\n<td data-label="Commit" class="mono">[0-9a-f]{12}</td>`), 'the commit of each entry');
  }

  // The plan of v2 against v1: a change to the web group's variable touches exactly w1 and w2.
  const plan = await page(fx, cookie, `/revisions/${v2}/plan?base=${v1}`);
  t.equal(plan.status, 200, plan.body.slice(0, 500));
  t.match(plan.body, /<div class="n" data-changed>2<\/div>/);
  t.match(plan.body, /<div class="n" data-failed>0<\/div>/);
  t.same([...plan.body.matchAll(/<details class="file" data-host="([^"]+)"/g)].map((m) => m[1]).sort(), ['w1', 'w2'], 'the hosts of the web group, no other');
  t.match(plan.body, /data-resource="file:\/srv\/motd"/);
  t.match(plan.body, /<span class="del">-hello<\/span>/);
  t.match(plan.body, /<span class="add">\+bonjour<\/span>/);
  t.match(plan.body, /1 host\(s\) unchanged/);

  // A rollout of v3 with a manual gate: the first batch is one host.
  const pub3 = await fx.json('POST', '/api/v1/revisions', { files: repo('hallo'), message: 'canary', rollout: { batches: '1,100%', gate: 'manual' } });
  t.equal(pub3.status, 201, pub3.body.toString());
  const v3 = pub3.json().id as string;
  const rid = pub3.json().rollout.id as string;
  const list = await page(fx, cookie, '/rollouts');
  t.equal(list.status, 200);
  t.match(list.body, new RegExp(`<tr data-rollout="${rid}">`));
  const first = await waitFor('batch 0 started', async () => {
    const r = (await fx.json('GET', `/api/v1/rollouts/${rid}`)).json() as { batches: { state: string; hosts: string[] }[] };
    return r.batches[0]?.state === 'running' ? r.batches[0].hosts : undefined;
  }, 60_000);
  const running = await page(fx, cookie, `/rollouts/${rid}`);
  t.equal(running.status, 200);
  t.match(running.body, /<meta http-equiv="refresh" content="5">/, 'a running rollout refreshes itself');
  t.match(running.body, /<li class="batch running current" data-batch="0" data-state="running">/);
  t.match(running.body, /data-action="pause">Pause<\/button>/);
  t.match(running.body, /data-action="abort">Abort<\/button>/);
  t.notMatch(running.body, /data-action="continue"/, 'nothing to approve while a batch runs');

  // The canary reports a run of v3: the batch passes, the rollout waits at the manual gate.
  fx.clock.advance(1000);
  const h = first[0]!;
  const report = { ...makeReport(h, 'run-canary', { startedAt: new Date(fx.clock.now()).toISOString() }), revision: v3 };
  t.equal((await agents[h]!.request('POST', `/api/v1/hosts/${h}/reports`, report)).status, 200);
  await waitFor('waiting at the gate', async () => ((await fx.json('GET', `/api/v1/rollouts/${rid}`)).json().state === 'waiting' ? true : undefined), 60_000);
  const gate = await page(fx, cookie, `/rollouts/${rid}`);
  t.match(gate.body, /waiting for an operator to approve the next batch/);
  t.match(gate.body, /<li class="batch succeeded current" data-batch="0" data-state="succeeded">/);
  t.match(gate.body, /1 passed · 0 failed/);
  t.match(gate.body, new RegExp(`formaction="/rollouts/${rid}/continue" data-action="continue">Approve next batch</button>`));

  // Guards: no session, another origin, a readonly operator.
  t.equal((await post(fx, undefined, `/rollouts/${rid}/continue`, {})).status, 401);
  t.equal((await post(fx, cookie, `/rollouts/${rid}/continue`, {}, { origin: 'http://evil.example' })).status, 403);
  const ro = await login(fx, await fx.token('readonly'));
  t.equal((await post(fx, ro, `/rollouts/${rid}/continue`, {})).status, 403);
  t.match((await page(fx, ro, `/rollouts/${rid}`)).body, /Only an admin can approve/);
  t.equal((await fx.json('GET', `/api/v1/rollouts/${rid}`)).json().state, 'waiting', 'still waiting');

  // Approve from the page: the second batch starts.
  const ok = await post(fx, cookie, `/rollouts/${rid}/continue`, { reason: 'canary looks fine' });
  t.equal(ok.status, 303);
  t.equal(ok.location, `/rollouts/${rid}?done=continue`);
  await waitFor('batch 1 started', async () => ((await fx.json('GET', `/api/v1/rollouts/${rid}`)).json().batches[1]?.state === 'running' ? true : undefined), 60_000);
  t.match((await page(fx, cookie, `/rollouts/${rid}?done=continue`)).body, /Continued: the next batch starts\./);

  // Pause, then abort, from the page.
  t.equal((await post(fx, cookie, `/rollouts/${rid}/pause`, {})).status, 303);
  const paused = await page(fx, cookie, `/rollouts/${rid}`);
  t.match(paused.body, /<span class="s dv-paused">paused<\/span>/);
  t.match(paused.body, /data-action="continue">Resume<\/button>/);
  t.equal((await post(fx, cookie, `/rollouts/${rid}/abort`, { reason: evil })).status, 303);
  const aborted = await page(fx, cookie, `/rollouts/${rid}`);
  t.match(aborted.body, /<span class="s dv-aborted">aborted<\/span>/);
  t.notMatch(aborted.body, /http-equiv="refresh"/, 'a finished rollout does not refresh');
  t.notMatch(aborted.body, /data-action=/, 'no buttons left');
  t.notMatch(aborted.body, /<script>|<img src=x/);
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, v2, 'the live revision never moved');

  // A refused action re-renders the page with the reason and the status.
  const refused = await post(fx, cookie, `/rollouts/${rid}/pause`, {});
  t.equal(refused.status, 409, refused.body.slice(0, 300));
  t.match(refused.body, /<p class="flash bad" role="alert">/);
  t.equal((await page(fx, cookie, '/rollouts/nope')).status, 404);
  t.equal((await rawRequest(fx.base, { method: 'GET', path: '/rollouts' })).status, 302, 'no session: to the login');

  // Make v1 live again from its page (a rollback: a new history entry).
  t.equal((await post(fx, ro, `/revisions/${v1}/activate`, {})).status, 403, 'not for a readonly operator');
  const act = await post(fx, cookie, `/revisions/${v1}/activate`, {});
  t.equal(act.status, 303);
  t.equal(act.location, '/revisions?done=activated');
  t.equal((await fx.json('GET', '/api/v1/revisions/live')).json().id, v1);
  const after = await page(fx, cookie, '/revisions?done=activated');
  t.match(after.body, /That revision is live again\./);
  t.match(after.body, new RegExp(`<tr data-revision="${v1}" data-live>`));
});
