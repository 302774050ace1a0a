/**
 * The job pages in real headless Chromium against a real `stead server` process. Two hosts
 * enroll with bootstrap tokens and answer the job channel with signed requests (the agent's own
 * signing code; the real agent daemon's job loop is tested end to end elsewhere). In the browser:
 * log in, open the launch form, pick a group, preview (hosts and the audit verdict), launch, land
 * on the job page, watch it refresh itself to the result with the output, open the plans. Then at
 * 390 px: every job page fits the width (document.scrollingElement.scrollWidth <= 390) and its
 * controls are at least 40 px tall. Screenshots of the list, launch and job pages at both widths
 * are kept in the test directory (and copied to STEAD_SCREENSHOT_DIR when set).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { newNonce, signRequest } from '../../agent/identity/request-signature.js';
import { consoleLogin, chromiumMissing, openBrowser, layoutProblems, clickNav } from '../helpers/browser.js';
import { buildOnce, freePort, hasCommand, ServerProcess, waitFor } from '../helpers/e2e-fleet.js';

await buildOnce();
const ready = await hasCommand('server');
const skip = chromiumMissing || (ready ? false : 'the build has no `stead server` command');

const repo: Record<string, string> = {
  'stead.yaml': 'stead: 1\nname: jobs-browser\n',
  'inventory/hosts.yaml': 'hosts:\n  a1: {idc: sz, tags: [canary]}\n  a2: {idc: sz}\n  a3: {idc: gz}\n',
  'groups/web.yaml': 'description: web\nkind: custom\npriority: 10\nhosts: [a1, a2, a3]\nroles: [app]\n',
  'roles/app/role.yaml': 'description: app\nresources:\n  - type: directory\n    path: /srv\n    mode: "0755"\n',
};

class SigningHost {
  readonly key: KeyObject;
  readonly pem: string;
  constructor(
    readonly server: ServerProcess,
    readonly host: string,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.key = privateKey;
    this.pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  async enroll(): Promise<number> {
    const bootstrapToken = (await this.server.api('POST', '/api/v1/bootstrap-tokens', { host: this.host })).body.token as string;
    const body = JSON.stringify({ host: this.host, publicKey: this.pem, bootstrapToken });
    return (await this.server.fetch('POST', '/api/v1/agents/enroll', { 'content-type': 'application/json' }, body)).status;
  }

  async send(method: string, path: string, value?: unknown): Promise<{ status: number; text: string }> {
    const body = Buffer.from(value === undefined ? '' : JSON.stringify(value));
    const headers = signRequest({ method, pathWithQuery: path, body, host: this.host, timeMs: Date.now(), nonce: newNonce() }, this.key);
    return this.server.fetch(method, path, { ...(value === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, value === undefined ? undefined : body.toString('utf8'));
  }

  /** Polls for the job's dispatch, starts it and answers with `result`. */
  async answer(jobId: string, result: Record<string, unknown>): Promise<void> {
    const id = `${jobId}.0.${this.host}`;
    await waitFor(`${this.host} is offered ${id}`, async () => {
      const poll = await this.send('GET', `/api/v1/hosts/${this.host}/jobs?wait=0`);
      return poll.status === 200 && (JSON.parse(poll.text) as { work: { id: string }[] }).work.some((w) => w.id === id) ? true : undefined;
    }, 30_000);
    const start = await this.send('POST', `/api/v1/hosts/${this.host}/jobs/${id}/start`, {});
    if (start.status !== 200) throw new Error(`start ${id}: ${start.status} ${start.text}`);
    const now = new Date().toISOString();
    const r = await this.send('POST', `/api/v1/hosts/${this.host}/jobs/${id}/result`, { stdout: '', stderr: '', startedAt: now, finishedAt: now, ...result });
    if (r.status !== 200) throw new Error(`result ${id}: ${r.status} ${r.text}`);
  }
}


