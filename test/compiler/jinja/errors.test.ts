/**
 * Errors name the template, the original line and the problem: undefined variables (with the
 * missing name), syntax errors, unknown filters, constructs nunjucks would run differently (refused
 * rather than rendered differently), errors inside included templates, and the in-process limits.
 */
import t from 'tap';
import { createRenderer, TemplateError } from '../../../compiler/jinja/renderer.js';

function fails(r: ReturnType<typeof createRenderer>, src: string, name = 'main.j2'): TemplateError {
  try {
    r.renderString(src, { d: { a: 1 }, l: [1] }, name);
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error(`rendered without error: ${src}`);
}

t.test('undefined variables', async (t) => {
  const r = createRenderer({ searchPaths: [t.testdir()] });
  let e = fails(r, 'line 1\n{% if true %}\n  x {{ missing }}\n{% endif %}\n');
  t.match(e, { template: 'main.j2', line: 3, kind: 'UNDEFINED', code: 'TEMPLATE_ERROR' });
  t.match(e.message, /^main\.j2:3: 'missing' is undefined$/);
  e = fails(r, '{{ d.nope.deeper }}');
  t.match(e.message, /'dict object' has no attribute 'nope'/);
  e = fails(r, '\n\n{% for x in nothing %}{% endfor %}');
  t.match(e, { line: 3, kind: 'UNDEFINED' });
  t.match(e.message, /'nothing' is undefined/);
  e = fails(r, '{{ missing | upper }}');
  t.match(e.message, /'missing' is undefined/);
  e = fails(r, '{{ 1 + missing }}');
  t.match(e.message, /'missing' is undefined/);
  e = fails(r, '{% if missing %}{% endif %}');
  t.match(e.message, /'missing' is undefined/);
  e = fails(r, 'a\nb\n{{ missing ~ "x" }}');
  t.match(e, { line: 3 });
  t.equal(r.renderString('{{ missing | default("ok") }} {{ missing is defined }}', {}, 'ok.j2'), 'ok False');
  t.match(fails(r, '\n{{ missing | mandatory }}'), { kind: 'UNDEFINED', line: 2, message: /Mandatory variable not defined: 'missing' is undefined/ });
  t.match(fails(r, '{{ missing | mandatory("set missing, please") }}').message, /set missing, please$/);
});

t.test('syntax errors carry the original line', async (t) => {
  const r = createRenderer({ searchPaths: [t.testdir()] });
  let e = fails(r, 'a\nb\n{% if %}x{% endif %}');
  t.match(e, { line: 3, kind: 'SYNTAX' });
  e = fails(r, 'a\n{{ x \n');
  t.match(e, { line: 2, kind: 'SYNTAX' });
  t.match(e.message, /unclosed/);
  e = fails(r, 'a\n{# never closed');
  t.match(e, { line: 2, kind: 'SYNTAX' });
  e = fails(r, '{% if true %}\n{% endfor %}');
  t.match(e, { kind: 'SYNTAX' });
  e = fails(r, '\n{% switch x %}{% endswitch %}');
  t.match(e, { line: 2, kind: 'SYNTAX' });
  t.match(e.message, /unknown tag 'switch'/);
  e = fails(r, '{{ "abc }}');
  t.match(e, { kind: 'SYNTAX' });
});

t.test('lines survive trimmed newlines, headers, comments, raw blocks, macros and multi-line tags', async (t) => {
  const r = createRenderer({ searchPaths: [t.testdir()] });
  const cases: [string, number, string][] = [
    ['#jinja2: trim_blocks: False\n\n{{ nope }}', 3, 'UNDEFINED'],
    ['{% macro m() %}\n\n  {{ inside }}\n{% endmacro %}\n{{ m() }}', 3, 'UNDEFINED'],
    ['{% for i in [1] %}\n{% if true %}\n{% set x = 1 %}\n{{ i.nope.deeper ~ 1 }}\n{% endif %}\n{% endfor %}', 4, 'UNDEFINED'],
    ['{{ {\n  "a": 1,\n  "b": nope\n} }}', 1, 'UNDEFINED'],
    ['a\n{#\nmulti\n#}\n{{ nope }}', 5, 'UNDEFINED'],
    ['{% raw %}\n{{ x }}\n{% endraw %}\n{{ nope }}', 4, 'UNDEFINED'],
    ['{% set a = [1,2] %}\n{% for x in a %}\n{{ x | nosuch }}\n{% endfor %}', 3, 'UNSUPPORTED'],
    ['{% if true %}\n\n{% endfor %}', 3, 'SYNTAX'],
    ['\n\n{{ 1 +* 2 }}', 3, 'SYNTAX'],
  ];
  for (const [src, line, kind] of cases) t.match(fails(r, src), { line, kind }, JSON.stringify(src));
});

t.test('constructs that would render differently are refused', async (t) => {
  const r = createRenderer({ searchPaths: [t.testdir()] });
  const refused: [string, RegExp][] = [
    ['{% with a %}{{ a }}{% endwith %}', /with/],
    ['{% break %}', /break %\} outside a loop/],
    ['{% for x in l %}{% macro m() %}{% continue %}{% endmacro %}{% endfor %}', /continue %\} outside a loop/],
    ['{% for x in l recursive %}{{ loop(x) }}{% endfor %}', /recursive/],
    ['{% set a, b = [1] %}', /cannot unpack 1 values into 2 names/],
    ['{% trans %}x{% endtrans %}', /trans/],
    ['{% autoescape true %}x{% endautoescape %}', /autoescape/],
    ['{{ l | nosuchfilter }}', /no filter named 'nosuchfilter'/],
    ['{{ l is nosuchtest }}', /no test named 'nosuchtest'/],
    ['{{ null }}', /null/],
    ['{{ 1 | random }}', /random/],
    ['{{ "%Y" | strftime }}', /strftime/],
    ['{{ "x" | regex_replace("a(?i)b", "") }}', /inline flags/],
    ['{{ "1" is version("1", "eq", version_type="semver") }}', /version_type/],
    ['{% include "x" without context %}', /without context/],
    ['{% macro m() %}{{ varargs }}{% endmacro %}{{ m(1, 2) }}', /varargs/],
  ];
  for (const [src, re] of refused) {
    const e = fails(r, `\n${src}`);
    t.match(e.message, re, src);
    t.equal(e.line, 2, `line of ${src}`);
    t.ok(e.kind === 'UNSUPPORTED' || e.kind === 'SYNTAX' || e.kind === 'RUNTIME', `${src}: kind ${e.kind}`);
  }
});

