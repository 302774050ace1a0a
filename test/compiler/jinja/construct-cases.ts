/**
 * Construct-by-construct expectations for the Jinja2 layer. Every `out` below was produced by
 * Python's Jinja2 3.1 configured as Ansible configures it (the corpus' tools/reference_render.py
 * environment: trim_blocks, StrictUndefined-like undefined, None → '', the Ansible filters), so
 * these are Jinja2's answers, not ours.
 */
export interface ConstructCase {
  readonly name: string;
  readonly src: string;
  readonly vars?: Record<string, unknown>;
  readonly out: string;
}

const v = { s: 'Hello World', n: 7, f: 2.5, l: ['b', 'a', 'c'], d: { b: 2, a: 1 }, e: [], t: true, z: null, u: [{ name: 'x', n: 2 }, { name: 'y', n: 1 }] };

export const literalsAndPrinting: ConstructCase[] = [
  { name: 'True/False/None literals', src: '{{ True }} {{ False }} {{ None }}|{{ true }} {{ none }}', out: 'True False |True ' },
  { name: 'list printing', src: "{{ ['a', 1, None, True] }}", out: "['a', 1, None, True]" },
  { name: 'dict printing', src: "{{ {'k': 'v', 'n': 1} }}", out: "{'k': 'v', 'n': 1}" },
  { name: 'nested containers', src: "{{ {'a': [1, {'b': None}]} }}", out: "{'a': [1, {'b': None}]}" },
  { name: 'string repr quoting', src: `{{ ["it's", 'say "hi"', 'a\\nb'] }}`, out: `["it's", 'say "hi"', 'a\\nb']` },
  { name: 'true division is float', src: '{{ 32 / 2 }} {{ 7 / 2 }}', out: '16.0 3.5' },
  { name: 'floor division and modulo', src: '{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }}', out: '3 -4 2 1024' },
  { name: 'float literals', src: '{{ 1.0 }} {{ 1.5 * 2 }} {{ 0.1 + 0.2 }}', out: '1.0 3.0 0.30000000000000004' },
  { name: 'string repetition', src: "{{ '-' * 5 }}", out: '-----' },
  { name: 'list concatenation', src: '{{ [1] + [2, 3] }}', out: '[1, 2, 3]' },
  { name: 'tilde concatenation', src: "{{ 'a' ~ 1 ~ True ~ None }}", out: 'a1TrueNone' },
  { name: 'printf formatting', src: "{{ '%s-%05.1f-%d' % ('x', 3.14159, 42) }} {{ '%(a)s' % {'a': 1} }}", out: 'x-003.1-42 1' },
  { name: 'variables print with Python str', src: '{{ t }} {{ f }} {{ l }} {{ z }}', vars: v, out: "True 2.5 ['b', 'a', 'c'] " },
  { name: 'string escapes', src: "{{ 'a\\tb' }}|{{ '\\\\d+' }}|{{ '\\x41' }}", out: 'a\tb|\\d+|A' },
  { name: 'subscript and negative index', src: '{{ l[0] }}{{ l[-1] }}{{ s[0] }}', vars: v, out: 'bcH' },
  { name: 'slices', src: "{{ l[1:] }} {{ l[:-1] }} {{ l[::-1] }} {{ s[6:] }} {{ 'abcdef'[::2] }}", vars: v, out: "['a', 'c'] ['b', 'a'] ['c', 'a', 'b'] World ace" },
  { name: 'dotted integer index', src: '{{ l.0 }}', vars: v, out: 'b' },
  { name: 'dict literal with variable key', src: "{% set k = 'x' %}{{ {k: 1} }}", out: "{'x': 1}" },
  { name: 'tuple literal', src: "{{ (1, 'a') }} {% for a, b in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}", out: "(1, 'a') 37" },
  { name: 'comparison chains', src: '{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ [1, 2] == [1, 2] }} {{ {"a": 1} == {"a": 1} }}', out: 'True False True True' },
  { name: 'in operator', src: "{{ 'a' in l }} {{ 'z' not in l }} {{ 'b' in d }} {{ 'ell' in s }}", vars: v, out: 'True True True True' },
  { name: 'and/or return operands', src: "{{ '' or 'x' }} {{ 'a' and 'b' }} {{ 0 or [] or 'last' }}", out: 'x b last' },
  { name: 'empty containers are falsy', src: '{% if e %}yes{% else %}no{% endif %} {% if d %}yes{% endif %} {{ not e }}', vars: v, out: 'no yes True' },
  { name: 'inline if', src: "{{ 'y' if t else 'n' }} {{ 'y' if e else 'n' }}", vars: v, out: 'y n' },
  { name: 'inline if without else', src: "[{{ 'y' if e }}]", vars: v, out: '[]' },
  { name: 'nested inline if in else', src: "{{ 'a' if n == 1 else 'b' if n == 7 else 'c' }}", vars: v, out: 'b' },
];

