/**
 * An apply killed with SIGKILL in the middle of an unpack leaves temp directories beside the
 * target; the next apply of the same path removes them (archive.ts removeLeftovers). The kill is
 * real (a child process kills itself) and lands at a fixed step through the host's raceHook.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { createMemoryBlobSource } from '../../../agent/blobs/memory-blob-source.js';
import { reconcile } from '../../../agent/engine/reconcile.js';
import { fsRegistry, makeCatalog } from '../../helpers/engine-fixtures.js';
import { tarGz } from '../../helpers/engine-archives.js';
import { repoRoot } from '../../helpers/cli.js';

const CHILD = `
import { readFileSync } from 'node:fs';
const dist = process.argv[2];
const { createNodeHost } = await import(dist + '/agent/host/node-host.js');
const { reconcile } = await import(dist + '/agent/engine/reconcile.js');
const { createMemoryBlobSource } = await import(dist + '/agent/blobs/memory-blob-source.js');
const { fsRegistry, makeCatalog } = await import(dist + '/test/helpers/engine-fixtures.js');
const [root, stateDir, archive, step, suffix] = process.argv.slice(3);
const blobs = createMemoryBlobSource();
const source = blobs.put(readFileSync(archive));
const host = createNodeHost({ root, raceHook: (s, entry) => { if (s === step && entry.endsWith(suffix)) process.kill(process.pid, 'SIGKILL'); } });
await reconcile(makeCatalog([{ type: 'archive', path: '/srv/app', source, clean: true }]), { host, blobs, stateDir, hostName: 'h', noop: false, signal: AbortSignal.timeout(120000), registry: fsRegistry });
console.log('not killed');
`;

const release = tarGz([{ name: 'bin/', type: '5' }, { name: 'bin/run', data: 'new\n', mode: 0o755 }, { name: 'README', data: 'new\n' }]);

for (const [where, step, suffix] of [
  ['after the unpack, before the swap', 'attributes', '.new'],
  ['after the swap, while the old directory is removed', 'remove', '.old0'],
] as const) {
  t.test(`killed ${where}: the next apply removes what was left`, async (t) => {
    const d = t.testdir({ root: { srv: { app: { old: 'old\n', sub: { deep: 'x' } } } }, state: {} });
    const root = join(d, 'root');
    const stateDir = join(d, 'state');
    writeFileSync(join(d, 'release.tar.gz'), release);
    writeFileSync(join(d, 'child.mjs'), CHILD);
    const child = spawn(process.execPath, [join(d, 'child.mjs'), join(repoRoot, 'dist'), root, stateDir, join(d, 'release.tar.gz'), step, suffix], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    t.equal(signal, 'SIGKILL', `the apply was killed at its ${step} step (${out.trim()})`);
    const left = readdirSync(join(root, 'srv')).filter((n) => n !== 'app');
    t.equal(left.length, 1, `the kill left a temp directory: ${left.join(', ')}`);
    t.match(left[0], new RegExp(`^\\.app\\.stead-[0-9a-f]{12}\\${suffix}$`));

    const blobs = createMemoryBlobSource();
    const r = await reconcile(makeCatalog([{ type: 'archive', path: '/srv/app', source: blobs.put(release), clean: true }]), {
      host: createNodeHost({ root }), blobs, stateDir, hostName: 'h', noop: false, signal: AbortSignal.timeout(120_000), registry: fsRegistry,
    });
    t.equal(r.outcome, 'changed', r.resources[0]?.error?.message ?? '');
    t.same(readdirSync(join(root, 'srv')), ['app'], 'the temp directory is gone');
    t.equal(readFileSync(join(root, 'srv/app/README'), 'utf8'), 'new\n');
    t.same(readdirSync(join(stateDir, 'archives')).filter((n) => n.endsWith('.pending.json')), [], 'no pending record is left');
  });
}

t.test('a temp name without a recorded tag (another apply\'s, or a user\'s) is left alone', async (t) => {
  const d = t.testdir({ root: { srv: {} }, state: {} });
  const root = join(d, 'root');
  mkdirSync(join(root, 'srv/.app.stead-0123456789ab.new'));
  const blobs = createMemoryBlobSource();
  const r = await reconcile(makeCatalog([{ type: 'archive', path: '/srv/app', source: blobs.put(release) }]), {
    host: createNodeHost({ root }), blobs, stateDir: join(d, 'state'), hostName: 'h', noop: false, signal: AbortSignal.timeout(120_000), registry: fsRegistry,
  });
  t.equal(r.outcome, 'changed');
  t.same(readdirSync(join(root, 'srv')).sort(), ['.app.stead-0123456789ab.new', 'app']);
});
