/**
 * Symlinks of an archive are judged against the whole extracted tree (archive-extract.ts
 * linksStayInside): chains that climb out one ".." at a time, loops, ".." out of names the
 * archive does not make, in any entry order, for tar and zip; and nothing is ever written
 * through an extracted link. Benign relative links (bin/x -> ../lib/x) still unpack.
 */
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { createMemoryBlobSource } from '../../../agent/blobs/memory-blob-source.js';
import { reconcile } from '../../../agent/engine/reconcile.js';
import { linksStayInside } from '../../../agent/resources/archive-extract.js';
import { fsRegistry, makeCatalog, snapshot } from '../../helpers/engine-fixtures.js';
import { tar, zip } from '../../helpers/engine-archives.js';

/** An archive entry in a format-neutral form. */
type E = { dir: string } | { file: string; data: string } | { link: string; to: string };

function asTar(es: readonly E[]): Buffer {
  return tar(es.map((e) => ('dir' in e ? { name: `${e.dir}/`, type: '5' as const } : 'file' in e ? { name: e.file, data: e.data } : { name: e.link, type: '2' as const, linkname: e.to })));
}
function asZip(es: readonly E[]): Buffer {
  return zip(es.map((e) => ('dir' in e ? { name: `${e.dir}/`, unixMode: 0o40755 } : 'file' in e ? { name: e.file, data: e.data } : { name: e.link, data: e.to, unixMode: 0o120777 })));
}

/** The chain: sub/l0 -> .., sub/lN -> l(N-1)/.., then etc -> sub/l11/etc (12 levels up, past any real depth). */
function chain(extra: readonly E[] = []): E[] {
  const es: E[] = [{ dir: 'sub' }, { link: 'sub/l0', to: '..' }];
  for (let i = 1; i < 12; i++) es.push({ link: `sub/l${i}`, to: `l${i - 1}/..` });
  es.push({ link: 'etc', to: 'sub/l11/etc' }, ...extra);
  return es;
}

const unsafeCases: { name: string; entries: E[] }[] = [
  { name: 'a chain climbing one ".." per link', entries: chain() },
  { name: 'a chain, then a file written through it', entries: chain([{ file: 'etc/stead-chain-pwn', data: 'pwn' }]) },
  { name: 'a two-link chain: a -> b/.., b -> ..', entries: [{ dir: 'd' }, { link: 'd/b', to: '..' }, { link: 'd/a', to: 'b/..' }] },
  { name: 'a link through a link to its own directory', entries: [{ dir: 'd' }, { link: 'd/here', to: '.' }, { link: 'up', to: 'd/here/../..' }] },
  { name: 'a loop', entries: [{ link: 'a', to: 'b' }, { link: 'b', to: 'a' }] },
  { name: 'a self loop', entries: [{ link: 'self', to: 'self/x' }] },
  { name: '".." out of a name the archive does not make', entries: [{ link: 'x', to: 'not-here/../..' }] },
  { name: '".." out of a file', entries: [{ file: 'f', data: 'x' }, { link: 'x', to: 'f/../..' }] },
  { name: 'an in-tree link, then a file written through it', entries: [{ dir: 'd' }, { link: 'l', to: 'd' }, { file: 'l/x', data: 'through' }] },
];

/** The test directory but the state directory, without directory mtimes (a temp dir came and went). */
function tree(d: string) {
  return Object.fromEntries(Object.entries(snapshot(d)).filter(([k]) => k !== 'state' && !k.startsWith('state/')).map(([k, e]) => [k, e.kind === 'directory' ? { ...e, mtimeMs: 0 } : e]));
}

function setup(t: Test) {
  const d = t.testdir({ root: { srv: { existing: 'old' } }, state: {} });
  const root = join(d, 'root');
  const blobs = createMemoryBlobSource();
  const run = (data: Buffer) =>
    reconcile(makeCatalog([{ type: 'archive', path: '/srv/app', source: blobs.put(data) }]), {
      host: createNodeHost({ root }), blobs, stateDir: join(d, 'state'), hostName: 'h', noop: false, signal: AbortSignal.timeout(120_000), registry: fsRegistry,
    });
  return { d, root, run };
}

