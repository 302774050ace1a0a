import t from 'tap';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource, RunReport } from '../../../schemas/index.js';
import { reconcile } from '../../../agent/engine/reconcile.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { createMemoryBlobSource } from '../../../agent/blobs/memory-blob-source.js';
import { fsRegistry, makeCatalog } from '../../helpers/engine-fixtures.js';

function setup(dir: string) {
  const root = join(dir, 'root');
  const stateDir = join(dir, 'state');
  mkdirSync(root, { recursive: true });
  const host = createNodeHost({ root });
  const blobs = createMemoryBlobSource();
  const run = (resources: Resource[]): Promise<RunReport> =>
    reconcile(makeCatalog(resources), { host, blobs, stateDir, hostName: 'h1', noop: false, signal: AbortSignal.timeout(60_000), registry: fsRegistry });
  return { root, run };
}

const flags = (r: RunReport, id: string) => r.resources.find((s) => s.id === id)?.changes.map((c) => [c.property, c.corrective]);

t.test('an exec with no guard runs every run and is never drift', async (t) => {
  const { run } = setup(t.testdir());
  const every: Resource = { type: 'exec', name: 'every', command: 'echo run >> "$STEAD_ROOT/log"' };
  const r1 = await run([every]);
  t.equal(r1.outcome, 'changed');
  t.same(flags(r1, 'exec:every'), [['returns', false]], 'first run: intentional');
  for (const n of [2, 3]) {
    const r = await run([every]);
    t.equal(r.resources[0]?.state, 'changed', `run ${n}: it ran again`);
    t.same(flags(r, 'exec:every'), [['returns', false]], `run ${n}: not corrective`);
    t.equal(r.counts.corrective, 0);
  }
});

t.test('a guarded exec that must run again after it converged is drift', async (t) => {
  const { root, run } = setup(t.testdir());
  const creates: Resource = { type: 'exec', name: 'mk', command: 'touch "$STEAD_ROOT/marker"', creates: '/marker' };
  const unless: Resource = { type: 'exec', name: 'mk2', command: 'touch "$STEAD_ROOT/m2"', unless: 'test -f "$STEAD_ROOT/m2"' };
  const r1 = await run([creates, unless]);
  t.same(flags(r1, 'exec:mk'), [['returns', false]], 'first run of a creates guard: intentional');
  t.same(flags(r1, 'exec:mk2'), [['returns', false]], 'first run of an unless guard: intentional');
  const r2 = await run([creates, unless]);
  t.equal(r2.outcome, 'in-sync', 'the guards hold: nothing runs');
  unlinkSync(join(root, 'marker'));
  unlinkSync(join(root, 'm2'));
  const r3 = await run([creates, unless]);
  t.same(flags(r3, 'exec:mk'), [['returns', true]], 'the created file vanished: drift');
  t.same(flags(r3, 'exec:mk2'), [['returns', true]], 'the unless condition no longer holds: drift');
  t.equal(r3.counts.corrective, 2);
  t.ok(existsSync(join(root, 'marker')) && existsSync(join(root, 'm2')));
});

t.test('a guarded exec that was in sync at first contact and must run later is drift', async (t) => {
  const { root, run } = setup(t.testdir());
  writeFileSync(join(root, 'marker'), '');
  const creates: Resource = { type: 'exec', name: 'mk', command: 'touch "$STEAD_ROOT/marker"', creates: '/marker' };
  t.equal((await run([creates])).outcome, 'in-sync');
  unlinkSync(join(root, 'marker'));
  const r = await run([creates]);
  t.same(flags(r, 'exec:mk'), [['returns', true]]);
});

const marks = (r: RunReport, id: string) => r.resources.find((s) => s.id === id)?.changes.map((c) => [c.property, c.corrective, c.routine === true]);

