/**
 * Inputs a host or an operator can make costly are bounded before the compiler works on them:
 * group-rule regexes run on the RE2 engine (a catastrophic pattern against a long attribute
 * answers at once; lookahead/backreferences are refused at load with file and line), and
 * agent-reported facts are fenced (long strings, long keys and overall size withheld, with a
 * warning naming the fact; a template that uses a withheld fact fails as undefined).
 */
import t from 'tap';
import { compileHost } from '../../../compiler/compile.js';
import { groupsOfHost } from '../../../compiler/repo/membership.js';
import { FACT_LIMITS, fenceFacts } from '../../../compiler/repo/sanitize-facts.js';
import { baseRepoFiles, freshDir, loadFixture } from '../../helpers/compiler-repo-fixture.js';

t.test('a catastrophic rule regex against a long inventory attribute answers at once', async (t) => {
  const files = baseRepoFiles();
  files['groups/evil.yaml'] = 'kind: custom\nmatch:\n  - attributes.rack: { regex: "^(a+)+$" }\n  - name: { regex: "^(h|h)*2$" }\n';
  files['inventory/hosts.yaml'] = files['inventory/hosts.yaml']!.replace('      rack: r7', `      rack: ${'a'.repeat(1000)}!`);
  const repo = await loadFixture(freshDir(t), files);
  t.same(repo.problems, []);
  // Under a backtracking engine this is 2^1000 steps; RE2 answers in one pass.
  t.same(groupsOfHost(repo, repo.hosts.get('h2')!, undefined).includes('evil'), true, 'h2 is in evil by its name');
  t.same(groupsOfHost(repo, repo.hosts.get('h1')!, undefined).includes('evil'), false);
});

t.test('every catastrophic class in a rule regex: nested quantifiers, overlapping alternation, huge alternation', async (t) => {
  const patterns = ['^(a+)+$', '(a|a)*b', '^((a*)*[ab]?)*c$', '^(\\w+\\s?)*$', '^(.*a){12}$', `^(?:${Array.from({ length: 40 }, (_, i) => `a${i}|a`).join('|')})+$`];
  for (const [i, p] of patterns.entries()) {
    const files = baseRepoFiles();
    files['groups/evil.yaml'] = `kind: custom\nmatch:\n  - attributes.rack: { regex: ${JSON.stringify(p)} }\n`;
    files['inventory/hosts.yaml'] = files['inventory/hosts.yaml']!.replace('      rack: r7', `      rack: "${'a'.repeat(1000)}!"`);
    const repo = await loadFixture(freshDir(t), files);
    t.same(repo.problems, [], p);
    t.equal(groupsOfHost(repo, repo.hosts.get('h2')!, undefined).includes('evil'), false, `${i}: ${p} does not match, at once`);
  }
});

t.test('rule regexes RE2 cannot run in linear time are refused at load, located', async (t) => {
  const files = baseRepoFiles();
  files['groups/lookahead.yaml'] = 'kind: custom\nmatch:\n  - name: { regex: "^h(?=1)" }\n  - attributes.rack: { regex: "(r)\\\\1" }\n';
  const repo = await loadFixture(freshDir(t), files);
  const bad = repo.problems.filter((p) => p.code === 'BAD_REGEX').map((p) => [p.file, p.line, p.message]);
  t.equal(bad.length, 2, JSON.stringify(bad));
  t.match(bad[0], ['groups/lookahead.yaml', 3, /lookahead .* is not supported; Stead matches regular expressions with RE2 semantics/]);
  t.match(bad[1], ['groups/lookahead.yaml', 4, /backreferences are not supported/]);
});

t.test('facts are fenced: size and shape bounded, what is withheld is reported', async (t) => {
  const long = 'x'.repeat(FACT_LIMITS.maxString + 1);
  const f = fenceFacts({ ok: 'short', blob: long, list: ['a', long], ['k'.repeat(300)]: 1, deep: JSON.parse('['.repeat(40) + ']'.repeat(40)) as unknown });
  t.equal(f.facts['ok'], 'short');
  t.notOk(Object.hasOwn(f.facts, 'blob'), 'a long string in a map is left out');
  t.same(f.facts['list'], ['a', null], 'a long string in a list becomes null');
  t.equal(Object.keys(f.facts).some((k) => k.length > FACT_LIMITS.maxKey), false);
  t.match(f.withheld.map((w) => w.path), ['blob', 'list.1', /^k+…$/, /^deep(\.0)+$/]);
  t.match(f.withheld[0]!.reason, /a string of 65,537 characters \(limit 65,536\)/);
  const many = fenceFacts(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, 'y'.repeat(40_000)])));
  t.equal(Object.keys(many.facts).length, 26, 'total characters bounded (1 MiB)');
  t.equal(many.withheldCount, 14);
});

t.test('a template using a withheld fact fails as undefined, and the compile says why', async (t) => {
  const files = baseRepoFiles();
  files['templates/app.conf.j2'] = 'kernel={{ facts.kernel }}\n{% if facts.blob is match("(a+)+$") %}evil{% endif %}\n';
  const repo = await loadFixture(freshDir(t), files);
  const ok = compileHost(repo, 'h1', { kernel: '6.1', blob: 'a'.repeat(1000) + '!' });
  t.ok(ok.catalog, ok.problems.map((p) => p.message).join('\n'));
  const r = compileHost(repo, 'h1', { kernel: '6.1', blob: 'a'.repeat(FACT_LIMITS.maxString + 1) });
  t.equal(r.catalog, undefined);
  t.match(r.problems.find((p) => p.code === 'FACT_WITHHELD'), { severity: 'warning', file: 'facts', path: '/blob', message: /fact blob reported by h1 is withheld from group rules and templates: a string of 65,537 characters/ });
  t.match(r.problems.find((p) => p.code === 'TEMPLATE_ERROR'), { severity: 'error', file: 'templates/app.conf.j2', line: 2, message: /has no attribute 'blob'/ });
});
