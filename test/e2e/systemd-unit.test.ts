/** The shipped systemd unit passes `systemd-analyze verify` (skipped, with the reason, where it is missing). */
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const unit = new URL('../../docs/systemd/stead-agent.service', import.meta.url).pathname;

async function which(cmd: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    try {
      await fsp.access(join(dir, cmd));
      return join(dir, cmd);
    } catch {
      // next
    }
  }
  return undefined;
}

t.test('stead-agent.service has the settings the agent relies on', async (t) => {
  const text = await fsp.readFile(unit, 'utf8');
  for (const line of ['Type=exec', 'Restart=on-failure', 'KillMode=mixed', 'TimeoutStopSec=30s', 'StateDirectory=stead-agent', 'RestartPreventExitStatus=3 6 64', 'UMask=0077', 'Environment=MALLOC_ARENA_MAX=2']) {
    t.ok(text.split('\n').includes(line), line);
  }
  t.match(text, /--data-dir \$\{STATE_DIRECTORY\}/, 'the data dir is the StateDirectory');
  t.notMatch(text, /semi-space|heap-growing/, 'no V8 heap flag: the agent sizes its heap itself (agent/daemon/heap-tuning.ts)');
});

const analyze = await which('systemd-analyze');
const nodeBin = process.execPath;
t.test('systemd-analyze verify accepts the unit', { skip: analyze ? false : 'systemd-analyze is not installed on this machine, so the unit cannot be verified here' }, async (t) => {
  if (!analyze) return;
  // verify checks that ExecStart's binary exists: point it at this machine's node for the check.
  const dir = t.testdir();
  const node = nodeBin;
  const copy = (await fsp.readFile(unit, 'utf8')).replace('ExecStart=/usr/bin/node ', `ExecStart=${node} `);
  const path = join(dir, 'stead-agent.service');
  await fsp.writeFile(path, copy);
  const r = await run(analyze, ['verify', path], { env: { ...process.env, SYSTEMD_LOG_LEVEL: 'warning' } }).then(
    (x) => ({ code: 0, stderr: x.stderr }),
    (e: { code?: number; stderr?: string }) => ({ code: e.code ?? 1, stderr: e.stderr ?? '' }),
  );
  // Lines about other units on this machine (not ours) are not our problem.
  const ours = r.stderr.split('\n').filter((l) => l.includes('stead-agent.service'));
  t.same(ours, [], `systemd-analyze verify reported: ${r.stderr}`);
  t.equal(r.code, 0, r.stderr);
});
