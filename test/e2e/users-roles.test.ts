/**
 * Users, roles and scopes end to end (ADR 0020): a real `stead server` with two real agents,
 * pay-1 (business pay) and shop-1 (business shop). The admin adds a viewer and an operator
 * scoped to pay. Over the API: password logins give session tokens; the scoped operator runs a
 * real job on pay-1 (it succeeds on the agent) and is refused, naming the host, on shop-1 and on
 * a selector that reaches shop-1; inventory edits are checked before and after; fleet-wide
 * changes are refused. `stead login` saves a token the other commands use. In real headless
 * Chromium: log in with a password; the viewer sees no action and a forged form post is
 * refused; the scoped operator's launch on shop-1 is refused on the page.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { chromiumMissing, openBrowser, consolePasswordLogin } from '../helpers/browser.js';
import { buildOnce, hasCommand, waitFor, type ServerProcess } from '../helpers/e2e-fleet.js';
import { inventoryRepository, must, startFleet } from '../helpers/inventory-fleet.js';
import { runStead } from '../helpers/cli.js';

await buildOnce();
const ready = await hasCommand('server');

const terminal = new Set(['succeeded', 'failed', 'cancelled']);

async function call(server: ServerProcess, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await server.fetch(method, path, { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body !== undefined ? JSON.stringify(body) : undefined);
  let parsed: unknown;
  try {
    parsed = r.text ? JSON.parse(r.text) : undefined;
  } catch {
    parsed = r.text;
  }
  return { status: r.status, body: parsed };
}

async function login(server: ServerProcess, user: string, password: string): Promise<string> {
  const r = await server.fetch('POST', '/api/v1/login', { 'content-type': 'application/json' }, JSON.stringify({ user, password }));
  if (r.status !== 200) throw new Error(`login ${user}: ${r.status} ${r.text}`);
  return JSON.parse(r.text).token as string;
}

t.test('users, roles and scopes with real agents', { skip: ready ? false : 'the build has no `stead server` command' }, async (t) => {
  const dir = t.testdir({ fleet: { 'pay-1': { root: {}, data: {} }, 'shop-1': { root: {}, data: {} } }, home: {} });
  const hosts = [{ name: 'pay-1' }, { name: 'shop-1' }];
  const fleet = await startFleet(t, join(dir, 'fleet'), hosts.map((h) => h.name), inventoryRepository(hosts), 30);
  const server = fleet.server;
  must(await server.api('PATCH', '/api/v1/inventory/hosts/pay-1', { business: 'pay/api' }), 'business of pay-1');
  must(await server.api('PATCH', '/api/v1/inventory/hosts/shop-1', { business: 'shop' }), 'business of shop-1');

  const pw = { vera: 'vera viewer password', paula: 'paula pay operator pw' };
  must(await server.api('POST', '/api/v1/users', { name: 'vera', role: 'viewer', password: pw.vera }), 'add vera');
  must(await server.api('POST', '/api/v1/users', { name: 'paula', role: 'operator', password: pw.paula, scope: { business: ['pay'] } }), 'add paula');
  t.equal((await server.api('POST', '/api/v1/users', { name: 'weak', role: 'viewer', password: 'short' })).status, 400, 'a short password is refused');

  await t.test('API: logins, a scoped operator in and out of scope, a viewer', async (t) => {
    const bad = await server.fetch('POST', '/api/v1/login', { 'content-type': 'application/json' }, JSON.stringify({ user: 'paula', password: 'not her password' }));
    t.equal(bad.status, 401, 'a wrong password: 401');
    const unknown = await server.fetch('POST', '/api/v1/login', { 'content-type': 'application/json' }, JSON.stringify({ user: 'nobody', password: 'whatever password' }));
    t.equal(unknown.status, 401, 'an unknown user: the same 401');
    t.equal(JSON.parse(unknown.text).error.message, JSON.parse(bad.text).error.message, 'with the same message');

    const paula = await login(server, 'paula', pw.paula);
    const vera = await login(server, 'vera', pw.vera);
    t.match((await call(server, paula, 'GET', '/api/v1/whoami')).body, { name: 'paula', role: 'operator', scope: { business: ['pay'] }, kind: 'user' });

    // In scope: a real job on pay-1, run by its agent.
    const ok = await call(server, paula, 'POST', '/api/v1/jobs', { name: 'in scope', targets: 'host:pay-1', script: { lang: 'shell', source: 'echo "hello from $STEAD_HOST"' } });
    t.equal(ok.status, 201, `in scope: launched (${JSON.stringify(ok.body).slice(0, 200)})`);
    const job = await waitFor('the in-scope job to finish', async () => {
      const j = (await call(server, paula, 'GET', `/api/v1/jobs/${ok.body.id}?output=true`)).body;
      return terminal.has(j.state) ? j : undefined;
    }, 180_000);
    t.equal(job.state, 'succeeded', 'the job ran on the agent');
    t.match(JSON.stringify(job.hosts), /hello from pay-1/, 'with the agent\'s output');

    // Out of scope: refused, naming the host; nothing is launched.
    const before = (await server.api('GET', '/api/v1/jobs')).body.jobs.length;
    const out = await call(server, paula, 'POST', '/api/v1/jobs', { targets: 'host:shop-1', script: { lang: 'shell', source: 'echo no' } });
    t.equal(out.status, 403, 'out of scope: 403');
    t.match(out.body.error.message, /outside your scope.*shop-1/, 'naming the host');
    const mixed = await call(server, paula, 'POST', '/api/v1/jobs', { targets: 'group:fleet', script: { lang: 'shell', source: 'echo no' } });
    t.equal(mixed.status, 403, 'a selector reaching shop-1: 403');
    t.match(mixed.body.error.message, /1 of 2 hosts are outside your scope \(business pay\): shop-1/);
    const ro = await call(server, paula, 'POST', '/api/v1/rollouts', { job: { targets: 'group:fleet', script: { lang: 'shell', source: 'echo no' } }, policy: { batches: '1' } });
    t.equal(ro.status, 403, `a job rollout reaching shop-1: 403 (${ro.status})`);
    t.equal((await server.api('GET', '/api/v1/jobs')).body.jobs.length, before, 'no job was made');
    t.equal((await call(server, paula, 'POST', `/api/v1/jobs/${ok.body.id}/redo`, { hosts: 'all' })).status, 201, 'redo of an in-scope job');

    // Inventory: the record before and after must be in scope.
    t.equal((await call(server, paula, 'PATCH', '/api/v1/inventory/hosts/pay-1', { attributes: { owner: 'paula' } })).status, 200, 'edit an in-scope host');
    t.equal((await call(server, paula, 'PATCH', '/api/v1/inventory/hosts/shop-1', { attributes: { owner: 'paula' } })).status, 403, 'edit an out-of-scope host');
    t.equal((await call(server, paula, 'PATCH', '/api/v1/inventory/hosts/pay-1', { business: 'shop' })).status, 403, 'move a host out of scope');
    // Fleet-wide and admin changes.
    t.equal((await call(server, paula, 'POST', '/api/v1/schedules', { name: 'x', cron: '0 * * * *', job: { targets: 'host:pay-1', script: { lang: 'shell', source: 'true' } } })).status, 403, 'schedules need an unscoped operator');
    t.equal((await call(server, paula, 'GET', '/api/v1/users')).status, 403, 'users are for admins');

    // A viewer reads and changes nothing.
    t.equal((await call(server, vera, 'GET', '/api/v1/hosts')).status, 200, 'the viewer reads');
    t.equal((await call(server, vera, 'POST', '/api/v1/jobs', { targets: 'host:pay-1', script: { lang: 'shell', source: 'true' } })).status, 403, 'the viewer launches nothing');

    // A changed role reaches the session within the cache TTL (5 s).
    must(await server.api('PATCH', '/api/v1/users/vera', { role: 'operator' }), 'promote vera');
    await waitFor('the promotion to reach vera\'s session', async () => (await call(server, vera, 'GET', '/api/v1/whoami')).body.role === 'operator', 30_000);
    must(await server.api('PATCH', '/api/v1/users/vera', { role: 'viewer' }), 'demote vera');
    await waitFor('the demotion to reach vera\'s session', async () => (await call(server, vera, 'GET', '/api/v1/whoami')).body.role === 'viewer', 30_000);

    // Logout ends the session.
    t.equal((await call(server, paula, 'POST', '/api/v1/logout')).status, 204);
    await waitFor('the session to end', async () => (await call(server, paula, 'GET', '/api/v1/whoami')).status === 401, 30_000);

    // Every login, failed login, logout and user change is in the audit log, with the address.
    const audit = await server.api('GET', '/api/v1/audit/events?limit=500');
    t.equal(audit.status, 200, 'the audit search API answers');
    const actions = JSON.stringify(audit.body);
    for (const a of ['login.success', 'login.failure', 'logout', 'user.create', 'user.update']) t.match(actions, a, `${a} in the audit log`);
  });

  await t.test('CLI: stead login saves a session token the other commands use', async (t) => {
    const env = { STEAD_SERVER: server.url, HOME: join(dir, 'home'), XDG_CONFIG_HOME: '', STEAD_TOKEN: '', STEAD_TOKEN_FILE: '' };
    const pwFile = join(dir, 'pw');
    writeFileSync(pwFile, `${pw.paula}\n`, { mode: 0o600 });
    const li = await runStead(['login', '--user', 'paula', '--password-file', pwFile], { env });
    t.equal(li.code, 0, li.stderr);
    t.match(li.stdout, /Logged in as paula \(operator\)/);
    const saved = join(dir, 'home', '.config', 'stead', 'token');
    t.equal(statSync(saved).mode & 0o777, 0o600, 'the token file is 0600');
    t.match(readFileSync(saved, 'utf8'), /^sst_/);
    const denied = await runStead(['users', 'list'], { env });
    t.not(denied.code, 0, 'the saved login is used, and paula is no admin');
    t.match(denied.stderr, /only an admin/);
    const piped = await runStead(['login', '--user', 'vera', '--json'], { env, input: `${pw.vera}\n` });
    t.equal(piped.code, 0, piped.stderr);
    t.match(JSON.parse(piped.stdout), { user: 'vera', role: 'viewer' });
    const out = await runStead(['logout'], { env });
    t.equal(out.code, 0, out.stderr);
    const admin = await runStead(['users', 'list', '--json'], { env: { ...env, STEAD_TOKEN: server.adminToken } });
    t.equal(admin.code, 0, admin.stderr);
    t.same(JSON.parse(admin.stdout).users.map((u: { name: string }) => u.name), ['paula', 'vera']);
    const addPw = join(dir, 'pw2');
    writeFileSync(addPw, 'another long password\n');
    chmodSync(addPw, 0o600);
    const add = await runStead(['users', 'add', 'olga', '--role', 'operator', '--idc', 'sz', '--password-file', addPw], { env: { ...env, STEAD_TOKEN: server.adminToken } });
    t.equal(add.code, 0, add.stderr);
    t.match(add.stdout, /User olga \(operator, idc sz\) added/);
    const set = await runStead(['users', 'set', 'olga', '--no-scope', '--disable'], { env: { ...env, STEAD_TOKEN: server.adminToken } });
    t.equal(set.code, 0, set.stderr);
    t.match(set.stdout, /olga \(operator, all hosts, disabled\)/);
    const del = await runStead(['users', 'delete', 'olga'], { env: { ...env, STEAD_TOKEN: server.adminToken } });
    t.equal(del.code, 0, del.stderr);
  });

  await t.test('console in real Chromium: password login, a viewer and a scoped operator refused', { skip: chromiumMissing }, async (t) => {
    const { page } = await openBrowser(t, { width: 390, height: 800 });
    await consolePasswordLogin(page, server.url, 'vera', pw.vera);
    await page.goto(`${server.url}/jobs`);
    await page.waitForSelector('main h1');
    t.equal(await page.locator('a[href="/jobs/new"]').count(), 0, 'the viewer sees no launch button');
    await page.goto(`${server.url}/inventory/hosts/pay-1`);
    await page.waitForSelector('main h1');
    t.equal(await page.locator('form[method="post"][action*="/inventory/hosts/"]').count(), 0, 'nor a lifecycle form');
    // A forged post from the page's own origin (a viewer with a crafted form): refused by the server.
    const forged = (await page.evaluate(`fetch('/jobs/new', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'targets=host%3Apay-1&lang=shell&source=true&timeout=60&action=launch' }).then((r) => r.status)`)) as number;
    t.equal(forged, 403, 'a forged launch by the viewer: 403');
    const users = (await page.evaluate(`fetch('/users').then((r) => r.status)`)) as number;
    t.equal(users, 403, 'the users page is for admins');
    await page.context().clearCookies();

    await consolePasswordLogin(page, server.url, 'paula', pw.paula);
    await page.goto(`${server.url}/inventory/hosts/pay-1`);
    await page.waitForSelector('main h1');
    t.ok((await page.locator('form[method="post"][action*="/inventory/hosts/"]').count()) > 0, 'the scoped operator may change its own line\'s host');
    await page.goto(`${server.url}/inventory/hosts/shop-1`);
    await page.waitForSelector('main h1');
    t.equal(await page.locator('form[method="post"][action*="/inventory/hosts/"]').count(), 0, 'but sees no form on another line\'s host');
    await page.goto(`${server.url}/jobs/new`);
    await page.fill('#targets', 'host:shop-1');
    await page.fill('#source', 'echo from the browser');
    await page.click('button[name="action"][value="launch"]');
    await page.waitForSelector('.flash.bad');
    t.match(await page.textContent('.flash.bad'), /outside your scope.*shop-1/, 'the page says why the launch was refused');
    await page.goto(`${server.url}/account`);
    await page.waitForSelector('#password-form');
    const m = (await page.evaluate('({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })')) as { scroll: number; client: number };
    t.ok(m.scroll <= m.client, `the account page fits 390 px (${m.scroll} <= ${m.client})`);
    await page.screenshot({ path: join(dir, 'account-390.png') });
  });
});
