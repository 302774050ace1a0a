/**
 * `stead apply`'s compiled-catalog cache (compiler/apply-cache, docs/adr/0013), with real
 * processes on real temporary roots. A hit is proven by planting an entry whose catalog differs
 * from what the manifest compiles to (a file's content): the planted content lands only when the
 * entry is used. Every changed input must miss (the real content lands); every entry the state
 * directory's trust rules refuse — damaged, foreign-owned, readable by others, a link, a hard
 * link, in a directory others can write — must be ignored with a note, and the manifest
 * compiled. Fixtures live under os.tmpdir() so that no ancestor of the state directory is
 * writable by others (the checkout may sit anywhere).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { collectFacts } from '../../agent/facts/collect-facts.js';
import { compiledCatalogFile, maxCompiledCatalogBytes } from '../../compiler/apply-cache/compiled-catalog-cache.js';
import { applyInputKey } from '../../compiler/apply-cache/input-key.js';
import { readTrustedFile, writeTrustedFile } from '../../compiler/apply-cache/trusted-file.js';
import { repoRoot, runStead } from '../helpers/cli.js';

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const PLANTED = 'planted by the test\n';
const plantedRef = `sha256:${execFileSync('sha256sum', { input: PLANTED }).toString().slice(0, 64)}`;

interface Stored {
  key: string;
  catalog: { resources: { type: string; path?: string; source?: string }[]; blobs: Record<string, number> };
  rendered: Record<string, string>;
  sources: Record<string, string>;
}

function workspace(t: { teardown: (fn: () => void) => void }, motdTemplate = 'hello {{ inventory_hostname }}\n'): { dir: string; root: string; file: string; state: string } {
  const dir = mkdtempSync(join(tmpdir(), 'stead-apply-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'site/templates'), { recursive: true });
  mkdirSync(join(dir, 'site/files'), { recursive: true });
  mkdirSync(join(dir, 'root/srv'), { recursive: true });
  writeFileSync(
    join(dir, 'site/site.yaml'),
    'vars:\n  greeting: hi\nresources:\n  - type: file\n    path: /srv/motd\n    template: motd.j2\n  - type: file\n    path: /srv/data\n    source: data.txt\n  - type: file\n    path: /srv/inline\n    content: "{{ greeting }}\\n"\n',
  );
  writeFileSync(join(dir, 'site/templates/motd.j2'), motdTemplate);
  writeFileSync(join(dir, 'site/files/data.txt'), 'data\n');
  return { dir, root: join(dir, 'root'), file: join(dir, 'site/site.yaml'), state: join(dir, 'root/var/lib/stead') };
}

const apply = (w: { root: string; file: string }, ...extra: string[]) => runStead(['apply', w.file, '--root', w.root, '--host', 'web-1', ...extra]);

function readStored(state: string): Stored {
  const r = readTrustedFile(state, compiledCatalogFile, maxCompiledCatalogBytes);
  if (!r.ok) throw new Error(r.reason);
  return JSON.parse(r.body.toString('utf8')) as Stored;
}

/** The stored entry with /srv/motd's content replaced by PLANTED (under `key`, default the stored one). */
function planted(state: string, key?: string): Buffer {
  const s = readStored(state);
  const motd = s.catalog.resources.find((r) => r.path === '/srv/motd')!;
  motd.source = plantedRef;
  s.catalog.blobs[plantedRef] = PLANTED.length;
  s.rendered[plantedRef] = Buffer.from(PLANTED).toString('base64');
  if (key !== undefined) s.key = key;
  return Buffer.from(JSON.stringify(s));
}

function plant(state: string, key?: string): void {
  const w = writeTrustedFile(state, compiledCatalogFile, planted(state, key));
  if (!w.ok) throw new Error(w.reason);
}

const motd = (w: { root: string }) => readFileSync(join(w.root, 'srv/motd'), 'utf8');

