/**
 * Live pages without reloads (ADR 0019): a refreshing console page swaps its <main> in place from
 * /assets/console.js, in real headless Chromium against a real server. A rollout paused through
 * the API shows as paused on its open page within a refresh period, the page is not reloaded (a
 * marker set on window survives), and while a field has focus the page waits instead of wiping
 * what is being typed.
 */
import t from 'tap';
import { chromiumMissing, consoleLogin, openBrowser } from '../helpers/browser.js';
import { startServer } from '../helpers/server-fixture.js';
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
  await fx.approvedAgent('h1');
  await fx.approvedAgent('h2');
  const steps = [{ name: 'check', kind: 'script', script: { lang: 'shell', source: 'true' } }];
  const started = await fx.json('POST', '/api/v1/rollouts', { job: { targets: 'host:h1,host:h2', steps }, policy: { batches: '1,100%', gate: 'manual' } });
  t.equal(started.status, 201, started.status === 201 ? 'a job rollout at a manual gate' : started.body.toString().slice(0, 300));
  const id = started.json().id as string;

  const { page, errors } = await openBrowser(t);
  await consoleLogin(page, fx.base, fx.adminToken);
  await page.goto(`${fx.base}/rollouts/${id}`);
  t.match(await page.locator('body').getAttribute('data-refresh'), /^[0-9]+$/, 'a running rollout refreshes');
  const badge = page.locator('h1 .s');
  const state = await fx.json('GET', `/api/v1/rollouts/${id}`);
  t.match(await badge.innerText(), /running/, `the rollout runs (${state.body.toString().slice(0, 1500)})`);
  await page.evaluate('window.__notReloaded = true');

  t.equal((await fx.json('POST', `/api/v1/rollouts/${id}/pause`, { reason: 'live test' })).status, 200);
  await page.locator('h1 .s').filter({ hasText: /paused/ }).waitFor({ timeout: 60_000 });
  t.equal(await page.evaluate('window.__notReloaded === true'), true, 'the page was updated in place, not reloaded');

  // While the operator types a reason, the page waits.
  const reason = page.locator('main textarea, main input[name=reason]').first();
  await reason.fill('typing a reason');
  t.equal((await fx.json('POST', `/api/v1/rollouts/${id}/continue`, { reason: 'api' })).status, 200);
  const period = Number(await page.locator('body').getAttribute('data-refresh'));
  await page.waitForTimeout((period * 2 + 1) * 1000);
  t.equal(await reason.inputValue(), 'typing a reason', 'what is being typed survives');
  t.match(await page.locator('h1 .s').innerText(), /paused/, 'no swap while a field is being edited');
  t.same(errors, [], 'no script error');
});