export const statements: ConstructCase[] = [
  { name: 'for with if filter and loop vars', src: '{% for x in [1, 2, 3, 4] if x is even %}{{ loop.index }}/{{ loop.length }}:{{ x }}{{ "," if not loop.last }}{% endfor %}', out: '1/2:2,2/2:4' },
  { name: 'for over dict yields keys', src: '{% for k in d %}{{ k }}{% endfor %}', vars: v, out: 'ba' },
  { name: 'for over items() unpacks', src: '{% for k, x in d.items() %}{{ k }}={{ x }};{% endfor %}', vars: v, out: 'b=2;a=1;' },
  { name: 'for else', src: '{% for x in e %}{{ x }}{% else %}empty{% endfor %}', vars: v, out: 'empty' },
  { name: 'loop.first/revindex/cycle', src: "{% for x in 'abc' %}{{ loop.first }}{{ loop.revindex }}{{ loop.cycle('o', 'e') }}{% endfor %}", out: 'True3oFalse2eFalse1o' },
  { name: 'loop.previtem/nextitem', src: '{% for x in [1, 2, 3] %}{{ loop.previtem is defined }}{{ loop.nextitem | default("-") }} {% endfor %}', out: 'False2 True3 True- ' },
  { name: 'set inside a loop does not leak', src: '{% set found = False %}{% for x in [1] %}{% set found = True %}{% endfor %}{{ found }}', out: 'False' },
  { name: 'namespace carries state out of a loop', src: '{% set ns = namespace(found=False, n=0) %}{% for x in [1, 2] %}{% set ns.found = True %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.found }} {{ ns.n }}', out: 'True 3' },
  { name: 'set with tuple unpacking', src: '{% set a, b = 1, 2 %}{% set (c, d) = [3, 4] %}{{ a }}{{ b }}{{ c + d }}', out: '127' },
  { name: 'for with parenthesised targets', src: '{% for (k, x) in {"x": 1}.items() %}{{ k }}{{ x }}{% endfor %}', out: 'x1' },
  { name: 'block set with filters', src: '{% set y %}q{% endset %}{% set x | replace("a", "b") | upper %}a{{ y }}{% endset %}{{ x }}', out: 'BQ' },
  { name: 'included templates see loop targets but not loop', src: "{% for item in [1, 2] %}{% include 'inc.j2' %}{% endfor %}", out: '[1][2]' },
  { name: 'with scopes', src: '{% set a = 5 %}{% with a = 1, b = a %}{{ a }}{{ b }}{% endwith %}{{ a }}|{% with %}{% set q = 1 %}{{ q }}{% endwith %}{{ q is defined }}', out: '155|1False' },
  { name: 'with keeps the enclosing loop', src: '{% for i in [1, 2] %}{% with x = i * 10 %}{{ x }}:{{ loop.index }}:{{ loop.length }} {% endwith %}{% endfor %}', out: '10:1:2 20:2:2 ' },
  { name: 'break and continue', src: '{% for i in range(10) %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %} {% for i in range(5) %}{% if i is odd %}{% continue %}{% endif %}{{ i }}{% endfor %}', out: '012 024' },
  { name: 'break in nested and filtered loops', src: '{% for i in [1, 2] %}{% for j in [1, 2, 3] %}{% if j == 2 %}{% break %}{% endif %}{{ i }}{{ j }} {% endfor %}{% endfor %}|{% for i in range(6) if i > 1 %}{% if i == 4 %}{% break %}{% endif %}{{ i }}:{{ loop.index }} {% endfor %}', out: '11 21 |2:1 3:2 ' },
  { name: 'break and continue after an include', src: "{% for item in range(5) %}{% include 'inc.j2' %}{% if item == 2 %}{% break %}{% endif %},{% endfor %}.{% for item in range(4) %}{% include 'inc.j2' %}{% if item is odd %}{% continue %}{% endif %}!{% endfor %}", out: '[0],[1],[2].[0]![1][2]![3]' },
  { name: 'block set', src: '{% set x %}a{{ 1 }}b{% endset %}[{{ x }}]', out: '[a1b]' },
  { name: 'macro with defaults and caller', src: "{% macro m(a, b='B') %}{{ a }}{{ b }}{{ caller() }}{% endmacro %}{% call m('A') %}C{% endcall %}", out: 'ABC' },
  { name: 'filter block', src: '{% filter upper %}abc{% endfilter %}', out: 'ABC' },
  { name: 'raw block', src: '{% raw %}{{ not evaluated }}{% endraw %}', out: '{{ not evaluated }}' },
  { name: 'do statement', src: '{% set xs = [] %}{% do xs.append(1) %}{{ xs }}', out: '[1]' },
  { name: 'append via set _', src: "{% set xs = ['a'] %}{% set _ = xs.append('b') %}{{ xs | join(',') }}", out: 'a,b' },
  { name: 'call with *args', src: "{% set p = ['x', 'y'] %}{{ '{0}-{1}'.format(*p) }}", out: 'x-y' },
  { name: 'call with **kwargs', src: "{% set k = {'sep': '/'} %}{{ '{a}{sep}{b}'.format(a=1, b=2, **k) }}", out: '1/2' },
  { name: 'range and dict()', src: '{{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ dict(a=1) }}', out: "[0, 1, 2] [1, 4, 7] {'a': 1}" },
];

