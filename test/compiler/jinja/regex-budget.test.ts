/**
 * Every regex entry point of templates (the match/search/regex tests, select/reject with them,
 * regex_search, regex_replace, regex_findall) runs on the bounded RE2 engine: patterns that are
 * catastrophic for a backtracking engine give Python's answer at once; work past the render's
 * budget, and constructs RE2 cannot run in linear time, fail with template:line and a message
 * saying what to change. Before the RE2 layer each of these renders hung the process.
 */
import t from 'tap';
import { createRenderer, TemplateError } from '../../../compiler/jinja/renderer.js';
import { BoundedRegex, REGEX_LIMITS } from '../../../compiler/regex/bounded-regex.js';

const CATASTROPHIC: { name: string; pattern: string; subject: string }[] = [
  { name: '(a+)+$', pattern: '^(a+)+$', subject: 'a'.repeat(4000) + '!' },
  { name: '(a|a)*b', pattern: '(a|a)*b', subject: 'a'.repeat(4000) },
  { name: 'nested quantifiers', pattern: '^((a*)*[ab]?)*c$', subject: 'a'.repeat(4000) + '!' },
  { name: '(\\w+\\s?)*$', pattern: '^(\\w+\\s?)*$', subject: 'word '.repeat(800) + '!' },
  { name: 'huge alternation', pattern: `^(?:${Array.from({ length: 200 }, (_, i) => `k${i}|k${i}x`).join('|')})+$`, subject: 'k1x'.repeat(300) + '!' },
];

/** Each entry point, and what Python prints when nothing matches. */
const ENTRY_POINTS: { name: string; src: string; none: string }[] = [
  { name: 'is match', src: '{{ s is match(p) }}', none: 'False' },
  { name: 'is search', src: '{{ s is search(p) }}', none: 'False' },
  { name: 'is regex', src: '{{ s is regex(p, match_type="fullmatch") }}', none: 'False' },
  { name: 'select(match)', src: '{{ [s] | select("match", p) | list }}', none: '[]' },
  { name: 'reject(search)', src: '{{ [s] | reject("search", p) | length }}', none: '1' },
  { name: 'regex_search', src: '{{ s | regex_search(p) }}', none: '' },
  { name: 'regex_replace', src: '{{ s | regex_replace(p, "X") == s }}', none: 'True' },
  { name: 'regex_findall', src: '{{ s | regex_findall(p) }}', none: '[]' },
];

function renderError(f: () => unknown): TemplateError {
  try {
    f();
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error('rendered without error');
}

t.test('catastrophic patterns in every entry point give the no-match answer', async (t) => {
  const r = createRenderer({ searchPaths: [t.testdir()] });
  for (const c of CATASTROPHIC) {
    t.ok((c.subject.length + 1) * BoundedRegex.compile(c.pattern).programSize * 2 < REGEX_LIMITS.work, `${c.name} fits the budget twice`);
    for (const ep of ENTRY_POINTS) {
      t.equal(r.renderString(ep.src, { s: c.subject, p: c.pattern }, 'redos.j2'), ep.none, `${ep.name} ${c.name}`);
    }
  }
});

t.test('work past the render budget fails with template and line, and the next render starts afresh', async (t) => {
  const r = createRenderer({ searchPaths: [t.testdir()] });
  const s = 'a'.repeat(50_000) + '!';
  for (const ep of ENTRY_POINTS) {
    const src = `first line\n{% for i in range(1000) %}${ep.src}{% endfor %}\n`;
    const e = renderError(() => r.renderString(src, { s, p: '^(\\w+\\s?)*$' }, 'loop.j2'));
    t.match(e, { template: 'loop.j2', line: 2, kind: 'LIMIT' }, ep.name);
    t.match(e.message, /^loop\.j2:2: regular expression work limit reached: matching "\^\(\\\\w\+\\\\s\?\)\*\$" would bring this render to [\d,]+ units .* over the limit of 8,388,608; match a shorter string or a simpler pattern$/, ep.name);
    t.equal(r.renderString(ep.src, { s, p: '^(\\w+\\s?)*$' }, 'once.j2'), ep.none, `${ep.name}: one match fits a fresh budget`);
  }
});

t.test('constructs RE2 cannot run in linear time are refused with template and line', async (t) => {
  const r = createRenderer({ searchPaths: [t.testdir()] });
  const cases: [string, RegExp][] = [
    ['{{ "aa" is match("(a)\\\\1") }}', /the backreference \\1 is not supported; Stead matches regular expressions with RE2 semantics/],
    ['{{ "aa" | regex_replace("(?P<x>a)(?P=x)", "") }}', /the backreference \(\?P=name\) is not supported/],
    ['{{ "ab" | regex_search("a(?=b)") }}', /lookahead \(\(\?=…\), \(\?!…\)\) is not supported/],
    ['{{ "ab" | regex_findall("a(?!c)") }}', /lookahead/],
    ['{{ "ab" is search("(?>a)") }}', /atomic group/],
    ['{{ "ab" is search("(a)?(?(1)b|c)") }}', /conditional group/],
    ['{{ "ab" is search("a++") }}', /possessive/],
    ['{{ "ab" is search("a{1001}") }}', /repeat count over 1000/],
    [`{{ "ab" is search("${'a'.repeat(4097)}") }}`, /regular expression too long \(4,097 characters, limit 4,096\)/],
    ['{{ "ab" is search("(") }}', /invalid regular expression "\(": missing closing \)/],
  ];
  for (const [src, re] of cases) {
    const e = renderError(() => r.renderString(`x\n\n${src}`, {}, 'bad.j2'));
    t.match(e, { template: 'bad.j2', line: 3 }, src);
    t.match(e.message, re, src);
  }
});

