/**
 * Compact reports end to end (ADR 0021): a real `stead server` and two real `stead agent`
 * processes on loopback, one of them (a1) talking through a TCP relay in this process that
 * records the bytes it sends, unchanged (requests stay signed). a1 sends compact reports: the
 * no-op poll's body on the wire holds an in-sync summary and no in-sync resource; a2 runs with
 * --full-reports (what agents sent before). For both, the API's report, compliance per resource
 * and the console's run page answer as before: every resource, its state, the changed one in
 * full; a summarised resource's time is absent, never a made-up 0.
 */
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { AgentProcess, buildOnce, fleetRepository, freePort, hasCommand, ServerProcess, waitFor } from '../helpers/e2e-fleet.js';

await buildOnce();
const ready = await hasCommand('server');

/** A TCP relay to `port` on 127.0.0.1 that keeps what clients send. */
async function relay(t: { teardown(fn: () => unknown): void }, port: number): Promise<{ port: number; sent: () => string }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (c: Buffer) => chunks.push(c));
    // pipe() passes each side's end on (a graceful close, as a plain TCP path would).
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, sent: () => Buffer.concat(chunks).toString('latin1') };
}

/** The report bodies a1 posted, as they crossed the wire (Content-Length framed). */
function postedReports(wire: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const re = /POST \/api\/v1\/hosts\/a1\/reports HTTP\/1\.1\r\n([\s\S]*?)\r\n\r\n/g;
  for (let m = re.exec(wire); m; m = re.exec(wire)) {
    const len = /content-length: *(\d+)/i.exec(m[1]!);
    if (!len) continue;
    const start = m.index + m[0].length;
    const body = wire.slice(start, start + Number(len[1]));
    if (body.length === Number(len[1])) out.push(JSON.parse(Buffer.from(body, 'latin1').toString('utf8')) as Record<string, unknown>);
  }
  return out;
}

const extra = '  - type: directory\n    path: /srv/app/extra\n    mode: "0755"\n' + Array.from({ length: 40 }, (_, i) => `  - type: file\n    path: /srv/app/extra/item-${String(i).padStart(2, '0')}.conf\n    content: "item ${i}\\n"\n`).join('');

