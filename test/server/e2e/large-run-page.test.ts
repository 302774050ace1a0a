/**
 * Issue 8 item 9: a host whose run is huge (2,000 changed resources with 190-line diffs, ~4 MiB, accepted here
 * under a raised --report-max-bytes) does not stall the server. A real `stead server` process;
 * the host page is requested repeatedly, with /healthz alongside. Measured is the event loop's
 * longest block while that happens (stead_nodejs_eventloop_lag_max_seconds from /metrics, reset by
 * the scrape before), not how long the requests took; the page shows one page of resources
 * with links to the others, and the API pages the run the same way.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { newNonce, signRequest } from '../../../agent/identity/request-signature.js';
import { buildOnce, freePort, ServerProcess } from '../../helpers/e2e-fleet.js';
import { makeReport } from '../../helpers/server-reports.js';

const resources = 2_000;
const diffLines = 190;
/** The longest the event loop may block while the page is served (the whole run took seconds). */
const maxBlockSeconds = 2;

function hugeReport(): Record<string, unknown> {
  const base = makeReport('web-1', 'huge-run', { outcome: 'changed' });
  const diff = `--- a\n+++ b\n@@ -1,${diffLines} +1,${diffLines} @@\n${Array.from({ length: diffLines }, (_, i) => (i % 2 ? `+new ${i}` : `-old ${i}`)).join('\n')}\n`;
  const list = Array.from({ length: resources }, (_, i) => ({
    id: `file:/srv/app/conf-${i}.conf`,
    type: 'file',
    state: 'changed',
    changes: [{ property: 'content', before: `sha256:${'a'.repeat(64)}`, after: `sha256:${'b'.repeat(64)}`, corrective: i % 2 === 0 }],
    durationMs: 1,
    diff,
  }));
  return { ...base, resources: list, counts: { total: resources, inSync: 0, changed: resources, wouldChange: 0, failed: 0, skipped: 0, corrective: resources / 2 } };
}

function lagMax(metrics: string): number {
  const m = /^stead_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(metrics);
  return m ? Number(m[1]) : Number.NaN;
}

t.test('a huge run renders a page at a time; /healthz answers; the event loop never blocks long', async (t) => {
  await buildOnce();
  const dir = t.testdir();
  const server = new ServerProcess(join(dir, 'data'), await freePort());
  server.extraArgs.push('--report-max-bytes', String(8 * 1024 * 1024));
  await server.start(t);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const bt = await server.api('POST', '/api/v1/bootstrap-tokens', { host: 'web-1' });
  t.equal((await server.fetch('POST', '/api/v1/agents/enroll', { 'content-type': 'application/json' }, JSON.stringify({ host: 'web-1', publicKey: publicKey.export({ type: 'spki', format: 'pem' }), bootstrapToken: bt.body.token }))).status, 201);
  const path = '/api/v1/hosts/web-1/reports';
  const signedPost = (body: string): Promise<{ status: number; text: string }> =>
    server.fetch('POST', path, { 'content-type': 'application/json', ...signRequest({ method: 'POST', pathWithQuery: path, body, host: 'web-1', timeMs: Date.now(), nonce: newNonce() }, privateKey) }, body);
  t.equal((await signedPost(JSON.stringify(makeReport('web-1', 'small-run')))).status, 200);
  const body = JSON.stringify(hugeReport());
  t.comment(`report: ${resources} resources, ${(body.length / 1024 / 1024).toFixed(1)} MiB`);
  const posted = await signedPost(body);
  t.equal(posted.status, 200, posted.text.slice(0, 300));

  // A console session (ServerProcess.fetch gives no headers: log in with a raw request).
  const cookie = await new Promise<string>((resolve, reject) => {
    import('node:http').then(({ default: http }) => {
      const r = http.request(`${server.url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url } }, (res) => {
        res.resume();
        resolve(String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]!);
      });
      r.on('error', reject);
      r.end(`token=${encodeURIComponent(server.adminToken)}`);
    }, reject);
  });
  t.match(cookie, /^stead_session=/);

  const op = { authorization: `Bearer ${server.adminToken}` };
  // The views' first render compiles them: do that on a small run, then reset the event-loop
  // delay histogram (a scrape resets it).
  t.equal((await server.fetch('GET', '/hosts/web-1/runs/small-run?refresh=0', { cookie })).status, 200);
  await server.fetch('GET', '/metrics', op);
  const pages: string[] = [];
  let healthy = 0;
  for (let round = 0; round < 4; round++) {
    const [a, b, h] = await Promise.all([
      server.fetch('GET', '/hosts/web-1?refresh=0', { cookie }),
      server.fetch('GET', `/hosts/web-1/runs/huge-run?page=${round + 2}&refresh=0`, { cookie }),
      server.fetch('GET', '/healthz'),
    ]);
    t.equal(a.status, 200);
    t.equal(b.status, 200);
    if (h.status === 200) healthy++;
    pages.push(a.text, b.text);
  }
  const api = await server.fetch('GET', '/api/v1/hosts/web-1/reports/huge-run?offset=200&limit=100', op);
  const lag = lagMax((await server.fetch('GET', '/metrics', op)).text);
  t.comment(`longest event-loop block while serving the run: ${lag.toFixed(3)} s`);

  t.equal(healthy, 4, '/healthz answered every time alongside the page');
  t.ok(Number.isFinite(lag), 'the server reports its event-loop delay');
  t.ok(lag < maxBlockSeconds, `the event loop blocked at most ${lag.toFixed(3)} s (bound ${maxBlockSeconds} s)`);
  for (const p of pages) {
    const shown = (p.match(/data-resource="/g) ?? []).length + (p.match(/<tr><td class="mono">file:/g) ?? []).length;
    t.ok(shown > 0 && shown <= 100, `a page shows at most 100 resources (${shown})`);
    const lines = (p.match(/<span class="(add|del|ctx|hunk|head)">/g) ?? []).length;
    t.ok(lines <= 2000, `a page shows at most 2000 diff lines (${lines})`);
  }
  t.match(pages[0], /Resources 1–100 of 2000/);
  t.match(pages[0], /rel="next" href="\?page=2&amp;refresh=0"/);
  t.match(pages[1], /page 2 of 20/);
  t.equal(api.status, 200);
  const paged = JSON.parse(api.text) as { resources: { id: string }[] };
  t.equal(paged.resources.length, 100);
  t.equal(paged.resources[0]!.id, 'file:/srv/app/conf-200.conf', 'the API pages resources in report order');
});
