/**
 * The agent's job loop against the real server (composeServer on loopback, its job routes and
 * plan driver, the real safety audit): a script job and a cancel, end to end through the signed
 * channel.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import { AgentClient } from '../../../agent/client/agent-client.js';
import { createJsonLogger } from '../../../agent/daemon/json-logger.js';
import { JobLedger } from '../../../agent/jobs/job-ledger.js';
import { runJobLoop } from '../../../agent/jobs/job-loop.js';
import { fleetRepository } from '../../helpers/e2e-fleet.js';
import { startServer } from '../../helpers/server-fixture.js';
import { jobCtx, tempDir } from './job-fixtures.js';

interface HostView { host: string; state: string; stdout?: string; results?: Record<string, string> }
interface JobView { id: string; state: string; hosts: HostView[] }

t.test('a script job and a cancel through the real server', async (t) => {
  const fx = await startServer(t);
  const pub = await fx.publish(fleetRepository());
  t.equal(pub.status, 201, pub.body.toString());
  const a1 = await fx.approvedAgent('a1');
  const probe = await a1.request('GET', '/api/v1/hosts/a1/jobs?wait=0');
  t.equal(probe.status, 200, probe.body.toString());
  const client = new AgentClient({ serverUrl: fx.base, host: 'a1', privateKey: a1.privateKey, now: () => fx.clock.now() });
  t.teardown(() => client.close());
  const dir = tempDir(t);
  const ledger = new JobLedger({ dir: join(dir, 'ledger') });
  await ledger.open();
  const lines: string[] = [];
  const log = createJsonLogger({ stream: new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString('utf8')); cb(); } }), level: 'debug', bindings: {} });
  const ac = new AbortController();
  const loop = runJobLoop({ client, ledger, ctx: await jobCtx(t, dir, { hostName: 'a1' }), log }, { waitSeconds: 5, minBackoffMs: 50, maxBackoffMs: 500 }, ac.signal);
  t.teardown(async () => {
    ac.abort();
    await loop;
  });

  const view = async (id: string): Promise<JobView> => (await fx.json('GET', `/api/v1/jobs/${id}?output=true`)).json() as JobView;
  const until = async (id: string, pred: (v: JobView) => boolean): Promise<JobView> => {
    for (let i = 0; i < 600; i++) {
      const v = await view(id);
      if (pred(v)) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`job ${id}: ${JSON.stringify(await view(id))}; agent log: ${lines.join('')}`);
  };

  const launched = await fx.json('POST', '/api/v1/jobs', { targets: 'host:a1', script: { lang: 'shell', source: '. "$STEAD_LIB/stead.sh"; echo "hi from $STEAD_HOST"; stead_result answer 42' }, timeoutSeconds: 30 });
  t.equal(launched.status, 201, launched.body.toString());
  const done = await until((launched.json() as JobView).id, (v) => v.state !== 'running');
  t.equal(done.state, 'succeeded', JSON.stringify(done));
  t.equal(done.hosts[0]?.stdout, 'hi from a1\n');
  t.same(done.hosts[0]?.results, { answer: '42' });

  const marker = join(dir, 'up');
  const long = await fx.json('POST', '/api/v1/jobs', { targets: 'host:a1', script: { lang: 'shell', source: `touch ${marker}; sleep 300` }, timeoutSeconds: 600 });
  t.equal(long.status, 201, long.body.toString());
  const id = (long.json() as JobView).id;
  for (let i = 0; i < 400 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 50));
  t.ok(existsSync(marker), 'the script runs');
  const c = await fx.json('POST', `/api/v1/jobs/${id}/cancel`);
  t.equal(c.status, 200, c.body.toString());
  const cancelled = await until(id, (v) => v.hosts[0]?.state === 'cancelled');
  t.equal(cancelled.hosts[0]?.state, 'cancelled');
});
