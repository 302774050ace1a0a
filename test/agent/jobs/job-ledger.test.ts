import { chmodSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { JobLedger, ledgerFileName } from '../../../agent/jobs/job-ledger.js';
import type { JobResult } from '../../../schemas/index.js';
import { scriptWork, tempDir } from './job-fixtures.js';

const result = (state: JobResult['state'] = 'succeeded'): JobResult => ({ state, exitCode: state === 'succeeded' ? 0 : null, stdout: '', stderr: '', startedAt: '2026-12-06T00:00:00.000Z', finishedAt: '2026-12-06T00:00:01.000Z' });

t.test('a dispatch moves claimed → started → finished → delivered, durably, and is pruned after the retention', async (t) => {
  const dir = join(tempDir(t), 'ledger');
  let now = 1000;
  const ledger = new JobLedger({ dir, now: () => now, retentionMs: 5000 });
  await t.rejects(ledger.claim(scriptWork('true')), /open\(\) was not called/);
  await ledger.open();
  const w = scriptWork('echo hi', { id: `${'x'.repeat(300)}.0.web-1` });
  const c = await ledger.claim(w);
  t.equal(c.state, 'claimed');
  t.same((await ledger.claim(w)).state, 'claimed', 'a second claim returns the entry');
  t.same(readdirSync(dir), [ledgerFileName(w.id)], 'a 300-character id gets a short file name');
  await t.rejects(ledger.finish('nope', result()), /no entry for nope/);
  await ledger.markStarted(w.id);
  await t.rejects(ledger.markStarted(w.id), /is started in the job ledger, not claimed/);
  await ledger.recordProcess(w.id, 4242, 17);
  t.same([(await ledger.get(w.id))?.pgid, (await ledger.get(w.id))?.pgidStart], [4242, 17]);
  now = 2000;
  await ledger.finish(w.id, result());
  await t.rejects(ledger.finish(w.id, result('failed')), /is finished/, 'the first result stands');

  const reopened = new JobLedger({ dir, now: () => now, retentionMs: 5000 });
  await reopened.open();
  t.equal(reopened.state(w.id), 'finished');
  t.same((await reopened.get(w.id))?.result?.state, 'succeeded');
  t.notOk((await reopened.get(w.id))?.work, 'the work is not kept once there is a result');
  t.notOk((await reopened.get(w.id))?.pgid, 'nor the process group');
  await reopened.markDelivered(w.id);
  const d = await reopened.get(w.id);
  t.same(Object.keys(d ?? {}).sort(), ['at', 'claimedAt', 'id', 'startedAt', 'state'], 'a delivered entry keeps only the id and times');
  now = 6000;
  t.equal(await reopened.prune(), 0, 'kept within the retention');
  now = 8000;
  t.equal(await reopened.prune(), 1);
  t.equal(reopened.state(w.id), undefined);
  t.same(readdirSync(dir), []);
});

t.test('crash points: what a restart finds at each step (kill -9 simulated by the ledger state left on disk)', async (t) => {
  const dir = join(tempDir(t), 'ledger');
  const ledger = new JobLedger({ dir });
  await ledger.open();
  const claimedOnly = scriptWork('a');
  const started = scriptWork('b');
  const finished = scriptWork('c');
  const delivered = scriptWork('d');
  for (const w of [claimedOnly, started, finished, delivered]) await ledger.claim(w);
  for (const w of [started, finished, delivered]) await ledger.markStarted(w.id);
  for (const w of [finished, delivered]) await ledger.finish(w.id, result());
  await ledger.markDelivered(delivered.id);
  // A temp file of an atomic write that never got renamed (killed mid-write).
  writeFileSync(join(dir, `.${ledgerFileName(started.id)}.abcdef.tmp`), '{"half');

  const after = new JobLedger({ dir });
  await after.open();
  t.same(after.ids('claimed'), [claimedOnly.id], 'claimed only: the start is retried');
  t.same((await after.get(claimedOnly.id))?.work, claimedOnly, 'with the work kept for it');
  t.same(after.ids('started'), [started.id], 'started without a result: to answer interrupted');
  t.same(after.ids('finished'), [finished.id], 'a spooled result: to deliver');
  t.same(after.ids('delivered'), [delivered.id], 'delivered: recognised if offered again');
  t.notOk(readdirSync(dir).some((n) => n.endsWith('.tmp')), 'half-written temp files are removed');
  await after.forget(claimedOnly.id);
  t.equal(after.state(claimedOnly.id), undefined);
  await t.rejects(after.forget(started.id), /not claimed/);
});

t.test('bounded: delivered entries make room; only undelivered ones left refuses a claim', async (t) => {
  const dir = join(tempDir(t), 'ledger');
  let now = 0;
  const ledger = new JobLedger({ dir, maxEntries: 3, now: () => ++now });
  await ledger.open();
  const ws = [scriptWork('1'), scriptWork('2'), scriptWork('3'), scriptWork('4'), scriptWork('5')];
  for (const w of ws.slice(0, 3)) await ledger.claim(w);
  await ledger.markStarted(ws[0]!.id);
  await ledger.finish(ws[0]!.id, result());
  await ledger.markDelivered(ws[0]!.id);
  await ledger.claim(ws[3]!);
  t.equal(ledger.state(ws[0]!.id), undefined, 'the oldest delivered entry made room');
  t.equal(ledger.size, 3);
  await t.rejects(ledger.claim(ws[4]!), { code: 'LEDGER_FULL', name: 'LedgerFullError' });
  await t.rejects(ledger.finishUnknown('other.0.web-1', result('cancelled')), { code: 'LEDGER_FULL', name: 'LedgerFullError' });
  await ledger.finishUnknown(ws[1]!.id, result('cancelled'));
  t.equal(ledger.state(ws[1]!.id), 'finished', 'finishUnknown of a known claimed entry finishes it');
  t.equal(ledger.size, 3);
});

t.test('a damaged or foreign ledger file is set aside, never used', async (t) => {
  const dir = join(tempDir(t), 'ledger');
  const seed = new JobLedger({ dir });
  await seed.open();
  const w = scriptWork('x');
  await seed.claim(w);
  const good = scriptWork('y');
  await seed.claim(good);
  writeFileSync(join(dir, ledgerFileName(w.id)), 'not json');
  const other = scriptWork('z');
  writeFileSync(join(dir, ledgerFileName(other.id)), JSON.stringify({ id: 'someone-else', state: 'claimed', at: 1, claimedAt: 1 }));
  const linked = scriptWork('l');
  symlinkSync('/etc/passwd', join(dir, ledgerFileName(linked.id)));
  const open = scriptWork('o');
  writeFileSync(join(dir, ledgerFileName(open.id)), JSON.stringify({ id: open.id, state: 'claimed', at: 1, claimedAt: 1 }));
  chmodSync(join(dir, ledgerFileName(open.id)), 0o666);
  const aside: string[] = [];
  const ledger = new JobLedger({ dir, onSetAside: (file, reason) => aside.push(`${file} ${reason}`) });
  await ledger.open();
  t.same(ledger.ids('claimed'), [good.id]);
  t.equal(aside.length, 4);
  const names = readdirSync(dir).sort();
  t.ok(names.includes(`${ledgerFileName(w.id)}.corrupt`));
  t.ok(names.includes(`${ledgerFileName(other.id)}.corrupt`));
  t.ok(names.includes(`${ledgerFileName(linked.id)}.unsafe`));
  t.ok(names.includes(`${ledgerFileName(open.id)}.unsafe`));
});

t.test('a leftover process group is killed only when it is still ours', async (t) => {
  const { spawn } = await import('node:child_process');
  const { killLeftoverGroup, processStartTime } = await import('../../../agent/jobs/leftover-group.js');
  const child = spawn('/bin/sh', ['-c', 'sleep 300 & wait'], { detached: true, stdio: 'ignore' });
  const pid = child.pid!;
  const exited = new Promise((r) => child.once('exit', r));
  const start = processStartTime(pid);
  t.type(start, 'number');
  t.notOk(killLeftoverGroup(pid, (start ?? 0) + 1), 'another start time: a different process with the same pid, left alone');
  t.notOk(killLeftoverGroup(pid, undefined), 'no recorded start time: left alone');
  t.notOk(killLeftoverGroup(1, start), 'never pid 1');
  t.ok(killLeftoverGroup(pid, start));
  await exited;
  t.equal(processStartTime(999_999_999), undefined);
  t.notOk(killLeftoverGroup(999_999_999, 5), 'a group that is gone');
});
