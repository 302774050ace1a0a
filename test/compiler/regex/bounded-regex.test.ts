/**
 * The compiler's one regex engine (RE2 semantics, compiler/regex/bounded-regex.ts): catastrophic
 * patterns for a backtracking engine answer correctly and are charged a bounded amount of work;
 * constructs RE2 cannot run in linear time are refused by name; patterns, subjects and the work
 * of a budget are bounded, with errors that say so.
 */
import t from 'tap';
import { BoundedRegex, REGEX_LIMITS, RegexBudget, RegexError } from '../../../compiler/regex/bounded-regex.js';

/** Patterns that take exponential (or high-polynomial) time in a backtracking engine on `subject`. */
const CATASTROPHIC: { name: string; pattern: string; subject: string; expected: boolean }[] = [
  { name: 'nested plus (a+)+$', pattern: '^(a+)+$', subject: 'a'.repeat(5000) + '!', expected: false },
  { name: 'overlapping alternation (a|a)*b', pattern: '(a|a)*b', subject: 'a'.repeat(5000), expected: false },
  { name: 'nested star (a*)*$', pattern: '^(a*)*$', subject: 'a'.repeat(5000) + 'b', expected: false },
  { name: 'words (\\w+\\s?)*$', pattern: '^(\\w+\\s?)*$', subject: 'word '.repeat(1000) + '!', expected: false },
  { name: 'repeated greedy (.*a){12}', pattern: '^(.*a){12}$', subject: 'a'.repeat(3000) + 'b', expected: false },
  { name: 'email-like', pattern: '^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$', subject: 'a'.repeat(3000) + '!', expected: false },
  {
    name: 'huge alternation',
    pattern: `^(${Array.from({ length: 300 }, (_, i) => `w${i}x|w${i}`).join('|')})+$`,
    subject: 'w1x'.repeat(2000) + '!',
    expected: false,
  },
];

/** The RegexError `f` throws. */
function thrown(f: () => unknown): RegexError {
  try {
    f();
  } catch (e) {
    if (e instanceof RegexError) return e;
    throw e;
  }
  throw new Error('no error');
}

t.test('catastrophic patterns answer correctly within a work bound', async (t) => {
  for (const c of CATASTROPHIC) {
    const re = BoundedRegex.compile(c.pattern);
    const budget = new RegexBudget(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    t.equal(re.test(c.subject, budget), c.expected, `${c.name}: test`);
    t.equal(re.find(c.subject, budget) !== null, c.expected, `${c.name}: find`);
    t.equal([...re.findAll(c.subject, budget)].length > 0, c.expected, `${c.name}: findAll`);
    // What was charged is linear: subject length × program size, per call (3 calls; findAll
    // scans each position at most once more when nothing matches).
    t.ok(budget.used <= 3 * (c.subject.length + 1) * re.programSize, `${c.name}: charged ${budget.used}`);
  }
});

t.test('each call is refused before it runs when it would exceed the budget', async (t) => {
  const re = BoundedRegex.compile('^(a+)+$');
  const subject = 'a'.repeat(10_000) + '!';
  const cost = (subject.length + 1) * re.programSize;
  const budget = new RegexBudget(cost * 2);
  t.equal(re.test(subject, budget), false);
  t.equal(re.test(subject, budget), false);
  t.match(thrown(() => re.test(subject, budget)), { kind: 'LIMIT', message: /work limit reached: matching "\^\(a\+\)\+\$"/ });
  t.equal(budget.used, cost * 2, 'the refused call did no work');
  budget.reset();
  t.equal(re.test(subject, budget), false, 'a reset budget runs again');
});

t.test('the default budget stops repeated work on a large string', async (t) => {
  const re = BoundedRegex.compile('^(\\w+\\s?)*$');
  const subject = 'a'.repeat(60_000) + '!';
  const budget = new RegexBudget(REGEX_LIMITS.work, Number.MAX_SAFE_INTEGER); // units only: no clock
  let calls = 0;
  t.throws(() => {
    for (;;) {
      re.test(subject, budget);
      calls++;
    }
  }, /work limit reached/);
  t.equal(calls, Math.floor(REGEX_LIMITS.work / ((subject.length + 1) * re.programSize)), `calls before the limit: ${calls}`);
});

t.test('subjects and patterns are bounded', async (t) => {
  const budget = new RegexBudget();
  t.match(thrown(() => BoundedRegex.compile('a'.repeat(REGEX_LIMITS.maxPattern + 1))), { kind: 'LIMIT', message: /too long/ });
  t.throws(() => BoundedRegex.compile('a').test('a'.repeat(REGEX_LIMITS.maxSubject + 1), budget), /over the limit of 1,048,576/);
  t.match(thrown(() => BoundedRegex.compile('(?:(?:a{100}){100}){100}')), { message: /repeat count/ });
  t.throws(() => BoundedRegex.compile('a{1001}'), /repeat count over 1000/);
});

t.test('constructs without a linear-time match are refused by name', async (t) => {
  const cases: [string, RegExp][] = [
    ['(a)\\1', /backreferences are not supported/],
    ['a(?=b)', /lookahead/],
    ['a(?!b)', /lookahead/],
    ['(?>a+)b', /atomic groups/],
    ['a++', /possessive/],
    ['(', /invalid regular expression "\(": missing closing \)/],
  ];
  for (const [p, re] of cases) {
    t.match(thrown(() => BoundedRegex.compile(p)).message, re, p);
  }
  // Lookbehind without captures runs in linear time and is supported.
  const budget = new RegexBudget();
  t.equal(BoundedRegex.compile('(?<=a)b').find('cb ab', budget)?.index, 4);
  t.equal(BoundedRegex.compile('(?<!a)b').find('ab cb', budget)?.index, 4);
});

t.test('matches: groups, names, positions in UTF-16 and Python empty-match iteration', async (t) => {
  const budget = new RegexBudget();
  const m = BoundedRegex.compile('(?P<k>\\w+)=(\\d+)?').find('😀 key=', budget);
  t.same({ index: m?.index, end: m?.end, groups: m?.groups, k: m?.named['k'] }, { index: 3, end: 7, groups: ['key=', 'key', undefined], k: 'key' });
  const all = [...BoundedRegex.compile('x*').findAll('abxd', budget)].map((x) => `${x.index}:${x.groups[0]}`);
  t.same(all, ['0:', '1:', '2:x', '3:', '4:'], "Python 3.7+: re.sub('x*', '-', 'abxd') == '-a-b--d-'");
  t.same([...BoundedRegex.compile('').findAll('😀a', budget)].map((x) => x.index), [0, 2, 3], 'empty matches step over surrogate pairs');
  t.equal(BoundedRegex.compile('é', { ignoreCase: true }).test('É', budget), true);
  t.equal(BoundedRegex.compile('^b', { multiline: true }).test('a\nb', budget), true);
  t.equal(BoundedRegex.compile('a.b', { dotAll: true }).test('a\nb', budget), true);
});
