/**
 * keepYoungGenerationSmall (agent/daemon/heap-tuning.ts): in a real Node process that keeps
 * objects alive across scavenges, V8's young generation grows past its starting 2 x 1 MiB;
 * after the call it does not. The operator's explicit choices turn the setting off.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { keepYoungGenerationSmall } from '../../../agent/daemon/heap-tuning.js';
import { heapFrugalCommands } from '../../../cli/main.js';
import { buildOnce, programRoot } from '../../helpers/e2e-fleet.js';

await buildOnce();
const moduleUrl = pathToFileURL(join(programRoot, 'dist/agent/daemon/heap-tuning.js')).href;

/** A child that keeps a rolling 24 MB of small objects alive (as a run's plan and statuses are), then prints the young generation's size. */
async function youngGenerationAfterWork(tune: boolean): Promise<number> {
  const script = `
    import { keepYoungGenerationSmall, youngGenerationBytes } from ${JSON.stringify(moduleUrl)};
    if (${tune}) keepYoungGenerationSmall({}, []);
    const ring = new Array(200000);
    for (let i = 0; i < 2000000; i++) ring[i % ring.length] = { i, s: 'x' + i, a: [i, i + 1] };
    process.stdout.write(String(youngGenerationBytes()));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env['PATH'] ?? '' } });
  return Number(stdout);
}

t.test('the young generation grows without the setting and stays at its starting size with it', async (t) => {
  const MiB = 1024 * 1024;
  const untouched = await youngGenerationAfterWork(false);
  const tuned = await youngGenerationAfterWork(true);
  t.ok(untouched > 4 * MiB, `without the setting V8 grew the young generation (${(untouched / MiB).toFixed(1)} MiB)`);
  // Its starting size is 1-2 MiB per semi-space (V8 sizes it from the machine at start).
  t.ok(tuned > 0 && tuned <= 4 * MiB && tuned * 4 <= untouched, `with it the young generation stayed at ${(tuned / MiB).toFixed(1)} MiB`);
});

t.test('an explicit choice of the operator is left alone', async (t) => {
  t.equal(keepYoungGenerationSmall({ STEAD_V8_YOUNG_GENERATION: 'default' }, []), false);
  t.equal(keepYoungGenerationSmall({}, ['--max-semi-space-size=4']), false);
  t.equal(keepYoungGenerationSmall({}, ['--semi-space-growth-factor=2']), false);
  t.equal(keepYoungGenerationSmall({ NODE_OPTIONS: '--max-old-space-size=200 --max-semi-space-size=8' }, []), false);
});

t.test('the agent and apply commands ask for it; the server does not', async (t) => {
  t.ok(heapFrugalCommands.has('agent'));
  t.ok(heapFrugalCommands.has('apply'));
  t.notOk(heapFrugalCommands.has('server'));
});
