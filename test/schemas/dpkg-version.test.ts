import { spawnSync } from 'node:child_process';
import t from 'tap';
import { compareDebianVersions, DebianVersionError, parseDebianVersion } from '../../schemas/version-order.js';

/** Pairs chosen to hit every branch of dpkg's algorithm: epochs, "~", revisions, letters, zeros, symbols. */
const pairs: [string, string][] = [
  ['1.0', '1.0'],
  ['1.0', '1.1'],
  ['1.0', '1.0-0'],
  ['1.0-1', '1.0-2'],
  ['1.0-1', '1.0-10'],
  ['1.0-9', '1.0-10'],
  ['1.0', '0:1.0'],
  ['1:1.0', '2.0'],
  ['1:1.0', '1:1.0-1'],
  ['2:0.1', '1:9.9'],
  ['10:1', '9:1'],
  ['1.0~rc1', '1.0'],
  ['1.0~rc1', '1.0~rc2'],
  ['1.0~~', '1.0~'],
  ['1.0~~a', '1.0~~'],
  ['1.0~', '1.0'],
  ['1.0~rc1-1', '1.0-1'],
  ['1.0a', '1.0'],
  ['1.0a', '1.0b'],
  ['1.0a', '1.0A'],
  ['1.0+b1', '1.0'],
  ['1.0+b1', '1.0.1'],
  ['1.0.', '1.0'],
  ['1.0-1+deb12u1', '1.0-1'],
  ['1.0-1+deb12u1', '1.0-1+deb12u10'],
  ['1.0-1~bpo12+1', '1.0-1'],
  ['2.36.1-8+deb11u1', '2.36.1-8'],
  ['001', '1'],
  ['1.001', '1.1'],
  ['1.0010', '1.010'],
  ['0', '00'],
  ['1.2.3', '1.2.10'],
  ['1.2-3-4', '1.2-3-5'],
  ['1.2-3-4', '1.2-4'],
  ['1:2:3', '1:2:4'],
  ['1.0+dfsg', '1.0+dfsg1'],
  ['1.0.0', '1.0+0'],
  ['1.0+', '1.0.'],
  ['9', '10'],
  ['1a1', '1a01'],
  ['1ab', '1a'],
  ['7.88.1-10+deb12u5', '7.88.1-10+deb12u12'],
  ['1.22.1-9', '1.22.1-9~'],
  ['4294967296', '4294967295'],
  ['1.0-a', '1.0-A'],
  ['3.0-0ubuntu1', '3.0-0'],
];

function oracle(a: string, b: string): number {
  for (const [op, v] of [['lt', -1], ['eq', 0], ['gt', 1]] as const) {
    const r = spawnSync('dpkg', ['--compare-versions', a, op, b]);
    if (r.status === 0) return v;
  }
  throw new Error(`dpkg gave no answer for ${a} vs ${b}`);
}

const haveDpkg = spawnSync('dpkg', ['--version']).status === 0;

t.test('agrees with dpkg --compare-versions on a table of tricky cases', { skip: haveDpkg ? false : 'dpkg is not installed' }, async (t) => {
  for (const [a, b] of pairs) {
    const expected = oracle(a, b);
    t.equal(Math.sign(compareDebianVersions(a, b)), expected, `${a} vs ${b}`);
    t.equal(Math.sign(compareDebianVersions(b, a)), -expected, `${b} vs ${a}`);
  }
});

t.test('the table is not trivial: it has all three outcomes', { skip: haveDpkg ? false : 'dpkg is not installed' }, async (t) => {
  const outcomes = new Set(pairs.map(([a, b]) => oracle(a, b)));
  t.same([...outcomes].sort(), [-1, 0, 1]);
});

t.test('parses epoch, upstream and revision', async (t) => {
  t.same(parseDebianVersion('1:2.3-4'), { epoch: 1, upstream: '2.3', revision: '4' });
  t.same(parseDebianVersion('2.3'), { epoch: 0, upstream: '2.3', revision: '' });
  t.same(parseDebianVersion('1.2-3-4'), { epoch: 0, upstream: '1.2-3', revision: '4' });
  t.same(parseDebianVersion(' 1.0 '), { epoch: 0, upstream: '1.0', revision: '' });
});

t.test('refuses what dpkg refuses', async (t) => {
  const bad = ['', 'a:1.0', '1:', '1.0-', 'abc', '1.0 1', '1.0_1', '1.0-1_2', ':1.0', '1.0-1:2', '1:1.0$'];
  for (const v of bad) {
    t.throws(() => parseDebianVersion(v), DebianVersionError, JSON.stringify(v));
    if (haveDpkg && v.trim() !== '') {
      // dpkg's own parser rejects them too (exit 255 or 2 with an error on stderr for "eq").
      const r = spawnSync('dpkg', ['--compare-versions', v, 'eq', v], { encoding: 'utf8' });
      t.not(r.status === 0 && r.stderr === '', true, `dpkg also objects to ${JSON.stringify(v)}`);
    }
  }
});
