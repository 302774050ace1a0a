/**
 * Real headless Chromium for console tests: Debian's /usr/bin/chromium driven by playwright-core
 * with a fresh profile in a temporary directory (launchPersistentContext), torn down with the
 * test. When the binary is absent, `chromiumMissing` says why and tests skip with that reason.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const chromiumPath = process.env['STEAD_CHROMIUM'] ?? '/usr/bin/chromium';

/** A skip reason when no Chromium can run here, else false. */
export const chromiumMissing: string | false = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath} (apt-get install chromium, or set STEAD_CHROMIUM)`;

export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export interface BrowserSession {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught page errors and console errors seen so far. */
  readonly errors: string[];
}

interface TapLike {
  teardown(fn: () => unknown): void;
}

/** Launches Chromium with a throw-away profile; closed (and the profile removed) at teardown. */
export async function openBrowser(t: TapLike, opts: { width?: number; height?: number } = {}): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), 'stead-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
    timeout: 120_000,
  });
  t.teardown(async () => {
    await context.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  });
  context.setDefaultTimeout(120_000); // generous: a loaded CI machine renders slowly
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return { context, page, errors };
}

/**
 * What makes a page unusable on a phone: the width the document needs (more than the viewport
 * means sideways scrolling), visible controls shorter than 40 px (touch targets), and the first
 * few elements of <main> that stick out (for the message).
 */
export async function layoutProblems(page: Page): Promise<{ scrollWidth: number; small: string[]; wide: string[] }> {
  return page.evaluate(`(() => {
    const small = [];
    const sel = 'button, select, textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), label.check, summary, a.btn, header nav a';
    for (const el of document.querySelectorAll(sel)) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.height < 40 - 0.5) small.push(el.tagName.toLowerCase() + (el.getAttribute('name') ? '[name=' + el.getAttribute('name') + ']' : '') + ' ' + (el.textContent || '').trim().slice(0, 30) + ' (' + Math.round(r.height) + ' px)');
    }
    const wide = [];
    for (const el of document.querySelectorAll('main *')) {
      const r = el.getBoundingClientRect();
      if (r.right > window.innerWidth + 0.5 && wide.length < 5) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + String(el.className).split(' ').join('.') : '') + ' right=' + Math.round(r.right));
    }
    return { scrollWidth: document.scrollingElement.scrollWidth, small, wide };
  })()`);
}

/** Logs in to the console with an operator token and waits for the dashboard. */
export async function consoleLogin(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('input[name=token]', token);
  await page.click('#token-login button[type=submit]');
  await page.waitForSelector('#compliance-chart', { timeout: 60_000 });
}

/** Logs the page in with a user name and password (the login page's first form). */
export async function consolePasswordLogin(page: Page, base: string, user: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('#user', user);
  await page.fill('#password', password);
  await page.click('#password-login button[type=submit]');
  await page.waitForSelector('#compliance-chart', { timeout: 60_000 });
}

/** Follows a console nav link by its text; on a phone the nav is folded behind the Menu button first. */
export async function clickNav(page: Page, label: string): Promise<void> {
  const link = page.locator(`header nav a:has-text("${label}")`).first();
  if (!(await link.isVisible())) await page.click('header button.menu');
  await link.click();
}
