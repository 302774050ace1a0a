/**
 * Editing manifests in the console (issue 12), in real headless Chromium against a real
 * `stead server` process and three real `stead agent` daemons (a1, a2 in group alpha; b1 in
 * beta): edit alpha's greeting in the variable key table, see the as-you-type error of a broken
 * edit at its line (and the caret moved there), fix it, preview the template for a1, see the
 * fleet plan (exactly a1 and a2 change), commit (the commit is in the manifest history), publish
 * as a rollout and watch it complete while the agents converge (the rendered file on their roots
 * changes). Pages fit 390 px. Screenshots at both widths are kept in the test directory (and
 * copied to STEAD_SCREENSHOT_DIR when set).
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { consoleLogin, chromiumMissing, openBrowser, layoutProblems } from '../helpers/browser.js';
import { AgentProcess, buildOnce, fleetRepository, freePort, hasCommand, ServerProcess, waitFor } from '../helpers/e2e-fleet.js';

await buildOnce();
const ready = await hasCommand('server');
const skip = chromiumMissing || (ready ? false : 'the build has no `stead server` command');

function ranRevision(shown: string | undefined, id: string): boolean {
  return shown !== undefined && shown.length >= 12 && id.startsWith(shown);
}

t.test('edit a variable in the browser, plan, commit, publish as a rollout (real Chromium, real agents)', { skip }, async (t) => {
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
  t.equal(await agents.a1.read('srv/app/greeting.conf'), 'greeting=hello-alpha\n');

  const shots = join(dir, 'shots');
  const keep = process.env['STEAD_SCREENSHOT_DIR'];
  const shoot = async (page: Page, name: string): Promise<void> => {
    const file = join(shots, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    t.same([...readFileSync(file).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${name}.png is a PNG`);
    if (keep) {
      mkdirSync(keep, { recursive: true });
      copyFileSync(file, join(keep, `${name}.png`));
    }
  };
  const fits = async (page: Page, name: string): Promise<void> => {
    const p = await layoutProblems(page);
    t.ok(p.scrollWidth <= 390, `${name} fits 390 px (scrollWidth ${p.scrollWidth})`, { wide: p.wide });
    t.same(p.small, [], `${name}: every control is at least 40 px tall`);
  };

  const { page, errors } = await openBrowser(t);
  const missing: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) missing.push(`${r.status()} ${r.url()}`);
  });
  await consoleLogin(page, server.url, server.adminToken);
  await page.click('header nav a:text-is("Manifests")');
  await page.waitForSelector('#files');
  t.ok(await page.locator('#files tr[data-path="groups/alpha.yaml"]').count(), 'the live tree lists groups/alpha.yaml');
  await shoot(page, 'manifests-list');

  // The key table: change alpha's greeting (saving starts a draft).
  await page.click('#files tr[data-path="groups/alpha.yaml"] a:text-is("variables")');
  await page.waitForSelector('#vars tr[data-key="greeting"]');
  t.equal(await page.locator('#vars tr[data-key="greeting"] input[name=value]').inputValue(), 'hello-alpha');
  await page.fill('#vars tr[data-key="greeting"] input[name=value]', 'salut-alpha');
  await page.click('#vars tr[data-key="greeting"] button[value=set]');
  await page.waitForSelector('.flash:text("Saved to the draft.")');
  t.equal(await page.locator('#vars tr[data-key="greeting"] input[name=value]').inputValue(), 'salut-alpha');
  t.match(await page.locator('#yaml').innerText(), /greeting: salut-alpha/, 'the YAML view follows');
  const draftId = (await page.locator('#draft-bar a.mono').innerText()).trim();
  t.match(draftId, /^d-[0-9a-z]+$/);
  await shoot(page, 'manifests-vars');

  // The YAML editor (beta's group): a broken edit is reported as you type, at its line; fixing it clears it.
  await page.goto(`${server.url}/manifests/edit?path=groups/alpha.yaml&draft=${draftId}`);
  await page.waitForSelector('#content');
  t.match(await page.locator('#content').inputValue(), /greeting: salut-alpha/, 'the editor shows the draft\'s text');
  await page.goto(`${server.url}/manifests/edit?path=groups/beta.yaml&draft=${draftId}`);
  await page.waitForSelector('#content');
  const good = (await page.locator('#content').inputValue()).replace('hello-beta', 'salut-beta');
  const broken = good.replace('priority: 10', 'priority: high');
  t.not(broken, good);
  await page.locator('#content').fill(broken);
  await page.waitForSelector('#problems a[data-line="3"]', { timeout: 60_000 });
  t.match(await page.locator('#problems li').first().innerText(), /line 3.*\/priority/s, 'the error names line 3 and the key');
  t.match(await page.locator('#checkstate').innerText(), /problem/);
  await shoot(page, 'manifests-edit-error');
  await page.click('#problems a[data-line="3"]');
  const caret = await page.evaluate(`(() => { const a = document.getElementById('content'); return a.value.slice(0, a.selectionStart).split('\\n').length; })()`);
  t.equal(caret, 3, 'the caret moved to line 3');
  t.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'content', 'the editor has the focus');
  await page.locator('#content').fill(good);
  await page.waitForSelector('#checkstate:text("No problems found.")', { timeout: 60_000 });
  t.equal(await page.locator('#problems li').count(), 0);
  await page.click('#edit-form button[type=submit]:text-is("Save to draft")');
  await page.waitForSelector('.flash:text("No problems found.")');

  // The template preview for a1, from the draft.
  await page.goto(`${server.url}/manifests/edit?path=templates/greeting.j2&draft=${draftId}`);
  await page.selectOption('#host', 'a1');
  await page.click('#preview-btn');
  await page.waitForSelector('#preview-output');
  t.equal(await page.locator('#preview-output').innerText(), 'greeting=salut-alpha\n', 'the preview renders the draft for a1');
  await shoot(page, 'manifests-preview');

  // The plan of the draft.
  await page.goto(`${server.url}/manifests/drafts/${draftId}`);
  await page.click('#plan-link');
  await page.waitForSelector('#plan-hosts', { timeout: 120_000 });
  t.same((await page.locator('#plan-hosts details[data-host]').evaluateAll((els) => els.map((e) => e.getAttribute('data-host')))).sort(), ['a1', 'a2', 'b1'], 'the plan names the hosts of both groups');
  t.match(await page.locator('#plan-hosts details[data-host="a1"] pre.diff').innerText(), /-greeting=hello-alpha\n\+greeting=salut-alpha/);
  await shoot(page, 'manifests-plan');

  // Commit, then publish as a rollout.
  await page.goto(`${server.url}/manifests/drafts/${draftId}`);
  await page.fill('#message', 'alpha says salut');
  await page.click('#commit-form button[type=submit]');
  await page.waitForSelector('.flash:text("Committed")', { timeout: 120_000 });
  const commit = (await page.locator('#commit').innerText()).trim();
  const history = (await server.api('GET', '/api/v1/revisions')).body.revisions as { commit?: string; message?: string; author?: string; live: boolean }[];
  t.equal(history[0]?.commit, commit, 'the commit heads the manifest history');
  t.equal(history[0]?.message, 'alpha says salut');
  t.match(history[0]?.author ?? '', /^admin </);
  t.equal(history[0]?.live, false, 'committed, not live yet');
  await shoot(page, 'manifests-draft-committed');

  const narrow = await openBrowser(t, { width: 390, height: 844 });
  narrow.page.on('response', (r) => {
    if (r.status() >= 400) missing.push(`${r.status()} ${r.url()}`);
  });
  await consoleLogin(narrow.page, server.url, server.adminToken);
  for (const [url, name] of [
    ['/manifests', 'manifests list'],
    [`/manifests/vars?path=groups/alpha.yaml`, 'key table'],
    [`/manifests/edit?path=templates/greeting.j2&host=a2`, 'edit page'],
    [`/manifests/drafts/${draftId}`, 'draft page'],
  ] as const) {
    await narrow.page.goto(`${server.url}${url}`);
    await narrow.page.waitForSelector('main h1');
    await fits(narrow.page, name);
  }
  await shoot(narrow.page, 'manifests-draft-390');
  await narrow.page.goto(`${server.url}/manifests/edit?path=groups/alpha.yaml`);
  await shoot(narrow.page, 'manifests-edit-390');

  await narrow.page.goto(`${server.url}/manifests/drafts/${draftId}`);
  await narrow.page.fill('#batches', '1,100%');
  await narrow.page.click('#publish-form button[value=batches]');
  await narrow.page.waitForURL(/\/rollouts\/[^/]+$/);
  const rid = decodeURIComponent(new URL(narrow.page.url()).pathname.split('/').pop() ?? '');
  const rollout = (await server.api('GET', `/api/v1/rollouts/${rid}`)).body;
  t.teardown(async () => {
    if (t.counts.fail > 0) t.comment(`rollout: ${JSON.stringify((await server.api('GET', `/api/v1/rollouts/${rid}`)).body).slice(0, 3000)}`);
  });
  t.equal(rollout.commit, commit, 'the rollout delivers the commit');
  await narrow.page.waitForSelector('h1 .s.dv-completed', { timeout: 180_000 });
  await fits(narrow.page, 'rollout page');
  await waitFor('the new revision live', async () => (await server.api('GET', '/api/v1/revisions/live')).body.id === rollout.revision, 120_000);
  for (const h of ['a1', 'a2'] as const) await waitFor(`${h} renders the new greeting`, async () => (await agents[h].read('srv/app/greeting.conf')) === 'greeting=salut-alpha\n', 120_000);
  await waitFor('b1 renders the new greeting', async () => (await agents.b1.read('srv/app/greeting.conf')) === 'greeting=salut-beta\n', 120_000);
  // Chromium asks for /favicon.ico on its own (the console serves none): that 404 is not a request
  // of our pages, which the response listener would have seen (every page request ≥ 400 is in `missing`).
  const ours = (list: string[]): string[] => list.filter((e) => !(missing.length === 0 && /Failed to load resource: .* 404/.test(e)));
  t.same(missing, [], 'every request of the pages succeeded');
  t.same(ours(errors), [], 'no script errors on the desktop pages');
  t.same(ours(narrow.errors), [], 'no script errors on the phone pages');
});
