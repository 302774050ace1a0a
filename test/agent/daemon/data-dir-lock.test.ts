/**
 * One agent per data dir (agent/daemon/data-dir-lock.ts): a live agent's lock is respected; a
 * dead one's, or one written before the last boot (its pid may be any process now), is taken
 * over; agents racing for a stale lock in separate processes end with exactly one holder; a
 * release never removes another agent's lock.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fsp, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { lockDataDir } from '../../../agent/daemon/data-dir-lock.js';
import { buildOnce, repoRoot } from '../../helpers/e2e-fleet.js';

const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

t.test('a live lock is respected; a dead pid or a lock from another boot is taken over', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'agent.pid');
  // pid 1 is always alive: with this boot's id it is a live agent.
  await fsp.writeFile(path, `1\n${bootId}\n`, { mode: 0o600 });
  await t.rejects(lockDataDir(dir), { code: 'DATA_DIR_LOCKED', message: /another agent \(pid 1\)/ });
  // The same pid written before a reboot: stale (a power loss must not keep the agent down).
  await fsp.writeFile(path, '1\n00000000-0000-0000-0000-000000000000\n', { mode: 0o600 });
  const lock = await lockDataDir(dir);
  t.equal(await fsp.readFile(path, 'utf8'), `${process.pid}\n${bootId}\n`);
  await lock.release();
  await t.rejects(fsp.access(path), 'released');
  // An empty file (an older agent killed between create and write) is stale too.
  await fsp.writeFile(path, '', { mode: 0o600 });
  const again = await lockDataDir(dir);
  // Release leaves a lock that is no longer ours alone.
  await fsp.writeFile(path, `1\n${bootId}\n`, { mode: 0o600 });
  await again.release();
  t.equal(await fsp.readFile(path, 'utf8'), `1\n${bootId}\n`, 'another agent\'s lock survives our release');
  t.same((await fsp.readdir(dir)).filter((f) => f !== 'agent.pid'), [], 'no temporary file left behind');
});

t.test('agents racing in separate processes for a stale lock: exactly one holds it', async (t) => {
  await buildOnce();
  const dir = t.testdir();
  const mod = join(repoRoot, 'dist/agent/daemon/data-dir-lock.js');
  const script = `import { lockDataDir } from ${JSON.stringify(mod)};
    const dir = process.argv[1];
    try { await lockDataDir(dir); process.stdout.write('won\\n'); } catch (e) { process.stdout.write((e.code ?? e.message) + '\\n'); }
    process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
  for (let round = 0; round < 3; round++) {
    // A stale lock (a pid that cannot exist), as a killed agent leaves.
    await fsp.writeFile(join(dir, 'agent.pid'), `4194305\n${bootId}\n`, { mode: 0o600 });
    const kids = Array.from({ length: 6 }, () => spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const answers = await Promise.all(
      kids.map(async (k) => {
        let out = '';
        k.stdout.on('data', (c: Buffer) => (out += c.toString()));
        while (!out.includes('\n')) await once(k.stdout, 'data');
        return out.trim();
      }),
    );
    t.equal(answers.filter((a) => a === 'won').length, 1, `round ${round}: one winner (${answers.join(', ')})`);
    t.ok(answers.every((a) => a === 'won' || a === 'DATA_DIR_LOCKED'), 'the others are told the dir is locked');
    for (const k of kids) k.stdin.end();
    await Promise.all(kids.map((k) => (k.exitCode === null ? once(k, 'exit') : undefined)));
    await fsp.rm(join(dir, 'agent.pid'), { force: true });
  }
});
