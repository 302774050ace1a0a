/**
 * Live pages without reloads (ADR 0019): a refreshing console page swaps its <main> in place from
 * /assets/console.js, in real headless Chromium against a real server. A report that turns a host
 * from in-sync to failing shows on the open overview within a refresh period, the page is not
 * reloaded (a marker set on window survives), and while a field has focus the page waits.
 */
import t from 'tap';
import { chromiumMissing, consoleLogin, openBrowser } from '../helpers/browser.js';
import { startServer } from '../helpers/server-fixture.js';
import { makeReport } from '../helpers/server-reports.js';
import { ManualClock } from '../../server/domain/clock.js';

const repo: Record<string, string> = {
  'stead.yaml': 'stead: 1\nname: live\n',
  'inventory/hosts.yaml': 'hosts:\n  h1: {}\n  h2: {}\n',
  'groups/web.yaml': 'description: web\nkind: custom\npriority: 10\nhosts: [h1, h2]\nroles: [app]\n',
  'roles/app/role.yaml': 'description: app\nresources:\n  - type: directory\n    path: /srv\n    mode: "0755"\n',
};

t.test('a refreshing page updates in place', { skip: chromiumMissing }, async (t) => {
  const fx = await startServer(t, { clock: new ManualClock(Date.now()) });
  t.equal((await fx.publish(repo)).status, 201);
  const h1 = await fx.approvedAgent('h1');
  const iso = (): string => new Date(fx.clock.now()).toISOString();
  t.equal((await h1.request('POST', '/api/v1/hosts/h1/reports', makeReport('h1', 'run-1', { startedAt: iso() }))).status, 200);

  const { page, errors } = await openBrowser(t);
  await consoleLogin(page, fx.base, fx.adminToken);
  t.match(await page.locator('body').getAttribute('data-refresh'), /^[0-9]+$/, 'the overview refreshes');
  const failing = page.locator('[data-count="failing"] .n');
  t.equal((await failing.innerText()).trim(), '0');
  await page.evaluate('window.__notReloaded = true');

  fx.clock.advance(60_000);
  t.equal((await h1.request('POST', '/api/v1/hosts/h1/reports', makeReport('h1', 'run-2', { outcome: 'failed', startedAt: iso() }))).status, 200);
  await failing.filter({ hasText: /^\s*1\s*$/ }).waitFor({ timeout: 60_000 });
  t.equal(await page.evaluate('window.__notReloaded === true'), true, 'the page was updated in place, not reloaded');

  // While the operator is typing, the page waits.
  await page.evaluate(`(() => { const i = document.createElement('input'); i.id = 'probe'; i.setAttribute('aria-label', 'probe'); document.querySelector('main').prepend(i); i.focus(); })()`);
  fx.clock.advance(60_000);
  t.equal((await h1.request('POST', '/api/v1/hosts/h1/reports', makeReport('h1', 'run-3', { startedAt: iso() }))).status, 200);
  const period = Number(await page.locator('body').getAttribute('data-refresh'));
  await page.waitForTimeout((period * 2 + 1) * 1000);
  t.equal(await page.locator('#probe').count(), 1, 'no swap while a field has focus');
  t.equal((await failing.innerText()).trim(), '1', 'the counts wait too');
  t.same(errors, [], 'no script error');
});
