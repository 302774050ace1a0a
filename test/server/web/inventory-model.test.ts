/**
 * The inventory and software pages' pure parts: the multipart reader of the upload form (bounds,
 * malformed bodies), the import stash (owner, expiry, size bounds, taken once), the record
 * compared field by field, what ran on a host, fleet chart bars and uptimes; and the views
 * rendered straight from schema-typed data with hostile strings.
 */
import t from 'tap';
import { ApiError } from '../../../server/domain/errors.js';
import { multipartBoundary, parseMultipart } from '../../../server/web/inventory/multipart.js';
import { ImportStash } from '../../../server/web/inventory/import-stash.js';
import { fieldRows, hostPageModel, ranOn } from '../../../server/web/inventory/inventory-model.js';
import { inventoryHostView } from '../../../server/web/inventory/inventory-views.js';
import { packageSummaries, uptimeText, versionBars } from '../../../server/web/software/software-model.js';
import { servicesView } from '../../../server/web/software/software-views.js';
import type { InventoryHostDetail } from '../../../schemas/api/inventory.js';

t.test('multipart: fields and files, bounded, malformed refused', async (t) => {
  t.equal(multipartBoundary('multipart/form-data; boundary=abc'), 'abc');
  t.equal(multipartBoundary('multipart/form-data; charset=utf-8; boundary="a b"'), 'a b');
  t.equal(multipartBoundary('application/x-www-form-urlencoded'), undefined);
  t.equal(multipartBoundary('multipart/form-data'), undefined);
  const body = Buffer.from('--xx\r\nContent-Disposition: form-data; name="format"\r\n\r\ncsv\r\n--xx\r\nContent-Disposition: form-data; name="file"; filename="a \\"b\\".csv"\r\nContent-Type: text/csv\r\n\r\nh\r\n--x\r\n\r\n--xx--\r\n');
  const parts = parseMultipart(body, 'xx');
  t.same(parts.map((p) => [p.name, p.filename, p.data.toString()]), [['format', undefined, 'csv'], ['file', 'a "b".csv', 'h\r\n--x\r\n']], 'a file may hold CRLF and a near-boundary');
  const throwsBad = (b: string, what: string, max?: number): void => {
    let caught: unknown;
    try {
      parseMultipart(Buffer.from(b), 'xx', max);
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof ApiError && caught.status === 400, what);
  };
  throwsBad('nothing here', 'no boundary');
  throwsBad('--xx\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated', 'a part without its end');
  throwsBad('--xx\r\nX: y\r\n\r\nv\r\n--xx--', 'a part without a name');
  throwsBad(`--xx\r\nContent-Disposition: form-data; name="a"${'x'.repeat(9000)}\r\n\r\nv\r\n--xx--`, 'headers beyond 8 KiB');
  throwsBad('--xx\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xx\r\nContent-Disposition: form-data; name="b"\r\n\r\n2\r\n--xx--', 'more parts than allowed', 1);
});

t.test('import stash: owner, expiry, bounds, taken once', async (t) => {
  let now = 0;
  const s = new ImportStash(() => now, { maxEntries: 2, maxBytes: 10, ttlMs: 1000 });
  const a = s.put({ owner: 'ann', body: Buffer.from('1234'), format: 'csv', mode: 'merge' });
  t.match(a, /^[0-9a-f]{32}$/);
  t.equal(s.take(a, 'bob'), undefined, 'another operator cannot apply it');
  t.equal(s.take(a, 'ann')?.body.toString(), '1234');
  t.equal(s.take(a, 'ann'), undefined, 'taken once');
  const b = s.put({ owner: 'ann', body: Buffer.from('12345678'), format: 'csv', mode: 'merge' });
  const c = s.put({ owner: 'ann', body: Buffer.from('123'), format: 'json', mode: 'replace' });
  t.equal(s.size, 1, 'beyond the byte bound the oldest goes');
  t.equal(s.take(b, 'ann'), undefined);
  now = 2000;
  t.equal(s.take(c, 'ann'), undefined, 'expired');
  for (let i = 0; i < 5; i++) s.put({ owner: 'ann', body: Buffer.from('1'), format: 'csv', mode: 'merge' });
  t.equal(s.size, 2, 'at most maxEntries');
});

