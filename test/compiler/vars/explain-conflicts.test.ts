/** Layer precedence, explain and conflict detection on hand-built layers. */
import t from 'tap';
import { explainKey } from '../../../compiler/vars/explain.js';
import { findConflicts } from '../../../compiler/vars/conflicts.js';
import { mergeLayers } from '../../../compiler/vars/merge-layers.js';
import { SecretValue } from '../../../compiler/vars/secret-value.js';
import type { VarLayer } from '../../../compiler/vars/var-layer.js';

const layer = (id: string, kind: VarLayer['kind'], priority: number, vars: Record<string, unknown>): VarLayer => ({ id, kind, priority, vars, file: `${id}.yaml`, locate: (p) => ({ line: p.length, column: 1 }) });

t.test('precedence: role < global < idc < set < custom by priority < host < launch, whatever the input order', async (t) => {
  const layers = [
    layer('launch', 'launch', 0, { k: 'launch' }),
    layer('host', 'host', 0, { k: 'host', h: 1 }),
    layer('c20', 'custom', 20, { k: 'c20' }),
    layer('c5', 'custom', 5, { k: 'c5', c: 5 }),
    layer('set', 'set', 0, { k: 'set' }),
    layer('idc', 'idc', 0, { k: 'idc' }),
    layer('global', 'global', 0, { k: 'global' }),
    layer('role', 'role', 0, { k: 'role' }),
  ];
  t.equal(mergeLayers(layers)['k'], 'launch');
  const ex = explainKey(layers, ['k']);
  t.equal(ex.winner?.layer, 'launch');
  t.same(ex.overridden.map((o) => o.layer), ['host', 'c20', 'c5', 'set', 'idc', 'global', 'role']);
  t.same(ex.overridden.map((o) => o.value), ['host', 'c20', 'c5', 'set', 'idc', 'global', 'role']);
  t.equal(explainKey(layers.slice(1), ['k']).winner?.layer, 'host');
  t.equal(explainKey(layers.slice(2), ['k']).winner?.layer, 'c20');
  t.same(explainKey(layers, ['missing']), { key: 'missing', found: false, value: undefined, overridden: [], merged: false });
});

t.test('explain of a map names every contributing layer and says it merged', async (t) => {
  const layers = [layer('global', 'global', 0, { region: { mongodb: { port: 27017, hosts: [] } } }), layer('idc', 'idc', 0, { region: { mongodb: { hosts: ['a'] } } })];
  const ex = explainKey(layers, ['region', 'mongodb']);
  t.ok(ex.merged);
  t.same(ex.value, { port: 27017, hosts: ['a'] });
  t.equal(ex.winner?.layer, 'idc');
  t.same(ex.winner?.position, { line: 2, column: 1 });
  const leaf = explainKey(layers, ['region', 'mongodb', 'hosts']);
  t.notOk(leaf.merged);
  t.same(leaf.overridden.map((o) => [o.layer, o.value]), [['global', []]]);
});

t.test('conflicts: same kind and priority, same key, different values', async (t) => {
  const a = layer('group:a', 'custom', 10, { x: 1, same: 'v', m: { k: 1 }, deep: { y: 1 } });
  const b = layer('group:b', 'custom', 10, { x: 2, same: 'v', m: { j: 2 }, deep: 'scalar' });
  const c = layer('group:c', 'custom', 11, { x: 3 });
  const d = layer('group:d', 'set', 10, { x: 4 });
  const found = findConflicts([c, b, d, a]);
  t.same(
    found.map((f) => [f.key, f.first.id, f.second.id]).sort(),
    [
      ['deep', 'group:a', 'group:b'],
      ['x', 'group:a', 'group:b'],
    ],
    'x and deep (a map against a scalar) conflict; equal values and disjoint map keys do not; other priorities and kinds never',
  );
  t.same(findConflicts([layer('i1', 'idc', 0, { r: 1 }), layer('i2', 'idc', 0, { r: 2 })]).map((f) => f.key), ['r']);
  const s1 = new SecretValue('v1:aaaa');
  t.same(findConflicts([layer('s1', 'custom', 0, { p: s1 }), layer('s2', 'custom', 0, { p: new SecretValue('v1:aaaa') })]), [], 'the same ciphertext is the same value');
  t.same(findConflicts([layer('h', 'host', 0, { x: 1 }), layer('l', 'launch', 0, { x: 2 })]), [], 'host and launch layers never conflict');
});