t.test('Python syntax is translated to RE2', async (t) => {
  const r = createRenderer({ searchPaths: [t.testdir()] });
  const cases: [string, string][] = [
    ['{{ "Key: v" | regex_replace("(?i)^(?P<k>key):\\\\s*(\\\\w+)", "\\\\g<k>=\\\\2") }}', 'Key=v'],
    ['{{ "a\\nb" is match("(?s)a.b") }} {{ "x\\nab" is match("ab", multiline=true) }} {{ "x\\nab" is search("^ab", multiline=true) }}', 'True False True'],
    ['{{ "ab\\n" is search("b\\\\Z") }} {{ "ab" is search("\\\\Ab\\\\Z") }} {{ "ab" is search("b\\\\Z") }}', 'False False True'],
    ['{{ "é" is match("\\\\u00e9") }} {{ "aaa" | regex_replace("a{,2}", "X") }}', 'True XXX'],
    ['{{ "AbC" | regex_findall("(?i:b)c|A") }} {{ "a b" | regex_replace("(?x) a \\\\s  # comment\\n b", "-") }}', "['A'] -"],
    ['{{ "ab" | regex_search("(?#note)b") }} {{ "cab" | regex_search("(?<=a)b") }}', 'b b'],
    ['{{ "x1y22" | regex_findall("(\\\\w)(\\\\d+)") }}', "[('x', '1'), ('y', '22')]"],
  ];
  for (const [src, out] of cases) t.equal(r.renderString(src, {}, 'ok.j2'), out, src);
});

t.test('built-in string helpers stay linear on long runs of whitespace', async (t) => {
  // /^\s+|\s+$/ and /\s+(\S+)$/ in V8 take quadratic time on such strings (minutes at this size).
  const r = createRenderer({ searchPaths: [t.testdir()] });
  const vars = { s: `a${' '.repeat(300_000)}b`, w: 'x '.repeat(100_000) };
  t.equal(r.renderString('{{ (s | trim | length) }} {{ ("  " ~ s ~ "  ") | trim | length }}', vars, 'trim.j2'), '300002 300002');
  t.equal(r.renderString('{{ s.rsplit(None, 1) | map("length") | list }} {{ s.strip() | length }}', vars, 'rsplit.j2'), '[1, 1] 300002');
  t.equal(r.renderString('{{ w.rsplit(None, 99998) | length }} {{ w.rsplit(None, 99998)[0] }} {{ " a  b c ".rsplit(None, 1) }}', vars, 'rsplit2.j2'), "99999 x x ['a  b', 'c']");
});
