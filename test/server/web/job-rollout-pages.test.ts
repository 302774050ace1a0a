/**
 * The launch form's "Deliver in batches" part over HTTP against the in-process server with its
 * real job service and rollout engine (1 s driver, here 100 ms) and signed agent requests on the
 * job channel: the fieldset and its labels; a launch with batches starts a job rollout and
 * redirects to its page, whose first batch job runs on one host and then waits at the manual
 * gate; bad batch values re-render the form with the message and what was typed; nothing starts
 * without batches filled in; the form's guards (admin, same origin) hold.
 */
import t from 'tap';
import { closeAuditWorker } from '../../../compiler/audit/index.js';
import { waitFor } from '../../helpers/e2e-fleet.js';
import { rawRequest, startServer, type ServerFixture, type TestAgent } from '../../helpers/server-fixture.js';

const repo: Record<string, string> = {
  'stead.yaml': 'stead: 1\nname: console-job-rollouts\n',
  'inventory/hosts.yaml': 'hosts:\n  h1: {idc: sz}\n  h2: {idc: gz}\n  h3: {idc: sz}\n',
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

const post = async (fx: ServerFixture, cookie: string | undefined, fields: Record<string, string>, headers: Record<string, string> = { origin: fx.base }): Promise<{ status: number; body: string; location: string | undefined }> => {
  const r = await rawRequest(fx.base, { method: 'POST', path: '/jobs/new', headers: { ...(cookie ? { cookie } : {}), 'content-type': form, ...headers }, body: new URLSearchParams(fields).toString() });
  return { status: r.status, body: r.body.toString(), location: r.headers.location };
};

/** The agent side of one dispatch: poll, start, answer success. */
async function answer(agent: TestAgent, jobId: string): Promise<void> {
  const id = `${jobId}.0.${agent.host}`;
  const poll = await agent.request('GET', `/api/v1/hosts/${agent.host}/jobs?wait=0`);
  if (poll.status !== 200 || !poll.json().work.some((w: { id: string }) => w.id === id)) throw new Error(`poll ${agent.host}: ${poll.status} ${poll.body.toString()}`);
  const start = await agent.request('POST', `/api/v1/hosts/${agent.host}/jobs/${id}/start`, {});
  if (start.status !== 200 || start.json().run !== true) throw new Error(`start ${id}: ${start.status} ${start.body.toString()}`);
  const now = new Date(agent.fx.clock.now()).toISOString();
  const r = await agent.request('POST', `/api/v1/hosts/${agent.host}/jobs/${id}/result`, { state: 'succeeded', exitCode: 0, stdout: 'ok\n', stderr: '', startedAt: now, finishedAt: now });
  if (r.status !== 200) throw new Error(`result ${id}: ${r.status} ${r.body.toString()}`);
}

t.test('the launch form delivers a job in batches', async (t) => {
  const fx = await startServer(t, { rollouts: { driver: { tickMs: 100 } } });
  t.teardown(closeAuditWorker);
  t.equal((await fx.publish(repo)).status, 201);
  const agents: Record<string, TestAgent> = {};
  for (const h of ['h1', 'h2', 'h3']) agents[h] = await fx.approvedAgent(h);
  const admin = await login(fx);
  const reader = await login(fx, await fx.token('readonly'));
  const base = { targets: 'group:web', source: 'echo hello', lang: 'shell', timeout: '60', action: 'launch' };
  const rollouts = async (): Promise<unknown[]> => (await fx.json('GET', '/api/v1/rollouts')).json().rollouts as unknown[];
  const jobs = async (): Promise<unknown[]> => (await fx.json('GET', '/api/v1/jobs')).json().jobs as unknown[];

  const blank = await get(fx, admin, '/jobs/new');
  t.equal(blank.status, 200);
  t.match(blank.body, /<fieldset id="batches-set"><legend>Deliver in batches <span class="muted">\(optional\)<\/span><\/legend>/);
  for (const id of ['batches', 'gate', 'waitBetween', 'maxFailures']) t.match(blank.body, new RegExp(`<label for="${id}">[\\s\\S]*id="${id}"`), `${id} has a label`);
  t.match(blank.body, /<option value="auto" selected>/, 'auto by default');
  t.notMatch(blank.body, /<script(?! src="\/assets\/)|style="[^"]*(position|width:\s*[4-9][0-9]{2}px)/, 'no inline script; nothing wider than a phone');
  t.match(String(blank.headers['content-security-policy']), /^default-src 'none'; .*form-action 'self'/, 'the console CSP is kept');

  await t.test('bad batch values: the form again with the message and what was typed; nothing starts', async (t) => {
    for (const [fields, message] of [
      [{ batches: '1,,2' }, /the batches are comma-separated counts/],
      [{ batches: '1,100%', waitBetween: '1.5' }, /the wait between batches must be a whole number of seconds from 0 to 604800/],
      [{ batches: '1,100%', maxFailures: 'ten' }, /the failures tolerated are a number of hosts \(3\) or a percentage/],
      [{ batches: '1,100%', maxFailures: '101%' }, /the failures tolerated/],
      [{ gate: 'manual' }, /write the batches \(such as 1,10%,100%\) to deliver in batches/],
      [{ batches: '1,100%', dryRun: 'on' }, /a dry run is not delivered in batches/],
    ] as const) {
      const r = await post(fx, admin, { ...base, ...fields });
      t.equal(r.status, 400, JSON.stringify(fields));
      t.match(r.body, message);
      if ('batches' in fields) t.match(r.body, `id="batches" type="text" name="batches" value="${fields.batches}"`, 'the batches are kept');
    }
    const pv = await post(fx, admin, { ...base, batches: 'x', action: 'preview' });
    t.equal(pv.status, 400, 'a preview checks the batches too');
    t.same(await rollouts(), [], 'no rollout');
    t.same(await jobs(), [], 'no job');
  });

  await t.test('guards: admin only, same origin, a session', async (t) => {
    t.equal((await post(fx, reader, { ...base, batches: '1,100%' })).status, 403);
    t.equal((await post(fx, admin, { ...base, batches: '1,100%' }, {})).status, 403, 'no Origin/Referer');
    t.equal((await post(fx, admin, { ...base, batches: '1,100%' }, { origin: 'http://evil.example' })).status, 403);
    t.equal((await post(fx, undefined, { ...base, batches: '1,100%' })).status, 401);
    t.same(await rollouts(), [], 'no rollout');
  });

  await t.test('filled in: a job rollout, the rollout page, the first batch job on one host, the manual gate', async (t) => {
    const r = await post(fx, admin, { ...base, name: 'canary <b>hello</b>', batches: ' 1,100% ', gate: 'manual', waitBetween: '0', maxFailures: '10%' });
    t.equal(r.status, 303, r.body.slice(0, 400));
    const id = /^\/rollouts\/([A-Za-z0-9_-]+)$/.exec(r.location ?? '')?.[1];
    t.ok(id, `redirected to the rollout: ${r.location}`);
    const view = (await fx.json('GET', `/api/v1/rollouts/${id}`)).json() as { kind: string; policy: unknown; createdBy: string; job: { name: string; targets: string; steps: unknown[] }; batches: { hosts: string[]; state: string; jobId?: string }[] };
    t.equal(view.kind, 'job');
    t.same(view.policy, { batches: '1,100%', gate: 'manual', waitBetweenSeconds: 0, maxFailures: { percent: 10 } }, 'the policy the form built');
    t.equal(view.job.name, 'canary <b>hello</b>');
    t.equal(view.job.targets, 'group:web');
    t.same(view.batches.map((b) => b.hosts.length), [1, 2]);

    const pageView = await get(fx, admin, r.location!);
    t.equal(pageView.status, 200);
    t.match(pageView.body, /Batch 1/);
    t.notMatch(pageView.body, /<b>hello<\/b>/, 'the name is text');

    const first = await waitFor('the first batch job', async () => {
      const x = (await fx.json('GET', `/api/v1/rollouts/${id}`)).json() as typeof view;
      return x.batches[0]?.jobId;
    }, 60_000);
    const job = (await fx.json('GET', `/api/v1/jobs/${first}`)).json() as { hosts: { host: string }[] };
    t.same(job.hosts.map((h) => h.host), view.batches[0]!.hosts, 'the first batch job runs on one host');
    await answer(agents[view.batches[0]!.hosts[0]!]!, first);
    await waitFor('waiting at the manual gate', async () => ((await fx.json('GET', `/api/v1/rollouts/${id}`)).json().state === 'waiting' ? true : undefined), 60_000);
    const gate = await get(fx, admin, r.location!);
    t.match(gate.body, new RegExp(`<a href="/jobs/${first}">job</a>`), 'the batch links to its job');
    t.match(gate.body, /Approve next batch/);
    t.equal(((await fx.json('GET', '/api/v1/jobs')).json().jobs as unknown[]).length, 1, 'only the first batch ran');
    t.equal((await fx.json('POST', `/api/v1/rollouts/${id}/abort`, {})).status, 200);
  });

  await t.test('not filled in: an ordinary job, as before', async (t) => {
    fx.clock.advance(1000);
    const r = await post(fx, admin, { ...base, batches: '', gate: 'auto', waitBetween: '', maxFailures: '' });
    t.equal(r.status, 303);
    t.match(r.location, /^\/jobs\/[A-Za-z0-9_-]+$/);
  });
});
