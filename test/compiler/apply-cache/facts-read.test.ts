/**
 * factsRead (compiler/apply-cache/facts-read.ts): which facts a compile can read, from the text
 * of its templates and YAML. Only a static member access of a known top-level fact narrows the
 * set; every other use of the name, and YAML escapes that could spell it, count as all facts.
 */
import t from 'tap';
import { factsForKey, factsRead, type ScannedText } from '../../../compiler/apply-cache/facts-read.js';

const keys = new Set(['os', 'kernel', 'uptimeSeconds', 'memory']);
const tpl = (s: string): ScannedText => ({ data: Buffer.from(s), yaml: false });
const yml = (s: string): ScannedText => ({ data: Buffer.from(s), yaml: true });

t.test('no mention of facts: none is read', async (t) => {
  t.same(factsRead([tpl('hello {{ name }}'), yml('resources: []\n'), tpl('{{ myfacts }} {{ facts_x }}')], keys), { all: false, keys: new Set() });
});

t.test('static member access names the facts read', async (t) => {
  const r = factsRead([tpl('{{ facts.os.id }} {{ facts["kernel"] }}'), tpl("{% if facts [ 'os' ] %}x{% endif %}"), yml('content: "{{ facts . kernel.release }}"\n')], keys);
  t.same(r, { all: false, keys: new Set(['os', 'kernel']) });
  t.same(factsForKey({ os: { id: 'debian' }, kernel: 'k', uptimeSeconds: 5 }, r), { kernel: 'k', os: { id: 'debian' } }, 'uptime is not part of the key');
});

t.test('any other use counts as all facts', async (t) => {
  for (const text of [
    '{{ facts }}',
    '{{ facts | tojson }}',
    '{% for k, v in facts.items() %}{{ k }}{% endfor %}',
    '{{ facts.get("os") }}',
    '{{ facts[name] }}',
    "{{ facts['o' ~ 's'] }}",
    '{% set f = facts %}{{ f.os }}',
    '{# facts #}',
    '{{ facts.nosuchfact }}',
  ]) {
    t.same(factsRead([tpl(text)], keys), { all: true }, text);
  }
  t.same(factsRead([yml('groups:\n  match:\n    - facts: { os.id: debian }\n')], keys), { all: true }, 'a group rule on facts');
});

t.test('YAML escapes that can spell the name count as all facts', async (t) => {
  t.same(factsRead([yml('content: "{{ f\\x61cts }}"\n')], keys), { all: true }, '\\x escape');
  t.same(factsRead([yml('content: "{{ f\\u0061cts.os }}"\n')], keys), { all: true }, '\\u escape');
  t.same(factsRead([yml('content: "{{ fa\\\n  cts }}"\n')], keys), { all: true }, 'escaped line break');
  t.same(factsRead([yml('content: "{{ x\\tfacts }}"\n')], keys), { all: true }, 'an escape before the name is a word boundary');
  t.same(factsRead([yml('content: "a\\nb {{ name }}"\n')], keys), { all: false, keys: new Set() }, 'plain \\n escapes are harmless');
  t.same(factsRead([tpl('{{ x\\tfacts }}')], keys), { all: false, keys: new Set() }, 'templates are read as written');
});
