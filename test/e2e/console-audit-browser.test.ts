/**
 * The audit log end to end (issue 12): a real `stead server` process and real agent daemons;
 * changes made through every surface — publishing over the API, approving a key with the
 * console's form, a job launched with the `stead` CLI, a lifecycle changed with the console's
 * form, a git push is covered by test/e2e/git-push.test.ts' history — then, in real headless
 * Chromium, /audit lists each with its actor and client address, the filter form narrows it,
 * an event expands to its before/after diff, and the page fits 390 px (table → cards) with
 * labelled fields and 40 px controls. `stead audit` shows the same events.
 */
import { join } from 'node:path';
import t from 'tap';
import { consoleLogin, chromiumMissing, layoutProblems, openBrowser } from '../helpers/browser.js';
import { AgentProcess, buildOnce, fleetRepository, freePort, hasCommand, ServerProcess, steadAsOperator, waitFor } from '../helpers/e2e-fleet.js';

await buildOnce();
const ready = await hasCommand('server');
const why = chromiumMissing || (ready ? false : 'the build has no `stead server` command');

type Ev = { actor: string; action: string; target: string; address?: string; before?: unknown; after?: unknown };

t.test('audit log: changes from the API, the console and the CLI, read in Chromium', { skip: why }, async (t) => {
  const dir = t.testdir({ server: {}, a1: { root: {}, data: {} }, a2: { root: {}, data: {} } });
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  await server.start(t);
  t.teardown(() => {
    if (t.counts.fail > 0) t.comment(`server stderr (last 40 lines):\n${server.stderr.slice(-40).join('\n')}`);
  });
  t.equal((await server.publish(fleetRepository())).status, 201, 'published over the API');
  const hosts = ['a1', 'a2'] as const;
  const agents = hosts.map((h) => new AgentProcess({ host: h, server: server.url, root: join(dir, h, 'root'), dataDir: join(dir, h, 'data'), intervalSeconds: 5 }).start(t));
  t.teardown(() => Promise.all(agents.map((a) => a.kill())));
  for (const h of hosts) await waitFor(`${h} pending`, async () => (await server.api('GET', `/api/v1/agents/${h}`)).status === 200, 120_000);

  const { page, errors } = await openBrowser(t);
  const missing: string[] = [];
  page.on('response', (r) => {
    if (r.status() === 404) missing.push(r.url());
  });
  await consoleLogin(page, server.url, server.adminToken);
  // Approve a1 with the console's form, a2 over the API.
  await page.goto(`${server.url}/enrollment`);
  await page.click('#pending tr[data-host="a1"] button.approve');
  await page.waitForSelector('.flash:text("Key approved.")');
  t.equal((await server.api('POST', '/api/v1/agents/a2/approve')).status, 200);
  await agents[0]!.waitForRun('a1 first run', (r) => r.outcome === 'changed' || r.outcome === 'in-sync', 0, 180_000);

  // A job launched with the CLI, through the API.
  const run = await steadAsOperator(server, ['job', 'run', '--targets', 'host:a1', '--command', 'echo audited', '--wait', '--json']);
  t.equal(run.code, 0, run.stderr);
  const jobId = JSON.parse(run.stdout).id as string;

  // A lifecycle change with the console's form.
  await page.goto(`${server.url}/inventory/hosts/a2`);
  await page.selectOption('#lifecycle', 'maintenance');
  await page.getByLabel('Reason').fill('audit e2e');
  await page.click('button:text-is("Change lifecycle")');
  await page.waitForSelector('.flash[role=status]');

  // Each change is in the log once, by admin, from this machine's address.
  const events = await waitFor('the audit events', async () => {
    const r = await server.api('GET', '/api/v1/audit/events?limit=100');
    const evs = (r.body as { events?: Ev[] }).events ?? [];
    return ['revision.publish', 'agent.approve', 'job.launch', 'inventory.patch'].every((a) => evs.some((e) => e.action === a)) ? evs : undefined;
  });
  const one = (action: string, target: string): Ev | undefined => {
    const mine = events.filter((e) => e.action === action && e.target === target);
    t.equal(mine.length, 1, `${action} ${target} recorded once`);
    return mine[0];
  };
  const approveA1 = one('agent.approve', 'host:a1');
  one('agent.approve', 'host:a2');
  const launch = one('job.launch', `job:${jobId}`);
  const patch = one('inventory.patch', 'host:a2');
  const publish = events.find((e) => e.action === 'revision.publish');
  for (const e of [approveA1, launch, patch, publish]) {
    t.equal(e?.actor, 'admin', `${e?.action}: actor`);
    t.match(e?.address ?? '', /^(::ffff:)?127\.0\.0\.1$/, `${e?.action}: address`);
  }
  t.match(approveA1?.before, { status: 'pending' });
  t.match(approveA1?.after, { status: 'approved' });
  t.match(patch?.after, { lifecycle: 'maintenance' });

  // The console page: every event, with actor and address; filters; a diff.
  await page.goto(`${server.url}/audit`);
  await page.waitForSelector('#audit');
  for (const [action, target] of [['revision.publish', undefined], ['agent.approve', 'host:a1'], ['job.launch', `job:${jobId}`], ['inventory.patch', 'host:a2']] as const) {
    const row = page.locator(`#audit tr[data-action="${action}"]`).filter(target ? { hasText: target } : {}).first();
    t.equal(await row.count(), 1, `${action} is listed`);
    const text = await row.innerText();
    t.match(text, /admin/, `${action}: the actor is shown`);
    t.match(text, /127\.0\.0\.1/, `${action}: the address is shown`);
  }
  t.equal(await page.locator(`#audit a[href="/jobs/${jobId}"]`).count(), 1, 'the job target links to its page');
  await page.getByLabel('Action').fill('inventory.');
  await page.click('form.filters button[type=submit]');
  await page.waitForURL(/action=inventory\./);
  const actions = await page.locator('#audit tr[data-action]').evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
  t.ok(actions.length >= 1 && actions.every((a) => a?.startsWith('inventory.')), `the filter applied: ${actions.join(', ')}`);
  const row = page.locator('#audit tr[data-action="inventory.patch"]').first();
  await row.locator('summary').click();
  const diff = await row.locator('table.diff').innerText();
  t.match(diff, /lifecycle[\s\S]*maintenance/, 'the diff shows the lifecycle change');
  t.equal(await page.getByLabel('Action').inputValue(), 'inventory.', 'the form keeps the filter');
  const bad = await page.goto(`${server.url}/audit?since=yesterday`);
  t.equal(bad?.status(), 400);
  t.match(await page.locator('.flash.bad').innerText(), /since/);
  // The 400 is the bad filter above; Chromium's own favicon request (not a page resource, so not
  // in `missing`) may 404: every resource the pages load must exist.
  t.same(missing, [], 'every resource the pages load exists');
  t.same(errors.filter((e) => !/status of 40[04]/.test(e)), [], 'no page error');

  // A phone.
  const phone = await openBrowser(t, { width: 390, height: 844 });
  await consoleLogin(phone.page, server.url, server.adminToken);
  await phone.page.goto(`${server.url}/audit`);
  await phone.page.waitForSelector('#audit');
  await phone.page.locator('#audit tr[data-action="inventory.patch"] summary').first().click();
  const p = await layoutProblems(phone.page);
  t.ok(p.scrollWidth <= 390, `/audit fits 390 px (scrollWidth ${p.scrollWidth})`, { wide: p.wide });
  t.same(p.small, [], 'every control is at least 40 px tall');
  const unlabelled = await phone.page.evaluate(`[...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')].filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label')).length`);
  t.equal(unlabelled, 0, 'every field is labelled');

  // The CLI reads the same log.
  const cli = await steadAsOperator(server, ['audit', '--action', 'agent.', '--json']);
  t.equal(cli.code, 0, cli.stderr);
  t.same((JSON.parse(cli.stdout).events as Ev[]).map((e) => e.target).sort(), ['host:a1', 'host:a2']);
});
