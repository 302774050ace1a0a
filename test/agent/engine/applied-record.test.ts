import t from 'tap';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppliedRecord, canonicalJson, digest } from '../../../agent/engine/applied-record.js';
import { createStateHost } from '../../../agent/host/node-host.js';

t.test('canonical JSON sorts keys and drops undefined', async (t) => {
  t.equal(canonicalJson({ b: 1, a: [{ d: undefined, c: 'x' }] }), '{"a":[{"c":"x"}],"b":1}');
  t.equal(digest({ a: 1, b: 2 }), digest({ b: 2, a: 1 }));
  t.not(digest(undefined), digest(null));
});

t.test('corrective rules, persistence, and no secrets at rest', async (t) => {
  const dir = t.testdir();
  const state = await createStateHost(join(dir, 'state'));
  const problems: string[] = [];
  const r1 = await AppliedRecord.load(state, (m) => problems.push(m));
  t.equal(r1.isCorrective('file:/a', 'D1', 'content', 'x'), false, 'nothing recorded: intentional');
  r1.converged('file:/a', 'D1', [{ property: 'content', after: 'secret-value-123' }]);
  r1.converged('file:/b', 'D1', []);
  await r1.save();
  const text = readFileSync(join(dir, 'state/applied.json'), 'utf8');
  t.notOk(text.includes('secret-value-123'), 'values are stored as digests');
  t.equal(statSync(join(dir, 'state/applied.json')).mode & 0o777, 0o600);

  const r2 = await AppliedRecord.load(state, (m) => problems.push(m));
  t.equal(r2.isCorrective('file:/a', 'D2', 'content', 'secret-value-123'), false, 'before equals the last applied value: intentional');
  t.equal(r2.isCorrective('file:/a', 'D2', 'content', 'edited'), true, 'before differs from the last applied value: drift');
  t.equal(r2.isCorrective('file:/b', 'D1', 'mode', '0600'), true, 'same desired state as when it converged: drift');
  t.equal(r2.isCorrective('file:/b', 'D2', 'mode', '0600'), false, 'a new desired state: intentional');
  t.equal(r2.isCorrective('file:/c', 'D1', 'mode', '0600'), false, 'unknown resource: intentional');
  r2.keep('file:/a');
  await r2.save();
  const r3 = await AppliedRecord.load(state, () => undefined);
  t.equal(r3.isCorrective('file:/b', 'D1', 'mode', '0600'), false, 'a resource gone from the catalog is forgotten');
  t.equal(r3.isCorrective('file:/a', 'D2', 'content', 'edited'), true, 'a kept (failed or skipped) resource keeps its record');

  writeFileSync(join(dir, 'state/applied.json'), '{ torn');
  const r4 = await AppliedRecord.load(state, (m) => problems.push(m));
  t.equal(r4.isCorrective('file:/a', 'D2', 'content', 'edited'), false);
  t.match(problems.join('\n'), /cannot read the record of applied values/);
});
