/**
 * /metrics carries what operators alert on: hosts by compliance state (stale, failing),
 * catalog compile failures, refused revisions; process counters; operators only.
 */
import t from 'tap';
import { rawRequest, startServer } from '../../helpers/server-fixture.js';
import { makeReport } from '../../helpers/server-reports.js';
import { smallRepo } from '../../helpers/server-repo.js';

function metric(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

t.test('metrics for alerting', async (t) => {
  const fx = await startServer(t, { staleAfterMs: 15 * 60_000 });
  // db-1's template fails once the agent reports a fact "os" (a fact-dependent compile failure).
  const repo = { ...smallRepo(), 'templates/app.conf.j2': 'port={{ app.port }}\n{% if facts.os is defined %}{{ facts.os.nope.deeper }}{% endif %}\n' };
  t.equal((await fx.publish(repo)).status, 201);
  t.equal((await fx.publish(smallRepo({ templateError: true }))).status, 422);
  const read = async (): Promise<string> => {
    const r = await fx.json('GET', '/metrics');
    t.equal(r.status, 200);
    return r.body.toString();
  };
  t.equal((await rawRequest(fx.base, { method: 'GET', path: '/metrics' })).status, 401, 'operators only');

  let m = await read();
  t.equal(metric(m, 'stead_hosts{state="unknown"}'), 3, 'three hosts never reported');
  t.equal(metric(m, 'stead_revisions_published_total'), 1);
  t.equal(metric(m, 'stead_revisions_rejected_total'), 1, 'the invalid upload is counted');
  t.equal(metric(m, 'stead_catalog_compile_failures_total'), 0);

  const w1 = await fx.approvedAgent('web-1');
  const d1 = await fx.approvedAgent('db-1');
  t.equal((await w1.request('POST', '/api/v1/hosts/web-1/reports', makeReport('web-1', 'a1'))).status, 200);
  t.equal((await d1.request('POST', '/api/v1/hosts/db-1/reports', makeReport('db-1', 'b1', { outcome: 'failed' }))).status, 200);
  m = await read();
  t.equal(metric(m, 'stead_hosts{state="in-sync"}'), 1);
  t.equal(metric(m, 'stead_hosts{state="failing"}'), 1);
  t.equal(metric(m, 'stead_hosts{state="unknown"}'), 1);
  t.equal(metric(m, 'stead_reports_ingested_total'), 2);

  t.equal((await d1.request('GET', '/api/v1/hosts/db-1/catalog')).status, 200);
  t.equal((await d1.request('PUT', '/api/v1/hosts/db-1/facts', { os: 'linux' })).status, 200);
  const failed = await d1.request('GET', '/api/v1/hosts/db-1/catalog');
  t.equal(failed.status, 422, failed.body.toString().slice(0, 300));
  m = await read();
  t.equal(metric(m, 'stead_catalog_compile_failures_total'), 1, 'the failed compile is counted');

  fx.clock.advance(16 * 60_000);
  m = await read();
  t.equal(metric(m, 'stead_hosts{state="not-reporting"}'), 2, 'stale hosts show as not reporting');
  t.match(m, /stead_http_requests_total\{method="GET",route="\/api\/v1\/hosts\/:host\/catalog",status="422"\} 1/);
});