t.test('jobs in the console: launch, live progress, output, plans; 390 px (real Chromium)', { skip }, async (t) => {
  const dir = t.testdir({ server: {}, shots: {} });
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  await server.start(t);
  t.teardown(() => {
    if (t.counts.fail > 0) t.comment(`server stderr (last 20 lines):\n${server.stderr.slice(-20).join('\n')}`);
  });
  t.equal((await server.publish(repo, 'jobs console')).status, 201, 'revision published');
  const a1 = new SigningHost(server, 'a1');
  const a2 = new SigningHost(server, 'a2');
  for (const h of [a1, a2]) t.equal(await h.enroll(), 201, `${h.host} enrolled`);
  const plan = await server.api('POST', '/api/v1/plans', {
    name: 'check then restart',
    targets: 'group:web',
    steps: [
      { name: 'check', kind: 'script', script: { lang: 'shell', source: 'df -h /' } },
      { name: 'go?', kind: 'confirm', message: 'Restart the app?' },
    ],
  });
  t.equal(plan.status, 201, 'a plan saved over the API');
  const planId = plan.body.id as string;

  const shots = join(dir, 'shots');
  const keep = process.env['STEAD_SCREENSHOT_DIR'];
  const shoot = async (page: Page, name: string): Promise<void> => {
    const file = join(shots, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    const png = readFileSync(file);
    t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${name}.png is a PNG`);
    t.ok(png.length > 10_000, `${name}.png is not trivial (${png.length} bytes)`);
    if (keep) {
      mkdirSync(keep, { recursive: true });
      copyFileSync(file, join(keep, `${name}.png`));
    }
  };
  const login = (page: Page): Promise<void> => consoleLogin(page, server.url, server.adminToken);

  const { page, errors } = await openBrowser(t);
  await login(page);

  // From the nav to the launch form; pick a group, write a script, preview.
  await clickNav(page, 'Jobs');
  await page.waitForSelector('#jobs');
  await page.click('a.btn:text-is("Launch a job")');
  await page.waitForSelector('form[action="/jobs/new"]');
  await page.check('input[name=pick][value="group:web"]');
  await page.fill('#name', 'disk check');
  await page.fill('#source', 'df -h /\necho "<b>done</b>"');
  await page.click('button[value=preview] >> nth=0');
  await page.waitForSelector('#preview-hosts');
  t.equal(await page.inputValue('#targets'), 'group:web', 'the pick went into the selector');
  t.same(await page.locator('#preview-hosts span').allInnerTexts(), ['a1', 'a2'], 'the runnable hosts');
  t.match(await page.locator('#preview-cannot').innerText(), /a3/, 'a3 (no agent) cannot run');
  t.match(await page.locator('#audit').innerText(), /Safety audit: nothing found/);
  t.equal(await page.inputValue('#source'), 'df -h /\necho "<b>done</b>"', 'the script survived the preview');
  await shoot(page, 'jobs-launch');

  // Launch: the job page, running, refreshing itself.
  await page.click('button[value=launch]');
  await page.waitForSelector('#hosts tr[data-host="a1"]');
  const jobId = page.url().split('/').pop()!;
  t.match(await page.locator('h1').innerText(), /disk check/);
  t.equal(await page.locator('body[data-refresh]').count(), 1, 'a running job refreshes itself');

  // The hosts answer; the page follows on its own (meta refresh), no click.
  await a1.answer(jobId, { state: 'succeeded', exitCode: 0, stdout: `${'Filesystem Size Used Avail Use% Mounted on '.repeat(6)}\n/dev/sda1 40G 12G 28G 30% /\n<b>done</b>\n`, stdoutTruncated: true });
  await a2.answer(jobId, { state: 'failed', exitCode: 1, stderr: 'df: /: Input/output error\n' });
  await page.waitForSelector('h1 .s.jb-failed', { timeout: 60_000 });
  t.equal(await page.locator('body[data-refresh]').count(), 0, 'a finished job stops refreshing');
  t.equal(await page.locator('#hosts tr[data-host="a2"] td[data-label="Exit"]').innerText(), '1');
  t.match(await page.locator('#out-a2 pre.out.err').innerText(), /Input\/output error/, 'the failed host\'s output is open');
  t.equal(await page.locator('#out-a1 .trunc').count(), 1, 'the truncation marker is shown');
  t.equal(await page.locator('#out-a1 b').count(), 0, 'output is text, not markup');
  t.match(await page.locator('#progress .plabel').innerText(), /2 of 2 done/);
  await shoot(page, 'jobs-job');

  // Redo the failed host from the page.
  await page.click('button:has-text("Redo failed")');
  await page.waitForSelector('#hosts tr[data-host="a2"]');
  t.not(page.url().split('/').pop(), jobId, 'a new job');
  t.equal(await page.locator('#hosts tr[data-host="a1"]').count(), 0, 'only the failed host');
  await page.click('button:has-text("Cancel job")');
  await page.waitForSelector('.flash:text("Cancel requested.")');
  const redoId = page.url().split('/').pop()!.split('?')[0]!;

  // The list, and the plans.
  await clickNav(page, 'Jobs');
  await page.waitForSelector(`#jobs tr[data-job="${jobId}"]`);
  t.equal(await page.locator('#jobs tr[data-job]').first().getAttribute('data-job'), redoId, 'newest first');
  await shoot(page, 'jobs-list');
  await clickNav(page, 'Plans');
  await page.click(`#plans a[href="/plans/${planId}"]`);
  await page.waitForSelector('#plan-steps');
  t.match(await page.locator('#plan-steps').innerText(), /Restart the app\?/);
  t.same(errors, [], 'no page errors or console errors (CSP violations included)');

  // 390 px: every page fits and its controls are big enough to touch.
  const narrow = await openBrowser(t, { width: 390, height: 844 });
  await login(narrow.page);
  const pages: [string, string][] = [
    ['jobs list', '/jobs'],
    ['launch', '/jobs/new'],
    ['job', `/jobs/${jobId}`],
    ['running job', `/jobs/${redoId}`],
    ['plans', '/plans'],
    ['plan', `/plans/${planId}`],
  ];
  for (const [name, path] of pages) {
    await narrow.page.goto(`${server.url}${path}`);
    await narrow.page.waitForSelector('main h1');
    const p = await layoutProblems(narrow.page);
    t.ok(p.scrollWidth <= 390, `${name} fits 390 px (scrollWidth ${p.scrollWidth})`, { wide: p.wide });
    t.same(p.small, [], `${name}: every control is at least 40 px tall`);
    if (path === '/jobs') await shoot(narrow.page, 'jobs-list-390');
    if (path === `/jobs/${jobId}`) await shoot(narrow.page, 'jobs-job-390');
  }
  // The launch form after a preview (the widest state of the form).
  await narrow.page.goto(`${server.url}/jobs/new`);
  await narrow.page.check('input[name=pick][value="idc:sz"]');
  await narrow.page.fill('#source', `echo ${'a-very-long-unbroken-argument-'.repeat(8)}\nrm -rf /`);
  await narrow.page.click('button[value=preview] >> nth=0');
  await narrow.page.waitForSelector('#audit');
  t.match(await narrow.page.locator('#audit').innerText(), /blocked/, 'a dangerous line is blocked before launch');
  const launch = await layoutProblems(narrow.page);
  t.ok(launch.scrollWidth <= 390, `launch with preview and audit fits 390 px (scrollWidth ${launch.scrollWidth})`, { wide: launch.wide });
  t.same(launch.small, [], 'launch with preview: controls at least 40 px tall');
  await shoot(narrow.page, 'jobs-launch-390');
  // Keyboard: the first control after the nav is reachable with Tab and the preview submits with Enter.
  await narrow.page.focus('#targets');
  await narrow.page.keyboard.press('Enter');
  await narrow.page.waitForSelector('#preview-hosts');
  t.pass('Enter in the selector previews (the first submit button is Preview, never Launch)');
  t.same(narrow.errors, [], 'no page errors at 390 px');
});
