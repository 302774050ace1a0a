/**
 * The inventory, software and services pages in real headless Chromium against the real console
 * app and the real InventoryService and SoftwareService (composeServer in-process on loopback,
 * operator login with the admin token). The data goes in through the API and signed agent
 * requests (test/helpers/console-inventory-seed.ts): a published repository, a CMDB CSV import
 * of 122 hosts, a dynamic group, a faulty physical host whose agent reports another address, its
 * VM and container, packages behind their approved version, a drifted service. In the browser:
 * filter the host list and page through it, open the faulty host (what ran on it first, the
 * mismatch flagged), change its lifecycle with the form, import a CSV file (dry run, then apply),
 * open the software and a package's page and start an upgrade to approved (a real job rollout),
 * restart a service from its row (a real job). Every page fits 390 px without horizontal scroll,
 * its controls are at least 40 px tall, its fields labelled; no page error. Screenshots at both
 * widths are kept in the test directory (and copied to STEAD_SCREENSHOT_DIR when set).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { consoleLogin, chromiumMissing, layoutProblems, openBrowser, clickNav } from '../helpers/browser.js';
import { startServer } from '../helpers/server-fixture.js';
import { ManualClock } from '../../server/domain/clock.js';
import { seedConsoleInventory } from '../helpers/console-inventory-seed.js';
import { buildOnce } from '../helpers/e2e-fleet.js';

// Service actions are audited jobs: the safety audit runs its compiled worker under dist/.
await buildOnce();

/** Errors other than the answer a page is meant to give: the refused import's 422. */
const unexpected = (e: string): boolean => !/^console: Failed to load resource: the server responded with a status of 422 /.test(e);

