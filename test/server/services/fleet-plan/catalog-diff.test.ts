/** The fleet plan's catalog diff: create/modify/remove, attributes, file diffs, sensitive resources, bounds. */
import { createHash } from 'node:crypto';
import t from 'tap';
import type { Resource } from '../../../../schemas/resource.js';
import { changedAttributes, diffCatalogs, type CatalogSide } from '../../../../server/services/fleet-plan/catalog-diff.js';
import { changedResources } from '../../../../server/services/fleet-plan/fleet-plan-service.js';

/** A catalog side whose file resources carry `content` as a blob, the way the compiler makes them. */
function side(resources: (Record<string, unknown> & { content?: string })[]): CatalogSide {
  const blobs = new Map<string, Buffer>();
  const out = resources.map(({ content, ...r }) => {
    if (content === undefined) return r as unknown as Resource;
    const data = Buffer.from(content, 'utf8');
    const ref = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    blobs.set(ref, data);
    return { ...r, source: ref } as unknown as Resource;
  });
  return { catalog: { resources: out }, blobs };
}

t.test('create, modify and remove, keyed as reports name resources', async (t) => {
  const base = side([
    { type: 'file', path: '/etc/motd', content: 'hello\n', mode: '0644' },
    { type: 'package', name: 'nginx', ensure: 'present' },
    { type: 'service', name: 'old', ensure: 'running' },
    { type: 'directory', path: '/srv', mode: '0755' },
  ]);
  const target = side([
    { type: 'file', path: '/etc/motd', content: 'bonjour\n', mode: '0600' },
    { type: 'package', name: 'nginx', ensure: 'present' },
    { type: 'directory', path: '/srv', mode: '0755' },
    { type: 'user', name: 'app', ensure: 'present' },
  ]);
  const changes = diffCatalogs(base, target);
  t.same(
    changes.map((c) => [c.resource, c.action]),
    [
      ['file:/etc/motd', 'modify'],
      ['user:app', 'create'],
      ['service:old', 'remove'],
    ],
  );
  const motd = changes[0]!;
  t.same(motd.attributes, ['content', 'mode'], 'the blob reference is reported as content');
  t.match(motd.diff, /^-hello$/m);
  t.match(motd.diff, /^\+bonjour$/m);
  t.match(motd.diff, /--- \/etc\/motd/);
  t.notOk(motd.sensitive);
  t.same(diffCatalogs(base, base), [], 'a catalog equals itself');
});

t.test('a created file shows its whole content; a removed one shows none', async (t) => {
  const changes = diffCatalogs(side([{ type: 'file', path: '/gone', content: 'x\n' }]), side([{ type: 'file', path: '/new', content: 'line1\nline2\n' }]));
  t.equal(changes[0]!.action, 'create');
  t.match(changes[0]!.diff, /--- \/dev\/null/);
  t.match(changes[0]!.diff, /^\+line2$/m);
  t.equal(changes[1]!.action, 'remove');
  t.equal(changes[1]!.diff, undefined);
  t.same(diffCatalogs(undefined, side([{ type: 'package', name: 'curl' }])), [{ resource: 'package:curl', action: 'create' }], 'no base: everything is new');
});

t.test('attributes that differ: added, removed and changed properties; metadata only', async (t) => {
  const a = { type: 'file', path: '/a', mode: '0644', owner: 'root' } as unknown as Resource;
  const b = { type: 'file', path: '/a', mode: '0644', group: 'adm', ensure: 'present' } as unknown as Resource;
  t.same(changedAttributes(a, b), ['ensure', 'group', 'owner']);
  const changes = diffCatalogs(side([a as never]), side([b as never]));
  t.equal(changes[0]!.diff, undefined, 'no content on either side: no diff');
  t.same(changedAttributes({ type: 'exec', command: 'x', require: ['a', 'b'] } as never, { type: 'exec', command: 'x', require: ['a', 'b'] } as never), [], 'arrays compared by value');
});

