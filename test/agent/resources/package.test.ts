import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Host } from '../../../agent/host/host.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { registry } from '../../../agent/resources/registry.js';
import { packageResource } from '../../../agent/resources/package.js';
import type { PackageResource } from '../../../schemas/resources/package.js';
import { aptUnavailable, buildRepo, makeAptRoot, sha256File } from '../../helpers/os-apt-repo.js';
import { converge, osContext } from '../../helpers/os-context.js';
import { resourceContract } from './contract.js';

const pkg = (ensure?: string): PackageResource => (ensure === undefined ? { type: 'package', name: 'stead-testpkg' } : { type: 'package', name: 'stead-testpkg', ensure });

t.test('validate accepts keywords and Debian versions, refuses the rest', async (t) => {
  for (const e of ['present', 'absent', 'latest', '1.0-1', '2:1.22.1-9+deb12u1', '1.0~rc1']) t.same(packageResource.validate(pkg(e)), [], e);
  for (const e of ['installed-ish', 'v1.0', '1.0 2', '1.0-']) {
    const p = packageResource.validate(pkg(e));
    t.equal(p.length, 1, e);
    t.equal(p[0]?.path, '/ensure');
  }
});

t.test('diff is pure and follows ensure', async (t) => {
  const a = { provider: 'apt' as const, version: '1.0-1', candidate: '1.1-1' };
  t.same(packageResource.diff(pkg(), undefined), [{ property: 'ensure', after: 'present' }]);
  t.same(packageResource.diff(pkg(), a), []);
  t.same(packageResource.diff(pkg('absent'), undefined), []);
  t.same(packageResource.diff(pkg('absent'), a), [{ property: 'ensure', before: '1.0-1', after: 'absent' }]);
  t.same(packageResource.diff(pkg('latest'), a), [{ property: 'ensure', before: '1.0-1', after: '1.1-1' }]);
  t.same(packageResource.diff(pkg('latest'), { ...a, version: '1.1-1' }), []);
  t.same(packageResource.diff(pkg('latest'), { ...a, version: '1.2-1' }), [], 'latest never downgrades');
  t.same(packageResource.diff(pkg('latest'), { provider: 'apt', version: '1.0-1' }), [], 'no candidate: keep');
  t.same(packageResource.diff(pkg('1.0-1'), a), []);
  t.same(packageResource.diff(pkg('0:1.0-1'), a), [], 'versions compare as dpkg does, not as strings');
  t.same(packageResource.diff(pkg('1.1-1'), a), [{ property: 'ensure', before: '1.0-1', after: '1.1-1' }]);
});

const why = aptUnavailable();
t.test('real dpkg/apt confined under a root: install, latest, downgrade, absent', { skip: why ?? false }, async (t) => {
  const dir = t.testdir({ state: {}, root: {} });
  const root = join(dir, 'root');
  // The machine's own dpkg files must not mention the test package afterwards. (Not a hash of
  // them: another apt run on a shared CI machine may append to them meanwhile.)
  const mentions = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l.includes('stead-testpkg')).length : 0);
  const hostStatus = mentions('/var/lib/dpkg/status');
  const hostLog = mentions('/var/log/dpkg.log');
  const repo = buildRepo(dir, [
    { name: 'stead-testpkg', version: '1.0-1', files: { 'usr/share/stead-testpkg/VERSION': 'one\n' } },
    { name: 'stead-testpkg', version: '1.1-1', files: { 'usr/share/stead-testpkg/VERSION': 'one point one\n' } },
  ]);
  makeAptRoot(root, repo);
  const ctx = osContext(createNodeHost({ root }), join(dir, 'state'));
  const shipped = join(root, 'usr/share/stead-testpkg/VERSION');

  t.equal(await packageResource.read(pkg(), ctx), undefined, 'not installed at first');

  let r = await converge(packageResource, pkg('1.0-1'), ctx);
  t.same(r.changes, [{ property: 'ensure', after: '1.0-1' }]);
  t.equal(r.after?.version, '1.0-1');
  t.equal(readFileSync(shipped, 'utf8'), 'one\n', 'the packaged file appears under the root');

  r = await converge(packageResource, pkg(), ctx);
  t.same(r.changes, [], 'present: any version is in sync');

  r = await converge(packageResource, pkg('latest'), ctx);
  t.same(r.changes, [{ property: 'ensure', before: '1.0-1', after: '1.1-1' }], 'latest upgrades to the candidate');
  t.equal(readFileSync(shipped, 'utf8'), 'one point one\n');

  r = await converge(packageResource, pkg('latest'), ctx);
  t.same(r.changes, [], 'latest again: nothing to do');

  r = await converge(packageResource, pkg('1.0-1'), ctx);
  t.same(r.changes, [{ property: 'ensure', before: '1.1-1', after: '1.0-1' }], 'an exact version downgrades');
  t.equal(readFileSync(shipped, 'utf8'), 'one\n');

  // noop as the engine does it: read and diff only; nothing changes.
  const before = readFileSync(join(root, 'var/lib/dpkg/status'), 'utf8');
  const actual = await packageResource.read(pkg('absent'), ctx);
  t.same(packageResource.diff(pkg('absent'), actual), [{ property: 'ensure', before: '1.0-1', after: 'absent' }]);
  t.equal(readFileSync(join(root, 'var/lib/dpkg/status'), 'utf8'), before, 'read/diff wrote nothing to the dpkg database');
  t.ok(existsSync(shipped));

  r = await converge(packageResource, pkg('absent'), ctx);
  t.same(r.changes, [{ property: 'ensure', before: '1.0-1', after: 'absent' }]);
  t.equal(r.after, undefined);
  t.notOk(existsSync(shipped), 'the packaged file is gone');
  r = await converge(packageResource, pkg('absent'), ctx);
  t.same(r.changes, []);

  await t.rejects(converge(packageResource, { type: 'package', name: 'stead-no-such-pkg' }, ctx), { code: 'COMMAND_FAILED' }, 'an unknown package fails with apt\'s message');

  t.equal(mentions('/var/lib/dpkg/status'), hostStatus, "the machine's dpkg status never saw the test package");
  t.equal(mentions('/var/log/dpkg.log'), hostLog, "the machine's dpkg log never saw the test package");
  t.ok(existsSync(join(root, 'var/log/dpkg.log')), 'dpkg logged under the root instead');
});