export const whitespace: ConstructCase[] = [
  { name: 'trim_blocks after block tags', src: '{% if true %}\na\n{% endif %}\nb\n', out: 'a\nb\n' },
  { name: 'trim_blocks after comments', src: '{# c #}\na\n', out: 'a\n' },
  { name: 'no lstrip_blocks by default', src: '  {% if true %}\nx\n  {% endif %}\n', out: '  x\n  \n' },
  { name: 'minus strips whitespace', src: 'a   {%- if true -%}   b   {%- endif -%}   c', out: 'abc' },
  { name: 'minus on expressions', src: 'a\n  {{- 1 -}}\n  b', out: 'a1b' },
  { name: 'plus disables trim_blocks', src: '{% if true +%}\nx{% endif %}', out: '\nx' },
  { name: 'variable tags are not trimmed', src: '{{ 1 }}\n{{ 2 }}\n', out: '1\n2\n' },
  { name: 'trailing newline kept (Ansible)', src: 'x\n\n', out: 'x\n\n' },
  { name: 'header override lstrip_blocks', src: '#jinja2: lstrip_blocks: True\n  {% if true %}\nx\n  {% endif %}\n', out: 'x\n' },
  { name: 'header override trim_blocks False', src: '#jinja2: trim_blocks: False\n{% if true %}\nx\n{% endif %}\n', out: '\nx\n' },
  { name: 'lstrip_blocks after a trimmed newline, and +', src: '#jinja2: lstrip_blocks: True\na\n  {% for i in [1,2] %}\n  - {{ i }}\n  {%+ if true %}x{% endif %}\n  {% endfor %}\nb\n', out: 'a\n  - 1\n  x  - 2\n  xb\n' },
  { name: 'macro output and indent filter', src: '{% macro m(x) %}\n  <{{ x }}>\n{% endmacro %}\n{{ m(1) }}\n{{ m(2) | indent(4) }}\nend', out: '  <1>\n\n  <2>\n\nend' },
  { name: 'minus around blank lines', src: '{%- if true -%}\n\n  A  \n\n{%- endif -%}\n\nB', out: 'AB' },
  { name: 'CRLF newlines normalised', src: 'a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n', out: 'a\nb\n' },
  { name: 'brace before a tag', src: 'x {{ "{" }}{% if true %}y{% endif %} {{ 1 }}', out: 'x {y 1' },
];

