/**
 * The script audit on real parsers: a table of dangerous scripts (rule, line and column in the
 * original source) and harmless ones (quoting, comments, heredocs fed to cat), rule modes,
 * parse errors, and the bounds.
 */
import t from 'tap';
import { auditRules, auditScript, auditScriptSync, effectiveMode, PARSE_ERROR_RULE } from '../../../compiler/audit/index.js';
import { dangerous, harmless } from './audit-cases.js';

t.test('the case table has at least 40 cases each way, in both languages', async (t) => {
  t.ok(dangerous.length >= 40 && harmless.length >= 40);
  t.ok(dangerous.some((c) => c.lang === 'python') && harmless.some((c) => c.lang === 'python'));
});

t.test('every dangerous script is found, with its rule, line and column', async (t) => {
  for (const c of dangerous) {
    const v = auditScriptSync({ lang: c.lang, source: c.source });
    const f = v.findings.find((x) => x.rule === c.rule);
    const label = `${c.lang}: ${JSON.stringify(c.source)}`;
    if (!f) {
      t.fail(`${label}: no ${c.rule} finding (got ${JSON.stringify(v.findings)})`);
      continue;
    }
    t.same([f.line, f.column], c.at, `${label}: position`);
    t.equal(f.mode, auditRules.find((r) => r.id === c.rule)!.defaultMode, `${label}: default mode`);
    t.equal(v.verdict, f.mode === 'block' ? 'block' : v.findings.some((x) => x.mode === 'block') ? 'block' : 'warn', `${label}: verdict`);
    t.ok(f.message.length > 0 && f.excerpt.length > 0, `${label}: message and excerpt`);
    t.equal(v.parseError, undefined);
  }
});

t.test('every harmless script passes with no finding', async (t) => {
  for (const c of harmless) {
    const v = auditScriptSync({ lang: c.lang, source: c.source });
    t.same(v, { verdict: 'pass', findings: [] }, `${c.lang}: ${JSON.stringify(c.source)}`);
  }
});

t.test('the excerpt is the offending line of the original source, trimmed and cut at 200 characters', async (t) => {
  const v = auditScriptSync({ lang: 'shell', source: `ls\n   rm -rf / ${'x'.repeat(300)}\n` });
  t.equal(v.findings[0]!.line, 2);
  t.equal(v.findings[0]!.column, 4);
  t.equal(v.findings[0]!.excerpt.length, 200);
  t.ok(v.findings[0]!.excerpt.startsWith('rm -rf / xxx') && v.findings[0]!.excerpt.endsWith('...'));
});

t.test('columns count characters, not UTF-8 bytes', async (t) => {
  const v = auditScriptSync({ lang: 'shell', source: 'echo "héllo 😀"; rm -rf /' });
  t.same([v.findings[0]!.line, v.findings[0]!.column], [1, 'echo "héllo 😀"; '.length + 1]);
  const n = auditScriptSync({ lang: 'shell', source: "echo 'é'; sh -c 'rm -rf /'" });
  t.same([n.findings[0]!.line, n.findings[0]!.column], [1, "echo 'é'; sh -c '".length + 1]);
});

t.test('rule settings: off drops a rule, scan logs it (warn), block refuses; the last setting wins', async (t) => {
  const src = 'rm -rf /\nreboot';
  t.same(auditScriptSync({ lang: 'shell', source: src }).findings.map((f) => [f.rule, f.mode]), [['rm-root', 'block'], ['shutdown', 'scan']]);
  const off = auditScriptSync({ lang: 'shell', source: src }, [{ rule: 'rm-root', mode: 'off' }]);
  t.equal(off.verdict, 'warn');
  t.same(off.findings.map((f) => f.rule), ['shutdown']);
  const scan = auditScriptSync({ lang: 'shell', source: src }, [{ rule: 'rm-root', mode: 'scan' }]);
  t.equal(scan.verdict, 'warn');
  t.same(scan.findings.map((f) => f.mode), ['scan', 'scan']);
  const block = auditScriptSync({ lang: 'shell', source: 'reboot' }, [{ rule: 'shutdown', mode: 'block' }]);
  t.equal(block.verdict, 'block');
  const allOff = auditScriptSync({ lang: 'shell', source: src }, [{ rule: 'rm-root', mode: 'block' }, { rule: 'rm-root', mode: 'off' }, { rule: 'shutdown', mode: 'off' }]);
  t.same(allOff, { verdict: 'pass', findings: [] });
  t.equal(effectiveMode(PARSE_ERROR_RULE, [{ rule: PARSE_ERROR_RULE, mode: 'off' }]), 'block', 'parse-error cannot be turned off');
  t.equal(effectiveMode('no-such-rule', []), 'block');
});

