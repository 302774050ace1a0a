import t from 'tap';
import * as api from '../../../schemas/api/index.js';
import { compileGuard } from '../../../schemas/validate.js';

// Every schema of schemas/api compiles on the shared (strict) Ajv instance, so a response can be
// checked against it; embedded sub-schemas carry no $id, so none clashes with its top-level form.
const exported = Object.entries(api).filter(([k, v]) => k.endsWith('Schema') && v && typeof v === 'object' && '$id' in v);

t.test('every API schema compiles', async (t) => {
  t.ok(exported.length >= 20, `found ${exported.length} schemas`);
  for (const [name, schema] of exported) t.doesNotThrow(() => compileGuard(schema as object & { $id: string }), `${name} compiles`);
});

t.test('response schemas accept real shapes and refuse unknown properties', async (t) => {
  const error = compileGuard(api.errorBodySchema);
  t.ok(error.is({ error: { code: 'SCHEMA_INVALID', message: 'bad', requestId: 'r1', details: { problems: [] } } }));
  t.notOk(error.is({ error: { code: 'X', message: 'bad', requestId: 'r1', extra: 1 } }));
  const counts = { 'in-sync': 1, drifted: 0, failing: 0, 'not-reporting': 0, unknown: 0 };
  const summary = compileGuard(api.complianceSummarySchema);
  const bucket = { scope: 'fleet', total: 1, counts, percent: 100 };
  t.same(summary.check({ at: '2026-01-01T00:00:00.000Z', fleet: bucket, groups: [{ ...bucket, scope: 'group:web' }], resources: [] }), []);
  t.notOk(summary.is({ at: '2026-01-01T00:00:00.000Z', fleet: { ...bucket, counts: { ...counts, bogus: 1 } }, groups: [], resources: [] }));
  const hosts = compileGuard(api.hostListSchema);
  t.ok(hosts.is({ hosts: [{ host: 'web-1', inInventory: true, compliance: 'in-sync', lastRun: { runId: 'r', at: '2026-01-01T00:00:00.000Z', outcome: 'ok', mode: 'enforce', corrective: 0, failed: 0, changed: 0 } }] }));
  t.notOk(hosts.is({ hosts: [{ host: 'web/1', inInventory: true, compliance: 'in-sync' }] }), 'host names are checked inside lists');
  const problem = compileGuard(api.revisionProblemSchema);
  t.ok(problem.is({ code: 'YAML_SYNTAX', severity: 'error', file: 'roles/a.yaml', line: 3, column: 1, path: '', message: 'bad' }));
});
