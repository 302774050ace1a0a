/**
 * security.md T1–T3 for the in-process renderer: the template escape corpus is refused (and the
 * same payload is shown to work on stock nunjucks, so the test can fail), variable values are
 * never template source, and template loading stays inside the search paths (no `..`, absolute
 * names, sibling-prefix directories or symlinks leaving the root).
 */
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nunjucks from 'nunjucks';
import t from 'tap';
import { createRenderer, TemplateError } from '../../../compiler/jinja/renderer.js';

const payload = (marker: string): string => `return process.getBuiltinModule("fs").writeFileSync(${JSON.stringify(marker)}, "pwned")`;

function escapeCorpus(marker: string): string[] {
  const p = JSON.stringify(payload(marker));
  return [
    `{{ range.constructor(${p})() }}`,
    `{{ cycler.constructor(${p})() }}`,
    `{{ joiner.constructor(${p})() }}`,
    `{{ cycler('a').next.constructor(${p})() }}`,
    `{{ joiner().constructor(${p})() }}`,
    `{% set x = {} %}{{ x.constructor.constructor(${p})() }}`,
    `{{ "".constructor.constructor(${p})() }}`,
    `{{ [].constructor.constructor(${p})() }}`,
    `{{ (1).constructor.constructor(${p})() }}`,
    `{{ "".split.constructor(${p})() }}`,
    `{% set x = {} %}{{ x["constructor"]["constructor"](${p})() }}`,
    `{% set x = {} %}{{ x["constr" ~ "uctor"]["constructor"](${p})() }}`,
    `{% set x = {} %}{{ (x | attr("constructor")).constructor(${p})() }}`,
    `{{ ("" | attr("constructor") | attr("constructor"))(${p})() }}`,
    `{{ (range | attr("constructor"))(${p})() }}`,
    `{% set x = {} %}{{ x.__proto__ }}`,
    `{% set x = {} %}{{ x["__proto__"]["polluted"] }}`,
    `{{ [{}] | map(attribute="constructor") | list }}`,
    `{{ [{}] | map(attribute="constructor.constructor") | first }}`,
    `{{ [{}] | selectattr("constructor") | list }}`,
    `{{ [{}, {}] | sort(attribute="constructor") }}`,
    `{{ [{}] | groupby("constructor") }}`,
    `{{ [{}] | sum(attribute="constructor") }}`,
    `{% macro m() %}{% endmacro %}{{ m.constructor(${p})() }}`,
    `{% macro m() %}{{ caller.constructor(${p})() }}{% endmacro %}{% call m() %}{% endcall %}`,
    `{% for x in [1] %}{{ loop.constructor.constructor(${p})() }}{% endfor %}`,
    `{{ namespace().constructor }}`,
    `{{ dict.constructor(${p})() }}`,
    `{% set x = {} %}{{ x.hasOwnProperty("a") }}`,
    `{% set x = {} %}{{ x.toString() }}`,
    `{{ lipsum.constructor }}`,
    `{{ __j_dict.constructor(${p})() }}`,
    `{% set x = {} %}{{ x.prototype }}`,
    `{{ {"__proto__": {"polluted": 1}} }}`,
    `{{ constructor.constructor(${p})() }}`,
    `{{ valueOf().env }}`,
    `{{ toString() }}`,
    `{{ __proto__ }}`,
    `{% set __proto__ = {"polluted": 1} %}{{ polluted }}`,
    `{% for __proto__ in [1] %}{% endfor %}`,
    `{{ __defineGetter__("x", joiner) }}`,
    // Names that reach the generated JavaScript must be identifiers, never strings.
    `{% import "m.j2" as "x\\"); process.getBuiltinModule('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); //" %}`,
    `{% from "m.j2" import "a\\"); process.getBuiltinModule('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); //" %}`,
    `{% block "b\\"); process.getBuiltinModule('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); //" %}{% endblock %}`,
    `{{ a"b }}`,
  ];
}

t.test('the payload works on stock nunjucks (so this test can fail)', async (t) => {
  const dir = t.testdir();
  const marker = join(dir, 'stock-marker');
  const env = new nunjucks.Environment(null, { autoescape: true });
  env.renderString(`{{ range.constructor(${JSON.stringify(payload(marker))})() }}`, {});
  t.ok(existsSync(marker), 'stock nunjucks ran the payload');
});

