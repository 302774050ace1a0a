import t from 'tap';
import { mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createNodeHost } from '../../../agent/host/node-host.js';

const openFds = () => readdirSync('/proc/self/fd').length;

t.test('a verified directory is reused within one event-loop turn only', async (t) => {
  const d = t.testdir({ root: { d: { f: 'x' } } });
  const root = join(d, 'root');
  const host = createNodeHost({ root });
  await nextTurn();
  const before = openFds();
  t.equal((await host.lstat('/d/f'))?.kind, 'file');
  t.equal((await host.readFile('/d/f')).toString(), 'x');
  // Another process swaps the directory within the same turn: the descriptor verified a moment
  // ago still names the old directory (which is inside the root).
  renameSync(join(root, 'd'), join(root, 'e'));
  mkdirSync(join(root, 'd'));
  t.equal((await host.lstat('/d/f'))?.kind, 'file', 'same turn: the directory verified earlier in the turn');
  await nextTurn();
  t.equal(await host.lstat('/d/f'), undefined, 'next turn: the path is resolved and verified again');
  await nextTurn();
  t.equal(openFds(), before, 'cached descriptors are closed at the end of the turn');
});

t.test('a directory moved out of the root is refused once the turn is over', async (t) => {
  const d = t.testdir({ root: { d: { f: 'inside' } }, outside: {} });
  const root = join(d, 'root');
  const host = createNodeHost({ root });
  t.equal((await host.readFile('/d/f')).toString(), 'inside');
  await nextTurn();
  renameSync(join(root, 'd'), join(d, 'outside/d'));
  symlinkSync(join(d, 'outside/d'), join(root, 'd'));
  await t.rejects(host.lstat('/d/f'), { code: 'PATH_ESCAPE' });
  await t.rejects(host.readFile('/d/f'), { code: 'PATH_ESCAPE' });
});

t.test('a mutation through the host drops the verified directories', async (t) => {
  const d = t.testdir({ root: { d: { f: 'x' } } });
  const root = join(d, 'root');
  const host = createNodeHost({ root });
  t.equal((await host.lstat('/d/f'))?.kind, 'file');
  renameSync(join(root, 'd'), join(root, 'e'));
  mkdirSync(join(root, 'd'));
  writeFileSync(join(root, 'd/g'), 'new');
  t.equal(await host.lstat('/d/g'), undefined, 'same turn: the cached directory');
  const write = host.writeFileAtomic('/other', 'y');
  t.equal((await host.lstat('/d/g'))?.kind, 'file', 'a mutation started: resolved again, in the same turn');
  await write;
});