t.test('a root without a dpkg database has no package provider', async (t) => {
  const dir = t.testdir({ state: {}, root: { var: { lib: { rpm: {} } } } });
  const ctx = osContext(createNodeHost({ root: join(dir, 'root') }), join(dir, 'state'));
  await t.rejects(packageResource.read(pkg(), ctx), { code: 'NO_PROVIDER', message: /rpm\/dnf/ });
});

/** A fresh confined apt world beside `root` (repo and build trees in its parent, the test dir). */
function aptWorld(root: string): void {
  const repo = buildRepo(join(root, '..'), [
    { name: 'stead-testpkg', version: '1.0-1', files: { 'usr/share/stead-testpkg/VERSION': 'one\n' } },
    { name: 'stead-testpkg', version: '1.1-1', files: { 'usr/share/stead-testpkg/VERSION': 'one point one\n' } },
  ]);
  makeAptRoot(root, repo);
}

async function installFirst(root: string, host: Host): Promise<void> {
  aptWorld(root);
  await converge(packageResource, pkg('1.0-1'), osContext(host, join(root, '..', 'prepare-state')));
}

if (why === undefined) {
  await resourceContract(t, {
    impl: packageResource as never,
    registry,
    cases: [
      { name: 'install a version', desired: () => pkg('1.0-1'), prepare: (root) => aptWorld(root) },
      { name: 'present installs the candidate', desired: () => pkg(), prepare: (root) => aptWorld(root) },
      { name: 'latest upgrades', desired: () => pkg('latest'), prepare: installFirst },
      { name: 'exact version downgrades', desired: () => pkg('1.0-1'), prepare: async (root, host) => { await installFirst(root, host); await converge(packageResource, pkg('latest'), osContext(host, join(root, '..', 'prepare-state'))); } },
      { name: 'absent removes', desired: () => pkg('absent'), prepare: installFirst },
      { name: 'present when installed is in sync', desired: () => pkg(), prepare: installFirst, changes: false },
    ],
  });
} else {
  t.test('package contract', { skip: why }, () => undefined);
}

t.test('on the real machine (root "/"): read only, agrees with dpkg-query', { skip: why ?? false }, async (t) => {
  const { execFileSync } = await import('node:child_process');
  const want = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'dpkg'], { encoding: 'utf8' });
  const status = sha256File('/var/lib/dpkg/status');
  const ctx = osContext(createNodeHost({ root: '/' }), t.testdir());
  const a = await packageResource.read({ type: 'package', name: 'dpkg', ensure: 'latest' }, ctx);
  t.equal(a?.version, want, 'the installed version of dpkg itself');
  t.equal(a?.provider, 'apt');
  t.equal(await packageResource.read({ type: 'package', name: 'stead-surely-not-installed' }, ctx), undefined);
  t.equal(sha256File('/var/lib/dpkg/status'), status, 'nothing written');
});
