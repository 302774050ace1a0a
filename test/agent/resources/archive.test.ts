import t, { type Test } from 'tap';
import { existsSync, readFileSync, readdirSync, writeFileSync, statSync, lstatSync, readlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { archive } from '../../../agent/resources/archive.js';
import { extractArchive } from '../../../agent/resources/archive-extract.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { createMemoryBlobSource } from '../../../agent/blobs/memory-blob-source.js';
import { reconcile } from '../../../agent/engine/reconcile.js';
import type { Resource, RunReport } from '../../../schemas/index.js';
import { fsRegistry, isRunReport, makeCatalog, snapshot } from '../../helpers/engine-fixtures.js';
import { tar, tarGz, zip, type TarEntry } from '../../helpers/engine-archives.js';
import { resourceContract } from './contract.js';

const blobs = createMemoryBlobSource();
const release1 = blobs.put(tarGz([
  { name: 'app-1/', type: '5' },
  { name: 'app-1/bin/', type: '5' },
  { name: 'app-1/bin/run', data: '#!/bin/sh\necho 1\n', mode: 0o755 },
  { name: 'app-1/README', data: 'one\n' },
  { name: 'app-1/current', type: '2', linkname: 'bin/run' },
]));
const release2 = blobs.put(tarGz([{ name: 'app-2/README', data: 'two\n' }]));
const zipped = blobs.put(zip([{ name: 'z/', unixMode: 0o40755 }, { name: 'z/a.txt', data: 'zip content\n' }, { name: 'z/link', data: 'a.txt', unixMode: 0o120777 }]));
const plainTar = blobs.put(tar([{ name: 'f', data: 'plain\n' }]));

await resourceContract(t, {
  impl: archive,
  registry: fsRegistry,
  cases: [
    { name: 'tar.gz with strip', blobs, desired: () => ({ type: 'archive', path: '/srv/app', source: release1, strip: 1 }), prepare: (root) => mkdirSync(join(root, 'srv')) },
    { name: 'zip (format sniffed)', blobs, desired: () => ({ type: 'archive', path: '/srv/z', source: zipped }), prepare: (root) => mkdirSync(join(root, 'srv')) },
    { name: 'plain tar over an existing directory', blobs, desired: () => ({ type: 'archive', path: '/srv', source: plainTar, format: 'tar' }), prepare: (root) => mkdirSync(join(root, 'srv')) },
    { name: 'absent removes', blobs, desired: () => ({ type: 'archive', path: '/srv', source: plainTar, ensure: 'absent' }), prepare: (root) => mkdirSync(join(root, 'srv/x'), { recursive: true }) },
  ],
});

function setup(t: Test) {
  const d = t.testdir({ root: { srv: {}, other: { kept: 'x' } }, state: {} });
  const root = join(d, 'root');
  const stateDir = join(d, 'state');
  const run = async (resources: Resource[]): Promise<RunReport> => {
    const r = await reconcile(makeCatalog(resources), { host: createNodeHost({ root }), blobs, stateDir, hostName: 'h', noop: false, signal: AbortSignal.timeout(120_000), registry: fsRegistry });
    t.same(isRunReport.check(r), []);
    return r;
  };
  return { d, root, stateDir, run };
}

t.test('unpacks, skips the same archive, swaps in a new one', async (t) => {
  const { root, run } = setup(t);
  const r1 = await run([{ type: 'archive', path: '/srv/app', source: release1, strip: 1 }]);
  t.equal(r1.outcome, 'changed');
  t.equal(readFileSync(join(root, 'srv/app/README'), 'utf8'), 'one\n');
  t.equal(statSync(join(root, 'srv/app/bin/run')).mode & 0o777, 0o755);
  t.equal(readlinkSync(join(root, 'srv/app/current')), 'bin/run');
  writeFileSync(join(root, 'srv/app/local.conf'), 'operator file');
  const r2 = await run([{ type: 'archive', path: '/srv/app', source: release1, strip: 1 }]);
  t.equal(r2.outcome, 'in-sync', 'same checksum: skipped');
  const r3 = await run([{ type: 'archive', path: '/srv/app', source: release2, strip: 1 }]);
  t.same(r3.resources[0]?.changes.map((c) => [c.property, c.before, c.after]), [['source', release1, release2]]);
  t.equal(readFileSync(join(root, 'srv/app/README'), 'utf8'), 'two\n');
  t.ok(existsSync(join(root, 'srv/app/local.conf')), 'without clean, other files stay');
  const r4 = await run([{ type: 'archive', path: '/srv/app', source: release1, strip: 1, clean: true }]);
  t.equal(r4.outcome, 'changed');
  t.notOk(existsSync(join(root, 'srv/app/local.conf')), 'clean replaces the whole directory');
  t.same(readdirSync(join(root, 'srv')), ['app'], 'no temp directory is left beside the target');
});

interface EvilCase { name: string; data: Buffer; code: string }
const evil: EvilCase[] = [
  { name: 'dot-dot name', code: 'ARCHIVE_UNSAFE', data: tarGz([{ name: 'ok', data: 'x' }, { name: '../escaped', data: 'pwn' }]) },
  { name: 'nested dot-dot', code: 'ARCHIVE_UNSAFE', data: tarGz([{ name: 'a/../../escaped', data: 'pwn' }]) },
  { name: 'absolute name', code: 'ARCHIVE_UNSAFE', data: tarGz([{ name: '/tmp/stead-abs-pwn', data: 'pwn' }]) },
  { name: 'drive letter', code: 'ARCHIVE_UNSAFE', data: tarGz([{ name: 'C:..\\x', data: 'pwn' }]) },
  { name: 'backslash name', code: 'ARCHIVE_UNSAFE', data: tarGz([{ name: '..\\..\\x', data: 'pwn' }]) },
  { name: 'symlink out, then a file through it', code: 'ARCHIVE_UNSAFE', data: tarGz([{ name: 'l', type: '2', linkname: '../../outside' }, { name: 'l/pwn', data: 'pwn' }]) },
  { name: 'absolute symlink', code: 'ARCHIVE_UNSAFE', data: tarGz([{ name: 'etc', type: '2', linkname: '/etc' }]) },
  { name: 'in-dir symlink then a file through it', code: 'ARCHIVE_UNSAFE', data: tarGz([{ name: 'd/', type: '5' }, { name: 'l', type: '2', linkname: 'd' }, { name: 'l/x', data: 'through' }]) },
  { name: 'directory then a symlink of the same name', code: 'ARCHIVE_UNSAFE', data: tarGz([{ name: 'd/', type: '5' }, { name: 'd', type: '2', linkname: '.' }]) },
  { name: 'hard link to /etc/shadow', code: 'ARCHIVE_UNSAFE', data: tarGz([{ name: 'shadow', type: '1', linkname: '/etc/shadow' }]) },
  { name: 'symlink chain plus hard link', code: 'ARCHIVE_UNSAFE', data: tarGz([{ name: 'a', type: '2', linkname: 'b' }, { name: 'b', type: '2', linkname: 'c' }, { name: 'h', type: '1', linkname: 'a' }]) },
  { name: 'character device', code: 'ARCHIVE_UNSAFE', data: tarGz([{ name: 'null', type: '3' }]) },
  { name: 'block device', code: 'ARCHIVE_UNSAFE', data: tarGz([{ name: 'sda', type: '4' }]) },
  { name: 'FIFO', code: 'ARCHIVE_UNSAFE', data: tarGz([{ name: 'fifo', type: '6' }]) },
  { name: 'zip slip', code: 'ARCHIVE_UNSAFE', data: zip([{ name: '../zip-escaped', data: 'pwn' }]) },
  { name: 'zip absolute', code: 'ARCHIVE_UNSAFE', data: zip([{ name: '/tmp/stead-zip-abs', data: 'pwn' }]) },
  { name: 'zip symlink out', code: 'ARCHIVE_UNSAFE', data: zip([{ name: 'l', data: '/etc/passwd', unixMode: 0o120777 }]) },
  { name: 'not an archive', code: 'ARCHIVE_INVALID', data: gzipSync(Buffer.from('just text, not a tar archive at all'.repeat(40))) },
];

t.test('the evil archive corpus is refused and changes nothing', async (t) => {
  for (const c of evil) {
    await t.test(c.name, async (t) => {
      const { d, root, run } = setup(t);
      writeFileSync(join(root, 'srv/existing'), 'old');
      const before = snapshot(d);
      const ref = blobs.put(c.data);
      const r = await run([{ type: 'archive', path: '/srv/app', source: ref }, { type: 'archive', path: '/other', source: ref }]);
      for (const s of r.resources) t.equal(s.error?.code, c.code, `${s.id}: ${s.error?.message ?? ''}`);
      const after = snapshot(d);
      delete (after as Record<string, unknown>)['state'];
      delete (before as Record<string, unknown>)['state'];
      for (const k of Object.keys(after)) if (k.startsWith('state/')) delete (after as Record<string, unknown>)[k];
      for (const k of Object.keys(before)) if (k.startsWith('state/')) delete (before as Record<string, unknown>)[k];
      t.same(Object.keys(after).sort(), Object.keys(before).sort(), 'no file was created or removed');
      t.equal(readFileSync(join(root, 'srv/existing'), 'utf8'), 'old');
      t.notOk(existsSync('/tmp/stead-abs-pwn') || existsSync('/tmp/stead-zip-abs'));
    });
  }
});

t.test('a PAX path with NUL is cut at the NUL by the parser: neutralised, written inside', async (t) => {
  const { d, root, run } = setup(t);
  const ref = blobs.put(tarGz([{ name: 'innocent', data: 'x', pax: { path: 'good\0/../../evil' } }]));
  const r = await run([{ type: 'archive', path: '/srv/app', source: ref }]);
  t.equal(r.outcome, 'changed');
  t.same(readdirSync(join(root, 'srv/app')), ['good']);
  t.notOk(existsSync(join(d, 'evil')) || existsSync(join(root, 'evil')));
});

t.test('setuid and setgid bits of files are cleared; a directory keeps sticky and setgid', async (t) => {
  const { root, run } = setup(t);
  const ref = blobs.put(tarGz([{ name: 'suid', data: 'x', mode: 0o4755 }, { name: 'sgid', data: 'x', mode: 0o2755 }, { name: 'tmp/', type: '5', mode: 0o1777 }]));
  const r = await run([{ type: 'archive', path: '/srv/app', source: ref }]);
  t.equal(r.outcome, 'changed');
  t.equal(statSync(join(root, 'srv/app/suid')).mode & 0o7777, 0o755);
  t.equal(statSync(join(root, 'srv/app/sgid')).mode & 0o7777, 0o755);
  t.equal(lstatSync(join(root, 'srv/app/tmp')).mode & 0o7777, 0o1777, 'sticky kept: anyone may write, only owners delete');
});

t.test('limits: too many entries, too many bytes, decompression bombs', async (t) => {
  const dir = t.testdir({ root: {} });
  const host = createNodeHost({ root: join(dir, 'root') });
  const many: TarEntry[] = Array.from({ length: 30 }, (_, i) => ({ name: `d${i}/`, type: '5' as const }));
  const limits = { maxEntries: 20, maxBytes: 1024 * 1024, maxRatio: 50, ratioFloorBytes: 64 * 1024 };
  await host.mkdir('/a');
  await t.rejects(extractArchive(host, tarGz(many), '/a', { limits, signal: AbortSignal.timeout(30_000) }), { code: 'ARCHIVE_TOO_LARGE', message: /more than 20 entries/ });
  await host.mkdir('/b');
  const big = Buffer.alloc(2 * 1024 * 1024, 'x');
  await t.rejects(extractArchive(host, tar([{ name: 'big', data: big }]), '/b', { limits: { ...limits, maxRatio: 1e9 }, signal: AbortSignal.timeout(30_000) }), { code: 'ARCHIVE_TOO_LARGE', message: /bytes/ });
  await host.mkdir('/c');
  await t.rejects(extractArchive(host, tarGz([{ name: 'bomb', data: Buffer.alloc(512 * 1024) }]), '/c', { limits, signal: AbortSignal.timeout(30_000) }), { code: 'ARCHIVE_TOO_LARGE', message: /ratio/ });
});

t.test('a real decompression bomb (80 MiB of zeros) is refused with the default limits', async (t) => {
  const { root, run } = setup(t);
  const ref = blobs.put(tarGz([{ name: 'zeros', data: Buffer.alloc(80 * 1024 * 1024) }]));
  const r = await run([{ type: 'archive', path: '/srv/app', source: ref }]);
  t.equal(r.resources[0]?.error?.code, 'ARCHIVE_TOO_LARGE');
  t.same(readdirSync(join(root, 'srv')), [], 'the partial extraction was removed');
});
