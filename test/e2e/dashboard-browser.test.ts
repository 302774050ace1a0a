/**
 * The dashboard in real headless Chromium against a real `stead server` process and real
 * `stead agent` daemons (b1 and a1 converge their own roots). Drift is caused for real: a
 * managed file is edited by hand under a1's root, the agent's next run repairs it (a corrective
 * change) and later runs are in sync. In the browser: the host page's drift history lists the
 * repaired drift (table and a drawn uPlot chart), the dashboard's top list names the resource,
 * its page shows the drift across hosts, the compliance chart is a uPlot canvas drawn with data
 * whose legend shows values on hover, the range links switch it, and the dashboard, host and
 * drift pages fit 390 px. Screenshots are kept (and copied to STEAD_SCREENSHOT_DIR when set).
 * Every wait is event-driven with generous bounds.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { chromiumMissing, consoleLogin, layoutProblems, openBrowser } from '../helpers/browser.js';
import { AgentProcess, buildOnce, fleetRepository, freePort, hasCommand, ServerProcess } from '../helpers/e2e-fleet.js';

await buildOnce();

/** Polls `expr` in the page until it is true (waitForFunction would need eval, which the console's CSP refuses). */
async function until(page: Page, expr: string, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await page.evaluate(expr)) === true) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}
const ready = await hasCommand('server');
const skip = chromiumMissing || (ready ? false : 'the build has no `stead server` command');

