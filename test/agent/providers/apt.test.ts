import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { aptConfineArgs, aptConfineFile, writeAptConfineFile } from '../../../agent/providers/apt-confine.js';
import { parseAptCachePolicy, parseDpkgQuery } from '../../../agent/providers/apt.js';

t.test('parseDpkgQuery: installed states only', async (t) => {
  t.equal(parseDpkgQuery('ii \t1.0-1\n'), '1.0-1');
  t.equal(parseDpkgQuery('rc \t1.0-1\n'), undefined, 'removed, config files left');
  t.equal(parseDpkgQuery('un \t\n'), undefined);
  t.equal(parseDpkgQuery('iU \t1.0-1\n'), undefined, 'unpacked, not configured');
  t.equal(parseDpkgQuery('iW \t2.0\n'), '2.0', 'triggers awaited still counts as installed');
  t.equal(parseDpkgQuery('rc \t1.0\nii \t1.1\n'), '1.1', 'multi-arch: the installed one');
  t.equal(parseDpkgQuery(''), undefined);
});

t.test('parseAptCachePolicy', async (t) => {
  t.equal(parseAptCachePolicy('nginx:\n  Installed: (none)\n  Candidate: 1.22.1-9\n  Version table:\n'), '1.22.1-9');
  t.equal(parseAptCachePolicy('x:\n  Installed: 1.0\n  Candidate: (none)\n'), undefined);
  t.equal(parseAptCachePolicy(''), undefined, 'unknown package: apt-cache prints nothing');
});

t.test('confinement settings: apt reads the file and the -o options the same way', { skip: spawnSync('apt-config', ['--version']).status === 0 ? false : 'apt-config is not installed' }, async (t) => {
  const dir = t.testdir({ state: {} });
  const root = join(dir, 'my root');
  const fromFile = spawnSync('apt-config', ['dump'], { encoding: 'utf8', env: { ...process.env, APT_CONFIG: await writeAptConfineFile(join(dir, 'state'), root) } });
  t.equal(fromFile.status, 0, fromFile.stderr);
  t.match(fromFile.stdout, `Dir "${root}/";`);
  t.match(fromFile.stdout, `Dir::State::status "${root}/var/lib/dpkg/status";`);
  t.match(fromFile.stdout, `DPkg::Options:: "--root=${root}";`);
  t.match(fromFile.stdout, `DPkg::Options:: "--log=${root}/var/log/dpkg.log";`);
  const fromArgs = spawnSync('apt-config', [...aptConfineArgs(root), 'dump'], { encoding: 'utf8' });
  t.match(fromArgs.stdout, `Dir "${root}/";`);
  t.match(fromArgs.stdout, `DPkg::Options:: "--admindir=${root}/var/lib/dpkg";`);
  t.notMatch(fromFile.stdout, /Pre-Install-Pkgs|Post-Invoke/, 'the machine\'s apt.conf.d hooks are not loaded through APT_CONFIG');
  writeFileSync(join(dir, 'x'), aptConfineFile(root));
});

t.test('roots that cannot be written into apt configuration are refused', async (t) => {
  for (const bad of ['/a"b', '/a\nb', '/a;b', '/a{b', 'relative']) t.throws(() => aptConfineFile(bad), { code: 'UNSUPPORTED' }, JSON.stringify(bad));
});