t.test('a first run stores the entry; an unchanged rerun uses it without compiling or rewriting it', async (t) => {
  const w = workspace(t);
  const first = await apply(w, '--detailed-exitcodes');
  t.equal(first.code, 2, first.stderr);
  t.equal(first.stderr.includes('compiled catalog'), false, `no note on a first run: ${first.stderr}`);
  const st = statSync(join(w.state, compiledCatalogFile));
  t.equal(st.mode & 0o777, 0o600, 'readable by its owner only');
  const stored = readStored(w.state);
  t.same(Object.values(stored.sources), ['data.txt'], 'files/ sources are kept by path');
  t.equal(Object.keys(stored.rendered).length, 2, 'rendered template and inline content kept by content');

  const second = await apply(w, '--detailed-exitcodes');
  t.equal(second.code, 0, `${second.stdout}${second.stderr}`);
  t.equal(statSync(join(w.state, compiledCatalogFile)).ino, st.ino, 'a hit does not rewrite the entry');

  plant(w.state);
  const hit = await apply(w, '--detailed-exitcodes');
  t.equal(hit.code, 2, hit.stderr);
  t.equal(motd(w), PLANTED, 'the stored catalog is what was enforced: nothing was compiled');
});

t.test('a hit restores drift from the entry (rendered) and from files/ (sources, verified)', async (t) => {
  const w = workspace(t);
  t.equal((await apply(w)).code, 0);
  writeFileSync(join(w.root, 'srv/motd'), 'drift\n');
  writeFileSync(join(w.root, 'srv/data'), 'drift\n');
  const r = await apply(w, '--detailed-exitcodes');
  t.equal(r.code, 2, r.stderr);
  t.equal(motd(w), 'hello web-1\n');
  t.equal(readFileSync(join(w.root, 'srv/data'), 'utf8'), 'data\n');
});

t.test('any changed input misses: manifest, template, source file, host', async (t) => {
  const changes: [string, (w: ReturnType<typeof workspace>) => void, string][] = [
    ['the manifest', (w) => writeFileSync(w.file, readFileSync(w.file, 'utf8').replace('greeting: hi', 'greeting: hey')), 'hello web-1\n'],
    ['a template', (w) => writeFileSync(join(w.dir, 'site/templates/motd.j2'), 'bye {{ inventory_hostname }}\n'), 'bye web-1\n'],
    ['a source file', (w) => writeFileSync(join(w.dir, 'site/files/data.txt'), 'new data\n'), 'hello web-1\n'],
    ['an unused new file under files/', (w) => writeFileSync(join(w.dir, 'site/files/other.txt'), 'x\n'), 'hello web-1\n'],
  ];
  for (const [what, change, expected] of changes) {
    const w = workspace(t);
    t.equal((await apply(w)).code, 0, what);
    plant(w.state);
    change(w);
    const r = await apply(w);
    t.equal(r.code, 0, `${what}: ${r.stderr}`);
    t.equal(motd(w), expected, `${what}: compiled again, the planted entry not used`);
    t.equal(readStored(w.state).catalog.resources.some((x) => x.source === plantedRef), false, `${what}: the entry was replaced`);
  }
  const w = workspace(t);
  t.equal((await apply(w)).code, 0);
  plant(w.state);
  t.equal((await runStead(['apply', w.file, '--root', w.root, '--host', 'web-2'])).code, 0);
  t.equal(motd(w), 'hello web-2\n', 'another host');
});

t.test('facts: a template that reads one misses when it differs, hits when it does not', async (t) => {
  const w = workspace(t, 'kernel {{ facts.kernel.release }}\n');
  t.equal((await apply(w)).code, 0);
  const real = await collectFacts();
  const keyFor = async (facts: unknown) => {
    const k = await applyInputKey(w.file, { host: 'web-1', facts, version });
    if (!k.cacheable) throw new Error(k.reason);
    return k.key;
  };
  plant(w.state, await keyFor({ ...real, kernel: { ...real.kernel, release: 'not-this-kernel' } }));
  t.equal((await apply(w)).code, 0);
  t.equal(motd(w), `kernel ${real.kernel.release}\n`, 'planted under other facts: compiled');
  plant(w.state, await keyFor({ ...real, uptimeSeconds: 1, memory: { totalBytes: 1, freeBytes: 1 } }));
  t.equal((await apply(w)).code, 0);
  t.equal(motd(w), PLANTED, 'facts no template reads (uptime, memory) do not make a miss');
});