t.test('compact reports on the wire; the API, compliance and the console answer as before', { skip: ready ? false : 'the build has no `stead server` command' }, async (t) => {
  const dir = t.testdir({ server: {}, a1: { root: {}, data: {} }, a2: { root: {}, data: {} } });
  const server = new ServerProcess(join(dir, 'server'), await freePort());
  // Agents run every second here: more reports an hour than the default quota lets through.
  server.extraArgs.push('--reports-per-hour', '100000');
  await server.start(t);
  const diagnostics: (() => string)[] = [];
  t.teardown(() => {
    if (t.counts.fail > 0) t.comment(`server stderr (last 30 lines):\n${server.stderr.slice(-30).join('\n')}\n${diagnostics.map((d) => d()).join('\n')}`);
  });
  t.equal((await server.publish(fleetRepository({ extraResources: extra }))).status, 201);
  const wire = await relay(t, server.port);
  const a1 = new AgentProcess({ host: 'a1', server: `http://127.0.0.1:${wire.port}`, root: join(dir, 'a1/root'), dataDir: join(dir, 'a1/data'), intervalSeconds: 1 }).start(t);
  diagnostics.push(() => `a1 log:\n${a1.logs.slice(-15).join('\n')}\nwire: ${wire.sent().length} bytes`);
  const a2 = new AgentProcess({ host: 'a2', server: server.url, root: join(dir, 'a2/root'), dataDir: join(dir, 'a2/data'), intervalSeconds: 1, extraArgs: ['--full-reports'] }).start(t);
  for (const h of ['a1', 'a2']) {
    await waitFor(`${h} pending`, async () => (await server.api('GET', `/api/v1/agents/${h}`)).body?.status === 'pending');
    t.equal((await server.api('POST', `/api/v1/agents/${h}/approve`)).status, 200);
  }
  const idle1 = await a1.waitForRun('a no-op poll', (r) => r.outcome === 'in-sync' && r.catalogSource === 'unchanged');
  const idle2 = await a2.waitForRun('a no-op poll', (r) => r.outcome === 'in-sync' && r.catalogSource === 'unchanged');
  const total = idle1.counts!.total;
  t.ok(total >= 40, `${total} resources`);

  // On the wire: a1's no-op report is compact — a summary, no in-sync resource listed.
  const sent = await waitFor('a1\'s no-op report on the wire', () => postedReports(wire.sent()).find((r) => r['runId'] === idle1.runId));
  t.same(sent['resources'], [], 'no resource listed');
  const summary = sent['inSyncSummary'] as { count: number; digest: string; order: number[] };
  t.equal(summary.count, total, 'every resource summarised');
  t.match(summary.digest, /^[0-9a-f]{64}$/);
  t.ok(JSON.stringify(sent).length < 1500, `small on the wire: ${JSON.stringify(sent).length} bytes`);
  t.notOk(a2.logs.some((l) => l.includes('refused the compact report')), 'a2 never tried compact');
  t.notOk(a1.logs.some((l) => l.includes('refused the compact report')), 'a1\'s compact reports were accepted');

  // The API answers the whole report for both: every resource, in sync, no changes.
  const r1 = await server.api('GET', `/api/v1/hosts/a1/reports/${idle1.runId}`);
  const r2 = await server.api('GET', `/api/v1/hosts/a2/reports/${idle2.runId}`);
  t.equal(r1.status, 200);
  t.equal(r2.status, 200);
  for (const [h, r] of [['a1', r1.body], ['a2', r2.body]] as const) {
    t.equal(r.resources.length, total, `${h}: every resource`);
    t.ok(r.resources.every((x: { state: string; changes: unknown[] }) => x.state === 'in-sync' && x.changes.length === 0), `${h}: all in sync`);
    t.equal(r.inSyncSummary, undefined, `${h}: answered in full`);
    t.same(r.counts, (h === 'a1' ? idle1 : idle2).counts);
  }
  const idsOf = (r: { resources: { id: string }[] }): string[] => r.resources.map((x) => x.id);
  t.same(idsOf(r1.body), idsOf(r2.body), 'the same resources in the same (run) order as the full report');
  t.ok(r1.body.resources.every((x: { durationMs?: number }) => x.durationMs === undefined || x.durationMs >= 100), 'summarised times absent, never a made-up 0');
  const paged = await server.fetch('GET', `/api/v1/hosts/a1/reports/${idle1.runId}?offset=40&limit=5`, { authorization: `Bearer ${server.adminToken}` });
  t.equal(JSON.parse(paged.text).resources.length, Math.min(5, total - 40), 'paging over the expanded report');

  // Drift by hand on a1: repaired; the compact report lists that resource in full, the rest summarised.
  const mark = a1.runs.length;
  await fsp.writeFile(join(dir, 'a1/root/srv/app/extra/item-07.conf'), 'edited by hand\n');
  const repair = await a1.waitForRun('the repair run', (r) => r.outcome === 'changed', mark);
  t.equal(repair.counts?.corrective, 1);
  const repairSent = await waitFor('the repair report on the wire', () => postedReports(wire.sent()).find((r) => r['runId'] === repair.runId));
  t.same((repairSent['resources'] as { id: string }[]).map((r) => r.id), ['file:/srv/app/extra/item-07.conf'], 'only the repaired resource listed');
  const rep = (await server.api('GET', `/api/v1/hosts/a1/reports/${repair.runId}`)).body;
  t.equal(rep.resources.length, total);
  const fixed = rep.resources.find((x: { id: string }) => x.id === 'file:/srv/app/extra/item-07.conf');
  t.equal(fixed.state, 'changed');
  t.ok(fixed.changes.some((c: { corrective: boolean }) => c.corrective), 'corrective, in full');
  t.ok(typeof fixed.durationMs === 'number', 'its time kept');

  // Compliance per resource: every resource of both hosts counted, from each host's last run.
  await a1.stop();
  const last = (await server.api('GET', '/api/v1/hosts/a1')).body.lastRun?.runId as string;
  const lastReport = (await server.api('GET', `/api/v1/hosts/a1/reports/${last}`)).body;
  const drifted = lastReport.resources.some((x: { id: string; changes: { corrective: boolean }[] }) => x.id === 'file:/srv/app/extra/item-07.conf' && x.changes.some((c) => c.corrective)) ? 1 : 0;
  const compliance = (await server.api('GET', '/api/v1/compliance')).body;
  const bucket = (id: string) => compliance.resources.find((x: { scope: string }) => x.scope === `resource:${id}`);
  t.equal(bucket('file:/srv/app/extra/item-07.conf').total, 2, 'a1 and a2 counted');
  t.equal(bucket('file:/srv/app/extra/item-07.conf').counts.drifted, drifted, `drifted as a1's last run (${last === repair.runId ? 'the repair' : 'a later one'}) says`);
  t.equal(bucket('file:/srv/app/extra/item-00.conf').total, 2);
  t.equal(bucket('file:/srv/app/extra/item-00.conf').counts['in-sync'], 2, 'an in-sync resource, in sync on both');
  t.ok(idsOf(r1.body).every((id) => bucket(id)?.total === 2), 'every resource has its bucket with both hosts');
  const drift = (await server.api('GET', '/api/v1/drift?host=a1')).body;
  t.ok(drift.events.some((e: { resource: string; kind: string; runId: string }) => e.resource === 'file:/srv/app/extra/item-07.conf' && e.kind === 'repaired' && e.runId === repair.runId), 'the drift event recorded');

  // The console's run page: the repaired resource in full, the in-sync ones listed, their time not recorded.
  const cookie = await loginCookie(server);
  const page = await server.fetch('GET', `/hosts/a1/runs/${repair.runId}`, { cookie });
  t.equal(page.status, 200);
  t.match(page.text, 'data-resource="file:/srv/app/extra/item-07.conf"');
  t.match(page.text, `${total - 1} resource(s) in sync`);
  t.match(page.text, /not recorded: summarised in a compact report/);
  const page2 = await server.fetch('GET', `/hosts/a2/runs/${idle2.runId}`, { cookie });
  t.match(page2.text, `${total} resource(s) in sync`, 'a2\'s run page too');

  // The server's counters say the same.
  const metrics = await server.fetch('GET', '/metrics', { authorization: `Bearer ${server.adminToken}` });
  const value = (name: string): number => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics.text)?.[1] ?? NaN);
  t.ok(value('stead_reports_compact_received_total') >= 2, 'compact reports received (a1)');
  t.ok(value('stead_reports_compacted_total') >= 1, 'full reports compacted on ingest (a2)');
  t.equal(value('stead_reports_compact_refused_total'), 0, 'none refused');
});

/** A console session cookie for the admin token. */
async function loginCookie(server: ServerProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const body = `token=${encodeURIComponent(server.adminToken)}`;
    const req = net.connect(server.port, '127.0.0.1', () => {
      req.write(`POST /login HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nOrigin: ${server.url}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    });
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('latin1')));
    req.on('end', () => {
      const m = /^set-cookie: *([^;\r\n]+)/im.exec(text);
      if (m) resolve(m[1]!);
      else reject(new Error(`no session cookie: ${text.slice(0, 300)}`));
    });
    req.on('error', reject);
  });
}
