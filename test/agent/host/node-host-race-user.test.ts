/**
 * ADR 0007 with a real attacker: a throwaway unprivileged user owns a directory under the root
 * and, in a tight loop in its own process, swaps what the agent (root) just made or is emptying
 * there for a symlink to a root-owned victim. The victim's mode, owner and content never change.
 * (The deterministic version, a swap made exactly between two steps: node-host-race-hook.test.ts.)
 */
import t from 'tap';
import { chownSync, lstatSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { snapshot } from '../../helpers/engine-fixtures.js';
import { createRaceUser, noRaceUser, startRacer } from '../../helpers/race-user.js';

/** Swaps argv[3] (a directory the agent makes) for a symlink to argv[4] whenever it can. */
const SWAP_NEW_DIR = `
const fs = require('fs');
const [stop, d, victim] = process.argv.slice(2);
let swaps = 0;
console.log('ready');
for (let i = 0; ; i++) {
  if ((i & 255) === 0 && fs.existsSync(stop)) break;
  try { fs.rmdirSync(d); } catch { continue; }
  try { fs.symlinkSync(victim, d); swaps++; } catch {}
}
console.log(swaps);
`;

/** Swaps argv[3] (a directory inside a tree the agent removes) for a symlink to argv[4] and back. */
const SWAP_SUBDIR = `
const fs = require('fs');
const [stop, d, victim] = process.argv.slice(2);
let swaps = 0;
console.log('ready');
for (let i = 0; ; i++) {
  if ((i & 255) === 0 && fs.existsSync(stop)) break;
  try { fs.renameSync(d, d + '.x'); } catch { continue; }
  try { fs.symlinkSync(victim, d); swaps++; } catch {}
  for (let k = 0; k < 200; k++) { try { fs.lstatSync(d); } catch {} }
  try { fs.unlinkSync(d); } catch {}
  try { fs.renameSync(d + '.x', d); } catch {}
}
console.log(swaps);
`;

const why = noRaceUser();
if (why) {
  t.comment(`skipped: ${why}`);
  t.pass('skipped');
} else {
  t.test('another user swapping a new directory for a symlink never gets the victim chmodded or chowned', async (t) => {
    const u = createRaceUser(t);
    const root = join(u.dir, 'root');
    mkdirSync(join(root, 'p'), { recursive: true, mode: 0o755 });
    chownSync(join(root, 'p'), u.uid, u.gid);
    const victim = join(u.dir, 'victim');
    writeFileSync(victim, 'secret', { mode: 0o600 });
    const state = () => {
      const st = statSync(victim);
      return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    };
    const before = state();
    const racer = startRacer(u, SWAP_NEW_DIR, [join(root, 'p/d'), victim]);
    await racer.ready;
    const host = createNodeHost({ root });
    let made = 0;
    for (let i = 0; i < 300; i++) {
      try {
        await host.mkdir('/p/d', { mode: 0o4777, uid: u.uid, gid: u.gid });
        made++;
        await host.chmod('/p/d', 0o2777);
        await host.lchown('/p/d', u.uid, u.gid);
      } catch {
        // refused: the racer's link was in place
      }
      await host.remove('/p/d').catch(() => undefined);
    }
    const out = await racer.stop();
    const swaps = Number(out.split('\n').pop());
    t.ok(swaps > 0, `the other user swapped the directory for a link ${swaps} times (${made} directories made)`);
    t.same(state(), before, 'the victim keeps mode 0600 and its owner');
  });

  t.test('another user swapping a directory inside a tree being removed never gets the victim emptied', async (t) => {
    const u = createRaceUser(t);
    const root = join(u.dir, 'root');
    mkdirSync(join(root, 'p'), { recursive: true, mode: 0o755 });
    const victimdir = join(u.dir, 'victimdir');
    mkdirSync(victimdir, { mode: 0o700 });
    for (const f of ['a', 'b', 'c']) writeFileSync(join(victimdir, f), f);
    const before = snapshot(victimdir);
    const racer = startRacer(u, SWAP_SUBDIR, [join(root, 'p/t/sub'), victimdir]);
    await racer.ready;
    const host = createNodeHost({ root });
    for (let i = 0; i < 150; i++) {
      try {
        await host.mkdir('/p/t', { mode: 0o755, uid: u.uid, gid: u.gid });
        await host.mkdir('/p/t/sub', { mode: 0o755 });
        for (const f of ['1', '2', '3']) await host.writeFileAtomic(`/p/t/sub/${f}`, f);
      } catch {
        // the racer moved sub away for a moment
      }
      await host.remove('/p/t', { recursive: true }).catch(() => undefined);
      if (lstatSync(join(root, 'p/t'), { throwIfNoEntry: false })) await host.remove('/p/t', { recursive: true }).catch(() => undefined);
    }
    const out = await racer.stop();
    const swaps = Number(out.split('\n').pop());
    t.ok(swaps > 0, `the other user swapped the directory for a link ${swaps} times`);
    t.same(snapshot(victimdir), before, 'nothing of the victim directory was removed');
  });
}
