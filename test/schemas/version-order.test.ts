import { spawnSync } from 'node:child_process';
import t from 'tap';
import { compareDebianVersions, comparePep440, compareRpmVersions, compareSemver, compareVersions, parsePep440, rpmvercmp, sortNewestFirst, versionStatus } from '../../schemas/version-order.js';

/** [a, b, expected sign of a vs b] — checked both ways. */
type Case = readonly [string, string, -1 | 0 | 1];

function both(t: { equal: (found: number, wanted: number, message: string) => unknown }, cmp: (a: string, b: string) => number | undefined, cases: readonly Case[]): void {
  for (const [a, b, want] of cases) {
    t.equal(Math.sign(cmp(a, b) ?? NaN), want, `${a} vs ${b}`);
    t.equal(Math.sign(cmp(b, a) ?? NaN), -want || 0, `${b} vs ${a}`);
  }
}

t.test('rpmvercmp: tildes, carets, letters against digits, separators, leading zeros (cases from rpm\'s rpmvercmp.at)', async (t) => {
  both({ equal: (f, w, m) => t.equal(f, w, m) }, rpmvercmp, [
    ['1.0', '1.0', 0],
    ['1.0', '2.0', -1],
    ['2.0.1', '2.0.1', 0],
    ['2.0', '2.0.1', -1],
    ['2.0.1a', '2.0.1', 1],
    ['5.5p1', '5.5p2', -1],
    ['5.5p10', '5.5p1', 1],
    ['10xyz', '10.1xyz', -1],
    ['xyz10', 'xyz10.1', -1],
    ['xyz.4', '8', -1],
    ['xyz.4', '2', -1],
    ['5.5p2', '5.6p1', -1],
    ['5.6p1', '6.5p1', -1],
    ['6.0.rc1', '6.0', 1],
    ['10b2', '10a1', 1],
    ['1.0aa', '1.0a', 1],
    ['10.0001', '10.1', 0],
    ['10.0001', '10.0039', -1],
    ['4.999.9', '5.0', -1],
    ['20101121', '20101122', -1],
    ['2_0', '2_0', 0],
    ['2.0', '2_0', 0],
    ['a', 'a', 0],
    ['a+', 'a+', 0],
    ['a+', 'a_', 0],
    ['+a', '_a', 0],
    ['+_', '_+', 0],
    ['1.0~rc1', '1.0~rc1', 0],
    ['1.0~rc1', '1.0', -1],
    ['1.0~rc1', '1.0~rc2', -1],
    ['1.0~rc1~git123', '1.0~rc1', -1],
    ['1.0^', '1.0^', 0],
    ['1.0^', '1.0', 1],
    ['1.0^git1', '1.0', 1],
    ['1.0^git1', '1.0^git2', -1],
    ['1.0^git1', '1.01', -1],
    ['1.0^20160101', '1.0.1', -1],
    ['1.0^20160101^git1', '1.0^20160101', 1],
    ['1.0~rc1^git1', '1.0~rc1', 1],
    ['1.0^git1~pre', '1.0^git1', -1],
  ]);
});

t.test('rpm EVR: epochs win, a missing release matches any release', async (t) => {
  both({ equal: (f, w, m) => t.equal(f, w, m) }, compareRpmVersions, [
    ['1:1.0-1', '2.0-1', 1],
    ['0:1.0-1', '1.0-1', 0],
    ['1.0-1.el9', '1.0-2.el9', -1],
    ['1.0-1.el9_3', '1.0-1.el9', 1],
    ['3.2.2-4.el9_3.1', '3.2.2-4.el9', 1],
    ['1.0', '1.0-5', 0],
    ['2.4.57-5.el9', '2.4.57-11.el9', -1],
  ]);
});

t.test('semver: pre-release precedence of §11, build metadata ignored', async (t) => {
  // The chain of semver.org §11: each is older than the next.
  const chain = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'];
  for (let i = 0; i + 1 < chain.length; i++) both({ equal: (f, w, m) => t.equal(f, w, m) }, compareSemver, [[chain[i]!, chain[i + 1]!, -1]]);
  both({ equal: (f, w, m) => t.equal(f, w, m) }, compareSemver, [
    ['1.0.0+build.1', '1.0.0+build.2', 0],
    ['v2.1.3', '2.1.3', 0],
    ['1.9.0', '1.10.0', -1],
    ['10.0.0', '9.99.99', 1],
    ['1.0.0-2', '1.0.0-10', -1],
    ['1.0.0-a10', '1.0.0-a9', -1],
    ['18446744073709551616.0.0', '18446744073709551615.0.0', 1],
  ]);
  t.equal(compareSemver('1.0', '1.0.0'), undefined, 'not semver: not comparable');
  t.equal(compareSemver('01.0.0', '1.0.0'), undefined, 'leading zeros are not semver');
});

/** PEP 440's own example ordering (the spec's "Summary of permitted suffixes and relative ordering"). */
const pepChain = ['1.dev0', '1.0.dev456', '1.0a1', '1.0a2.dev456', '1.0a12.dev456', '1.0a12', '1.0b1.dev456', '1.0b2', '1.0b2.post345.dev456', '1.0b2.post345', '1.0rc1.dev456', '1.0rc1', '1.0', '1.0+abc.5', '1.0+abc.7', '1.0+5', '1.0.post456.dev34', '1.0.post456', '1.0.15', '1.1.dev1'];

