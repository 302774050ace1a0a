/**
 * The agent against the server's report quotas (issue 8 item 9), for real: an in-process
 * server with a small report limit and a burst of two, the agent's own client and spool in a
 * temporary directory. A report over the size limit (413) is delivered shortened (states and
 * counts exact, no diff or output) and the full one is kept in the spool as *.rejected; a
 * throttled report (429) stays queued and is delivered on a later try. Nothing is lost.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { AgentClient } from '../../../agent/client/agent-client.js';
import { deliverSpool } from '../../../agent/daemon/agent-run.js';
import { createJsonLogger } from '../../../agent/daemon/json-logger.js';
import { ReportSpool } from '../../../agent/spool/report-spool.js';
import type { RunReport } from '../../../schemas/index.js';
import { startServer } from '../../helpers/server-fixture.js';
import { makeReport } from '../../helpers/server-reports.js';

t.test('413 → shortened report delivered, full kept; 429 → kept queued, delivered later', async (t) => {
  const fx = await startServer(t, { reports: { maxBytes: 64 * 1024, burst: 2, perHour: 3600 } });
  const agent = await fx.approvedAgent('web-1');
  const client = new AgentClient({ serverUrl: fx.base, host: 'web-1', privateKey: agent.privateKey, timeoutMs: 10_000, now: () => fx.clock.now() });
  t.teardown(() => client.close());
  const dir = t.testdir();
  const spool = new ReportSpool({ dir: join(dir, 'spool') });
  await spool.open();
  const logs: string[] = [];
  const log = createJsonLogger({ stream: { write: (l: string) => logs.push(l) } });

  const big = makeReport('web-1', 'big-run', { outcome: 'changed' }) as unknown as RunReport;
  const huge = 'x'.repeat(100 * 1024);
  const resources = big.resources.map((r) => ({ ...r, diff: `--- a\n+++ b\n+${huge}\n`, output: huge }));
  await spool.enqueue({ ...big, resources }, fx.clock.now());
  const first = await deliverSpool({ spool, client, log }, AbortSignal.timeout(60_000));
  t.same(first, { ok: true, remaining: 0 });
  const stored = await fx.json('GET', '/api/v1/hosts/web-1/reports/big-run');
  t.equal(stored.status, 200, 'the shortened report reached the server');
  const report = stored.json() as RunReport;
  t.equal(report.outcome, 'changed');
  t.same(report.counts, big.counts, 'counts are exact');
  t.same(report.resources.map((r) => [r.id, r.state]), big.resources.map((r) => [r.id, r.state]), 'every resource and its state');
  t.notOk(report.resources.some((r) => r.diff !== undefined || r.output !== undefined), 'no diff or output');
  const files = await fsp.readdir(join(dir, 'spool'));
  t.ok(files.some((f) => f.endsWith('-big-run.json.rejected')), `the full report is kept in the spool (${files.join(', ')})`);
  t.ok(logs.some((l) => l.includes('too large')), 'the agent logs why');

  // The burst (two: the refused full report and the shortened one) is spent: the next is throttled and stays queued.
  await spool.enqueue(makeReport('web-1', 'next-run') as unknown as RunReport, fx.clock.now());
  const throttled = await deliverSpool({ spool, client, log }, AbortSignal.timeout(60_000));
  t.same(throttled, { ok: true, remaining: 1 }, 'throttled: the server counts as reachable, the report stays queued');
  t.equal((await spool.list()).length, 1);
  t.equal((await fx.json('GET', '/api/v1/hosts/web-1/reports/next-run')).status, 404);
  fx.clock.advance(1000);
  const later = await deliverSpool({ spool, client, log }, AbortSignal.timeout(60_000));
  t.same(later, { ok: true, remaining: 0 }, 'delivered once a token is back');
  t.equal((await fx.json('GET', '/api/v1/hosts/web-1/reports/next-run')).status, 200);
});