export const filters: ConstructCase[] = [
  { name: 'default', src: "{{ missing | default('d') }} {{ '' | default('d') }} {{ '' | default('d', true) }} {{ missing | d('x') }}", out: 'd  d x' },
  { name: 'join/length/first/last', src: "{{ l | join('-') }} {{ l | length }} {{ l | first }} {{ l | last }} {{ d | length }} {{ s | count }}", vars: v, out: 'b-a-c 3 b c 2 11' },
  { name: 'join non-strings', src: "{{ [1, True, None] | join(',') }}", out: '1,True,None' },
  { name: 'sort and reverse', src: "{{ l | sort }} {{ l | sort(reverse=true) }} {{ ['b', 'A', 'a'] | sort }} {{ l | reverse | list }}", vars: v, out: "['a', 'b', 'c'] ['c', 'b', 'a'] ['A', 'a', 'b'] ['c', 'a', 'b']" },
  { name: 'sort by attribute, map, selectattr', src: "{{ u | sort(attribute='n') | map(attribute='name') | join }} {{ u | selectattr('n', 'gt', 1) | map(attribute='name') | list }} {{ u | rejectattr('name', 'equalto', 'x') | list | length }}", vars: v, out: "yx ['x'] 1" },
  { name: 'map filter by name, select/reject tests', src: "{{ l | map('upper') | list }} {{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3] | reject('equalto', 2) | list }}", vars: v, out: "['B', 'A', 'C'] [1, 3] [1, 3]" },
  { name: 'dictsort and items', src: '{{ d | dictsort }} {% for k, x in d | dictsort %}{{ k }}{{ x }}{% endfor %} {{ d | items | list }}', vars: v, out: "[('a', 1), ('b', 2)] a1b2 [('b', 2), ('a', 1)]" },
  { name: 'int and float', src: "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(5) }} {{ '3' | float }} {{ 'ff' | int(base=16) }}", out: '42 4 0 5 3.0 255' },
  { name: 'string/list/lower/upper/title/capitalize', src: "{{ 5 | string }} {{ 'ab' | list }} {{ s | lower }} {{ s | upper }} {{ 'hello wORLD' | title }} {{ 'hello World' | capitalize }}", vars: v, out: "5 ['a', 'b'] hello world HELLO WORLD Hello World Hello world" },
  { name: 'replace/trim/center/truncate', src: "{{ s | replace('l', 'L') }} [{{ '  x  ' | trim }}] [{{ 'x' | center(5) }}] {{ 'hello world foo' | truncate(9, leeway=0) }}", vars: v, out: 'HeLLo WorLd [x] [  x  ] hello...' },
  { name: 'indent (Jinja2 3 semantics)', src: "{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(width=2, blank=true) }}", out: 'a\n  b\n\n  c|  a\n  b|a\n  \n  b' },
  { name: 'round/abs/sum/min/max', src: '{{ 2.5 | round }} {{ 3.14159 | round(2) }} {{ 2.1 | round(0, "ceil") }} {{ -3 | abs }} {{ [1, 2, 3] | sum }} {{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }}', out: '2.0 3.14 3.0 3 6 1 3' },
  { name: 'unique/batch/slice', src: '{{ [1, 2, 1, 3] | unique | list }} {{ [1, 2, 3] | batch(2) | list }} {{ [1, 2, 3] | slice(2) | list }}', out: '[1, 2, 3] [[1, 2], [3]] [[1, 2], [3]]' },
  { name: 'groupby', src: "{% for g in [{'k': 'a', 'v': 1}, {'k': 'b', 'v': 2}, {'k': 'a', 'v': 3}] | groupby('k') %}{{ g.grouper }}:{{ g.list | map(attribute='v') | join(',') }};{% endfor %}", out: 'a:1,3;b:2;' },
  { name: 'format filter and wordcount', src: "{{ '%s=%s' | format('a', 1) }} {{ 'a b  c' | wordcount }}", out: 'a=1 3' },
  { name: 'tojson and urlencode', src: "{{ {'b': 1, 'a': '<'} | tojson }} {{ 'a b/c' | urlencode }}", out: '{"a": "\\u003c", "b": 1} a%20b/c' },
  { name: 'attr looks up attributes, not items', src: "{{ (d | attr('a')) is defined }}", vars: v, out: 'False' },
  { name: 'to_json and to_nice_json', src: "{{ {'b': [1, 2.0], 'a': 'é'} | to_json }}|{{ {'b': 1, 'a': [1]} | to_nice_json }}", out: '{"b": [1, 2.0], "a": "\\u00e9"}|{\n    "a": [\n        1\n    ],\n    "b": 1\n}' },
  { name: 'to_yaml and to_nice_yaml', src: "{{ {'b': [1, 'x'], 'a': {'c': 'yes'}} | to_yaml }}|{{ {'b': [1, {'k': 'v', 'j': None}], 'a': ''} | to_nice_yaml }}|{{ [{'x': 1}] | to_nice_yaml(indent=2) }}", out: "a: {c: 'yes'}\nb: [1, x]\n|a: ''\nb:\n- 1\n-   j: null\n    k: v\n|- x: 1\n" },
  { name: 'bool and ternary', src: "{{ 'yes' | bool }} {{ 'off' | bool }} {{ 1 | bool }} {{ None | bool }} {{ true | ternary('on', 'off') }} {{ none | ternary(1, 2, 3) }}", out: 'True False True  on 3' },
  { name: 'regex_replace/regex_search/regex_findall', src: "{{ 'abc123' | regex_replace('(\\\\d+)', '<\\\\1>') }} {{ 'key=val' | regex_replace('^(?P<k>\\\\w+)=(\\\\w+)$', '\\\\g<k>:\\\\2') }} {{ 'ab12cd34' | regex_search('\\\\d+') }} {{ 'ab12cd34' | regex_findall('\\\\d+') }}", out: "abc<123> key:val 12 ['12', '34']" },
  { name: 'regex_escape', src: "{{ 'a.b*c' | regex_escape }}", out: 'a\\.b\\*c' },
  { name: 'combine', src: "{{ {'a': 1, 'n': {'x': 1}} | combine({'b': 2, 'n': {'y': 2}}) }} {{ {'n': {'x': 1}} | combine({'n': {'y': 2}}, recursive=true) }}", out: "{'a': 1, 'n': {'y': 2}, 'b': 2} {'n': {'x': 1, 'y': 2}}" },
  { name: 'dict2items and items2dict', src: "{{ {'a': 1} | dict2items }} {{ [{'key': 'a', 'value': 1}] | items2dict }} {{ {'a': 1} | dict2items(key_name='k', value_name='v') }}", out: "[{'key': 'a', 'value': 1}] {'a': 1} [{'k': 'a', 'v': 1}]" },
  { name: 'b64encode/b64decode/hash', src: "{{ 'hi' | b64encode }} {{ 'aGk=' | b64decode }} {{ 'hi' | hash('md5') }} {{ 'hi' | hash }}", out: 'aGk= hi 49f68a5c8493ec2c0bf489821c21fc3b c22b5f9178342609428d6f51b2c5af4c0bde6a42' },
  { name: 'comment styles', src: "{{ 'a\\nb' | comment }}|{{ 'x' | comment('c') }}|{{ 'x' | comment('cblock') }}|{{ 'x' | comment(decoration='; ') }}", out: '#\n# a\n# b\n#|//\n// x\n//|/*\n *\n * x\n *\n */|;\n; x\n;' },
  { name: 'set theory filters', src: '{{ [1, 2, 3] | union([3, 4]) }} {{ [1, 2, 3] | intersect([2, 3, 5]) }} {{ [1, 2, 3] | difference([2]) }} {{ [1, 2] | symmetric_difference([2, 3]) }}', out: '[1, 2, 3, 4] [2, 3] [1, 3] [1, 3]' },
  { name: 'flatten/zip/quote/basename/dirname', src: "{{ [1, [2, [3]]] | flatten }} {{ [1, [2, [3]]] | flatten(levels=1) }} {{ \"it's\" | quote }} {{ '/a/b.c' | basename }} {{ '/a/b.c' | dirname }}", out: `[1, 2, 3] [1, 2, [3]] 'it'"'"'s' b.c /a` },
  { name: 'mandatory passes a defined value', src: '{{ n | mandatory }}', vars: v, out: '7' },
  { name: 'ipaddr revdns', src: "{{ '192.168.1.10' | ipaddr('revdns') }}", out: '10.1.168.192.in-addr.arpa.' },
  { name: 'type_debug', src: '{{ n | type_debug }} {{ l | type_debug }} {{ d | type_debug }} {{ z | type_debug }}', vars: v, out: 'int list dict NoneType' },
];

