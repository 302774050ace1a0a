/**
 * The audit routes on a real server over loopback: POST /audit/check answers the verdict of the
 * case table, GET/PUT /audit/rules read and change the stored settings (admin only, persisted
 * in the store, reflected by the next check), and bad bodies are refused.
 */
import t from 'tap';
import { compileGuard } from '../../../schemas/validate.js';
import { auditRulesViewSchema, auditVerdictSchema } from '../../../schemas/api/audit.js';
import { startServer } from '../../helpers/server-fixture.js';
import { dangerous, harmless } from '../../compiler/audit/audit-cases.js';

const verdictGuard = compileGuard(auditVerdictSchema);
const rulesGuard = compileGuard(auditRulesViewSchema);

t.test('POST /api/v1/audit/check: verdicts with rule, line and column; read role is enough', async (t) => {
  const fx = await startServer(t);
  const viewer = await fx.token('readonly', 'viewer');
  for (const c of dangerous.slice(0, 12)) {
    const r = await fx.json('POST', '/api/v1/audit/check', { lang: c.lang, source: c.source }, viewer);
    t.equal(r.status, 200);
    const v = r.json();
    t.same(verdictGuard.check(v), [], 'matches the verdict schema');
    const f = v.findings.find((x: { rule: string }) => x.rule === c.rule);
    t.same([f?.line, f?.column], c.at, `${c.source}: ${c.rule} at ${c.at.join(':')}`);
  }
  for (const c of harmless.slice(0, 6)) {
    const r = await fx.json('POST', '/api/v1/audit/check', { lang: c.lang, source: c.source }, viewer);
    t.same(r.json(), { verdict: 'pass', findings: [] }, c.source);
  }
  const bad = await fx.json('POST', '/api/v1/audit/check', { lang: 'shell', source: 'if then' }, viewer);
  t.equal(bad.json().verdict, 'block');
  t.equal(bad.json().parseError.line, 1);
  t.equal((await fx.json('POST', '/api/v1/audit/check', { lang: 'perl', source: 'x' })).status, 400, 'unknown language');
  t.equal((await fx.json('POST', '/api/v1/audit/check', { lang: 'shell' })).status, 400, 'no source');
  t.equal((await fx.json('POST', '/api/v1/audit/check', { lang: 'shell', source: 'ls', extra: 1 })).status, 400, 'unknown property');
  t.equal((await fx.json('POST', '/api/v1/audit/check', { lang: 'shell', source: 'x'.repeat(1048577) })).status, 400, 'more than 1 MiB');
  t.equal((await fx.json('POST', '/api/v1/audit/check', { lang: 'shell', source: 'ls' }, null)).status, 401, 'no token');
});

t.test('GET/PUT /api/v1/audit/rules: defaults, admin-only changes, persisted, applied to the next check', async (t) => {
  const fx = await startServer(t);
  const viewer = await fx.token('readonly', 'viewer');
  const first = await fx.json('GET', '/api/v1/audit/rules', undefined, viewer);
  t.equal(first.status, 200);
  t.same(rulesGuard.check(first.json()), []);
  const rm = first.json().rules.find((r: { id: string }) => r.id === 'rm-root');
  t.same([rm.mode, rm.defaultMode], ['block', 'block']);
  t.equal(first.json().updatedBy, undefined);

  t.equal((await fx.json('PUT', '/api/v1/audit/rules', { rules: [{ rule: 'rm-root', mode: 'off' }] }, viewer)).status, 403, 'readonly cannot change rules');
  t.equal((await fx.json('PUT', '/api/v1/audit/rules', { rules: [{ rule: 'no-such-rule', mode: 'off' }] })).status, 400);
  const pe = await fx.json('PUT', '/api/v1/audit/rules', { rules: [{ rule: 'parse-error', mode: 'off' }] });
  t.equal(pe.status, 400);
  t.match(pe.json().error.message, /parse-error cannot be set/);
  t.equal((await fx.json('PUT', '/api/v1/audit/rules', { rules: [{ rule: 'rm-root', mode: 'maybe' }] })).status, 400);

  const put = await fx.json('PUT', '/api/v1/audit/rules', { rules: [{ rule: 'rm-root', mode: 'scan' }, { rule: 'shutdown', mode: 'block' }, { rule: 'shutdown', mode: 'off' }] });
  t.equal(put.status, 200);
  t.same(rulesGuard.check(put.json()), []);
  t.equal(put.json().updatedBy, 'admin');
  t.match(put.json().updatedAt, /^\d{4}-\d\d-\d\dT/);
  const modes = Object.fromEntries(put.json().rules.map((r: { id: string; mode: string }) => [r.id, r.mode]));
  t.same([modes['rm-root'], modes['shutdown'], modes['mkfs']], ['scan', 'off', 'block']);

  const again = await fx.json('GET', '/api/v1/audit/rules', undefined, viewer);
  t.same(again.json(), put.json(), 'stored');
  const v = (await fx.json('POST', '/api/v1/audit/check', { lang: 'shell', source: 'rm -rf /\nreboot\nmkfs /dev/sda' })).json();
  t.equal(v.verdict, 'block');
  t.same(v.findings.map((f: { rule: string; mode: string }) => `${f.rule}:${f.mode}`), ['rm-root:scan', 'mkfs:block']);
  const warn = (await fx.json('POST', '/api/v1/audit/check', { lang: 'shell', source: 'rm -rf /' })).json();
  t.equal(warn.verdict, 'warn');

  const rules = await fx.server.services.audit.rules();
  t.same(rules.find((r) => r.rule === 'rm-root'), { rule: 'rm-root', mode: 'scan' });
  t.equal(rules.length, first.json().rules.length, 'every rule, effective');

  t.equal((await fx.json('PUT', '/api/v1/audit/rules', { rules: [] })).status, 200);
  t.equal((await fx.json('POST', '/api/v1/audit/check', { lang: 'shell', source: 'rm -rf /' })).json().verdict, 'block', 'back to the defaults');
});

t.test('the audit routes are in the OpenAPI document', async (t) => {
  const fx = await startServer(t);
  const doc = (await fx.json('GET', '/api/v1/openapi.json', undefined, null)).json();
  t.ok(doc.paths['/api/v1/audit/check']?.post);
  t.ok(doc.paths['/api/v1/audit/rules']?.get);
  t.ok(doc.paths['/api/v1/audit/rules']?.put);
});