t.test('an exec whose onlyif/unless let it run every run is routine, never drift', async (t) => {
  const { root, run } = setup(t.testdir());
  const onlyif: Resource = { type: 'exec', name: 'rotate', command: 'echo r >> "$STEAD_ROOT/rotated"', onlyif: 'test -d "$STEAD_ROOT"' };
  const unless: Resource = { type: 'exec', name: 'sync', command: 'echo s >> "$STEAD_ROOT/synced"', unless: 'test -f "$STEAD_ROOT/off"' };
  for (const n of [1, 2, 3]) {
    const r = await run([onlyif, unless]);
    t.equal(r.outcome, 'changed', `run ${n}: both ran`);
    t.same(marks(r, 'exec:rotate'), [['returns', false, true]], `run ${n}: onlyif exec is routine`);
    t.same(marks(r, 'exec:sync'), [['returns', false, true]], `run ${n}: unless exec is routine`);
    t.equal(r.counts.corrective, 0, `run ${n}: no drift`);
  }
  t.equal(readFileSync(join(root, 'rotated'), 'utf8'), 'r\nr\nr\n', 'it really ran every run');
  t.equal(readFileSync(join(root, 'synced'), 'utf8'), 's\ns\ns\n');
});

t.test('a guarded exec that converged and must run again is drift, even right after its first run', async (t) => {
  const { root, run } = setup(t.testdir());
  const unless: Resource = { type: 'exec', name: 'flag', command: 'touch "$STEAD_ROOT/flag"', unless: 'test -f "$STEAD_ROOT/flag"' };
  const onlyif: Resource = { type: 'exec', name: 'drain', command: 'rm "$STEAD_ROOT/queue"', onlyif: 'test -f "$STEAD_ROOT/queue"' };
  writeFileSync(join(root, 'queue'), '');
  const r1 = await run([unless, onlyif]);
  t.same(marks(r1, 'exec:flag'), [['returns', false, false]], 'first run: intentional, not routine (the guard holds afterwards)');
  t.same(marks(r1, 'exec:drain'), [['returns', false, false]]);
  unlinkSync(join(root, 'flag'));
  writeFileSync(join(root, 'queue'), '');
  const r2 = await run([unless, onlyif]);
  t.same(marks(r2, 'exec:flag'), [['returns', true, false]], 'its unless no longer holds: drift');
  t.same(marks(r2, 'exec:drain'), [['returns', true, false]], 'its onlyif holds again: drift');
  t.equal(r2.counts.corrective, 2);
});

t.test('a routine exec whose guard later settles, then is needed again, is drift', async (t) => {
  const { root, run } = setup(t.testdir());
  // Runs while "$STEAD_ROOT/busy" exists (the command does not remove it), so it is routine then.
  const ex: Resource = { type: 'exec', name: 'poke', command: 'echo p >> "$STEAD_ROOT/pokes"', onlyif: 'test -f "$STEAD_ROOT/busy"' };
  writeFileSync(join(root, 'busy'), '');
  t.same(marks(await run([ex]), 'exec:poke'), [['returns', false, true]], 'routine while its guard stays open');
  unlinkSync(join(root, 'busy'));
  t.equal((await run([ex])).outcome, 'in-sync', 'settled');
  writeFileSync(join(root, 'busy'), '');
  const r = await run([ex]);
  t.same(marks(r, 'exec:poke'), [['returns', false, true]], 'open again, and still open after it ran: routine');
});

t.test('guards run once more only after the exec ran; an in-sync exec runs each guard once', async (t) => {
  const { root, run } = setup(t.testdir());
  const ex: Resource = { type: 'exec', name: 'g', command: 'true', unless: 'echo g >> "$STEAD_ROOT/guard-calls"; test -f "$STEAD_ROOT/g"' };
  await run([ex]);
  t.equal(readFileSync(join(root, 'guard-calls'), 'utf8'), 'g\ng\n', 'read, then once after the run');
  writeFileSync(join(root, 'g'), '');
  await run([ex]);
  t.equal(readFileSync(join(root, 'guard-calls'), 'utf8'), 'g\ng\ng\n', 'in sync: read only');
});