/**
 * Ansible behaviour the reference environment does not implement; expectations from
 * ansible-core's documented semantics (checksum = sha1 hex, zip = Python zip, FQCN names).
 */
export const ansibleExtras: ConstructCase[] = [
  { name: 'checksum and zip', src: "{{ 'hi' | checksum }} {{ [1, 2] | zip(['a', 'b']) | list }}", out: "c22b5f9178342609428d6f51b2c5af4c0bde6a42 [(1, 'a'), (2, 'b')]" },
  { name: 'FQCN filter and test names', src: "{{ {'a': 1} | ansible.builtin.to_json }} {{ '1.2' is ansible.builtin.version('1.1', '>') }}", out: '{"a": 1} True' },
];

export const tests: ConstructCase[] = [
  { name: 'defined/undefined/none', src: '{{ n is defined }} {{ missing is defined }} {{ missing is undefined }} {{ z is none }} {{ missing.attr is defined }}', vars: v, out: 'True False True True False' },
  { name: 'type tests', src: '{{ s is string }} {{ n is number }} {{ n is integer }} {{ f is float }} {{ t is boolean }} {{ d is mapping }} {{ l is iterable }} {{ l is sequence }} {{ s is iterable }}', vars: v, out: 'True True True True True True True True True' },
  { name: 'arguments with and without parentheses', src: '{{ n is divisibleby 7 }} {{ n is divisibleby(3) }} {{ t is sameas true }} {{ n is eq 7 }} {{ n is gt(5) }}', vars: v, out: 'True False True True True' },
  { name: 'is not', src: '{{ n is not string }} {{ s is not string }}', vars: v, out: 'True False' },
  { name: 'odd/even/lower/upper/in', src: "{{ 3 is odd }} {{ 4 is even }} {{ 'ab' is lower }} {{ 'AB' is upper }} {{ 'a' is in ['a'] }}", out: 'True True True True True' },
  { name: 'test binds like a filter', src: "{{ s is string | ternary('str', 'other') }} {{ not missing is defined }}", vars: v, out: 'str True' },
  { name: 'version tests', src: "{{ '1.10.0' is version('1.9', '>') }} {{ '2.0' is version('2.0.1', 'lt') }} {{ '7.4p1' is version('7.4', '>=') }} {{ '1.0' is version_compare('1.0', '==') }}", out: 'True True True True' },
  { name: 'truthy/falsy', src: "{{ 'yes' is truthy }} {{ '' is falsy }} {{ 'no' is truthy(convert_bool=True) }}", out: 'True True False' },
  { name: 'match/search/regex', src: "{{ 'abc' is match('b') }} {{ 'abc' is search('b') }} {{ 'abc' is regex('^a') }}", out: 'False True True' },
  { name: 'subset/superset/contains', src: '{{ [1] is subset([1, 2]) }} {{ [1, 2] is superset([1]) }} {{ [1, 2] is contains(2) }}', out: 'True True True' },
];

