/**
 * The console in real headless Chromium against a real `stead server` process. Hosts get their
 * state from signed agent requests (enroll with a bootstrap token, PUT facts, POST reports —
 * the same signing code the agent uses): a1 drifted (a corrective content change with a diff
 * and a redacted value), a2 failing, and "newhost" pending approval; b1 is a real `stead agent`
 * process that converges its own root while the browser watches. In the browser:
 * log in with the admin token, see the tiles and the drawn chart, watch the overview refresh
 * itself when a2 converges, open a1 and read the drift and its diff, check hostile facts render
 * inert, approve newhost through the form (confirmed over the API), see the live revision, and
 * keep screenshots. Every wait is event-driven (waitForSelector / waitFor with generous bounds).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { newNonce, signRequest } from '../../agent/identity/request-signature.js';
import { chromiumMissing, openBrowser, clickNav } from '../helpers/browser.js';
import { AgentProcess, buildOnce, fleetRepository, freePort, hasCommand, ServerProcess, waitFor } from '../helpers/e2e-fleet.js';

await buildOnce();
const ready = await hasCommand('server');
const skip = chromiumMissing || (ready ? false : 'the build has no `stead server` command');

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

  async enroll(withToken: boolean): Promise<number> {
    let bootstrapToken: string | undefined;
    if (withToken) bootstrapToken = (await this.server.api('POST', '/api/v1/bootstrap-tokens', { host: this.host })).body.token as string;
    const body = JSON.stringify({ host: this.host, publicKey: this.pem, ...(bootstrapToken ? { bootstrapToken } : {}) });
    return (await this.server.fetch('POST', '/api/v1/agents/enroll', { 'content-type': 'application/json' }, body)).status;
  }

  async send(method: string, path: string, value: unknown): Promise<{ status: number; text: string }> {
    const body = Buffer.from(JSON.stringify(value));
    const headers = signRequest({ method, pathWithQuery: path, body, host: this.host, timeMs: Date.now(), nonce: newNonce() }, this.key);
    return this.server.fetch(method, path, { 'content-type': 'application/json', ...headers }, body.toString('utf8'));
  }

  async report(r: Record<string, unknown>): Promise<void> {
    const res = await this.send('POST', `/api/v1/hosts/${this.host}/reports`, r);
    if (res.status !== 200) throw new Error(`report ${this.host}: ${res.status} ${res.text}`);
  }
}

type Res = { id: string; type: string; state: string; changes: unknown[]; durationMs: number; diff?: string; error?: { code: string; message: string } };

function report(host: string, runId: string, outcome: 'in-sync' | 'changed' | 'failed', resources: Res[]): Record<string, unknown> {
  const n = (s: string): number => resources.filter((r) => r.state === s).length;
  return {
    runId,
    host,
    catalogId: 'c'.repeat(64),
    revision: 'r',
    mode: 'apply',
    startedAt: new Date().toISOString(),
    durationMs: 40,
    outcome,
    counts: { total: resources.length, inSync: n('in-sync'), changed: n('changed'), wouldChange: 0, failed: n('failed'), skipped: n('skipped'), corrective: resources.filter((r) => r.changes.some((c) => (c as { corrective: boolean }).corrective)).length },
    resources,
  };
}

const inSync = (id: string): Res => ({ id, type: id.split(':')[0]!, state: 'in-sync', changes: [], durationMs: 1 });
const diff = '--- /srv/app/greeting.conf\n+++ /srv/app/greeting.conf (desired)\n@@ -1 +1 @@\n-greeting=edited-by-hand\n+greeting=hello-alpha\n';
const hostileFact = '<script>window.__pwned=1</script>';
const hostileAttr = '"><img src=x onerror="window.__pwned=2">';

t.test('a newcomer watches the fleet in the console (real Chromium)', { skip }, async (t) => {
  const dir = t.testdir({ server: {}, 'b1-root': {}, 'b1-data': {}, shots: {} });
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  await server.start(t);
  t.teardown(() => {
    if (t.counts.fail > 0) t.comment(`server stderr (last 20 lines):\n${server.stderr.slice(-20).join('\n')}`);
  });
  const pub = await server.publish(fleetRepository(), 'console e2e');
  t.equal(pub.status, 201, 'revision published');

  const a1 = new SigningHost(server, 'a1');
  const a2 = new SigningHost(server, 'a2');
  for (const h of [a1, a2]) t.equal(await h.enroll(true), 201, `${h.host} enrolled with a bootstrap token`);
  const pendingHost = new SigningHost(server, 'newhost');
  t.equal(await pendingHost.enroll(false), 202, 'newhost waits for approval');

  t.equal((await a1.send('PUT', '/api/v1/hosts/a1/facts', { hostname: 'a1', os: { family: 'debian', release: '12' }, evil: hostileFact, template: '{{7*7}}', attr: hostileAttr })).status, 200, 'facts stored');
  await a1.report(
    report('a1', 'run-a1-1', 'changed', [
      inSync('directory:/srv'),
      { id: 'file:/srv/app/greeting.conf', type: 'file', state: 'changed', changes: [{ property: 'content', before: 'sha256:11aa', after: 'sha256:22bb', corrective: true }], diff, durationMs: 4 },
      { id: 'file:/etc/app/secret.key', type: 'file', state: 'changed', changes: [{ property: 'content', before: '[redacted sha256:0f0f]', after: '[redacted sha256:a1a1]', corrective: false }], durationMs: 2 },
    ]),
  );
  await a2.report(report('a2', 'run-a2-1', 'failed', [inSync('directory:/srv'), { id: 'file:/srv/app/host', type: 'file', state: 'failed', changes: [], durationMs: 3, error: { code: 'APPLY_FAILED', message: 'No space left on device' } }]));
  // b1 is a real `stead agent` process confined to its own root: it converges on its own.
  const token = (await server.api('POST', '/api/v1/bootstrap-tokens', { host: 'b1' })).body.token as string;
  const b1 = new AgentProcess({ host: 'b1', server: server.url, root: join(dir, 'b1-root'), dataDir: join(dir, 'b1-data'), intervalSeconds: 2, bootstrapToken: token }).start(t);

  const { page, errors } = await openBrowser(t);
  const shots = join(dir, 'shots');
  const keep = process.env['STEAD_SCREENSHOT_DIR'];
  const shoot = async (name: string): Promise<void> => {
    const file = join(shots, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    const png = readFileSync(file);
    t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${name}.png is a PNG`);
    t.ok(png.length > 15_000, `${name}.png is not trivial (${png.length} bytes)`);
    if (keep) {
      mkdirSync(keep, { recursive: true });
      copyFileSync(file, join(keep, `${name}.png`));
    }
  };

  // Log in: a session-less visit lands on the login form.
  await page.goto(`${server.url}/`);
  await page.waitForSelector('input[name=token]');
  await page.fill('input[name=token]', 'not-the-token-at-all');
  await page.click('#token-login button[type=submit]');
  await page.waitForSelector('text=That token is not valid.');
  await page.fill('input[name=token]', server.adminToken);
  await page.click('#token-login button[type=submit]');
  await page.waitForSelector('#compliance-chart', { timeout: 60_000 });
  errors.length = 0; // the refused login above answered 401, as it should
  t.match(await page.title(), /Overview/);

  // The newcomer watches b1 converge: the overview refreshes itself until the agent reported.
  await page.waitForSelector('#hosts tr[data-host="b1"] .s.in-sync', { timeout: 120_000 });
  const converged = await b1.waitForRun('a converging run', (r) => r.outcome === 'changed' || r.outcome === 'in-sync');
  t.equal(converged.counts?.failed, 0, 'b1 converged without failures');
  t.equal(await b1.read('srv/app/host'), 'b1\n', 'the agent wrote b1\'s files');

  // Overview: counts per state and a drawn chart.
  const count = async (state: string): Promise<string> => (await page.locator(`[data-count="${state}"] .n`).innerText()).trim();
  t.equal(await count('drifted'), '1', 'a1 counts as drifted');
  t.equal(await count('failing'), '1', 'a2 counts as failing');
  t.equal(await count('in-sync'), '1', 'b1 counts as in sync');
  const bars = page.locator('#compliance-chart rect');
  t.ok((await bars.count()) >= 3, 'the chart has a bar segment per state present');
  const box = await page.locator('#compliance-chart').boundingBox();
  t.ok(box && box.width > 300 && box.height > 60, `the chart is drawn at a visible size (${JSON.stringify(box)})`);
  const segment = await bars.first().boundingBox();
  t.ok(segment && segment.height > 1, 'bar segments have height');
  t.equal(await page.locator('body[data-refresh]').count(), 1, 'the overview refreshes itself');
  const alpha = await page.locator('#groups tr[data-group="alpha"] .bar').boundingBox();
  t.ok(alpha && alpha.width > 100 && alpha.height > 5, 'the per-group bar is drawn');
  t.equal(await page.locator('#groups tr[data-group="alpha"] .bar i').count(), 2, 'alpha: drifted and failing segments');
  t.equal(await page.locator('#hosts tr[data-host]').count(), 4, 'a1, a2, b1 and newhost are listed');
  await shoot('overview-before');

  // The overview refreshes itself: a2 converges and the page shows it without a click.
  await a2.report(report('a2', 'run-a2-2', 'changed', [inSync('directory:/srv'), { id: 'file:/srv/app/host', type: 'file', state: 'changed', changes: [{ property: 'content', after: 'sha256:33cc', corrective: false }], durationMs: 3 }]));
  await page.waitForSelector('[data-count="in-sync"] .n:text-is("2")', { timeout: 60_000 });
  t.equal(await count('failing'), '0', 'a2 is no longer failing after the refresh');
  await shoot('overview');

  // Host page: the drifted resource first, with before/after, the diff and the redacted marker.
  await page.click('#hosts a:text-is("a1")');
  await page.waitForSelector('[data-resource="file:/srv/app/greeting.conf"]');
  await page.goto(`${server.url}/hosts/a1?refresh=0`);
  await page.waitForSelector('[data-resource="file:/srv/app/greeting.conf"] pre.diff');
  t.equal(await page.locator('.res').first().getAttribute('data-resource'), 'file:/srv/app/greeting.conf', 'the changed resources come before the in-sync ones');
  const drifted = page.locator('[data-resource="file:/srv/app/greeting.conf"]');
  t.match(await drifted.innerText(), /drift/, 'marked as drift');
  t.equal(await drifted.locator('pre.diff .add').innerText(), '+greeting=hello-alpha');
  t.equal(await drifted.locator('pre.diff .del').innerText(), '-greeting=edited-by-hand');
  t.equal(await page.locator('[data-resource="file:/etc/app/secret.key"] .v-redacted').first().innerText(), '[redacted sha256:0f0f]', 'a redacted value shows as the marker');
  t.match(await page.locator('#runs').innerText(), /run-a1-1/, 'recent runs are listed');

  // Hostile facts render as text.
  const cells = await page.locator('#facts td').allInnerTexts();
  t.ok(cells.includes(hostileFact), 'the <script> fact is shown as text');
  t.ok(cells.includes('{{7*7}}'), 'the template-looking fact is shown as written');
  t.ok(cells.includes(hostileAttr), 'the attribute-breaking fact is shown as text');
  t.notOk(cells.includes('49'), 'nothing evaluated {{7*7}}');
  t.equal(await page.evaluate('typeof globalThis.__pwned'), 'undefined', 'no injected script ran');
  t.equal(await page.locator('img').count(), 0, 'no injected element exists');
  await shoot('host-a1');

  // b1's page shows what the real agent reported.
  await page.goto(`${server.url}/hosts/b1?refresh=0`);
  await page.waitForSelector('#runs tbody tr td a');
  t.match(await page.locator('main').textContent(), /file:\/srv\/app\/greeting\.conf/, 'the real run\'s resources are listed');

  // Enrollment: approve newhost through the form, then confirm over the API.
  await clickNav(page, 'Enrollment');
  await page.waitForSelector('#pending tr[data-host="newhost"]');
  await page.click('#pending tr[data-host="newhost"] button.approve');
  await page.waitForSelector('.flash:text("Key approved.")');
  t.equal(await page.locator('#pending tr[data-host]').count(), 0, 'nothing left pending');
  const agent = await waitFor('newhost approved over the API', async () => {
    const r = await server.api('GET', '/api/v1/agents/newhost');
    return r.status === 200 && r.body.status === 'approved' ? r.body : undefined;
  }, 30_000);
  t.equal(agent.status, 'approved', 'the form post approved the key');
  await shoot('enrollment');

  // Revisions: the live one is marked.
  await clickNav(page, 'Revisions');
  await page.waitForSelector('#revisions tr[data-live]');
  t.match(await page.locator('#revisions tr[data-live]').innerText(), /console e2e/);
  t.same(errors, [], 'no page errors or console errors (CSP violations included)');
});
