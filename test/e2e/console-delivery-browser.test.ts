/**
 * The change-delivery pages in real headless Chromium against a real `stead server` process and
 * three real `stead agent` daemons (a1, a2 in group alpha; b1 in beta). In the browser: the
 * revision history (commits, the live revision), the diff of a change to alpha's greeting, its
 * fleet plan (exactly a1 and a2 change), then a canary rollout with a manual gate watched at
 * 390 px until the canary's run passes, approved from the page, followed to completion (the
 * agents converge on the new revision); a second rollout paused and aborted with the page's
 * buttons. Every page fits 390 px without horizontal scroll. Screenshots at both widths are kept
 * in the test directory (and copied to STEAD_SCREENSHOT_DIR when set).
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { consoleLogin, chromiumMissing, openBrowser, layoutProblems, clickNav } from '../helpers/browser.js';
import { AgentProcess, buildOnce, fleetRepository, freePort, hasCommand, ServerProcess, waitFor } from '../helpers/e2e-fleet.js';

await buildOnce();
const ready = await hasCommand('server');
const skip = chromiumMissing || (ready ? false : 'the build has no `stead server` command');

/** The agent prints a revision's short id (16 hex characters). */
function ranRevision(shown: string | undefined, id: string): boolean {
  return shown !== undefined && shown.length >= 12 && id.startsWith(shown);
}


