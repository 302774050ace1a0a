import t from 'tap';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeHost, pathComponents } from '../../../agent/host/node-host.js';
import { snapshot } from '../../helpers/engine-fixtures.js';

t.test('manifest paths: absolute, no "..", no NUL', async (t) => {
  t.same(pathComponents('/a//b/./c/'), ['a', 'b', 'c']);
  t.same(pathComponents('/'), []);
  for (const bad of ['relative', '/a/../b', '/..', '/a\0b', '']) t.throws(() => pathComponents(bad), { code: 'PATH_INVALID' }, JSON.stringify(bad));
  const host = createNodeHost({ root: t.testdir() });
  await t.rejects(host.writeFileAtomic('/../escape', 'x'), { code: 'PATH_INVALID' });
  await t.rejects(host.lstat('/a/../../etc/passwd'), { code: 'PATH_INVALID' });
});

t.test('paths map under the root; writes are atomic with the requested mode', async (t) => {
  const root = t.testdir({ etc: {} });
  const host = createNodeHost({ root });
  t.equal(host.realPath('/etc/motd'), join(root, 'etc/motd'));
  await host.writeFileAtomic('/etc/motd', 'hello', { mode: 0o640 });
  t.equal(readFileSync(join(root, 'etc/motd'), 'utf8'), 'hello');
  t.equal(statSync(join(root, 'etc/motd')).mode & 0o7777, 0o640);
  await host.writeFileAtomic('/etc/motd', 'again');
  t.equal(statSync(join(root, 'etc/motd')).mode & 0o7777, 0o640, 'mode is kept when not given');
  t.same(readdirSync(join(root, 'etc')), ['motd'], 'no temp file left');
  t.same(await host.lstat('/etc/motd'), { kind: 'file', mode: 0o640, uid: process.getuid!(), gid: process.getgid!(), size: 5 });
  t.equal(await host.lstat('/etc/none'), undefined);
  t.equal(await host.lstat('/etc/motd/below-a-file'), undefined);
});

t.test('symlinks in parents resolve as in a chroot; reads never leave the root', async (t) => {
  const d = t.testdir({ root: { real: {} }, outside: { secret: 'outside' } });
  const root = join(d, 'root');
  const outside = join(d, 'outside');
  symlinkSync('/real', join(root, 'abs'));
  symlinkSync('../../..', join(root, 'up'));
  symlinkSync(outside, join(root, 'out'));
  const host = createNodeHost({ root });
  await host.writeFileAtomic('/abs/f', 'via absolute link');
  t.equal(readFileSync(join(root, 'real/f'), 'utf8'), 'via absolute link', 'an absolute link target is taken inside the root');
  await host.writeFileAtomic('/up/real/g', 'via ..');
  t.equal(readFileSync(join(root, 'real/g'), 'utf8'), 'via ..', '".." in a link target stops at the root');
  await t.rejects(host.writeFileAtomic('/out/secret', 'pwn'));
  t.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'outside');
  await t.rejects(host.readFile('/out/secret'), { code: 'PATH_ESCAPE' });
  await t.rejects(host.lstat('/out/secret'), { code: 'PATH_ESCAPE' });
  symlinkSync(join(outside, 'secret'), join(root, 'real/leaf'));
  await t.rejects(host.readFile('/real/leaf'), { code: 'ELOOP' }, 'readFile does not follow a final symlink');
  await t.rejects(host.chmod('/real/leaf', 0o777), { code: 'SYMLINK_REFUSED' });
  t.equal(statSync(join(outside, 'secret')).mode & 0o777, 0o644);
  await host.lchown('/real/leaf', 0, 0);
  symlinkSync('loop', join(root, 'loop'));
  await t.rejects(host.writeFileAtomic('/loop/x', 'x'), { code: 'SYMLINK_LOOP' });
});

t.test('F4: swapping a parent for a symlink while writing never writes outside', async (t) => {
  const d = t.testdir({ root: { srv: { 'conf.d': {} } }, victim: { x: 'victim' } });
  const root = join(d, 'root');
  const victim = join(d, 'victim');
  const before = snapshot(victim);
  const host = createNodeHost({ root });
  let stop = false;
  const confd = join(root, 'srv/conf.d');
  const aside = join(root, 'srv/conf.d.real');
  // the racer alternates conf.d between a real directory and a symlink to the victim
  const racer = (async () => {
    let flips = 0;
    while (!stop) {
      try {
        renameSync(confd, aside);
        symlinkSync(victim, confd);
        await new Promise((r) => setImmediate(r));
        rmSync(confd);
        renameSync(aside, confd);
      } catch {
        // the writer may hold the name for a moment
      }
      flips++;
      await new Promise((r) => setImmediate(r));
    }
    return flips;
  })();
  let ok = 0;
  for (let i = 0; i < 300; i++) {
    try {
      await host.writeFileAtomic('/srv/conf.d/x', `write ${i}`);
      ok++;
    } catch {
      // refused while the symlink (pointing outside the root) is in place
    }
  }
  stop = true;
  const flips = await racer;
  t.ok(flips > 10, `the racer flipped the directory ${flips} times`);
  t.ok(ok > 0, `${ok} writes went through`);
  t.same(snapshot(victim), before, 'the directory outside the root is untouched');
});

