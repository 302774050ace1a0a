/**
 * ADR 0007, deterministically: the NodeHost's raceHook makes the swap another user could make
 * exactly between two steps of an operation (a directory just made, an entry just checked, a
 * directory being emptied) and every metadata change or removal must stay off the victim.
 */
import t, { type Test } from 'tap';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeHost } from '../../../agent/host/node-host.js';
import type { RaceHook } from '../../../agent/host/entry-ops.js';
import { createMemoryBlobSource } from '../../../agent/blobs/memory-blob-source.js';
import { reconcile } from '../../../agent/engine/reconcile.js';
import { fsRegistry, makeCatalog, snapshot } from '../../helpers/engine-fixtures.js';

/** A root with /p in it, a victim file (0600) and a victim directory outside the root. */
function layout(t: Test) {
  const d = t.testdir({ root: { p: {}, etc: { passwd: 'app:x:4321:4322::/home/app:/bin/sh\n', group: 'app:x:4322:\n' } }, victim: 'secret', victimdir: { keep: 'keep', sub: { keep2: 'k' } } });
  const victim = join(d, 'victim');
  chmodSync(victim, 0o600);
  const victimState = () => {
    const st = statSync(victim);
    return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  };
  return { d, root: join(d, 'root'), victim, victimdir: join(d, 'victimdir'), victimState, before: victimState() };
}

/** Replaces the directory (or file) at `entry` with a symlink to `to`. */
function swapForLink(entry: string, to: string): void {
  if (lstatSync(entry).isDirectory()) rmdirSync(entry);
  else unlinkSync(entry);
  symlinkSync(to, entry);
}

t.test('mkdir: the new directory swapped for a symlink before its mode and owner are set', async (t) => {
  const { root, victim, victimState, before } = layout(t);
  let swapped = 0;
  const raceHook: RaceHook = (step, entry) => {
    if (step === 'mkdir') {
      swapForLink(entry, victim);
      swapped++;
    }
  };
  const host = createNodeHost({ root, raceHook });
  await t.rejects(host.mkdir('/p/d', { mode: 0o4777, uid: 4321, gid: 4322 }), { code: 'ENTRY_CHANGED' });
  await t.rejects(host.mkdir('/p/e', { recursive: true, mode: 0o777 }), { code: 'ENTRY_CHANGED' });
  t.equal(swapped, 2);
  t.same(victimState(), before, 'the victim keeps its mode and owner');
  t.ok(lstatSync(join(root, 'p/d')).isSymbolicLink(), 'the link is left for the operator to see');
});

t.test('mkdir: a directory swapped in for the new one (not made by us) is refused too', async (t) => {
  const { root, d } = layout(t);
  const theirs = join(d, 'theirs');
  mkdirSync(theirs, { mode: 0o700 });
  const { chownSync } = await import('node:fs');
  chownSync(theirs, 4321, 4322);
  const host = createNodeHost({ root, raceHook: (step, entry) => { if (step === 'mkdir') { rmdirSync(entry); renameSync(theirs, entry); } } });
  await t.rejects(host.mkdir('/p/d', { mode: 0o777 }), { code: 'ENTRY_CHANGED' });
  t.equal(statSync(join(root, 'p/d')).mode & 0o7777, 0o700, 'its mode was not changed');
});

t.test('setAttributes, chmod, lchown: a checked entry swapped for a symlink before the change', async (t) => {
  const { root, victim, victimState, before } = layout(t);
  writeFileSync(join(root, 'p/f'), 'x');
  mkdirSync(join(root, 'p/dir'));
  const raceHook: RaceHook = (step, entry) => {
    if (step === 'attributes' && !lstatSync(entry).isSymbolicLink()) swapForLink(entry, victim);
  };
  const host = createNodeHost({ root, raceHook });
  await t.rejects(host.chmod('/p/f', 0o4777), { code: 'SYMLINK_REFUSED' });
  await t.rejects(host.setAttributes('/p/dir', { mode: 0o777, uid: 4321 }, 'directory'), { code: 'ENTRY_CHANGED' });
  await host.lchown('/p/f', 4321, 4322);
  t.equal(lstatSync(join(root, 'p/f')).uid, 4321, 'lchown changed the link itself');
  t.same(victimState(), before, 'the victim keeps its mode and owner');
});