const detail = (over: Partial<InventoryHostDetail> = {}): InventoryHostDetail => ({
  host: 'h1',
  source: 'both',
  effective: { hostname: 'h1', ips: ['10.0.0.1', '10.0.0.2'], idc: 'sz', tags: ['a', 'b'], attributes: { owner: 'x', rack_u: 4 }, lifecycle: 'faulty' },
  stored: { hostname: 'h1', ips: ['10.0.0.1', '10.0.0.2'], idc: 'sz', tags: ['b'], attributes: { owner: 'x' }, lifecycle: 'faulty' },
  repository: { ip: '10.0.0.1', idc: 'gz', tags: ['a'], attributes: { rack_u: 4 }, env: 'prod' },
  mismatches: [
    { field: 'ip', recorded: '10.0.0.2', reported: '10.0.0.7', message: 'm1' },
    { field: 'kind', recorded: 'physical', reported: 'kvm guest', message: 'm2' },
  ],
  groups: [],
  lifecycleHistory: [],
  children: ['vm-a', 'vm-b'],
  virtuals: [{ kind: 'vm', name: 'vm-a', source: 'libvirt', host: 'vm-a', state: 'running' }, { kind: 'container', name: 'redis', source: 'docker' }],
  ...over,
});

t.test('the record compared field by field; what ran on a host', async (t) => {
  const rows = new Map(fieldRows(detail()).map((r) => [r.field, r]));
  t.match(rows.get('ips'), { effective: '10.0.0.1, 10.0.0.2', stored: '10.0.0.1, 10.0.0.2', repository: '10.0.0.1', from: 'both', reported: '10.0.0.7', mismatch: 'm1' }, 'the repository\'s ip counts as its address list');
  t.match(rows.get('idc'), { effective: 'sz', stored: 'sz', repository: 'gz', from: 'both' });
  t.match(rows.get('kind'), { effective: '', from: '', reported: 'kvm guest' }, 'a mismatch shows even on an unset field');
  t.match(rows.get('attr.owner'), { stored: 'x', repository: '', from: 'store' });
  t.match(rows.get('attr.rack_u'), { effective: '4', repository: '4', from: 'repository' });
  t.match(rows.get('env'), { repository: 'prod', from: 'repository' }, 'repository-only fields');
  t.notOk(rows.has('ip'), 'ip is folded into ips');
  t.notOk(rows.has('hostname'), 'no hostname row without a hostname mismatch');
  t.same(ranOn(detail()).map((r) => `${r.kind}:${r.name}`), ['vm:vm-a', 'container:redis', 'child:vm-b'], 'virtuals, then children not already listed');
  const m = hostPageModel(detail({ facts: { a: { b: 1 } } }));
  t.equal(m.faulty, true);
  t.same(m.facts, [{ key: 'a.b', value: '1' }]);
  t.equal(m.packages, undefined, 'no software part without the software port');
  const html = inventoryHostView({ m: hostPageModel(detail({ host: 'h1', groups: [{ group: 'g', source: 'inventory', why: '<script>x</script>' }] })), states: [], canWrite: false });
  t.notMatch(html, /<script>x/);
  t.match(html, /&lt;script&gt;x&lt;\/script&gt;/);
  t.notMatch(html, /id="lifecycle"/, 'no change form without write');
});

t.test('fleet chart bars, package summaries, uptimes', async (t) => {
  t.same(versionBars(undefined), []);
  t.same(
    versionBars({ name: 'p', manager: 'dpkg', counts: [{ version: '2', hosts: 3, status: 'up-to-date' }, { version: null, hosts: 1, status: 'missing' }] }).map((b) => [b.version, b.width, b.installed]),
    [['2', 100, true], ['not installed', 33.3, false]],
  );
  const s = packageSummaries({ packages: [], tracked: [{ name: 'b', manager: 'npm', approved: '1.0.0' }], versions: [{ name: 'a', manager: 'dpkg', approved: '2', counts: [{ version: '1', hosts: 2, status: 'outdated' }, { version: '2', hosts: 1, status: 'up-to-date' }] }] });
  t.same(s.map((p) => [p.name, p.hosts, p.upToDate, p.behind, p.approved]), [['a', 3, 1, 2, '2'], ['b', 0, 0, 0, '1.0.0']], 'a package only the fleet view names is listed too');
  t.same([uptimeText(null), uptimeText(40), uptimeText(720), uptimeText(3 * 3600 + 120), uptimeText(2 * 86400 + 7200), uptimeText(-1)], ['', '40s', '12m', '3h 2m', '2d 2h', '']);
  const html = servicesView({ rows: [{ host: 'h1', name: 'n"x', state: 'running', uptime: '', drift: true }], tracked: [], canWrite: true, name: '', host: '' });
  t.match(html, /data-service="n&quot;x"/, 'names escaped in attributes');
  t.match(html, /data-drift/);
});