export const methods: ConstructCase[] = [
  { name: 'str.split/rsplit', src: "{{ 'a b  c'.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' x '.split(' ') }}", out: "['a', 'b', 'c'] ['a', 'b,c'] ['a,b', 'c'] ['', 'x', '']" },
  { name: 'str.startswith/endswith with tuples', src: "{{ s.startswith('He') }} {{ s.endswith(('x', 'ld')) }}", vars: v, out: 'True True' },
  { name: 'str.strip/replace/upper/lower', src: "[{{ '  x  '.strip() }}] [{{ 'xxaxx'.strip('x') }}] {{ 'aaa'.replace('a', 'b', 2) }} {{ 'a'.upper() }}{{ 'B'.lower() }}", out: '[x] [a] bba Ab' },
  { name: 'str.join/format/zfill/find/count', src: "{{ ', '.join(l) }} {{ '{} is {:>4}|{:<3}|{:^5}|{:.2f}'.format('x', 1, 'a', 'b', 3.14159) }} {{ '7'.zfill(3) }} {{ s.find('o') }} {{ s.count('l') }}", vars: v, out: 'b, a, c x is    1|a  |  b  |3.14 007 4 3' },
  { name: 'str predicates', src: "{{ '12'.isdigit() }} {{ 'ab'.isalpha() }} {{ ' '.isspace() }} {{ 'Ab'.islower() }}", out: 'True True True False' },
  { name: 'list.append/extend/pop/insert/index', src: "{% set xs = [1] %}{{ xs.append(2) }}{{ xs.extend([3, 4]) }}{{ xs.pop() }} {{ xs.pop(0) }} {{ xs.insert(0, 9) }}{{ xs }} {{ xs.index(3) }} {{ xs.count(9) }}", out: '4 1 [9, 2, 3] 2 1' },
  { name: 'dict.items/keys/values/get', src: "{{ d.keys() | list }} {{ d.values() | list }} {{ d.get('a') }} {{ d.get('x', 'no') }} {{ d.get('x') }}|", vars: v, out: "['b', 'a'] [2, 1] 1 no |" },
  { name: 'called methods win over same-named keys', src: "{{ m.items() | list }} {{ m['items'] }} {{ m.get('get') }}", vars: { m: { items: [1], get: 'g' } }, out: "[('items', [1]), ('get', 'g')] [1] g" },
  { name: 'dunder variable names are ordinary names', src: '{% set __host = "h" %}{{ __host }}', out: 'h' },
  { name: 'dict.update/pop/setdefault', src: "{% set m = {'a': 1} %}{{ m.update({'b': 2}) }}{{ m.pop('a') }} {{ m.setdefault('c', 3) }} {{ m }}", out: "1 3 {'b': 2, 'c': 3}" },
];