t.test('a script that does not parse is blocked with parse-error and its line, never passed', async (t) => {
  const cases: [ 'shell' | 'python', string, number][] = [
    ['shell', 'echo hi\nif then fi', 2],
    ['shell', 'echo "unterminated\nrm -rf /', 1],
    ['shell', 'cat <<EOF\nno end', 1],
    ['shell', 'f() {\n  echo\n', 1],
    ['python', 'print(1)\ndef f(:\n  pass', 2],
    ['python', 'x = (1,\n', 2],
    ['python', 'if True\n  print(1)', 1],
  ];
  for (const [lang, source, line] of cases) {
    const v = auditScriptSync({ lang, source });
    t.equal(v.verdict, 'block', source);
    t.equal(v.parseError?.line, line, `${JSON.stringify(source)}: line`);
    t.match(v.parseError?.message, /syntax error/);
    t.same(v.findings.map((f) => [f.rule, f.mode]), [[PARSE_ERROR_RULE, 'block']]);
    t.same(auditScriptSync({ lang, source }, [{ rule: PARSE_ERROR_RULE, mode: 'off' }]).verdict, 'block', 'cannot be turned off');
  }
});

t.test('a nested script that does not parse is a parse-error finding (block) at the nested text', async (t) => {
  const v = auditScriptSync({ lang: 'shell', source: "ls\nsh -c 'if then'" });
  t.equal(v.verdict, 'block');
  t.equal(v.parseError, undefined);
  t.same(v.findings.map((f) => [f.rule, f.line]), [[PARSE_ERROR_RULE, 2]]);
  const p = auditScriptSync({ lang: 'python', source: 'import os\nexec("def (")' });
  t.same(p.findings.map((f) => f.rule), [PARSE_ERROR_RULE]);
  const q = auditScriptSync({ lang: 'shell', source: "python3 -c 'def ('" });
  t.same(q.findings.map((f) => f.rule), [PARSE_ERROR_RULE]);
});

t.test('bounds: size, node count, nesting depth, nested scripts and time are refused, not passed', async (t) => {
  const big = auditScriptSync({ lang: 'shell', source: `#${'x'.repeat(1024 * 1024)}` });
  t.equal(big.verdict, 'block');
  t.match(big.parseError?.message, /bytes; the audit reads at most 1048576/);

  const many = auditScriptSync({ lang: 'shell', source: 'echo a\n'.repeat(200) }, [], { limits: { maxNodes: 100 } });
  t.match(many.parseError?.message, /more than 100 syntax nodes/);

  const deep = auditScriptSync({ lang: 'shell', source: `${'( '.repeat(40)}ls${' )'.repeat(40)}` }, [], { limits: { maxDepth: 30 } });
  t.match(deep.parseError?.message, /nests deeper than 30/);
  const deepPy = auditScriptSync({ lang: 'python', source: `x = ${'['.repeat(60)}1${']'.repeat(60)}` }, [], { limits: { maxDepth: 30 } });
  t.match(deepPy.parseError?.message, /nests deeper than 30/);

  let inner = 'rm -rf /';
  for (let i = 0; i < 6; i++) inner = `eval ${JSON.stringify(inner)}`;
  const nested = auditScriptSync({ lang: 'shell', source: inner });
  t.equal(nested.verdict, 'block');
  t.match(nested.parseError?.message, /nested more than 4 deep/);

  let clock = 0;
  const slow = auditScriptSync({ lang: 'shell', source: 'echo a\n'.repeat(2000) }, [], { now: () => (clock += 10), limits: { timeBudgetMs: 50 } });
  t.match(slow.parseError?.message, /longer than its budget of 50 ms/);

  const bad = auditScriptSync({ lang: 'perl' as never, source: 'x' });
  t.match(bad.parseError?.message, /unknown script language/);
  t.match(auditScriptSync({ lang: 'shell', source: 42 as never }).parseError?.message, /must be a string/);
});

t.test('auditScript is the async face of the same audit', async (t) => {
  t.same(await auditScript({ lang: 'shell', source: 'rm -rf /' }), auditScriptSync({ lang: 'shell', source: 'rm -rf /' }));
  t.same(await auditScript({ lang: 'python', source: 'print(1)' }), { verdict: 'pass', findings: [] });
});

t.test('the rule catalogue: unique ids, a description, the destructive rules block by default', async (t) => {
  const ids = auditRules.map((r) => r.id);
  t.equal(new Set(ids).size, ids.length);
  for (const id of ['rm-root', 'rm-empty-var', 'mkfs', 'dd-block-device', 'fork-bomb', 'chmod-root', 'download-exec', 'find-delete-root', 'truncate-critical-file', 'write-block-device']) {
    t.equal(auditRules.find((r) => r.id === id)?.defaultMode, 'block', id);
  }
  t.equal(auditRules.find((r) => r.id === 'shutdown')?.defaultMode, 'scan');
  t.equal(auditRules.find((r) => r.id === 'iptables-flush')?.defaultMode, 'scan');
  t.ok(auditRules.every((r) => r.description.length > 20 && r.langs.length > 0));
  t.ok(Object.isFrozen(auditRules));
});
