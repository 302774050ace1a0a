import t from 'tap';
import { existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
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