t.test('inventory, software and services pages in Chromium, at 1280 and 390 px', { skip: chromiumMissing }, async (t) => {
  // The browser keeps the session cookie only while its expiry (from the server's clock) is ahead of real time.
  const fx = await startServer(t, { clock: new ManualClock(Date.now()) });
  await seedConsoleInventory(fx, 120);
  const dir = t.testdir({ shots: {} });
  const shots = join(dir, 'shots');
  const keep = process.env['STEAD_SCREENSHOT_DIR'];
  /** A long list is shot as the first screen (fullPage false), anything else whole. */
  const shoot = async (page: Page, name: string, fullPage = true): Promise<void> => {
    const file = join(shots, `${name}.png`);
    await page.screenshot({ path: file, fullPage });
    t.same([...readFileSync(file).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${name}.png is a PNG`);
    if (keep) {
      mkdirSync(keep, { recursive: true });
      copyFileSync(file, join(keep, `${name}.png`));
    }
  };
  const login = (page: Page): Promise<void> => consoleLogin(page, fx.base, fx.adminToken);
  const fits = async (page: Page, name: string): Promise<void> => {
    const p = await layoutProblems(page);
    t.ok(p.scrollWidth <= 390, `${name} fits 390 px (scrollWidth ${p.scrollWidth})`, { wide: p.wide });
    t.same(p.small, [], `${name}: every control is at least 40 px tall`);
    // Every field has a label a screen reader reads: a <label>, aria-label or aria-labelledby.
    const unlabelled = await page.evaluate(`[...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')]
      .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
      .map((el) => el.tagName.toLowerCase() + '[name=' + el.getAttribute('name') + ']')`);
    t.same(unlabelled, [], `${name}: every field is labelled`);
    const nameless = await page.evaluate(`[...document.querySelectorAll('main button, main a.btn')].filter((el) => !(el.getAttribute('aria-label') || el.textContent || '').trim()).length`);
    t.equal(nameless, 0, `${name}: every button says what it does`);
  };

  // Desktop: the host list, its filter box and pages, the host page.
  const { page, errors } = await openBrowser(t);
  await login(page);
  await clickNav(page, 'Inventory');
  await page.waitForSelector('#inventory-hosts');
  t.equal(await page.locator('#total').getAttribute('data-total'), '122');
  t.equal(await page.locator('#inventory-hosts tr[data-host]').count(), 100, 'a page of 100');
  await shoot(page, 'inventory-hosts', false);
  await page.click('a[rel=next]');
  await page.waitForURL(/after=/);
  t.equal(await page.locator('#inventory-hosts tr[data-host]').count(), 22, 'the second page');
  await page.getByLabel('Filter').fill('idc=sz and tag:canary');
  await page.click('form.filter button[type=submit]');
  await page.waitForURL(/filter=/);
  t.same(await page.locator('#inventory-hosts tr[data-host]').evaluateAll((els) => els.map((e) => e.getAttribute('data-host'))), ['pm-1', 'vm-1'], 'the filter applied');
  t.equal(await page.getByLabel('Filter').inputValue(), 'idc=sz and tag:canary', 'the box keeps the expression');
  await page.click('#inventory-hosts a:text-is("pm-1")');
  await page.waitForSelector('#record');
  t.match(await page.locator('#ran-on').innerText(), /This host is faulty: what ran on it[\s\S]*vm-1/, 'the faulty host lists what ran on it');
  t.match(await page.locator('#record tr[data-field="ips"]').innerText(), /10\.0\.0\.9/, 'the agent\'s address beside the record');
  t.equal(await page.locator('#record tr[data-mismatch]').count(), 1, 'one mismatch flagged');
  t.match(await page.locator('#groups tr[data-group="canaries"]').innerText(), /filter tag:canary/, 'a dynamic group and why');
  t.equal(await page.locator('script:not([src^="/assets/"])').count(), 0, 'hostile strings stay text: no script element but the console assets');
  t.match(await page.locator('#host-packages tr[data-package="nginx"]').innerText(), /1\.22\.1-9[\s\S]*outdated/);
  await shoot(page, 'inventory-host');

  // The lifecycle form.
  await page.selectOption('#lifecycle', 'maintenance');
  await page.getByLabel('Reason').fill('disk replaced, under test');
  await page.click('button:text-is("Change lifecycle")');
  await page.waitForSelector('.flash[role=status]');
  t.match(await page.locator('#lifecycle-history').innerText(), /faulty[\s\S]*maintenance[\s\S]*admin[\s\S]*disk replaced, under test/, 'the change is in the history');
  t.equal((await fx.json('GET', '/api/v1/inventory/hosts/pm-1')).json().effective.lifecycle, 'maintenance', 'the service has it');
  t.notOk(await page.locator('#ran-on').count(), 'no longer faulty');

  // Import a file: dry run, then apply.
  const csv = join(dir, 'cmdb.csv');
  writeFileSync(csv, 'hostname,ip,idc,rack,business,kind,lifecycle,tags,owner\nnew-1,10.9.0.1,sz,r9,pay/core,physical,deploying,canary;new,team-a\nvm-1,10.0.1.1,gz,,pay/api,vm,online,canary;web,\n');
  await page.goto(`${fx.base}/inventory/import`);
  await page.setInputFiles('#file', csv);
  await page.click('button:text-is("Dry run")');
  await page.waitForSelector('#import-result');
  t.equal(await page.locator('#import-counts [data-added]').innerText(), '1');
  t.equal(await page.locator('#import-counts [data-changed]').innerText(), '1');
  t.equal((await fx.json('GET', '/api/v1/inventory/hosts/new-1')).status, 404, 'the dry run wrote nothing');
  await page.click('button:text-is("Apply this import")');
  await page.waitForSelector('#import-result[data-applied="true"]');
  const added = (await fx.json('GET', '/api/v1/inventory/hosts/new-1')).json();
  t.match(added.effective, { idc: 'sz', rack: 'r9', lifecycle: 'deploying', tags: ['canary', 'new'], attributes: { owner: 'team-a' } }, 'applied');

  // Software: the fleet, a package, "upgrade to approved".
  await clickNav(page, 'Software');
  await page.waitForSelector('#packages');
  t.equal(await page.locator('section[data-package="nginx"] li[data-version="1.22.1-9"]').getAttribute('data-hosts'), '2', 'the fleet chart: two hosts run 1.22.1-9');
  await shoot(page, 'software');
  await page.click('section[data-package="nginx"] h2 a');
  await page.waitForSelector('#package-hosts');
  await page.getByLabel('Gate between batches').selectOption('manual');
  await page.click('button:has-text("Upgrade")');
  await page.waitForURL(/\/rollouts\/[^/?]+$/);
  await page.waitForSelector('#batches');
  const rollout = (await fx.json('GET', `/api/v1/rollouts/${decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!)}`)).json();
  t.match(rollout, { kind: 'job', policy: { batches: '1,50%,100%', gate: 'manual' } }, 'a job rollout with the batch settings of the form');
  t.match(JSON.stringify(rollout), /vm-1/, 'of the online host running an old nginx');

  // Services: restart from a row.
  await page.goto(`${fx.base}/services`);
  await page.waitForSelector('#services');
  t.equal(await page.locator('#services tr[data-drift]').count(), 1, 'one drifted service');
  await shoot(page, 'services');
  await page.click('button[aria-label="restart nginx on vm-1"]');
  await page.waitForURL(/\/jobs\/[^/?]+$/);
  await page.waitForSelector('h1');
  const job = (await fx.json('GET', `/api/v1/jobs/${decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!)}`)).json();
  t.ok(/restart/.test(JSON.stringify(job)) && /nginx/.test(JSON.stringify(job)), 'a restart job of nginx', { job });
  t.match(JSON.stringify(job), /vm-1/, 'on vm-1');
  t.same(errors.filter(unexpected), [], 'no page errors');

  // Phone: every new page fits 390 px.
  const narrow = await openBrowser(t, { width: 390, height: 844 });
  await login(narrow.page);
  for (const [path, name, ready] of [
    ['/inventory', 'inventory-hosts-390', '#inventory-hosts'],
    ['/inventory/hosts/pm-1', 'inventory-host-390', '#record'],
    ['/inventory/hosts/vm-1', '', '#record'],
    ['/inventory/import', 'inventory-import-390', 'form[enctype]'],
    ['/software', 'software-390', '#packages'],
    ['/software/packages/dpkg/nginx', 'software-package-390', '#package-hosts'],
    ['/services', 'services-390', '#services'],
    ['/services?name=nginx', '', '#services'],
  ] as const) {
    await narrow.page.goto(`${fx.base}${path}`);
    await narrow.page.waitForSelector(ready);
    await fits(narrow.page, path);
    if (name) await shoot(narrow.page, name, !name.startsWith('inventory-hosts'));
  }
  // A faulty host at 390 px: make pm-1 faulty again through the form.
  await narrow.page.goto(`${fx.base}/inventory/hosts/pm-1`);
  await narrow.page.selectOption('#lifecycle', 'faulty');
  await narrow.page.click('button:text-is("Change lifecycle")');
  await narrow.page.waitForSelector('#ran-on');
  await fits(narrow.page, 'faulty host');
  await shoot(narrow.page, 'inventory-host-faulty-390');
  // The import's answers at 390 px: refused lines, then a dry run.
  await narrow.page.goto(`${fx.base}/inventory/import`);
  await narrow.page.fill('#text', 'hostname,lifecycle\nok-1,online\nbad host,online\n');
  await narrow.page.click('button:text-is("Dry run")');
  await narrow.page.waitForSelector('#problems');
  await fits(narrow.page, 'refused import');
  t.same(narrow.errors.filter(unexpected), [], 'no page errors at 390 px');
});
