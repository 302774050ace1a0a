import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ReportSpool } from '../../../agent/spool/report-spool.js';
import type { RunReport } from '../../../schemas/index.js';

function report(runId: string): RunReport {
  return {
    runId, host: 'web-1', catalogId: 'c'.repeat(64), revision: 'r1', mode: 'apply', startedAt: '2026-11-26T00:00:00.000Z',
    durationMs: 1, outcome: 'in-sync', counts: { total: 0, inSync: 0, changed: 0, wouldChange: 0, failed: 0, skipped: 0, corrective: 0 }, resources: [],
  };
}

t.test('reports are delivered in order and deleted only after acknowledgement', async (t) => {
  const dir = join(t.testdir(), 'spool');
  const spool = new ReportSpool({ dir });
  await spool.open();
  t.equal((await fsp.stat(dir)).mode & 0o777, 0o700, 'spool directory is private');
  // The same clock value twice and a clock going backwards must still give increasing order.
  await spool.enqueue(report('a'), 5000);
  await spool.enqueue(report('b'), 5000);
  await spool.enqueue(report('c'), 1000);
  t.same((await spool.list()).map((e) => e.runId), ['a', 'b', 'c']);
  for (const f of await fsp.readdir(dir)) t.equal((await fsp.stat(join(dir, f))).mode & 0o777, 0o600, `${f} is 0600`);

  const sent: string[] = [];
  let failOn = 'b';
  const deliver = async (r: RunReport): Promise<void> => {
    if (r.runId === failOn) throw new Error('server down');
    sent.push(r.runId);
  };
  const first = await spool.flush(deliver, new AbortController().signal);
  t.same(sent, ['a']);
  t.equal(first.delivered, 1);
  t.equal(first.remaining, 2);
  t.match(String(first.error), /server down/);
  t.same((await spool.list()).map((e) => e.runId), ['b', 'c'], 'unacknowledged reports stay, in order');

  failOn = '';
  const second = await spool.flush(deliver, new AbortController().signal);
  t.same(sent, ['a', 'b', 'c'], 'each delivered exactly once, in order');
  t.equal(second.remaining, 0);
  t.same(await spool.list(), []);
});

t.test('the queue survives a restart and keeps its order', async (t) => {
  const dir = join(t.testdir(), 'spool');
  const one = new ReportSpool({ dir });
  await one.enqueue(report('first'), 2_000_000);
  await one.enqueue(report('second'), 2_000_000);
  // A half-written temp file left by a crash is cleaned up, never delivered.
  await fsp.writeFile(join(dir, '.00000000000000000001-x.json.abc.tmp'), '{"trunc');
  const two = new ReportSpool({ dir });
  await two.open();
  t.same((await fsp.readdir(dir)).filter((f) => f.endsWith('.tmp')), [], 'temp files removed');
  // Restart with a clock that went backwards: new reports still queue after the old ones.
  await two.enqueue(report('third'), 1);
  const sent: string[] = [];
  await two.flush(async (r) => void sent.push(r.runId), new AbortController().signal);
  t.same(sent, ['first', 'second', 'third']);
});

t.test('an aborted flush stops before sending more', async (t) => {
  const spool = new ReportSpool({ dir: join(t.testdir(), 'spool') });
  await spool.enqueue(report('a'), 1);
  await spool.enqueue(report('b'), 2);
  const ac = new AbortController();
  const sent: string[] = [];
  const r = await spool.flush(async (rep) => {
    sent.push(rep.runId);
    ac.abort();
  }, ac.signal);
  t.same(sent, ['a']);
  t.equal(r.remaining, 1);
  t.same((await spool.list()).map((e) => e.runId), ['b']);
});