t.test('sensitive resources are never diffed, whichever side is marked', async (t) => {
  const secret = 'password=hunter2\n';
  const base = side([{ type: 'file', path: '/etc/app.conf', content: 'password=old\n', sensitive: true }, { type: 'file', path: '/etc/b', content: 'b\n' }]);
  const target = side([{ type: 'file', path: '/etc/app.conf', content: secret, sensitive: true }, { type: 'file', path: '/etc/b', content: 'c\n', sensitive: ['content'] }, { type: 'file', path: '/etc/new-secret', content: secret, sensitive: true }]);
  const changes = diffCatalogs(base, target);
  t.same(
    changes.map((c) => [c.resource, c.action, c.sensitive, c.diff]),
    [
      ['file:/etc/app.conf', 'modify', true, undefined],
      ['file:/etc/b', 'modify', true, undefined],
      ['file:/etc/new-secret', 'create', true, undefined],
    ],
  );
  t.same(changes[0]!.attributes, ['content']);
  t.notMatch(JSON.stringify(changes), /hunter2|old/, 'no secret content anywhere in the plan');
  // Only the marked side: the unmarked side must not leak what the secret replaced either.
  const half = diffCatalogs(side([{ type: 'file', path: '/x', content: 'plain\n' }]), side([{ type: 'file', path: '/x', content: secret, sensitive: true }]));
  t.equal(half[0]!.sensitive, true);
  t.equal(half[0]!.diff, undefined);
});

t.test('bounds: 64 KiB per file, binary and huge content, the plan budget', async (t) => {
  const big = (n: number, c: string): string => Array.from({ length: n }, (_, i) => `${c}${i} ${'x'.repeat(60)}`).join('\n');
  const changes = diffCatalogs(side([{ type: 'file', path: '/big', content: big(100, 'a') }]), side([{ type: 'file', path: '/big', content: `${big(100, 'a')}\n${big(1500, 'b')}` }]));
  const diff = changes[0]!.diff!;
  t.ok(Buffer.byteLength(diff) <= 64 * 1024, `cut to 64 KiB (${Buffer.byteLength(diff)})`);
  t.match(diff, /diff truncated at 64 KiB/);
  const bin = diffCatalogs(side([{ type: 'file', path: '/bin', content: 'a\u0000b' }]), side([{ type: 'file', path: '/bin', content: 'a\u0000c' }]));
  t.same(bin[0]!.attributes, ['content']);
  t.equal(bin[0]!.diff, undefined, 'binary content: no diff');
  const budget = { left: 100 };
  const two = diffCatalogs(side([{ type: 'file', path: '/1', content: 'a\n' }, { type: 'file', path: '/2', content: 'a\n' }]), side([{ type: 'file', path: '/1', content: 'b\n' }, { type: 'file', path: '/2', content: 'b\n' }]), { budget });
  t.ok(two[0]!.diff, 'the first diff fits the budget');
  t.equal(two[1]!.diff, undefined, 'the budget is spent: no more diffs');
  t.ok(budget.left <= 0);
});

t.test('changedResources: what a run changed, not routine changes or refreshes alone', async (t) => {
  const status = (id: string, state: string, changes: object[], extra: object = {}) => ({ id, type: id.split(':')[0]!, state, changes, durationMs: 1, ...extra });
  const report = {
    resources: [
      status('file:/a', 'changed', [{ property: 'content', corrective: false }]),
      status('file:/b', 'in-sync', []),
      status('exec:run', 'changed', [{ property: 'ran', corrective: false, routine: true }]),
      status('service:web', 'changed', [], { refreshed: true }),
      status('file:/c', 'would-change', [{ property: 'mode', corrective: true }]),
      status('file:/d', 'failed', [{ property: 'content', corrective: false }]),
    ],
  };
  t.same(changedResources(report as never), ['file:/a', 'file:/c']);
});
