/**
 * Issue 8 item 11 end to end: the real engine runs an exec whose guard lets it run every run; its
 * reports, posted to a real server, leave the host in sync (not drifted) and the console labels
 * the change routine. A guarded exec that had converged and must run again is still drift.
 */
import t from 'tap';
import { mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource, RunReport } from '../../../schemas/index.js';
import { reconcile } from '../../../agent/engine/reconcile.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { createMemoryBlobSource } from '../../../agent/blobs/memory-blob-source.js';
import { fsRegistry, makeCatalog } from '../../helpers/engine-fixtures.js';
import { rawRequest, startServer } from '../../helpers/server-fixture.js';

const routine: Resource = { type: 'exec', name: 'rotate', command: 'echo r >> "$STEAD_ROOT/rotated"', onlyif: 'test -d "$STEAD_ROOT"' };
const converging: Resource = { type: 'exec', name: 'flag', command: 'touch "$STEAD_ROOT/flag"', unless: 'test -f "$STEAD_ROOT/flag"' };

t.test('a host whose only changes are routine exec runs is in sync; drift still shows', async (t) => {
  const fx = await startServer(t);
  // Only hosts in the inventory count in the fleet summary.
  t.equal((await fx.publish({ 'stead.yaml': 'stead: 1\nname: routine\n', 'inventory/hosts.yaml': 'hosts:\n  web-1: {}\n' })).status, 201);
  const agent = await fx.approvedAgent('web-1');
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(root);
  const host = createNodeHost({ root });
  const blobs = createMemoryBlobSource();
  let minute = 0;
  const runAndPost = async (resources: Resource[]): Promise<RunReport> => {
    const report = await reconcile(makeCatalog(resources, 'web-1'), { host, blobs, stateDir: join(dir, 'state'), hostName: 'web-1', noop: false, signal: AbortSignal.timeout(60_000), registry: fsRegistry });
    // Distinct start times so each report is the host's newest.
    const posted = { ...report, startedAt: new Date(Date.parse('2026-11-26T10:00:00Z') + ++minute * 60_000).toISOString() };
    const r = await agent.request('POST', '/api/v1/hosts/web-1/reports', posted);
    t.equal(r.status, 200, r.body.toString());
    return posted;
  };
  const compliance = async (): Promise<string> => (await fx.json('GET', '/api/v1/hosts/web-1')).json().compliance;

  for (const n of [1, 2, 3]) {
    const rep = await runAndPost([routine, converging]);
    t.equal(rep.resources.find((s) => s.id === 'exec:rotate')?.state, 'changed', `run ${n}: the routine exec ran`);
    t.equal(await compliance(), 'in-sync', `run ${n}: the host is compliant`);
  }
  const sum = (await fx.json('GET', '/api/v1/compliance')).json();
  t.same(sum.fleet.counts['in-sync'], 1);
  const res = sum.resources.find((r: { scope: string }) => r.scope === 'resource:exec:rotate');
  t.equal(res?.counts['in-sync'], 1, 'the resource itself is compliant');

  const login = await rawRequest(fx.base, { method: 'POST', path: '/login', headers: { origin: fx.base, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(fx.adminToken)}` });
  const cookie = String(login.headers['set-cookie']![0]).split(';')[0]!;
  const runs = (await fx.json('GET', '/api/v1/reports?host=web-1')).json().reports as { runId: string; startedAt: string }[];
  const last = runs.sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1))[0]!;
  const page = await rawRequest(fx.base, { method: 'GET', path: `/hosts/web-1/runs/${encodeURIComponent(last.runId)}`, headers: { cookie } });
  t.equal(page.status, 200);
  t.match(page.body.toString(), /routine \(runs every run\)/, 'the console labels the change routine');
  t.notMatch(page.body.toString(), /class="drift"/, 'and not drift');

  unlinkSync(join(root, 'flag'));
  const drift = await runAndPost([routine, converging]);
  t.equal(drift.counts.corrective, 1, 'the converged exec that must run again is drift');
  t.equal(await compliance(), 'drifted');
});