t.test('mkdir, rename, remove, symlink, readdir', async (t) => {
  const root = t.testdir();
  const host = createNodeHost({ root });
  await host.mkdir('/a/b/c', { recursive: true, mode: 0o750 });
  t.equal(statSync(join(root, 'a/b/c')).mode & 0o777, 0o750);
  await host.mkdir('/a/b/c', { recursive: true });
  await t.rejects(host.mkdir('/a/b/c'), { code: 'EEXIST' });
  await host.symlink('c', '/a/b/l');
  t.equal(await host.readlink('/a/b/l'), 'c');
  await host.rename('/a/b/l', '/a/l2');
  t.same((await host.readdir('/a')).sort(), ['b', 'l2']);
  await host.remove('/a/l2');
  await host.remove('/nothing/here');
  await t.rejects(host.remove('/a'), { code: 'ENOTEMPTY' });
  await host.remove('/a', { recursive: true });
  t.notOk(existsSync(join(root, 'a')));
});

t.test('account lookups read the root\'s /etc files', async (t) => {
  const root = t.testdir({ etc: { passwd: 'root:x:0:0::/root:/bin/sh\napp:x:1234:99::/srv/app:/bin/sh\nbad line\n', group: 'app:x:99:\n' } });
  const host = createNodeHost({ root });
  t.equal(await host.lookupUser('app'), 1234);
  t.equal(await host.lookupGroup('app'), 99);
  t.equal(await host.lookupUser('nobody-here'), undefined);
  t.same(await host.lookupUserEntry('app'), { name: 'app', id: 1234, gid: 99, home: '/srv/app' });
  writeFileSync(join(root, 'etc/passwd'), 'app:x:2222:99::/srv/app:/bin/sh\n');
  t.equal(await host.lookupUser('app'), 2222, 'a changed file is read again');
  const empty = createNodeHost({ root: t.testdir() });
  t.equal(await empty.lookupUser('root'), 0, 'root is uid 0 even without an /etc/passwd');
  t.equal(await empty.lookupUser('app'), undefined);
});

t.test('exec: argv, environment, cwd, caps, timeout and abort kill the group', async (t) => {
  const root = t.testdir({ work: {} });
  const host = createNodeHost({ root });
  const r = await host.exec('/bin/sh', ['-c', 'printf "%s|%s|%s" "$1" "$FOO" "$(pwd)"', 'sh', '$(touch /tmp/stead-pwn-argv);x'], { env: { FOO: 'bar' }, cwd: '/work' });
  t.equal(r.code, 0);
  t.equal(r.stdout, `$(touch /tmp/stead-pwn-argv);x|bar|${join(root, 'work')}`);
  t.notOk(existsSync('/tmp/stead-pwn-argv'));
  const env = await host.exec('/usr/bin/env', ['-0']);
  // tap's process-info hook adds NODE_OPTIONS and _TAPJS_* to every spawn under test; nothing else may leak in
  const names = env.stdout.split('\0').filter((l) => l !== '').map((l) => l.split('=')[0]!).filter((n) => n !== 'NODE_OPTIONS' && !n.startsWith('_TAPJS_'));
  t.same(names.sort(), ['LANG', 'PATH', 'STEAD_ROOT'], 'a minimal environment');
  const capped = await host.exec('/bin/sh', ['-c', 'head -c 5000 /dev/zero'], { maxOutputBytes: 100 });
  t.match(capped.stdout, /4900 more bytes dropped/);
  const input = await host.exec('/bin/cat', [], { input: 'piped' });
  t.equal(input.stdout, 'piped');
  const code = await host.exec('/bin/sh', ['-c', 'exit 7']);
  t.same([code.code, code.signal, code.timedOut], [7, null, false]);
  const slow = await host.exec('/bin/sh', ['-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 300 });
  t.equal(slow.timedOut, true);
  t.equal(slow.code, null);
  const bg = Number(slow.stdout.trim());
  const gone = () => !existsSync(`/proc/${bg}`) || /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${bg}/stat`, 'utf8'));
  for (let i = 0; i < 50 && !gone(); i++) await new Promise((res) => setTimeout(res, 100));
  t.ok(gone(), 'the background child was killed with its group');
  const ac = new AbortController();
  const p = host.exec('/bin/sh', ['-c', 'sleep 30'], { signal: ac.signal });
  setTimeout(() => ac.abort(), 100);
  const aborted = await p;
  t.equal(aborted.signal, 'SIGKILL');
  await t.rejects(host.exec('/no/such/program', []), { code: 'SPAWN_FAILED' });
  mkdirSync(join(root, 'x'));
  t.ok(lstatSync(join(root, 'x')).isDirectory());
});
