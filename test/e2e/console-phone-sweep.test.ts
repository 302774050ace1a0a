/**
 * Every console page on a phone (issue 12): log in through the real login form in headless
 * Chromium at 390 × 844 px, then walk every same-origin page the console links to (breadth
 * first from the overview, through the nav and the pages' own links; one page per path shape),
 * on a real server holding real data (an inventory of 60 hosts with agents, a published
 * repository, a job, a job rollout, a schedule, a script, a plan). Each page must fit 390 px
 * without sideways scrolling, every control must be at least 40 px tall, every field labelled,
 * every button named, and no page may log a script error. Pages added later are found by the
 * same walk, so a new page that breaks the phone layout fails here.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { chromiumMissing, consoleLogin, layoutProblems, openBrowser } from '../helpers/browser.js';
import { startServer } from '../helpers/server-fixture.js';
import { ManualClock } from '../../server/domain/clock.js';
import { seedConsoleInventory } from '../helpers/console-inventory-seed.js';
import { buildOnce } from '../helpers/e2e-fleet.js';

await buildOnce();

/** Path shapes: ids and names collapse so one page of each kind is visited. */
export function shapeOf(path: string): string {
  return path
    .replace(/\?.*$/, '')
    .replace(/\/[0-9a-f]{12,}(?=\/|$)/g, '/:id')
    .replace(/\/(hosts|runs|jobs|rollouts|revisions|scripts|plans|packages|users|diff|manifests|audit|schedules)\/(?!(?:new|import|edit|plan|diff)(?:\/|$))[^/]+/g, '/$1/:x');
}

/** Links not to follow: they act, download or leave the page kind. */
const skip = (path: string): boolean => /^\/(logout|assets\/|api\/)|\/export|[?&]refresh=|[?&](after|before|page)=/.test(path);

t.test('every console page fits a 390 px phone', { skip: chromiumMissing }, async (t) => {
  const fx = await startServer(t, { clock: new ManualClock(Date.now()) });
  await seedConsoleInventory(fx, 60);
  const ok = async (what: string, p: Promise<{ status: number; body: Buffer }>): Promise<unknown> => {
    const r = await p;
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.body.toString().slice(0, 300)}`);
    return JSON.parse(r.body.toString() || 'null') as unknown;
  };
  const steps = [{ name: 'check', kind: 'script', script: { lang: 'shell', source: 'df -h /' } }];
  await ok('job', fx.json('POST', '/api/v1/jobs', { targets: 'host:vm-1', steps }));
  await ok('rollout', fx.json('POST', '/api/v1/rollouts', { job: { targets: 'host:vm-1,host:pm-1', includeInactive: true, steps }, policy: { batches: '1,100%', gate: 'manual' } }));
  await ok('schedule', fx.json('POST', '/api/v1/schedules', { name: 'nightly-df', spec: { text: 'every day at 03:30', tz: 'UTC' }, job: { targets: 'host:vm-1', steps } }));
  await ok('script', fx.json('POST', '/api/v1/scripts', { name: 'disk-report', lang: 'shell', source: 'df -h\n', description: 'disk usage' }));
  await ok('plan', fx.json('POST', '/api/v1/plans', { name: 'Disk check', targets: 'host:vm-1', steps }));
  // Blobs no document references (an upload that failed validation, a finished job's file), so /blobs has both parts of its bars.
  for (const [bucket, bytes] of [['repo', Buffer.alloc(48 * 1024, 'r')], ['job_blobs', Buffer.alloc(3 * 1024 * 1024, 'j')]] as const) {
    await (await fx.server.store.blobs(bucket)).put(createHash('sha256').update(bytes).digest('hex'), bytes);
  }

  const { page, errors } = await openBrowser(t, { width: 390, height: 844 });
  await consoleLogin(page, fx.base, fx.adminToken);
  // The nav folds behind the Menu button on a phone and opens with it (keyboard too).
  t.notOk(await page.locator('header nav a:text-is("Jobs")').isVisible(), 'the nav is folded at 390 px');
  await page.click('header button.menu');
  t.ok(await page.locator('header nav a:text-is("Jobs")').isVisible(), 'Menu opens the nav');
  t.equal(await page.locator('header button.menu').getAttribute('aria-expanded'), 'true', 'and says so to a screen reader');
  await page.keyboard.press('Escape');
  t.notOk(await page.locator('header nav a:text-is("Jobs")').isVisible(), 'Escape folds it again');
  const seen = new Set<string>();
  const queue = ['/'];
  const visited: string[] = [];
  while (queue.length > 0 && visited.length < 80) {
    const path = queue.shift()!;
    const shape = shapeOf(path);
    if (seen.has(shape)) continue;
    seen.add(shape);
    const res = await page.goto(`${fx.base}${path}`);
    const status = res?.status() ?? 0;
    visited.push(`${path} ${status}`);
    t.ok(status < 400, `${path} answers (${status})`);
    const p = await layoutProblems(page);
    t.ok(p.scrollWidth <= 390, `${path} fits 390 px (scrollWidth ${p.scrollWidth})`, { wide: p.wide });
    t.same(p.small, [], `${path}: every control is at least 40 px tall`);
    const unlabelled = await page.evaluate(`[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
      .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
      .map((el) => el.tagName.toLowerCase() + '[name=' + el.getAttribute('name') + ']')`);
    t.same(unlabelled, [], `${path}: every field is labelled`);
    const nameless = await page.evaluate(`[...document.querySelectorAll('button, a')].filter((el) => !(el.getAttribute('aria-label') || el.textContent || el.getAttribute('title') || '').trim()).map((el) => el.outerHTML.slice(0, 80))`);
    t.same(nameless, [], `${path}: every button and link says what it does`);
    const links = (await page.evaluate(`[...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href'))`)) as string[];
    for (const href of links) {
      if (!href.startsWith('/') || href.startsWith('//') || skip(href)) continue;
      if (!seen.has(shapeOf(href))) queue.push(href);
    }
  }
  t.comment(`visited ${visited.length} pages:\n${visited.join('\n')}`);
  t.ok(visited.length >= 25, `the walk reached the console's pages (${visited.length})`);
  t.same(errors, [], 'no script or console error on any page');
  t.ok(seen.has('/blobs'), 'the walk reached /blobs (the footer links it)');

  // Screenshots of the pages issue 12 added and of /blobs, phone and desktop (kept with STEAD_SCREENSHOT_DIR).
  const shots = t.testdir();
  const keep = process.env['STEAD_SCREENSHOT_DIR'];
  const shoot = async (p: Page, name: string): Promise<void> => {
    const file = join(shots, `${name}.png`);
    await p.screenshot({ path: file, fullPage: false });
    if (keep) {
      mkdirSync(keep, { recursive: true });
      copyFileSync(file, join(keep, `${name}.png`));
    }
  };
  await page.goto(`${fx.base}/`);
  await page.click('header button.menu');
  await shoot(page, 'nav-menu-390');
  for (const [path, name] of [['/audit', 'audit'], ['/users', 'users'], ['/blobs', 'blobs'], ['/login', 'login']] as const) {
    if (path === '/login') await page.context().clearCookies();
    await page.goto(`${fx.base}${path}`);
    await shoot(page, `${name}-390`);
  }
  const desk = await openBrowser(t);
  await consoleLogin(desk.page, fx.base, fx.adminToken);
  for (const [path, name] of [['/audit', 'audit'], ['/users', 'users'], ['/blobs', 'blobs']] as const) {
    await desk.page.goto(`${fx.base}${path}`);
    await shoot(desk.page, name);
  }
  t.same(desk.errors, [], 'no script error on the desktop pages');
});