t.test('errors inside included templates name the included template', async (t) => {
  const dir = t.testdir({ 'inc.j2': 'one\ntwo {{ nope }}\n', 'bad.j2': '\n\n{% if %}', 'main.j2': 'x\n{% include "inc.j2" %}\n' });
  const r = createRenderer({ searchPaths: [dir] });
  let e = fails(r, 'x\n{% include "inc.j2" %}');
  t.match(e, { template: 'inc.j2', line: 2, kind: 'UNDEFINED' });
  t.match(e.message, /^inc\.j2:2: 'nope' is undefined/);
  e = fails(r, '{% include "bad.j2" %}');
  t.match(e, { template: 'bad.j2', line: 3, kind: 'SYNTAX' });
  try {
    r.renderFile('main.j2', {});
    t.fail('rendered');
  } catch (err) {
    t.match(err, { template: 'inc.j2', line: 2 });
  }
});

t.test('include of a list takes the first template that exists', async (t) => {
  const dir = t.testdir({ 'b.j2': 'B', 'c.j2': 'C' });
  const r = createRenderer({ searchPaths: [dir] });
  t.equal(r.renderString('{% include ["a.j2", "b.j2", "c.j2"] %}', {}, 'main.j2'), 'B');
  t.equal(r.renderString('{% include ["x.j2", "y.j2"] ignore missing %}.', {}, 'main.j2'), '.');
  t.match(fails(r, '{% include ["x.j2", "y.j2"] %}'), { kind: 'NOT_FOUND' });
  t.match(fails(r, 'a\n{% include "nope.j2" %}'), { kind: 'NOT_FOUND', line: 2, template: 'main.j2' });
  t.match(fails(r, 'a\n\n{% import "nope.j2" as n %}'), { kind: 'NOT_FOUND', line: 3 });
});

t.test('in-process limits', async (t) => {
  const r = createRenderer({ searchPaths: [t.testdir()], limits: { maxOutput: 10_000, maxIterations: 5_000, maxRange: 1_000 } });
  t.match(fails(r, '\n{{ range(1000000000) | length }}'), { kind: 'LIMIT', line: 2 });
  t.match(fails(r, '{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}'), { kind: 'LIMIT' });
  t.match(fails(r, '{% for i in range(1000) %}{{ "0123456789abcdef" }}{% endfor %}'), { kind: 'LIMIT' });
  t.match(fails(r, '{{ "x" * 100000 }}'), { kind: 'LIMIT' });
  t.match(fails(r, '{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}\n{{ f(0) }}'), { kind: 'LIMIT' });
  t.equal(r.renderString('{% for i in range(10) %}{{ i }}{% endfor %}', {}, 'ok.j2'), '0123456789', 'a later render starts with a fresh budget');
});