t.test('escape corpus is refused', async (t) => {
  const dir = t.testdir();
  const marker = join(dir, 'marker');
  const r = createRenderer({ searchPaths: [dir] });
  for (const src of escapeCorpus(marker)) {
    let out = '';
    try {
      out = r.renderString(src, {}, 'evil.j2');
      t.fail(`rendered: ${src} → ${out}`);
    } catch (e) {
      t.type(e, TemplateError, src);
      t.notMatch((e as Error).message, /pwned|function Function|\[native code\]/, `no internals in the message: ${src}`);
    }
    t.notOk(existsSync(marker), `no marker after ${src}`);
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype not polluted');
});

t.test('read-only views (RUNTIME_OBJECT) behave as dicts and are not copied', async (t) => {
  const { RUNTIME_OBJECT } = await import('../../../compiler/jinja/safe-access.js');
  const keys = ['web', 'db'];
  let reads = 0;
  class View {}
  const view = new Proxy(new View(), {
    get: (_t, p) => (p === RUNTIME_OBJECT ? true : typeof p === 'string' && keys.includes(p) ? (reads++, [`${p}1`]) : undefined),
    has: (_t, p) => p === RUNTIME_OBJECT || (typeof p === 'string' && keys.includes(p)),
    ownKeys: () => keys,
    getOwnPropertyDescriptor: (_t, p) => (typeof p === 'string' && keys.includes(p) ? { value: [`${p}1`], enumerable: true, configurable: true } : undefined),
  });
  const r = createRenderer({ searchPaths: [t.testdir()] });
  t.equal(r.renderString('{{ groups.web[0] }}', { groups: view }, 'v.j2'), 'web1');
  t.equal(reads, 1, 'only the key used was read (no deep copy of the view)');
  t.equal(r.renderString("{% for g in groups %}{{ g }}={{ groups[g] | join(',') }};{% endfor %} {{ groups | length }} {{ 'db' in groups }} {{ groups.keys() | list }}", { groups: view }, 'v.j2'), "web=web1;db=db1; 2 True ['web', 'db']");
  t.throws(() => r.renderString('{{ groups.constructor }}', { groups: view }, 'v.j2'), TemplateError);
});

t.test('data is never template source', async (t) => {
  const r = createRenderer({ searchPaths: [t.testdir()] });
  const vars = { a: '{{ 7*7 }}', b: '{% raw %}x{% endraw %}', c: { k: '{{ {}|attr("constructor") }}' }, d: ['{#', '#}'] };
  t.equal(r.renderString('{{ a }}|{{ b }}|{{ c.k }}|{{ d | join }}|{{ a ~ b }}', vars, 'data.j2'), '{{ 7*7 }}|{% raw %}x{% endraw %}|{{ {}|attr("constructor") }}|{##}|{{ 7*7 }}{% raw %}x{% endraw %}');
  t.equal(r.renderString('{{ c }}', vars, 'data.j2'), `{'k': '{{ {}|attr("constructor") }}'}`);
});

t.test('template loading is confined to the search paths', async (t) => {
  const base = t.testdir({
    tpl: { 'ok.j2': 'ok {{ 1 }}', 'sub': { 'inner.j2': 'inner' } },
    tpl2: { 'secret.j2': 'SECRET' },
  });
  const tpl = join(base, 'tpl');
  symlinkSync(join(base, 'tpl2', 'secret.j2'), join(tpl, 'link.j2'));
  symlinkSync(join(base, 'tpl2'), join(tpl, 'dirlink'));
  symlinkSync('/etc/hostname', join(tpl, 'etc.j2'));
  symlinkSync(join(tpl, 'ok.j2'), join(tpl, 'alias.j2'));
  mkdirSync(join(base, 'tplx'));
  writeFileSync(join(base, 'tplx', 'x.j2'), 'X');

  // Stock nunjucks lets the sibling-prefix directory and the symlinks through.
  const stock = new nunjucks.Environment(new nunjucks.FileSystemLoader(tpl));
  t.equal(stock.renderString('{% include "../tpl2/secret.j2" %}', {}), 'SECRET', 'stock loader reads a sibling-prefix directory');
  t.equal(stock.renderString('{% include "link.j2" %}', {}), 'SECRET', 'stock loader follows a symlink out');

  const r = createRenderer({ searchPaths: [tpl] });
  t.equal(r.renderString('{% include "ok.j2" %} {% include "sub/inner.j2" %} {% include "./sub/../ok.j2" is defined and "alias.j2" %}', {}, 'main.j2'), 'ok 1 inner ok 1', 'inside the root, including an inner symlink');
  const refused = [
    '../tpl2/secret.j2',
    `${base}/tpl2/secret.j2`,
    '/etc/hostname',
    'link.j2',
    'dirlink/secret.j2',
    'etc.j2',
    '../tplx/x.j2',
    'sub/../../tpl2/secret.j2',
    'a\\..\\..\\x',
  ];
  for (const name of refused) {
    for (const src of [`{% include ${JSON.stringify(name)} %}`, `{% import ${JSON.stringify(name)} as m %}`, `{% from ${JSON.stringify(name)} import x %}`, `{% extends ${JSON.stringify(name)} %}`]) {
      let out: string | undefined;
      try {
        out = r.renderString(src, {}, 'main.j2');
      } catch (e) {
        t.type(e, TemplateError, src);
        t.notMatch((e as Error).message, /SECRET/, `nothing leaked: ${src}`);
        continue;
      }
      t.fail(`rendered ${src}: ${out}`);
    }
    t.throws(() => r.renderFile(name, {}), TemplateError, `renderFile(${name})`);
  }
  const kindOf = (src: string): string | undefined => {
    try {
      r.renderString(src, {}, 'main.j2');
    } catch (e) {
      return (e as TemplateError).kind;
    }
    return undefined;
  };
  t.equal(kindOf('{% include "link.j2" %}'), 'SECURITY', 'a symlink out is a security refusal');
  t.equal(kindOf('{% include "../tpl2/secret.j2" %}'), 'SECURITY', 'a .. name is a security refusal');
  t.equal(kindOf('{% include "nope.j2" %}'), 'NOT_FOUND', 'a missing template is NOT_FOUND');
});
