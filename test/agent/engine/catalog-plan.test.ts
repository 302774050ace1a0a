import t from 'tap';
import type { Resource } from '../../../schemas/index.js';
import { planCatalog, desiredDigest } from '../../../agent/engine/catalog-plan.js';
import { fsRegistry, makeCatalog } from '../../helpers/engine-fixtures.js';

const good: Resource[] = [
  { type: 'directory', path: '/d' },
  { type: 'file', path: '/d/f', source: `sha256:${'a'.repeat(64)}`, tags: ['x'] },
];

t.test('a catalog is planned once per id; a new id is validated in full', async (t) => {
  const c = makeCatalog(good);
  const p1 = planCatalog(c.id, c.resources, fsRegistry);
  if (!('plan' in p1)) throw new Error('expected a plan');
  t.same(p1.plan.ids, ['directory:/d', 'file:/d/f']);
  t.same([...p1.plan.catalogPaths], ['/d', '/d/f']);
  t.equal(p1.plan.digests[1], desiredDigest(good[1]!));
  t.not(p1.plan.digests[1], desiredDigest({ ...good[1]!, source: `sha256:${'b'.repeat(64)}` } as Resource), 'the digest covers the desired state');
  t.equal(desiredDigest(good[1]!), desiredDigest({ ...good[1]!, tags: ['y'] } as Resource), 'metaparameters are left out');

  const again = planCatalog(c.id, JSON.parse(JSON.stringify(c.resources)) as unknown[], fsRegistry);
  t.equal('plan' in again && again.plan, p1.plan, 'the same id (a re-parsed catalog) gets the same plan back');

  const bad = makeCatalog([{ type: 'file', path: 'relative', source: 'nope' } as unknown as Resource]);
  const p2 = planCatalog(bad.id, bad.resources, fsRegistry);
  t.ok('error' in p2 && p2.error.startsWith('INVALID: '), 'a new id is validated');
  const p3 = planCatalog(bad.id, bad.resources, fsRegistry);
  t.ok('error' in p3, 'an invalid catalog is never cached as planned');
});

t.test('without a well-formed id nothing is trusted', async (t) => {
  const p1 = planCatalog('not-an-id', good, fsRegistry);
  t.ok('plan' in p1);
  const p2 = planCatalog('not-an-id', [{ type: 'file', path: '/x', source: 'nope' }], fsRegistry);
  t.ok('error' in p2, 'the same malformed id is validated every time');
  const cycle: Resource[] = [
    { type: 'directory', path: '/a', require: ['directory:/b'] },
    { type: 'directory', path: '/b', require: ['directory:/a'] },
  ];
  const p3 = planCatalog(undefined, cycle, fsRegistry);
  t.ok('error' in p3 && /cycle/i.test(p3.error), 'graph problems are reported');
});
