/** Deep merge, key paths, flattening and prototype-pollution hygiene of variables. */
import t from 'tap';
import { parse } from 'yaml';
import { cloneVars, deepMerge, findForbiddenKeys, ForbiddenKeyError, getPath, isVarMap } from '../../../compiler/vars/merge.js';
import { flattenVars } from '../../../compiler/vars/flatten.js';
import { formatKeyPath, parseKeyPath } from '../../../compiler/vars/key-path.js';
import { parseYamlFile } from '../../../compiler/repo/yaml-file.js';

t.test('maps merge deeply; lists and scalars replace; inputs are not mutated', async (t) => {
  const base = { a: { b: 1, c: { d: [1, 2], e: 'x' } }, l: [1, 2, 3], s: 'low' };
  const over = { a: { c: { d: [9], f: true } }, l: [4], s: 'high', n: null };
  const before = JSON.stringify(base);
  const m = deepMerge(base, over);
  t.same(m, { a: { b: 1, c: { d: [9], e: 'x', f: true } }, l: [4], s: 'high', n: null });
  t.equal(JSON.stringify(base), before, 'base untouched');
  t.same(deepMerge({ a: { b: 1 } }, { a: 'scalar' }), { a: 'scalar' }, 'a scalar replaces a map');
  t.same(deepMerge({ a: 'scalar' }, { a: { b: 1 } }), { a: { b: 1 } }, 'a map replaces a scalar');
  t.same(deepMerge({ a: [1] }, { a: { x: 1 } }), { a: { x: 1 } });
});

t.test('a naive merge of YAML with __proto__ pollutes; ours refuses and pollutes nothing', async (t) => {
  const evil = parse('__proto__:\n  isAdmin: true\nnested:\n  constructor:\n    prototype:\n      polluted: yes\n') as Record<string, unknown>;
  t.ok(Object.hasOwn(evil, '__proto__'), 'yaml keeps __proto__ as an own key');
  t.throws(() => deepMerge({}, evil), ForbiddenKeyError);
  t.throws(() => deepMerge({ nested: {} }, { nested: { constructor: { x: 1 } } }), { code: 'VAR_FORBIDDEN_KEY' });
  t.equal(({} as Record<string, unknown>)['isAdmin'], undefined);
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
  t.same(findForbiddenKeys(evil).map((p) => p.join('.')), ['__proto__', 'nested.constructor']);
  // Our own YAML converter keeps such keys inert (own data properties), for the loader to report.
  const yf = parseYamlFile('x.yaml', '__proto__:\n  isAdmin: true\n');
  const v = yf.value as Record<string, unknown>;
  t.equal(Object.getPrototypeOf(v), Object.prototype, 'prototype unchanged');
  t.ok(Object.hasOwn(v, '__proto__'));
  t.equal(({} as Record<string, unknown>)['isAdmin'], undefined);
});

t.test('getPath reads own properties only', async (t) => {
  const v = { a: { b: [10, 20] } };
  t.same(getPath(v, ['a', 'b', 1]), { found: true, value: 20 });
  t.same(getPath(v, ['a', 'toString']), { found: false, value: undefined });
  t.same(getPath(v, ['a', 'b', 5]), { found: false, value: undefined });
  t.same(getPath(v, []), { found: true, value: v });
});

t.test('key paths: dots, quoted segments, list indexes; parse is the inverse of format', async (t) => {
  const cases: [Array<string | number>, string][] = [
    [['region', 'mongodb', 'hosts'], 'region.mongodb.hosts'],
    [['servers', 'db1.example.com', 'port'], 'servers["db1.example.com"].port'],
    [['list', 0, 'name'], 'list[0].name'],
    [['has space'], '["has space"]'],
    [['with-dash_ok'], 'with-dash_ok'],
  ];
  for (const [segs, text] of cases) {
    t.equal(formatKeyPath(segs), text);
    t.same(parseKeyPath(text), segs);
  }
  for (const bad of ['', 'a..b', 'a.', '.a', 'a[', 'a["x]', 'a[x]']) t.equal(parseKeyPath(bad), undefined, `refused: ${bad}`);
});

t.test('flattened key table: one row per leaf, lists as values, sorted', async (t) => {
  const rows = flattenVars({ region: { mongodb: { hosts: ['172.27.117.201', '172.27.117.202'], port: 27017 } }, empty: {}, 'a.b': { c: 1 } });
  t.same(
    rows.map((r) => [r.key, r.value]),
    [
      ['["a.b"].c', 1],
      ['empty', {}],
      ['region.mongodb.hosts', ['172.27.117.201', '172.27.117.202']],
      ['region.mongodb.port', 27017],
    ],
  );
});

t.test('cloneVars copies maps and lists deeply', async (t) => {
  const v = { a: { l: [1, { x: 2 }] } };
  const c = cloneVars(v);
  t.same(c, v);
  (c.a.l as unknown[]).push(3);
  t.equal(v.a.l.length, 2);
  t.ok(isVarMap(c.a));
});
