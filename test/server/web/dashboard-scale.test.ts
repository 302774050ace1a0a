/**
 * The dashboard at 10,000 hosts (issue 12: pages stay fast): reports from 10,000 hosts go in
 * through the report service (group commits), then the overview answers with one page of 50
 * host rows and the totals (not every host), the search and the last page are one page too,
 * /dashboard.json sends one page, and the API's dashboard lists a bounded number of failing
 * hosts. Times are printed, not asserted (the machine is shared); sizes are asserted.
 */
import t from 'tap';
import type { RunReport } from '../../../schemas/report.js';
import { rawRequest, startServer, type ServerFixture } from '../../helpers/server-fixture.js';
import { makeReport } from '../../helpers/server-reports.js';

const HOSTS = 10_000;

async function login(fx: ServerFixture): Promise<string> {
  const r = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin: fx.base, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(fx.adminToken)}` });
  return String(r.headers['set-cookie']![0]).split(';')[0]!;
}

t.test('10,000 hosts: one page of hosts, totals from counts', async (t) => {
  const fx = await startServer(t);
  const started = Date.now();
  const at = new Date(fx.clock.now()).toISOString();
  for (let i = 0; i < HOSTS; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, HOSTS - i) }, (_, k) => {
        const n = i + k;
        const host = `host-${String(n).padStart(5, '0')}`;
        const outcome = n % 100 === 0 ? 'failed' : n % 10 === 0 ? 'changed' : 'in-sync';
        return fx.server.services.reports.ingest(host, makeReport(host, 'run-1', { startedAt: at, outcome, corrective: outcome === 'changed' }) as unknown as RunReport);
      }),
    );
  }
  t.comment(`ingested ${HOSTS} reports in ${Date.now() - started} ms`);
  const cookie = await login(fx);
  const get = async (path: string): Promise<{ status: number; body: string; ms: number }> => {
    const t0 = Date.now();
    const r = await rawRequest(fx.base, { method: 'GET', path, headers: { cookie } });
    return { status: r.status, body: r.body.toString(), ms: Date.now() - t0 };
  };

  const o = await get('/');
  t.equal(o.status, 200);
  t.comment(`GET / at ${HOSTS} hosts: ${o.ms} ms, ${o.body.length} bytes`);
  t.equal([...o.body.matchAll(/<tr data-host="/g)].length, 50, 'one page of 50 host rows');
  t.match(o.body, /data-total="hosts">10000</, 'the total is counted');
  t.match(o.body, /data-page="1" data-pages="200"/, '200 pages');
  t.match(o.body, /<a rel="next" href="\?page=2#hosts-card">/);
  t.ok(o.body.length < 200_000, `the page is small (${o.body.length} bytes), not a row per host`);
  t.match(o.body, /<div class="l">in sync of <span data-fleet-total>0<\/span>/, 'no inventory published: the fleet (inventory hosts) is empty');

  const last = await get('/?page=200');
  t.equal([...last.body.matchAll(/<tr data-host="/g)].length, 50);
  t.match(last.body, /data-host="host-09999"/);
  const beyond = await get('/?page=9999');
  t.match(beyond.body, /data-page="200"/, 'a page past the end shows the last');
  const failing = await get('/?state=failing');
  t.match(failing.body, /data-total="hosts">100</, '100 failing hosts');
  t.equal([...failing.body.matchAll(/<tr data-host="/g)].length, 50);
  const search = await get('/?q=host-0999');
  t.equal([...search.body.matchAll(/<tr data-host="/g)].length, 10, 'host-09990 … host-09999');
  t.comment(`search: ${search.ms} ms`);

  const live = await get('/dashboard.json?page=3');
  const lj = JSON.parse(live.body);
  t.equal(lj.tables.hosts.length, 50);
  t.equal(lj.tables.hosts[0][0].t, 'host-00100');
  t.equal(lj.totals.hosts, HOSTS);
  t.comment(`/dashboard.json: ${live.ms} ms, ${live.body.length} bytes`);

  const api = await fx.json('GET', '/api/v1/dashboard?limit=5');
  t.equal(api.status, 200);
  t.ok(api.body.length < 50_000, `the API dashboard is bounded (${api.body.length} bytes)`);
});