t.test('revision history, diff, plan and rollouts in the console (real Chromium, real agents)', { skip }, async (t) => {
  const dir = t.testdir({ server: {}, shots: {}, a1: { root: {} }, a2: { root: {} }, b1: { root: {} } });
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  await server.start(t);
  t.teardown(() => {
    if (t.counts.fail > 0) t.comment(`server stderr (last 30 lines):\n${server.stderr.slice(-30).join('\n')}`);
  });
  const v1 = await server.publish(fleetRepository(), 'first: hello everyone');
  t.equal(v1.status, 201, JSON.stringify(v1.body));
  const hosts = ['a1', 'a2', 'b1'] as const;
  const agents = {} as Record<(typeof hosts)[number], AgentProcess>;
  for (const h of hosts) {
    const token = (await server.api('POST', '/api/v1/bootstrap-tokens', { host: h })).body.token as string;
    agents[h] = new AgentProcess({ host: h, server: server.url, root: join(dir, h, 'root'), dataDir: join(dir, h, 'data'), intervalSeconds: 1, bootstrapToken: token }).start(t);
  }
  for (const h of hosts) await agents[h].waitForRun('converged on the first revision', (r) => r.outcome === 'in-sync' && ranRevision(r.revision, v1.body.id as string), 0, 120_000);
  const v2 = await server.publish(fleetRepository({ alphaGreeting: 'bonjour-alpha' }), 'alpha says bonjour');
  t.equal(v2.status, 201);
  const v1id = v1.body.id as string;
  const v2id = v2.body.id as string;

  const shots = join(dir, 'shots');
  const keep = process.env['STEAD_SCREENSHOT_DIR'];
  const shoot = async (page: Page, name: string): Promise<void> => {
    const file = join(shots, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    const png = readFileSync(file);
    t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${name}.png is a PNG`);
    if (keep) {
      mkdirSync(keep, { recursive: true });
      copyFileSync(file, join(keep, `${name}.png`));
    }
  };
  const login = (page: Page): Promise<void> => consoleLogin(page, server.url, server.adminToken);
  const fits = async (page: Page, name: string): Promise<void> => {
    const p = await layoutProblems(page);
    t.ok(p.scrollWidth <= 390, `${name} fits 390 px (scrollWidth ${p.scrollWidth})`, { wide: p.wide });
    t.same(p.small, [], `${name}: every control is at least 40 px tall`);
  };

  // History, diff and plan on the desktop.
  const { page, errors } = await openBrowser(t);
  await login(page);
  await clickNav(page, 'Revisions');
  await page.waitForSelector('#revisions');
  t.equal(await page.locator('#revisions tr[data-revision]').count(), 2, 'two history entries');
  t.equal(await page.locator('#revisions tr[data-live]').getAttribute('data-revision'), v2id, 'the newest is live');
  t.match(await page.locator(`#revisions tr[data-revision="${v2id}"]`).innerText(), /alpha says bonjour/);
  t.match(await page.locator(`#revisions tr[data-revision="${v2id}"] td[data-label=Commit]`).innerText(), /^[0-9a-f]{12}$/, 'the git commit of the entry');
  await shoot(page, 'revisions-history');
  await page.click(`#revisions tr[data-revision="${v2id}"] a:text-is("diff")`);
  await page.waitForSelector('#files');
  t.same(await page.locator('#files details.file').evaluateAll((els) => els.map((e) => e.getAttribute('data-path'))), ['groups/alpha.yaml'], 'one file changed');
  t.match(await page.locator('#files pre.diff .del').allInnerTexts(), ['-  greeting: hello-alpha']);
  t.match(await page.locator('#files pre.diff .add').allInnerTexts(), ['+  greeting: bonjour-alpha']);
  await shoot(page, 'revisions-diff');
  await page.click('a.btn:text-is("Plan of this change")');
  await page.waitForSelector('#plan-hosts', { timeout: 120_000 });
  t.same((await page.locator('#plan-hosts details.file').evaluateAll((els) => els.map((e) => e.getAttribute('data-host')))).sort(), ['a1', 'a2'], 'the plan names exactly the hosts of alpha');
  t.equal(await page.locator('#plan-summary [data-changed]').innerText(), '2');
  t.match(await page.locator('#plan-hosts details[data-host="a1"] pre.diff').innerText(), /-greeting=hello-alpha\n\+greeting=bonjour-alpha/, 'the rendered file\'s diff');
  await shoot(page, 'revisions-plan');

  // A canary rollout of v3 with a manual gate.
  const v3 = await server.api('POST', '/api/v1/revisions', { files: fleetRepository({ alphaGreeting: 'hallo-alpha', betaGreeting: 'hallo-beta' }), message: 'hallo', rollout: { batches: '1,100%', gate: 'manual' } });
  t.equal(v3.status, 201, JSON.stringify(v3.body));
  const v3id = v3.body.id as string;
  const rid = v3.body.rollout.id as string;

  const narrow = await openBrowser(t, { width: 390, height: 844 });
  await login(narrow.page);
  await clickNav(narrow.page, 'Rollouts');
  await narrow.page.waitForSelector(`#rollouts tr[data-rollout="${rid}"]`);
  await fits(narrow.page, 'rollouts list');
  await shoot(narrow.page, 'rollouts-list-390');
  await narrow.page.click(`#rollouts a[href="/rollouts/${rid}"]`);
  await narrow.page.waitForSelector('#batches');
  t.equal(await narrow.page.locator('body[data-refresh]').count(), 1, 'a running rollout refreshes itself');
  // The canary's agent runs the new revision; the page follows by itself to the gate.
  await narrow.page.waitForSelector('button[data-action=continue]', { timeout: 120_000 });
  t.match(await narrow.page.locator('#gate').innerText(), /waiting for an operator to approve the next batch/);
  t.equal(await narrow.page.locator('li.batch[data-batch="0"]').getAttribute('data-state'), 'succeeded');
  t.equal(await narrow.page.locator('li.batch[data-batch="1"]').getAttribute('data-state'), 'pending');
  t.equal(await narrow.page.locator('li.batch[data-batch="0"] .pbar i.succeeded').count(), 1, 'the first batch\'s bar is green');
  const canary = (await server.api('GET', `/api/v1/rollouts/${rid}`)).body.batches[0].hosts[0] as (typeof hosts)[number];
  t.equal((await server.api('GET', '/api/v1/revisions/live')).body.id, v2id, 'v2 stays live for the others');
  await fits(narrow.page, 'rollout at the gate');
  await shoot(narrow.page, 'rollout-390');
  await page.goto(`${server.url}/rollouts/${rid}`);
  await page.waitForSelector('#batches');
  await shoot(page, 'rollout');

  // Approve from the 390 px page; follow it to completion.
  await narrow.page.fill('#reason', 'the canary looks fine');
  await narrow.page.click('button[data-action=continue]');
  await narrow.page.waitForSelector('.flash:text("Continued: the next batch starts.")');
  await narrow.page.waitForSelector('h1 .s.dv-completed', { timeout: 120_000 });
  t.equal(await narrow.page.locator('body[data-refresh]').count(), 0, 'a completed rollout stops refreshing');
  t.equal(await narrow.page.locator('li.batch[data-state=succeeded]').count(), 2);
  // Moving live is the completion's side effect, done by the driver just after the state change.
  await waitFor('v3 live', async () => (await server.api('GET', '/api/v1/revisions/live')).body.id === v3id, 120_000);
  t.pass('the new revision is live once the rollout completed');
  for (const h of hosts) await agents[h].waitForRun('runs the new revision', (r) => ranRevision(r.revision, v3id) && r.outcome !== 'failed', 0, 120_000);
  t.equal(await agents.b1.read('srv/app/greeting.conf'), 'greeting=hallo-beta\n');
  t.ok(canary, `the canary was ${canary}`);
  t.match(await narrow.page.locator('button[data-action=rollback]').innerText(), /Roll back/, 'a completed rollout can be rolled back');

  // Another rollout: pause and abort with the page's buttons.
  const v4 = await server.api('POST', '/api/v1/revisions', { files: fleetRepository({ alphaGreeting: 'ciao-alpha' }), message: 'ciao', rollout: { batches: '1,100%', gate: 'manual' } });
  t.equal(v4.status, 201, JSON.stringify(v4.body));
  const rid4 = v4.body.rollout.id as string;
  await narrow.page.goto(`${server.url}/rollouts/${rid4}`);
  await narrow.page.click('button[data-action=pause]');
  await narrow.page.waitForSelector('h1 .s.dv-paused');
  t.match(await narrow.page.locator('.flash').innerText(), /Paused/);
  t.equal((await server.api('GET', `/api/v1/rollouts/${rid4}`)).body.state, 'paused');
  await narrow.page.click('button[data-action=abort]');
  await narrow.page.waitForSelector('h1 .s.dv-aborted');
  t.equal((await server.api('GET', `/api/v1/rollouts/${rid4}`)).body.state, 'aborted');
  t.equal(await narrow.page.locator('button[data-action]').count(), 0, 'no buttons on an aborted rollout');
  t.equal((await server.api('GET', '/api/v1/revisions/live')).body.id, v3id, 'an aborted rollout leaves the live revision');

  // Every delivery page at 390 px.
  for (const [name, path] of [
    ['history', '/revisions'],
    ['revision', `/revisions/${v1id}`],
    ['diff', `/revisions/${v1id}/diff/${v2id}`],
    ['plan', `/revisions/${v2id}/plan?base=${v1id}`],
    ['rollouts', '/rollouts'],
    ['completed rollout', `/rollouts/${rid}`],
    ['aborted rollout', `/rollouts/${rid4}`],
  ] as const) {
    await narrow.page.goto(`${server.url}${path}`);
    await narrow.page.waitForSelector('main h1');
    await fits(narrow.page, name);
    if (name === 'history') await shoot(narrow.page, 'revisions-history-390');
    if (name === 'diff') await shoot(narrow.page, 'revisions-diff-390');
    if (name === 'plan') await shoot(narrow.page, 'revisions-plan-390');
  }
  t.same(errors, [], 'no page errors or console errors (CSP violations included)');
  t.same(narrow.errors, [], 'no page errors at 390 px');
});
