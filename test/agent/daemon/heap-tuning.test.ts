/**
 * useFrugalHeap (agent/daemon/heap-tuning.ts): in a real Node process that keeps
 * objects alive across scavenges, V8's young generation grows past its starting 2 x 1 MiB;
 * after the call it does not. The operator's explicit choices turn the setting off.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { useFrugalHeap } from '../../../agent/daemon/heap-tuning.js';
import { heapFrugalCommands } from '../../../cli/main.js';
import { buildOnce, programRoot } from '../../helpers/e2e-fleet.js';

await buildOnce();
const moduleUrl = pathToFileURL(join(programRoot, 'dist/agent/daemon/heap-tuning.js')).href;

/** A child that keeps a rolling 24 MB of small objects alive (as a run's plan and statuses are), then prints the young generation's size. */
async function youngGenerationAfterWork(tune: boolean): Promise<{ bytes: number; stderr: string }> {
  const script = `
    import { useFrugalHeap, youngGenerationBytes } from ${JSON.stringify(moduleUrl)};
    if (${tune}) useFrugalHeap({}, []);
    const ring = new Array(200000);
    for (let i = 0; i < 2000000; i++) ring[i % ring.length] = { i, s: 'x' + i, a: [i, i + 1] };
    process.stdout.write(String(youngGenerationBytes()));`;
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env['PATH'] ?? '' } });
  return { bytes: Number(stdout), stderr };
}

t.test('the young generation grows without the settings and stays at its starting size with them', async (t) => {
  const MiB = 1024 * 1024;
  const untouched = await youngGenerationAfterWork(false);
  const tuned = await youngGenerationAfterWork(true);
  t.ok(untouched.bytes > 4 * MiB, `without the settings V8 grew the young generation (${(untouched.bytes / MiB).toFixed(1)} MiB)`);
  // Its starting size is 1-2 MiB per semi-space (V8 sizes it from the machine at start).
  t.ok(tuned.bytes > 0 && tuned.bytes <= 4 * MiB && tuned.bytes * 4 <= untouched.bytes, `with them the young generation stayed at ${(tuned.bytes / MiB).toFixed(1)} MiB`);
  t.equal(tuned.stderr, '', 'this Node knows both flags (it prints "unrecognized flag" otherwise)');
});

t.test('an explicit choice of the operator is left alone', async (t) => {
  t.same(useFrugalHeap({ STEAD_V8_HEAP: 'default' }, []), []);
  t.same(useFrugalHeap({}, ['--max-semi-space-size=4', '--heap-growing-percent=50']), []);
  t.same(useFrugalHeap({}, ['--semi-space-growth-factor=2', '--heap-growing-percent=50']), []);
  t.same(useFrugalHeap({ NODE_OPTIONS: '--max-old-space-size=200 --max-semi-space-size=8' }, []), ['--heap-growing-percent=30'], 'only the setting the operator did not choose');
});

t.test('the agent daemon asks for it; one-shot commands (apply) and the server do not (ADR 0013)', async (t) => {
  t.ok(heapFrugalCommands.has('agent'));
  t.notOk(heapFrugalCommands.has('apply'));
  t.notOk(heapFrugalCommands.has('server'));
});
