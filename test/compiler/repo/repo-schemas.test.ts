/** The repository schemas follow the registry's meta rules and compile with the shared Ajv. */
import t from 'tap';
import * as repoSchemas from '../../../schemas/repo/index.js';
import { groupGuard, inventoryFileGuard, roleGuard, steadConfigGuard } from '../../../compiler/repo/repo-guards.js';

type Json = { [k: string]: unknown };
function* objects(s: unknown, path: string): Generator<[string, Json]> {
  if (!s || typeof s !== 'object') return;
  const o = s as Json;
  if (o['type'] === 'object' || o['properties']) yield [path, o];
  for (const [k, v] of Object.entries(o)) if (v && typeof v === 'object') yield* objects(v, `${path}/${k}`);
}

t.test('meta rules: $id, descriptions, closed objects; every schema listed in repoSchemas', async (t) => {
  const exported = Object.entries(repoSchemas).filter(([k, v]) => k.endsWith('Schema') && v && typeof v === 'object' && '$id' in (v as object));
  t.same(exported.map(([, v]) => (v as Json)['$id']).sort(), repoSchemas.repoSchemas.map((s) => s.$id).sort());
  for (const [name, schema] of exported) {
    t.match((schema as Json)['$id'], /^urn:stead:repo:/);
    for (const [path, obj] of objects(schema, name)) {
      const props = obj['properties'] as Record<string, Json> | undefined;
      if (!props) continue;
      for (const [p, def] of Object.entries(props)) t.type(def['description'], 'string', `${path}.${p} has a description`);
      if (obj['required'] && (obj['required'] as string[]).length === 1 && (obj['required'] as string[])[0] === 'type') continue;
      t.equal(obj['additionalProperties'] !== undefined, true, `${path} declares additionalProperties`);
    }
  }
});

t.test('guards accept good files and name the bad property', async (t) => {
  t.ok(steadConfigGuard.is({ stead: 1, name: 'x' }));
  t.same(steadConfigGuard.check({ stead: 2 }).map((p) => p.path), ['/stead']);
  t.ok(inventoryFileGuard.is({ hosts: { 'web-1': { idc: 'sh', tags: ['a'] }, 'db-1': {} } }));
  t.same(inventoryFileGuard.check({ hosts: { 'web-1': { idc: 'sh', colour: 'red' } } }).map((p) => p.path), ['/hosts/web-1/colour']);
  t.ok(inventoryFileGuard.check({ hosts: { '../evil': {} } }).length > 0, 'host names are checked');
  t.ok(groupGuard.is({ kind: 'custom', match: [{ tags: 'web', 'attributes.rack': { regex: '^r' }, facts: { 'os.family': ['debian'] } }] }));
  t.ok(groupGuard.check({ kind: 'custom', match: [{ colour: 'red' }] }).length > 0, 'unknown rule keys are refused');
  t.ok(groupGuard.check({ kind: 'custom', match: [{ idc: { in: [], regex: 'x' } }] }).length > 0);
  t.ok(roleGuard.is({ parameters: { port: { type: 'integer', default: 80 } }, resources: [{ type: 'package', name: 'x' }] }));
  t.ok(roleGuard.check({ parameters: { Port: {} } }).length > 0, 'parameter names are identifiers');
});