t.test('PEP 440: the spec\'s ordering, normalised spellings, epochs, local versions', async (t) => {
  for (let i = 0; i + 1 < pepChain.length; i++) both({ equal: (f, w, m) => t.equal(f, w, m) }, comparePep440, [[pepChain[i]!, pepChain[i + 1]!, -1]]);
  both({ equal: (f, w, m) => t.equal(f, w, m) }, comparePep440, [
    ['1.0', '1.0.0', 0],
    ['1.0-1', '1.0.post1', 0],
    ['1.0alpha1', '1.0a1', 0],
    ['1.0-beta.2', '1.0b2', 0],
    ['1.0c1', '1.0rc1', 0],
    ['1.0-preview-3', '1.0rc3', 0],
    ['v1.0', '1.0', 0],
    ['1.0.RC1', '1.0rc1', 0],
    ['1.0-dev', '1.0.dev0', 0],
    ['1!0.1', '2.0', 1],
    ['2.0', '2.0+local', -1],
    ['1.0+ubuntu-1', '1.0+ubuntu.1', 0],
    ['24.0', '23.3.2', 1],
  ]);
  t.same(parsePep440('1.0-r4')?.post, 4n);
  t.equal(comparePep440('not a version', '1.0'), undefined);
});

const havePipPackaging = spawnSync('python3', ['-c', 'import pip._vendor.packaging.version'], { timeout: 20_000 }).status === 0;

t.test('PEP 440 agrees with pip\'s packaging.version on every pair of a mixed list', { skip: havePipPackaging ? false : 'python3 with pip is not available' }, async (t) => {
  const list = [...pepChain, '1.0.post1', '1.0-1', '1!1.0', '1.0a1.post1', '2.0rc1', '1.0.0.0', '0.9', '1.0+abc', '1.0+abc.5.x', '1.0.dev0', '1.0a0'];
  const script = 'import json,sys\nfrom pip._vendor.packaging.version import Version as V\nl=json.loads(sys.stdin.read())\nprint(json.dumps([[(V(a)>V(b))-(V(a)<V(b)) for b in l] for a in l]))';
  const r = spawnSync('python3', ['-c', script], { input: JSON.stringify(list), encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  const oracle = JSON.parse(r.stdout) as number[][];
  let disagreements = 0;
  for (let i = 0; i < list.length; i++) {
    for (let j = 0; j < list.length; j++) {
      if (Math.sign(comparePep440(list[i]!, list[j]!) ?? NaN) !== oracle[i]![j]) {
        disagreements++;
        t.fail(`${list[i]} vs ${list[j]}: packaging says ${oracle[i]![j]}`);
      }
    }
  }
  t.equal(disagreements, 0);
});

t.test('compareVersions dispatches per manager; artifacts are only equal or not', async (t) => {
  t.equal(compareVersions('dpkg', '1:1.0', '2.0'), 1);
  t.equal(compareVersions('dpkg', '1.0~rc1', '1.0'), -1);
  t.equal(compareVersions('dpkg', 'abc', '1.0'), undefined, 'dpkg refuses it: not comparable');
  t.equal(compareVersions('rpm', '1.0^git1', '1.0'), 1);
  t.equal(compareVersions('npm', '1.0.0-rc.1', '1.0.0'), -1);
  t.equal(compareVersions('pip', '1.0.post1', '1.0'), 1);
  t.equal(compareVersions('artifact', '2024.1', '2024.1'), 0);
  t.equal(compareVersions('artifact', '2024.2', '2024.1'), undefined);
  t.equal(compareDebianVersions('1.0', '0:1.0-0'), 0);
});

t.test('versionStatus and sortNewestFirst', async (t) => {
  t.equal(versionStatus('dpkg', '7.88.1-10+deb12u5', '7.88.1-10+deb12u12'), 'outdated');
  t.equal(versionStatus('dpkg', '7.88.1-10+deb12u12', '7.88.1-10+deb12u12'), 'up-to-date');
  t.equal(versionStatus('dpkg', '1:7.0', '7.88.1-10'), 'ahead');
  t.equal(versionStatus('dpkg', null, '1.0'), 'missing');
  t.equal(versionStatus('dpkg', '1.0', undefined), 'unknown');
  t.equal(versionStatus('npm', 'garbage', '1.0.0'), 'unknown');
  t.equal(versionStatus('artifact', 'sha256:0123456789ab', 'r42'), 'outdated');
  t.equal(versionStatus('artifact', 'r42', 'r42'), 'up-to-date');
  t.same(sortNewestFirst('dpkg', ['1.0', null, '1.0~rc1', '2.0', 'bogus', '1:0.1']), ['1:0.1', '2.0', '1.0', '1.0~rc1', 'bogus', null]);
  t.same(sortNewestFirst('artifact', ['r2', null, 'r1']), ['r1', 'r2', null]);
});