t.test('--no-cache compiles and stores nothing; --noop reads the entry but never writes one', async (t) => {
  const w = workspace(t);
  mkdirSync(w.state, { recursive: true, mode: 0o700 });
  const noop = await apply(w, '--noop', '--detailed-exitcodes');
  t.equal(noop.code, 2, noop.stderr);
  t.throws(() => statSync(join(w.state, compiledCatalogFile)), 'a noop run stores nothing');
  t.equal((await apply(w, '--no-cache')).code, 0);
  t.throws(() => statSync(join(w.state, compiledCatalogFile)), '--no-cache stores nothing');
  t.equal((await apply(w)).code, 0);
  plant(w.state);
  const noopHit = await apply(w, '--noop', '--detailed-exitcodes');
  t.equal(noopHit.code, 2, 'the planted catalog differs from the host');
  t.match(noopHit.stdout, /would change\s+file:\/srv\/motd/);
  t.equal(motd(w), 'hello web-1\n', 'noop changed nothing');
  t.equal((await apply(w, '--no-cache', '--detailed-exitcodes')).code, 0, '--no-cache ignores the planted entry');
  t.equal(motd(w), 'hello web-1\n');
});

t.test('an entry the trust rules refuse is ignored with a note, and the manifest compiled', async (t) => {
  const cases: [string, (w: ReturnType<typeof workspace>) => void, RegExp][] = [
    [
      'altered without its hash',
      (w) => {
        const path = join(w.state, compiledCatalogFile);
        const bytes = readFileSync(path);
        const body = planted(w.state);
        writeFileSync(path, Buffer.concat([bytes.subarray(0, bytes.indexOf(0x0a) + 1), body]), { mode: 0o600 });
      },
      /does not match its content hash/,
    ],
    ['owned by another user', (w) => (plant(w.state), chownSync(join(w.state, compiledCatalogFile), 65534, 65534)), /owned by uid 65534/],
    ['readable by others', (w) => (plant(w.state), chmodSync(join(w.state, compiledCatalogFile), 0o644)), /accessible to group or others/],
    [
      'a symbolic link to a valid entry',
      (w) => {
        plant(w.state);
        const elsewhere = join(w.dir, 'elsewhere');
        mkdirSync(elsewhere, { mode: 0o700 });
        renameSync(join(w.state, compiledCatalogFile), join(elsewhere, compiledCatalogFile));
        symlinkSync(join(elsewhere, compiledCatalogFile), join(w.state, compiledCatalogFile));
      },
      /is a symbolic link/,
    ],
    ['a hard link', (w) => (plant(w.state), linkSync(join(w.state, compiledCatalogFile), join(w.dir, 'hardlink'))), /has 2 hard links/],
    ['in a group-writable state directory', (w) => (plant(w.state), chmodSync(w.state, 0o770)), /writable by group or others/],
    ['in a state directory owned by another user', (w) => (plant(w.state), chownSync(w.state, 65534, 65534)), /owned by uid 65534/],
    ['below a directory others can write (no sticky bit)', (w) => (plant(w.state), chmodSync(join(w.root, 'var'), 0o777)), /writable by group or others/],
  ];
  for (const [what, tamper, why] of cases) {
    const w = workspace(t);
    t.equal((await apply(w)).code, 0, what);
    tamper(w);
    const r = await apply(w, '--detailed-exitcodes');
    t.equal(motd(w), 'hello web-1\n', `${what}: the entry was not used`);
    t.equal(r.code, 0, `${what}: compiled, nothing to change (${r.stderr})`);
    t.match(r.stderr, /stead apply: (not using the compiled catalog|the compiled catalog was not kept)/, `${what}: a note says so`);
    t.match(r.stderr, why, `${what}: with the reason`);
  }
});

t.test('a broken manifest after a cached run: every problem located, nothing touched', async (t) => {
  const w = workspace(t);
  t.equal((await apply(w)).code, 0);
  writeFileSync(w.file, 'resources:\n  - type: file\n    path: /srv/motd\n    mode: 0644\n    content: x\n  - type: fil\n    path: /srv/y\n');
  const r = await apply(w);
  t.equal(r.code, 1);
  t.match(r.stderr, /site\.yaml:4:11: \/resources\/0\/mode: mode 0644 is read by YAML as the number 644/);
  t.match(r.stderr, /site\.yaml:6:11: \/resources\/1\/type: unknown resource type "fil"/);
  t.equal(motd(w), 'hello web-1\n', 'nothing changed');
});
