/**
 * applyInputKey (compiler/apply-cache/input-key.ts): the key changes with every input the
 * compile reads — a manifest, a template, a source file, the host, the facts a template reads,
 * the version, a repository's var file — and with nothing else; links, special files and secret
 * keys make the inputs uncacheable. Real files in temporary directories.
 */
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { applyInputKey, type ApplyInputKeyOptions } from '../../../compiler/apply-cache/input-key.js';

const facts = { os: { id: 'debian' }, kernel: { release: '6.1' }, uptimeSeconds: 100 };
const opts: ApplyInputKeyOptions = { host: 'web-1', facts, version: '1.0.0' };

async function key(target: string, o: Partial<ApplyInputKeyOptions> = {}): Promise<string> {
  const k = await applyInputKey(target, { ...opts, ...o });
  if (!k.cacheable) throw new Error(`uncacheable: ${k.reason}`);
  return k.key;
}

function site(t: { testdir: (typeof import('tap'))['default']['testdir'] }): string {
  return t.testdir({
    'site.yaml': 'resources:\n  - type: file\n    path: /a\n    template: a.j2\n  - type: file\n    path: /b\n    source: b.txt\n',
    templates: { 'a.j2': 'os={{ facts.os.id }}\n', 'partial.j2': 'x\n' },
    files: { 'b.txt': 'bee\n', 'unused.txt': 'u\n' },
  });
}

t.test('equal inputs, equal key; every input changes it', async (t) => {
  const dir = site(t);
  const file = join(dir, 'site.yaml');
  const k0 = await key(file);
  t.equal(await key(file), k0, 'stable');
  t.equal(await key(file, { facts: { ...facts, uptimeSeconds: 999 } }), k0, 'a fact no template reads does not change it');
  t.not(await key(file, { facts: { ...facts, os: { id: 'ubuntu' } } }), k0, 'a fact a template reads');
  t.not(await key(file, { host: 'web-2' }), k0, 'the host');
  t.not(await key(file, { version: '1.0.1' }), k0, 'the stead version');
  const steps: [string, () => void][] = [
    ['the manifest', () => writeFileSync(file, 'resources: []\n')],
    ['a template', () => writeFileSync(join(dir, 'templates/partial.j2'), 'y\n')],
    ['a source file', () => writeFileSync(join(dir, 'files/b.txt'), 'bee!\n')],
    ['a new file under files/', () => writeFileSync(join(dir, 'files/.hidden'), 'h\n')],
    ['a removed template', () => execFileSync('rm', [join(dir, 'templates/partial.j2')])],
  ];
  let prev = k0;
  for (const [what, change] of steps) {
    change();
    const k = await key(file);
    t.not(k, prev, what);
    prev = k;
  }
});

t.test('a manifest directory: a new manifest file changes the key', async (t) => {
  const dir = t.testdir({ '10-a.yaml': 'resources: []\n', notes: { 'x.yaml': 'ignored' } });
  const k0 = await key(dir);
  writeFileSync(join(dir, 'notes/x.yaml'), 'still ignored');
  t.equal(await key(dir), k0, 'a sub-folder is not read');
  writeFileSync(join(dir, '20-b.yml'), 'resources: []\n');
  t.not(await key(dir), k0);
});

t.test('a repository: a var file, an inventory file, a template change the key; a secret key makes it uncacheable', async (t) => {
  const dir = t.testdir({
    'stead.yaml': 'stead: 1\n',
    inventory: { 'hosts.yaml': 'hosts:\n  web-1: {}\n' },
    vars: { 'global.yaml': 'port: 80\n' },
    templates: { 'a.j2': 'x\n' },
    '.git': { HEAD: 'ref: x\n' },
  });
  const k0 = await key(dir);
  writeFileSync(join(dir, '.git/HEAD'), 'ref: y\n');
  t.equal(await key(dir), k0, 'dot-files outside templates/ and files/ are not read by the loader');
  writeFileSync(join(dir, 'vars/global.yaml'), 'port: 81\n');
  const k1 = await key(dir);
  t.not(k1, k0, 'a var file');
  writeFileSync(join(dir, 'inventory/hosts.yaml'), 'hosts:\n  web-1: { idc: x }\n');
  const k2 = await key(dir);
  t.not(k2, k1, 'an inventory file');
  writeFileSync(join(dir, 'templates/a.j2'), 'y\n');
  t.not(await key(dir), k2, 'a template');
  const secret = await applyInputKey(dir, { ...opts, secretKeyFile: '/etc/stead/key' });
  t.equal(secret.cacheable, false);
  t.match(!secret.cacheable && secret.reason, /secret key/);
});

t.test('links and special files make the inputs uncacheable; a missing folder is fine', async (t) => {
  const dir = t.testdir({ 'site.yaml': 'resources: []\n' });
  t.ok((await applyInputKey(join(dir, 'site.yaml'), opts)).cacheable, 'no templates/ or files/');
  mkdirSync(join(dir, 'files'));
  symlinkSync('/etc/hostname', join(dir, 'files/host'));
  const linked = await applyInputKey(join(dir, 'site.yaml'), opts);
  t.equal(linked.cacheable, false);
  t.match(!linked.cacheable && linked.reason, /symbolic link or a special file/);
  execFileSync('rm', [join(dir, 'files/host')]);
  execFileSync('mkfifo', [join(dir, 'files/fifo')]);
  t.equal((await applyInputKey(join(dir, 'site.yaml'), opts)).cacheable, false, 'a FIFO (never opened: it would block)');
});

t.test('files under files/ are indexed by their sha256', async (t) => {
  const dir = site(t);
  chmodSync(dir, 0o755);
  const k = await applyInputKey(join(dir, 'site.yaml'), opts);
  if (!k.cacheable) throw new Error(k.reason);
  t.equal(k.filesRoot, join(dir, 'files'));
  t.same([...k.filesByHash.values()].sort(), ['b.txt', 'unused.txt']);
});

t.test('a template reading the facts as a whole: uncacheable when they hold the uptime (never equal twice)', async (t) => {
  const dir = t.testdir({ 'site.yaml': 'resources: []\n', templates: { 'a.j2': '{{ facts | to_json }}\n' } });
  const k = await applyInputKey(join(dir, 'site.yaml'), opts);
  t.equal(k.cacheable, false);
  t.match(!k.cacheable && k.reason, /reads the facts other than as facts\.NAME/);
  t.ok((await applyInputKey(join(dir, 'site.yaml'), { ...opts, facts: { os: { id: 'x' } } })).cacheable, 'facts without uptime: all of them in the key');
});