t.test('drift caused on a real agent shows in the dashboard (real Chromium)', { skip }, async (t) => {
  const dir = t.testdir({ server: {}, 'a1-root': {}, 'a1-data': {}, 'b1-root': {}, 'b1-data': {}, shots: {} });
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  await server.start(t);
  t.teardown(() => {
    if (t.counts.fail > 0) t.comment(`server stderr (last 20 lines):\n${server.stderr.slice(-20).join('\n')}`);
  });
  t.equal((await server.publish(fleetRepository(), 'dashboard e2e')).status, 201, 'revision published');
  const agents: Record<string, AgentProcess> = {};
  for (const host of ['a1', 'b1']) {
    const token = (await server.api('POST', '/api/v1/bootstrap-tokens', { host })).body.token as string;
    agents[host] = new AgentProcess({ host, server: server.url, root: join(dir, `${host}-root`), dataDir: join(dir, `${host}-data`), intervalSeconds: 2, bootstrapToken: token }).start(t);
  }
  const a1 = agents['a1']!;
  for (const a of Object.values(agents)) {
    const first = await a.waitForRun('a converging run', (r) => (r.outcome === 'changed' || r.outcome === 'in-sync') && r.counts?.failed === 0, 0, 120_000);
    t.ok(first, `${a.opts.host} converged`);
  }
  t.equal(await a1.read('srv/app/greeting.conf'), 'greeting=hello-alpha\n');

  // Someone edits a managed file by hand: the next run repairs it (corrective), later runs are in sync.
  const before = a1.runs.length;
  writeFileSync(join(dir, 'a1-root', 'srv/app/greeting.conf'), 'greeting=edited-by-hand\n');
  const repair = await a1.waitForRun('the run that repairs the drift', (r) => (r.counts?.corrective ?? 0) >= 1, before, 120_000);
  t.equal(repair.outcome, 'changed');
  const after = a1.runs.indexOf(repair) + 1;
  await a1.waitForRun('an in-sync run after the repair', (r) => r.outcome === 'in-sync', after, 120_000);
  t.equal(await a1.read('srv/app/greeting.conf'), 'greeting=hello-alpha\n', 'the agent put the file back');
  const events = await server.api('GET', '/api/v1/drift?host=a1');
  t.same(events.body.events.map((e: { resource: string; kind: string; runId: string }) => [e.resource, e.kind, e.runId]), [['file:/srv/app/greeting.conf', 'repaired', repair.runId]], 'the API lists the repaired drift');
  const state = await server.api('GET', '/api/v1/hosts/a1');
  t.equal(state.body.compliance, 'in-sync', 'a1 is back in sync');

  const dirShots = join(dir, 'shots');
  const keep = process.env['STEAD_SCREENSHOT_DIR'];
  const shoot = async (page: Page, name: string): Promise<void> => {
    const file = join(dirShots, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    const png = readFileSync(file);
    t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${name}.png is a PNG`);
    if (keep) {
      mkdirSync(keep, { recursive: true });
      copyFileSync(file, join(keep, `${name}.png`));
    }
  };

  const { page, errors } = await openBrowser(t);
  // Chromium asks for /favicon.ico (there is none: 404); every other failed response is a fault.
  const failed: string[] = [];
  const watch = (p: Page): void => void p.on('response', (r) => {
    if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico') failed.push(`${r.status()} ${r.url()}`);
  });
  watch(page);
  const pageErrors = (list: string[]): string[] => list.filter((e) => !/^console: Failed to load resource: the server responded with a status of 404 /.test(e));
  await consoleLogin(page, server.url, server.adminToken);
  t.match(await page.title(), /Dashboard/);

  // The compliance chart: a uPlot canvas drawn with 48 hourly slots, the current one with data.
  await page.waitForSelector('#compliance-chart canvas');
  t.equal(await page.getAttribute('#compliance-chart', 'data-drawn'), '48', 'drawn with the 48 hourly slots');
  const canvas = await page.locator('#compliance-chart canvas').first().boundingBox();
  t.ok(canvas && canvas.width > 600 && canvas.height > 100, `a visible chart (${JSON.stringify(canvas)})`);
  const painted = await page.evaluate(`(() => { const c = document.querySelector('#compliance-chart canvas'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()`);
  t.ok((painted as number) > 1000, `the canvas has paint (${String(painted)} pixels)`);
  // Hover over the newest hour: the legend shows the hosts per state of that hour.
  await page.locator('#compliance-chart').scrollIntoViewIfNeeded();
  const over = (await page.locator('#compliance-chart .u-over').boundingBox())!;
  await page.mouse.move(over.x + over.width - 3, over.y + over.height / 2);
  await until(page, `[...document.querySelectorAll('#compliance-chart .u-legend .u-series')].some((tr) => tr.querySelector('.u-label')?.textContent === 'in-sync' && tr.querySelector('.u-value')?.textContent === '2')`, 'the legend of the newest hour');
  const legend = await page.evaluate(`Object.fromEntries([...document.querySelectorAll('#compliance-chart .u-legend .u-series')].map((tr) => [tr.querySelector('.u-label')?.textContent, tr.querySelector('.u-value')?.textContent]))`);
  t.match(legend, { 'in-sync': '2', drifted: '0', failing: '0', unknown: '1' }, 'hovering shows the values: a1 and b1 in sync, a2 never reported');
  t.match((legend as Record<string, string>)['Hour'] ?? '', /UTC$/, 'and the hour');
  // Range links switch the chart without a reload.
  await page.click('#compliance-card a[data-range="30d"]');
  await page.waitForSelector('#compliance-chart[data-range="30d"][data-drawn="30"]');
  t.equal(await page.getAttribute('#compliance-card a[data-range="30d"]', 'aria-current'), 'true');
  await page.click('#compliance-card a[data-range="12m"]');
  await page.waitForSelector('#compliance-chart[data-range="12m"][data-drawn="12"]');
  await page.click('#compliance-card a[data-range="48h"]');
  await page.waitForSelector('#compliance-chart[data-range="48h"]');

  // Drift per day and the most drifted resources.
  await page.waitForSelector('#drift-chart canvas');
  const top = page.locator('#top-drifted tbody tr').first();
  t.match(await top.innerText(), /file:\/srv\/app\/greeting\.conf\s+1\s+1\s+0\s+1\s+0/, 'greeting.conf: one event on one host, repaired');
  await shoot(page, 'dashboard');

  // The resource's drift across hosts.
  await top.locator('a').first().click();
  await page.waitForSelector('#drift-events');
  t.match(await page.locator('h1').innerText(), /Drift of file:\/srv\/app\/greeting\.conf/);
  t.match(await page.locator('#drift-events tbody').innerText(), /a1\s+repaired\s+content/);
  await page.waitForSelector('#drift-chart canvas');

  // The host page: the repaired drift stays in the history, with a drawn chart.
  await page.goto(`${server.url}/hosts/a1?refresh=0`);
  await page.waitForSelector('#host-drift');
  t.match(await page.locator('h1').innerText(), /a1\s+in-sync/, 'a1 is in sync');
  t.match(await page.locator('#host-drift tbody tr').first().innerText(), /file:\/srv\/app\/greeting\.conf\s+repaired\s+content/, 'the repaired drift is listed');
  await page.waitForSelector('#host-drift-card #drift-chart canvas');
  await page.locator('#drift-chart').scrollIntoViewIfNeeded();
  const driftOver = (await page.locator('#drift-chart .u-over').boundingBox())!;
  await page.mouse.move(driftOver.x + driftOver.width - 3, driftOver.y + driftOver.height / 2);
  await until(page, `[...document.querySelectorAll('#drift-chart .u-legend .u-series')].some((tr) => tr.querySelector('.u-label')?.textContent === 'repaired' && tr.querySelector('.u-value')?.textContent === '1')`, 'the legend of today');
  t.pass('hovering today shows one repaired drift');
  await shoot(page, 'host-drift');
  t.same(pageErrors(errors), [], 'no page errors');

  // Phone: the dashboard, the host page and the drift page fit 390 px.
  const narrow = await openBrowser(t, { width: 390, height: 844 });
  watch(narrow.page);
  await consoleLogin(narrow.page, server.url, server.adminToken);
  for (const [path, name, sel] of [
    ['/', 'dashboard-390', '#compliance-chart canvas'],
    ['/hosts/a1?refresh=0', 'host-drift-390', '#drift-chart canvas'],
    [`/drift?resource=${encodeURIComponent('file:/srv/app/greeting.conf')}`, '', '#drift-chart canvas'],
  ] as const) {
    await narrow.page.goto(`${server.url}${path}`);
    await narrow.page.waitForSelector(sel);
    const p = await layoutProblems(narrow.page);
    t.ok(p.scrollWidth <= 390, `${path} fits 390 px (scrollWidth ${p.scrollWidth})`, { wide: p.wide });
    const chartBox = await narrow.page.locator(sel).first().boundingBox();
    t.ok(chartBox && chartBox.x >= 0 && chartBox.x + chartBox.width <= 390, `${path}: the chart fits (${JSON.stringify(chartBox)})`);
    if (name) await shoot(narrow.page, name);
  }
  t.same(pageErrors(narrow.errors), [], 'no page errors at 390 px');
  t.same(failed, [], 'no failed request but the favicon');
});