t.test('recursive remove: a directory inside swapped for a symlink while the tree is emptied', async (t) => {
  const { root, victimdir } = layout(t);
  mkdirSync(join(root, 'p/t/sub/deeper'), { recursive: true });
  writeFileSync(join(root, 'p/t/sub/f'), 'x');
  writeFileSync(join(root, 'p/t/sub/deeper/g'), 'x');
  const victimBefore = snapshot(victimdir);
  let swapped = 0;
  const raceHook: RaceHook = (step, entry) => {
    if (step === 'remove-tree' && entry.endsWith('/sub') && lstatSync(entry).isDirectory()) {
      renameSync(entry, `${entry}-aside`);
      symlinkSync(victimdir, entry);
      swapped++;
    }
  };
  const host = createNodeHost({ root, raceHook });
  await host.remove('/p/t', { recursive: true }).catch(() => undefined);
  t.equal(swapped, 1);
  t.same(snapshot(victimdir), victimBefore, 'nothing of the victim directory was removed');
  t.notOk(existsSync(join(root, 'p/t/sub')) && lstatSync(join(root, 'p/t/sub')).isDirectory(), 'the link was removed, never entered');
});

t.test('recursive remove: the top directory swapped for a symlink after it was checked', async (t) => {
  const { root, victimdir } = layout(t);
  mkdirSync(join(root, 'p/t'));
  const victimBefore = snapshot(victimdir);
  const host = createNodeHost({ root, raceHook: (step, entry) => { if (step === 'remove') { rmdirSync(entry); symlinkSync(victimdir, entry); } } });
  await host.remove('/p/t', { recursive: true });
  t.same(snapshot(victimdir), victimBefore);
  t.same(readdirSync(join(root, 'p')), [], 'the link itself was removed');
});

t.test('a directory resource: the swap between create and chmod/chown fails the resource, not the victim', async (t) => {
  const { d, root, victim, victimState, before } = layout(t);
  mkdirSync(join(d, 'state'));
  const host = createNodeHost({ root, raceHook: (step, entry) => { if (step === 'mkdir') swapForLink(entry, victim); } });
  const r = await reconcile(makeCatalog([{ type: 'directory', path: '/p/new', mode: '4777', owner: 'app', group: 'app' }]), {
    host, blobs: createMemoryBlobSource(), stateDir: join(d, 'state'), hostName: 'h', noop: false, signal: AbortSignal.timeout(60_000), registry: fsRegistry,
  });
  t.equal(r.resources[0]?.error?.code, 'ENTRY_CHANGED', r.resources[0]?.error?.message ?? '');
  t.same(victimState(), before, 'the victim keeps its mode and owner');
});

t.test('parents: another user\'s symlink in a directory it can write is not followed', async (t) => {
  const { root } = layout(t);
  const { chownSync, lchownSync } = await import('node:fs');
  // a user owning /p (its home, say) puts its own link /p/a -> /elsewhere where root will write
  chownSync(join(root, 'p'), 4321, 4322);
  const target = join(root, 'elsewhere');
  mkdirSync(target);
  symlinkSync('/elsewhere', join(root, 'p/a'));
  lchownSync(join(root, 'p/a'), 4321, 4322);
  const host = createNodeHost({ root });
  await t.rejects(host.mkdir('/p/a/b/c', { recursive: true, mode: 0o700, uid: 4321 }), { code: 'SYMLINK_REFUSED' });
  await t.rejects(host.writeFileAtomic('/p/a/cron', 'x', { uid: 4321 }), { code: 'SYMLINK_REFUSED' });
  t.same(readdirSync(target), [], 'nothing was created through the link');
  // the same link owned by root (only root could have made it) is followed, as before
  lchownSync(join(root, 'p/a'), 0, 0);
  await host.mkdir('/p/a/b', { recursive: true, mode: 0o700 });
  t.same(readdirSync(target), ['b']);
  // a link owned by another user in a root-owned directory no one else can write is followed
  symlinkSync('/elsewhere', join(root, 'a2'));
  lchownSync(join(root, 'a2'), 4321, 4322);
  await host.writeFileAtomic('/a2/f', 'x');
  t.ok(existsSync(join(target, 'f')));
});
