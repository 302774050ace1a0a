/**
 * The Jinja2 layer construct by construct: literals and Python printing, statements, whitespace
 * rules, filters, tests and Python methods, each compared with Python Jinja2's own output
 * (construct-cases.ts).
 */
import t from 'tap';
import { createRenderer } from '../../../compiler/jinja/renderer.js';
import { ansibleExtras, filters, literalsAndPrinting, methods, statements, tests, whitespace, type ConstructCase } from './construct-cases.js';
import { jinja2ReferenceCases } from './jinja2-reference-cases.js';

const groups: Record<string, ConstructCase[]> = { literalsAndPrinting, statements, whitespace, filters, tests, methods, ansibleExtras };

for (const [group, cases] of Object.entries(groups)) {
  t.test(group, async (t) => {
    const r = createRenderer({ searchPaths: [t.testdir({ 'inc.j2': '[{{ item }}{% if loop is defined %}!{% endif %}]' })] });
    for (const c of cases) {
      let out: string;
      try {
        out = r.renderString(c.src, c.vars ?? {}, `${c.name}.j2`);
      } catch (e) {
        out = `ERROR ${(e as Error).message}`;
      }
      t.equal(out, c.out, c.name);
    }
  });
}

t.test('Jinja2 reference cases', async (t) => {
  const r = createRenderer({ searchPaths: [t.testdir()] });
  for (const c of jinja2ReferenceCases) {
    let out: string;
    try {
      out = r.renderString(c.src, {}, 'ref.j2');
    } catch (e) {
      out = `ERROR ${(e as Error).message}`;
    }
    t.equal(out, c.out, c.src.length > 90 ? `${c.src.slice(0, 90)}…` : c.src);
  }
});

t.test('variables are not mutated by a render', async (t) => {
  const r = createRenderer({ searchPaths: [t.testdir()] });
  const vars = { xs: [1], d: { a: 1 } };
  t.equal(r.renderString('{{ xs.append(2) }}{{ d.update({"b": 2}) }}{{ xs }}{{ d }}', vars, 'm.j2'), "[1, 2]{'a': 1, 'b': 2}");
  t.same(vars, { xs: [1], d: { a: 1 } });
});
