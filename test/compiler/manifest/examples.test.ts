/**
 * Every manifest in manifests/examples/ is valid and compiles to a valid catalog with the real
 * Jinja2 renderer (templates/ and files/ beside them). The sandbox-safe ones are also applied
 * for real: see test/cli/examples.test.ts.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadApplyInput } from '../../../compiler/catalog/index.js';
import { loadManifestFile } from '../../../compiler/manifest/index.js';
import { catalogSchema, compileGuard, resourceSchemas, resourceTypes, type Catalog, type Guard } from '../../../schemas/index.js';

const examples = fileURLToPath(new URL('../../../manifests/examples/', import.meta.url));
const files = readdirSync(examples).filter((f) => f.endsWith('.yaml')).sort();
const isCatalog: Guard<Catalog> = compileGuard(catalogSchema);

t.ok(files.length >= resourceTypes.length + 1, 'one example per type plus a web server');

for (const f of files) {
  t.test(f, async (t) => {
    const parsed = await loadManifestFile(join(examples, f));
    t.same(parsed.problems.filter((p) => p.severity === 'error'), [], 'no errors');
    t.same(parsed.problems, [], 'no warnings either');
    const input = await loadApplyInput(join(examples, f), { host: 'example-1' });
    t.same(input.problems, []);
    t.ok(input.catalog && isCatalog.is(input.catalog), 'a valid catalog');
    for (const r of input.catalog?.resources ?? []) t.same(compileGuard(resourceSchemas[r.type]).check(r), [], `${r.type} valid`);
  });
}

t.test('every resource type has an example', async (t) => {
  const seen = new Set<string>();
  for (const f of files) {
    const parsed = await loadManifestFile(join(examples, f));
    for (const r of parsed.manifest?.resources ?? []) seen.add(r.type);
  }
  t.same([...seen].sort(), [...resourceTypes].sort());
});
