import { execFileSync, spawnSync } from 'node:child_process';
import t from 'tap';
import { dpkgCollector, npmCollector, parseDpkgQuery, parseNpmLs, parsePipList, parseRpmQuery, pipCollector, rpmCollector } from '../../../agent/inventory/packages.js';
import { inventoryEnv, trackingConfig } from '../../helpers/inventory-env.js';

t.test('parsers', async (t) => {
  t.same([...parseDpkgQuery('bash\tii \t5.2.15-2+b7\tamd64\nold\trc \t1.0-1\tamd64\nhalf\tiU \t2.0\tall\ntrig\tit \t3.0\tall\n')], [['bash', { version: '5.2.15-2+b7', arch: 'amd64' }], ['trig', { version: '3.0', arch: 'all' }]], 'installed only (config-files and unpacked are not)');
  t.same([...parseRpmQuery('bash\t(none)\t5.1.8\t9.el9\tx86_64\npackage nope is not installed\nkernel\t1\t5.14.0\t427.el9\tx86_64\n')], [['bash', { version: '5.1.8-9.el9', arch: 'x86_64' }], ['kernel', { version: '1:5.14.0-427.el9', arch: 'x86_64' }]]);
  t.same([...parseNpmLs('{"dependencies":{"npm":{"version":"11.1.0"},"broken":{}}}')], [['npm', '11.1.0']]);
  t.same([...parsePipList('[{"name":"Typing_Extensions","version":"4.9.0"}]')], [['typing-extensions', '4.9.0']]);
  t.throws(() => parsePipList('{}'));
});

const noDpkg = spawnSync('dpkg-query', ['--version']).status === 0 ? false : 'dpkg-query is not installed';
t.test('dpkg: the machine\'s real dpkg database, compared with dpkg-query run here', { skip: noDpkg }, async (t) => {
  // Three installed packages of this machine, one unknown name, and one name from the database that is not installed (if any).
  const all = execFileSync('dpkg-query', ['-W', '-f=${Package}\t${db:Status-Abbrev}\t${Version}\t${Architecture}\n'], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split('\t'));
  const installed = all.filter((f) => f[1]?.[1] === 'i').slice(0, 3);
  t.equal(installed.length, 3, 'this machine has installed packages');
  const notInstalled = all.find((f) => f[1]?.[1] !== 'i');
  const names = [...installed.map((f) => f[0]!), 'stead-no-such-package', ...(notInstalled ? [notInstalled[0]!] : [])];
  const out = await dpkgCollector.collect(trackingConfig({ packages: names.map((name) => ({ name, manager: 'dpkg' })) }), inventoryEnv(t.testdir()));
  t.same(out.errors, []);
  for (const f of installed) {
    const mine = out.packages?.find((p) => p.name === f[0]);
    const direct = execFileSync('dpkg-query', ['-W', '-f=${Version}', '--', f[0]!], { encoding: 'utf8' });
    t.same(mine, { name: f[0], manager: 'dpkg', version: direct, arch: f[3] }, `${f[0]} as dpkg-query says`);
  }
  t.same(out.packages?.find((p) => p.name === 'stead-no-such-package'), { name: 'stead-no-such-package', manager: 'dpkg', version: null }, 'unknown to dpkg: not installed');
  if (notInstalled) t.equal(out.packages?.find((p) => p.name === notInstalled[0])?.version, null, `${notInstalled[0]} (${notInstalled[1]}) is not installed`);
  const bad = await dpkgCollector.collect(trackingConfig({ packages: [{ name: '--admindir=/tmp', manager: 'dpkg' }] }), inventoryEnv(t.testdir()));
  t.same(bad.packages, [], 'an option-like name is never passed');
  t.match(bad.errors, [{ source: 'dpkg', message: /not a valid package name/ }]);
});

const hasRpm = spawnSync('rpm', ['--version']).status === 0 ? 'rpm is installed here: the missing-tool case needs a machine without it' : false;
t.test('rpm: a missing tool is an errors entry and its packages are left out (unknown, not "not installed")', { skip: hasRpm }, async (t) => {
  const out = await rpmCollector.collect(trackingConfig({ packages: [{ name: 'bash', manager: 'rpm' }] }), inventoryEnv(t.testdir()));
  t.same(out.packages ?? [], []);
  t.match(out.errors, [{ source: 'rpm', message: /rpm is not installed/ }]);
});

t.test('npm and pip: the real tools of this machine', async (t) => {
  // The agent runs tools with the Host's minimal PATH: compare with the same tools.
  const sysEnv = { ...process.env, PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
  const env = inventoryEnv(t.testdir());
  const npm = await npmCollector.collect(trackingConfig({ packages: [{ name: 'npm', manager: 'npm' }, { name: 'stead-no-such-npm-pkg', manager: 'npm' }] }), env);
  if (spawnSync('npm', ['--version']).status === 0) {
    t.same(npm.errors, []);
    const direct = JSON.parse(execFileSync('npm', ['ls', '-g', '--json', '--depth=0'], { encoding: 'utf8', env: sysEnv })) as { dependencies?: Record<string, { version: string }> };
    t.same(npm.packages, [{ name: 'npm', manager: 'npm', version: direct.dependencies?.npm?.version ?? null }, { name: 'stead-no-such-npm-pkg', manager: 'npm', version: null }]);
  } else t.match(npm.errors, [{ source: 'npm' }]);
  const pip = await pipCollector.collect(trackingConfig({ packages: [{ name: 'PIP', manager: 'pip' }, { name: 'stead-no-such-pip-pkg', manager: 'pip' }] }), env);
  const direct = spawnSync('python3', ['-m', 'pip', 'list', '--format', 'json', '--disable-pip-version-check'], { encoding: 'utf8', env: sysEnv });
  if (direct.status === 0) {
    t.same(pip.errors, []);
    const v = (JSON.parse(direct.stdout) as { name: string; version: string }[]).find((p) => p.name.toLowerCase() === 'pip')?.version ?? null;
    t.same(pip.packages, [{ name: 'PIP', manager: 'pip', version: v }, { name: 'stead-no-such-pip-pkg', manager: 'pip', version: null }], 'names match as pip normalises them');
  } else t.match(pip.errors, [{ source: 'pip' }]);
});