t.test('corrupt and rejected reports are set aside, not lost and not blocking', async (t) => {
  const dir = join(t.testdir(), 'spool');
  const spool = new ReportSpool({ dir });
  await spool.enqueue(report('a'), 1);
  await spool.enqueue(report('bad'), 2);
  await spool.enqueue(report('c'), 3);
  const entries = await spool.list();
  await fsp.writeFile(join(dir, entries[0]!.file), 'not json');
  const sent: string[] = [];
  const r = await spool.flush(async (rep) => {
    if (rep.runId === 'bad') return 'rejected';
    sent.push(rep.runId);
  }, new AbortController().signal);
  t.same(sent, ['c']);
  t.equal(r.rejected, 1);
  const left = (await fsp.readdir(dir)).sort();
  t.equal(left.length, 2);
  t.ok(left.some((f) => f.endsWith('-a.json.corrupt')));
  t.ok(left.some((f) => f.endsWith('-bad.json.rejected')));
});

t.test('beyond maxEntries the oldest reports are dropped and announced', async (t) => {
  const dropped: string[] = [];
  const spool = new ReportSpool({ dir: join(t.testdir(), 'spool'), maxEntries: 2, onDrop: (e) => dropped.push(e.runId) });
  for (const id of ['a', 'b', 'c', 'd']) await spool.enqueue(report(id), 10);
  t.same(dropped, ['a', 'b']);
  t.same((await spool.list()).map((e) => e.runId), ['c', 'd']);
});

t.test('run ids that could become paths are refused', async (t) => {
  const spool = new ReportSpool({ dir: join(t.testdir(), 'spool') });
  await t.rejects(spool.enqueue(report('../../etc/x'), 1), TypeError);
  await t.rejects(spool.enqueue(report(''), 1), TypeError);
});

t.test('the report just queued is delivered with its bytes, not read back; older ones are read from disk', async (t) => {
  const dir = join(t.testdir(), 'spool');
  const before = new ReportSpool({ dir });
  await before.enqueue(report('old'), 1000); // queued by an earlier process
  const spool = new ReportSpool({ dir });
  await spool.enqueue(report('new'), 2000);
  const seen: { runId: string; serialized: string | undefined; onDisk: string }[] = [];
  const entries = await spool.list();
  await spool.flush(async (r, _s, serialized) => {
    const entry = entries.find((e) => e.runId === r.runId)!;
    seen.push({ runId: r.runId, serialized: serialized?.toString('utf8'), onDisk: await fsp.readFile(join(dir, entry.file), 'utf8') });
  }, new AbortController().signal);
  t.same(seen.map((s) => s.runId), ['old', 'new']);
  t.equal(seen[0]!.serialized, undefined, 'a report from disk comes without bytes (the client checks it)');
  t.equal(seen[1]!.serialized, seen[1]!.onDisk, 'the fresh report is sent as the exact bytes the spool holds');
  t.same(JSON.parse(seen[1]!.serialized!), report('new'));
  t.same(await spool.list(), [], 'both delivered and removed');
});

t.test('a queued report that is a link, or that others can write, is set aside as *.unsafe and never sent', async (t) => {
  const top = t.testdir({ elsewhere: {} });
  const dir = join(top, 'spool');
  const spool = new ReportSpool({ dir });
  await spool.open();
  await spool.enqueue(report('a'), 1000);
  await spool.enqueue(report('b'), 2000);
  await spool.enqueue(report('c'), 3000);
  const [a, b] = await spool.list();
  // A link to a report-shaped file elsewhere, and a group-writable report.
  await fsp.writeFile(join(top, 'elsewhere/evil.json'), JSON.stringify(report('evil')));
  await fsp.rm(join(dir, a!.file));
  await fsp.symlink(join(top, 'elsewhere/evil.json'), join(dir, a!.file));
  await fsp.chmod(join(dir, b!.file), 0o660);
  const fresh = new ReportSpool({ dir });
  const sent: string[] = [];
  const r = await fresh.flush(async (rep) => void sent.push(rep.runId), new AbortController().signal);
  t.same(sent, ['c'], 'only the agent\'s own report went out');
  t.equal(r.remaining, 0);
  const left = (await fsp.readdir(dir)).sort();
  t.same(left, [`${a!.file}.unsafe`, `${b!.file}.unsafe`].sort(), 'both set aside, kept for inspection');
  t.ok((await fsp.lstat(join(dir, `${a!.file}.unsafe`))).isSymbolicLink(), 'the link itself was moved, not followed');
});
