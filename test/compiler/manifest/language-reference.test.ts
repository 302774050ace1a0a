/**
 * docs/manifest-language.md is generated from the schemas; this test fails when it is stale.
 * Regenerate: STEAD_UPDATE_DOCS=1 npx tap test/compiler/manifest/language-reference.test.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { describeType, renderLanguageReference } from '../../../compiler/manifest/language-reference.js';
import { resourceSchemas, resourceTypes } from '../../../schemas/index.js';

const docPath = fileURLToPath(new URL('../../../docs/manifest-language.md', import.meta.url));

t.test('docs/manifest-language.md is up to date with the schemas', async (t) => {
  const generated = renderLanguageReference();
  if (process.env['STEAD_UPDATE_DOCS'] === '1') writeFileSync(docPath, generated);
  let current = '';
  try {
    current = readFileSync(docPath, 'utf8');
  } catch {
    // missing: reported by the comparison below
  }
  t.ok(current === generated, 'docs/manifest-language.md is stale: run STEAD_UPDATE_DOCS=1 npx tap --disable-coverage test/compiler/manifest/language-reference.test.ts');
});

t.test('every property of every type is documented with its description', async (t) => {
  const doc = renderLanguageReference();
  for (const type of resourceTypes) {
    t.match(doc, `### ${type}`);
    for (const [name, prop] of Object.entries(resourceSchemas[type].properties as Record<string, { description?: string }>)) {
      t.ok(prop.description, `${type}.${name} has a description`);
      t.match(doc, `\`${name}\``, `${type}.${name} appears`);
    }
  }
});

t.test('types are described for people', async (t) => {
  t.equal(describeType({ enum: ['present', 'absent'] }), '`present` \\| `absent`');
  t.equal(describeType({ type: 'array', items: { type: 'string' } }), 'list of string');
  t.equal(describeType({ type: 'integer', minimum: 0, maximum: 10 }), 'integer 0–10');
  t.equal(describeType({ type: 'object', additionalProperties: { type: 'string' } }), 'map of string');
  t.equal(describeType({ anyOf: [{ type: 'boolean' }, { type: 'array', items: { type: 'string' } }] }), 'boolean or list of string');
});