for (const [format, build] of [['tar', asTar], ['zip', asZip]] as const) {
  t.test(`${format}: link chains and loops are refused in any entry order, nothing is written`, async (t) => {
    for (const c of unsafeCases) {
      for (const order of ['as listed', 'reversed'] as const) {
        const { d, run } = setup(t);
        const outside = tree(d);
        const entries = order === 'reversed' ? [...c.entries].reverse() : c.entries;
        const r = await run(build(entries));
        t.equal(r.resources[0]?.error?.code, 'ARCHIVE_UNSAFE', `${c.name} (${order}): ${r.resources[0]?.error?.message ?? 'accepted'}`);
        t.same(tree(d), outside, `${c.name} (${order}): nothing was created or changed`);
        t.notOk(existsSync('/etc/stead-chain-pwn'));
      }
    }
  });

  t.test(`${format}: benign relative links unpack in any order`, async (t) => {
    const entries: E[] = [
      { dir: 'lib' },
      { file: 'lib/tool.js', data: 'tool' },
      { dir: 'bin' },
      { link: 'bin/tool', to: '../lib/tool.js' },
      { link: 'lib/current', to: '.' },
      { link: 'bin/via', to: '../lib/current/tool.js' },
      { link: 'dangling', to: 'not-yet/there' },
      { dir: 'sub' },
      { link: 'sub/l0', to: '..' },
      { link: 'back', to: 'sub/l0/lib/tool.js' },
    ];
    for (const order of ['as listed', 'reversed'] as const) {
      const { root, run } = setup(t);
      const r = await run(build(order === 'reversed' ? [...entries].reverse() : entries));
      t.equal(r.outcome, 'changed', `${order}: ${r.resources[0]?.error?.message ?? ''}`);
      t.equal(readlinkSync(join(root, 'srv/app/bin/tool')), '../lib/tool.js');
      t.equal(readFileSync(join(root, 'srv/app/bin/via'), 'utf8'), 'tool');
      t.equal(readFileSync(join(root, 'srv/app/back'), 'utf8'), 'tool');
    }
  });
}

t.test('linksStayInside: messages name the link and the reason', async (t) => {
  const tree = new Map<string, 'file' | 'directory' | 'link'>([['sub', 'directory'], ['sub/a', 'link'], ['sub/b', 'link'], ['x', 'link']]);
  t.throws(() => linksStayInside(tree, new Map([['sub/a', '..'], ['sub/b', 'a/..']])), { code: 'ARCHIVE_UNSAFE', message: /symlink "sub\/b" -> "a\/\.\." resolves outside the directory/ });
  t.throws(() => linksStayInside(tree, new Map([['sub/a', 'b'], ['sub/b', 'a']])), { code: 'ARCHIVE_UNSAFE', message: /loop/ });
  t.throws(() => linksStayInside(tree, new Map([['x', 'nope/..']])), { code: 'ARCHIVE_UNSAFE', message: /"nope", which the archive does not make a directory/ });
  t.doesNotThrow(() => linksStayInside(tree, new Map([['sub/a', '../sub/./b'], ['sub/b', '..'], ['x', 'sub/a/sub']])));
});

t.test('extraction keeps a sticky (and a setgid) bit on directories, clears them on files', async (t) => {
  const { root, run } = setup(t);
  mkdirSync(join(root, 'srv/app'));
  writeFileSync(join(root, 'srv/app/keep'), 'x');
  const r = await run(tar([
    { name: 'tmp/', type: '5', mode: 0o1777 },
    { name: 'shared/', type: '5', mode: 0o2775 },
    { name: 'odd/', type: '5', mode: 0o4755 },
    { name: 'f', data: 'x', mode: 0o1644 },
  ]));
  t.equal(r.outcome, 'changed');
  const { statSync } = await import('node:fs');
  t.equal(statSync(join(root, 'srv/app/tmp')).mode & 0o7777, 0o1777, 'a 1777 directory stays 1777, not 0777');
  t.equal(statSync(join(root, 'srv/app/shared')).mode & 0o7777, 0o2775, 'setgid on a directory is kept');
  t.equal(statSync(join(root, 'srv/app/odd')).mode & 0o7777, 0o755, 'setuid on a directory is cleared');
  t.equal(statSync(join(root, 'srv/app/f')).mode & 0o7777, 0o644, 'sticky on a file is cleared');
});
