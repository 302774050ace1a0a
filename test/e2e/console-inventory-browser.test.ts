/**
 * The inventory, software and services pages in real headless Chromium against the real console
 * app (composeServer in-process on loopback, operator login with the admin token).
 * TEMPORARY: the pages read through the in-memory console ports of
 * test/helpers/memory-console-ports.ts until InventoryService and SoftwareService are on main;
 * switching to them = drop `consolePorts` below and seed the same data through the API (the
 * assertions read only the pages). In the browser: filter the host list and page through it,
 * open a faulty host (what ran on it first, the agent's mismatch flagged), change a lifecycle
 * with the form, import a CSV file (dry run, then apply), open the software and a package's page
 * and ask for an upgrade to approved, restart a service from its row. Every page fits 390 px
 * without horizontal scroll and its controls are at least 40 px tall; no page error. Screenshots
 * at both widths are kept in the test directory (and copied to STEAD_SCREENSHOT_DIR when set).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { chromiumMissing, layoutProblems, openBrowser } from '../helpers/browser.js';
import { startServer } from '../helpers/server-fixture.js';
import { ManualClock } from '../../server/domain/clock.js';
import { MemoryInventory, MemorySoftware } from '../helpers/memory-console-ports.js';
import { seedInventory, seedSoftware } from '../helpers/console-inventory-data.js';

/**
 * Errors other than the answers a page is meant to give: the refused import's 422, and the 404 of
 * the job and rollout pages the in-memory port's made-up ids lead to.
 */
const unexpected = (e: string): boolean => !/^console: Failed to load resource: the server responded with a status of (404|422) /.test(e);

t.test('inventory, software and services pages in Chromium, at 1280 and 390 px', { skip: chromiumMissing }, async (t) => {
  const inv = new MemoryInventory(() => '2026-11-26T10:00:00.000Z');
  const sw = new MemorySoftware();
  seedInventory(inv, 120);
  seedSoftware(sw);
  // The browser keeps the session cookie only while its expiry (from the server's clock) is ahead of real time.
  const fx = await startServer(t, { clock: new ManualClock(Date.now()), consolePorts: { inventory: inv, software: sw } });
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
  const login = async (page: Page): Promise<void> => {
    await page.goto(`${fx.base}/login`);
    await page.fill('input[name=token]', fx.adminToken);
    await page.click('button[type=submit]');
    await page.waitForSelector('#compliance-chart', { timeout: 60_000 });
  };
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
  await page.click('header nav a:text-is("Inventory")');
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
  t.match(await page.locator('#groups tr[data-group="web"]').innerText(), /rule 2 matched/);
  t.equal(await page.locator('script').count(), 0, 'hostile strings stay text: no script element');
  t.match(await page.locator('#host-packages tr[data-package="nginx"]').innerText(), /1\.22\.1-9[\s\S]*outdated/);
  await shoot(page, 'inventory-host');

  // The lifecycle form.
  await page.selectOption('#lifecycle', 'maintenance');
  await page.getByLabel('Reason').fill('disk replaced, under test');
  await page.click('button:text-is("Change lifecycle")');
  await page.waitForSelector('.flash[role=status]');
  t.match(await page.locator('#lifecycle-history tbody tr').first().innerText(), /faulty[\s\S]*maintenance[\s\S]*admin[\s\S]*disk replaced, under test/, 'the change heads the history');
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
  t.notOk(inv.hosts.has('new-1'), 'the dry run wrote nothing');
  await page.click('button:text-is("Apply this import")');
  await page.waitForSelector('#import-result[data-applied="true"]');
  t.ok(inv.hosts.has('new-1'), 'applied');

  // Software: the fleet, a package, "upgrade to approved".
  await page.click('header nav a:text-is("Software")');
  await page.waitForSelector('#packages');
  t.equal(await page.locator('section[data-package="nginx"] li[data-version]').count(), 3, 'three bars for nginx');
  await shoot(page, 'software');
  await page.click('section[data-package="nginx"] h2 a');
  await page.waitForSelector('#package-hosts');
  await page.getByLabel('Gate between batches').selectOption('manual');
  await page.click('button:has-text("Upgrade")');
  await page.waitForURL(/\/rollouts\/r-mem-1$/);
  t.match(sw.calls.at(-1)!, /^upgrade dpkg\/nginx \{"version":"1\.24\.0-2","policy":\{"batches":"1,50%,100%","gate":"manual"\}\} by admin$/, 'a canary rollout with the batches of the form');

  // Services: restart from a row.
  await page.goto(`${fx.base}/services`);
  await page.waitForSelector('#services');
  t.equal(await page.locator('#services tr[data-drift]').count(), 1, 'one drifted service');
  await shoot(page, 'services');
  await page.click('button[aria-label="restart nginx on pm-1"]');
  await page.waitForURL(/\/jobs\/j-mem-\d+$/);
  t.match(sw.calls.at(-1)!, /^service nginx \{"action":"restart","targets":"host:pm-1"\} by admin$/);
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
