import t from 'tap';
import { buildGraph } from '../../schemas/graph.js';
import type { Resource } from '../../schemas/resource.js';

const f = (path: string, extra: Partial<Record<'require' | 'before' | 'notify' | 'subscribe', string[]>> = {}): Resource =>
  ({ type: 'file', path, ...extra }) as Resource;

t.test('orders by require and before, keeping manifest order where free', async (t) => {
  const { graph, problems } = buildGraph([
    f('/c', { require: ['file:/b'] }),
    f('/a'),
    f('/b', { before: ['file:/a'] }),
  ]);
  t.same(problems, []);
  t.same(graph?.order, [2, 0, 1]);
  t.same(graph?.deps, [[2], [2], []]);
});

t.test('notify and subscribe add dependencies and refresh edges', async (t) => {
  const { graph } = buildGraph([
    { type: 'service', name: 'nginx' } as Resource,
    f('/etc/nginx.conf', { notify: ['service:nginx'] }),
    { type: 'exec', command: 'reload', subscribe: ['file:/etc/nginx.conf'] } as Resource,
  ]);
  t.same(graph?.order, [1, 0, 2]);
  t.same(graph?.refreshers, [[1], [], [1]]);
  t.same(graph?.ids, ['service:nginx', 'file:/etc/nginx.conf', 'exec:reload']);
});

t.test('reports unknown refs, bad refs and duplicates together', async (t) => {
  const { graph, problems } = buildGraph([f('/a', { require: ['file:/nope', 'nonsense'] }), f('/a')]);
  t.equal(graph, undefined);
  t.same(problems.map((p) => [p.index, p.code]).sort(), [[0, 'BAD_REF'], [0, 'UNKNOWN_REF'], [1, 'DUPLICATE_TITLE']].sort());
});

t.test('finds a cycle and names its members', async (t) => {
  const { graph, problems } = buildGraph([
    f('/a', { require: ['file:/c'] }),
    f('/b', { require: ['file:/a'] }),
    f('/c', { require: ['file:/b'] }),
    f('/free'),
  ]);
  t.equal(graph, undefined);
  t.equal(problems.length, 1);
  t.equal(problems[0]?.code, 'CYCLE');
  t.match(problems[0]?.message, /file:\/a/);
  t.match(problems[0]?.message, /file:\/b/);
  t.match(problems[0]?.message, /file:\/c/);
});

t.test('a self reference is a cycle', async (t) => {
  const { problems } = buildGraph([f('/a', { require: ['file:/a'] })]);
  t.equal(problems[0]?.code, 'CYCLE');
});

t.test('two independent cycles are both reported', async (t) => {
  const { problems } = buildGraph([
    f('/a', { require: ['file:/b'] }), f('/b', { require: ['file:/a'] }),
    f('/x', { notify: ['file:/y'] }), f('/y', { notify: ['file:/x'] }),
  ]);
  t.equal(problems.filter((p) => p.code === 'CYCLE').length, 2);
});
