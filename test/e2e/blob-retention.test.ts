/**
 * Blob retention seen from a real `stead server` process and the `stead blobs` command: the
 * retention in force (--blob-retention-days), a published revision's files stored in the repo
 * bucket and referenced, and a catalog's file content marked in the content bucket once an agent
 * fetched it; a bad flag is a usage error.
 */
import { join } from 'node:path';
import t from 'tap';
import { AgentProcess, buildOnce, fleetRepository, freePort, hasCommand, ServerProcess, steadAsOperator, waitFor } from '../helpers/e2e-fleet.js';

await buildOnce();
const skip = (await hasCommand('server')) ? false : 'the build has no `stead server` command yet';

t.test('stead blobs reports the buckets and the retention of a running server', { skip }, async (t) => {
  const dir = t.testdir({ server: {}, a1: { root: {}, data: {} } });
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  server.extraArgs.push('--blob-retention-days', '3');
  await server.start(t);
  t.equal((await server.publish(fleetRepository({ extraResources: '  - type: file\n    path: /srv/app/big\n    content: "{{ \'x\' * 5000 }}"\n    require: [directory:/srv/app]\n' }))).status, 201);
  const first = await steadAsOperator(server, ['blobs', '--json']);
  t.equal(first.code, 0, first.stderr);
  const view = JSON.parse(first.stdout) as { retentionDays: number | null; buckets: { bucket: string; blobs: number; bytes: number; referenced: number; referencedBytes: number }[] };
  t.equal(view.retentionDays, 3);
  t.same(view.buckets.map((b) => b.bucket), ['repo', 'content', 'job_blobs']);
  const repo = view.buckets[0]!;
  t.ok(repo.blobs >= Object.keys(fleetRepository()).length, `the revision's files are stored (${repo.blobs})`);
  t.equal(repo.referenced, repo.blobs, 'every repo blob is referenced by the revision');
  t.equal(repo.referencedBytes, repo.bytes, 'and so is every repo byte');

  const agent = new AgentProcess({ host: 'a1', server: server.url, root: join(dir, 'a1/root'), dataDir: join(dir, 'a1/data'), intervalSeconds: 1 }).start(t);
  const fp = await waitFor('a pending key', async () => (await server.api('GET', '/api/v1/agents/a1')).body?.keys?.[0]?.fingerprint as string | undefined);
  t.equal((await server.api('POST', '/api/v1/agents/a1/approve', { fingerprint: fp })).status, 200);
  await agent.waitForRun('converged', (r) => r.outcome === 'changed' || r.outcome === 'in-sync');
  t.equal((await agent.read('srv/app/big')).length, 5000);
  const after = JSON.parse((await steadAsOperator(server, ['blobs', '--json'])).stdout) as typeof view;
  const content = after.buckets.find((b) => b.bucket === 'content')!;
  t.ok(content.blobs >= 1 && content.bytes >= 5000, `the catalog's file content is in the content bucket (${content.blobs} blobs, ${content.bytes} bytes)`);
  t.equal(content.referencedBytes, 0, 'no document references content blobs (marks keep them)');
  const text = await steadAsOperator(server, ['blobs']);
  t.match(text.stdout, /^BUCKET\s+BLOBS\s+BYTES\s+REFERENCED\s+REFERENCED BYTES$/m);
  t.match(text.stdout, new RegExp(`^content\\s+${content.blobs}\\s+${content.bytes}\\s+0\\s+0$`, 'm'), 'the content row');
  t.match(text.stdout, /deleted 3 day\(s\) after they were last needed/);
  await agent.stop();
  await server.stop();
});

t.test('--blob-retention-days below 1 (but not 0) is a usage error', { skip }, async (t) => {
  const server = new ServerProcess(t.testdir(), await freePort());
  server.extraArgs.push('--blob-retention-days', '0.5');
  await t.rejects(server.start(t), /exited with 64/);
  t.match(server.stderr.join('\n'), /--blob-retention-days must be a number of days, at least 1/);
});
