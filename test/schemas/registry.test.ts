import t from 'tap';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as schemas from '../../schemas/index.js';
import { resourceSchemas, resourceTypes, sensitiveByDefault } from '../../schemas/resource.js';

const dir = fileURLToPath(new URL('../../schemas/resources/', import.meta.url));

t.test('every resource schema file is registered', async (t) => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
  t.same([...resourceTypes].sort(), files);
});

type Json = { [k: string]: unknown };
function* objects(s: unknown, path: string): Generator<[string, Json]> {
  if (!s || typeof s !== 'object') return;
  const o = s as Json;
  if (o['type'] === 'object' || o['properties']) yield [path, o];
  for (const [k, v] of Object.entries(o)) if (v && typeof v === 'object') yield* objects(v, `${path}/${k}`);
}

const exported = Object.entries(schemas).filter(([k, v]) => k.endsWith('Schema') && v && typeof v === 'object' && '$id' in (v as object));

t.test('meta rules: $id, descriptions, closed objects', async (t) => {
  t.ok(exported.length >= 14, `found ${exported.length} schemas`);
  for (const [name, schema] of exported) {
    t.match((schema as Json)['$id'], /^urn:stead:/, `${name} has a stead $id`);
    for (const [path, obj] of objects(schema, name)) {
      const props = obj['properties'] as Record<string, Json> | undefined;
      if (!props) continue;
      for (const [p, def] of Object.entries(props)) t.type(def['description'], 'string', `${path}.${p} has a description`);
      // Resource entries inside manifest/catalog arrays are open here on purpose: each is checked against its own type schema.
      if (obj['required'] && (obj['required'] as string[]).length === 1 && (obj['required'] as string[])[0] === 'type') continue;
      t.equal(obj['additionalProperties'] !== undefined, true, `${path} declares additionalProperties`);
    }
  }
});

t.test('resource schemas compile and carry their type constant', async (t) => {
  for (const type of resourceTypes) {
    const guard = schemas.compileGuard(resourceSchemas[type]);
    t.equal(guard.is({ type }), false, `${type} requires more than its type`);
    t.equal(resourceSchemas[type].properties.type.const, type);
  }
  t.same(sensitiveByDefault('user'), ['password']);
  t.same(sensitiveByDefault('file'), []);
});
