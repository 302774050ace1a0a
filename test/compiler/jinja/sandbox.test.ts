/**
 * security.md T4: rendering in child processes. Runaway templates (an endless loop nest, a
 * catastrophic regex, memory exhaustion, deep recursion, huge output) fail that render with an
 * error naming the template while the parent's event loop keeps running; children get an empty
 * environment; a killed child is replaced. Needs the compiled worker: `npx tsc -p tsconfig.json`.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { RenderSandbox, renderInSandbox } from '../../../compiler/jinja/sandbox.js';

const worker = fileURLToPath(new URL('../../../dist/compiler/jinja/sandbox-worker.js', import.meta.url));

if (!existsSync(worker)) {
  t.test('sandbox', { skip: `compiled worker missing at ${worker}: run npx tsc -p tsconfig.json first` }, async () => {});
} else {
  t.test('renders files and inline sources, with TemplateError-shaped failures', async (t) => {
    const dir = t.testdir({ 'a.j2': '{% include "b.j2" %}:{{ x }}\n', 'b.j2': 'B' });
    const results = await renderInSandbox(
      [
        { searchPaths: [dir], relPath: 'a.j2', vars: { x: 1.5 }, name: 'a.j2' },
        { searchPaths: [dir], source: '{{ y | default("d") }}', vars: {}, name: 'inline' },
        { searchPaths: [dir], source: '\n{{ nope }}', vars: {}, name: 'undef.j2' },
        { searchPaths: [dir], source: '{{ range.constructor("return process")() }}', vars: {}, name: 'evil.j2' },
        { searchPaths: [dir], relPath: '../etc/passwd', vars: {}, name: 'escape' },
      ],
      { workerPath: worker },
    );
    t.same(results[0], { ok: true, output: 'B:1.5\n' });
    t.same(results[1], { ok: true, output: 'd' });
    t.match(results[2], { ok: false, error: { code: 'TEMPLATE_ERROR', kind: 'UNDEFINED', template: 'undef.j2', line: 2 } });
    t.match(results[3], { ok: false, error: { kind: 'SECURITY' } });
    t.match(results[4], { ok: false, error: { kind: 'SECURITY' } });
  });

  t.test('runaway renders are stopped and the parent stays responsive', async (t) => {
    const sb = new RenderSandbox({ workerPath: worker, poolSize: 2, timeoutMs: 1500, maxOldSpaceMb: 64, limits: { maxIterations: 1e12, maxRange: 1e9, maxOutput: 1e9 } });
    t.teardown(() => sb.close());
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const jobs = [
      { searchPaths: ['/'], source: '{% for i in range(1000000000) %}{% for j in range(1000000000) %}{% endfor %}{% endfor %}', name: 'loops.j2' },
      // (A catastrophic regex is no runaway any more: RE2 answers at once, see regex-budget.test.ts.)
      { searchPaths: ['/'], source: '{% set xs = [] %}{% for i in range(1000000) %}{{ xs.append("x" * 1000000 ~ i) }}{% endfor %}', name: 'memory.j2' },
      { searchPaths: ['/'], source: '{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}', name: 'recursion.j2' },
    ];
    const results = await sb.renderAll(jobs);
    clearInterval(timer);
    t.ok(ticks > 0, `the parent's event loop ran during the renders (${ticks} ticks)`);
    for (const [i, r] of results.entries()) {
      t.equal(r.ok, false, `${jobs[i]?.name} failed`);
      if (!r.ok) {
        t.equal(r.error.kind, 'LIMIT', `${jobs[i]?.name}: ${r.error.message}`);
        t.equal(r.error.template, jobs[i]?.name);
      }
    }
    // The pool replaced the killed children and still works.
    t.same(await sb.render({ searchPaths: ['/'], source: '{{ 6 * 7 }}', name: 'after.j2' }), { ok: true, output: '42' });
  });

  t.test('children get an empty environment and a heap cap', async (t) => {
    const dir = t.testdir();
    const probe = join(dir, 'probe.mjs');
    writeFileSync(probe, 'process.on("message", (m) => process.send({ id: m.id, result: { ok: true, output: JSON.stringify({ env: process.env, argv: process.execArgv, cwd: process.cwd() }) } }));\n');
    process.env.STEAD_SANDBOX_CANARY = 'canary-4c1f';
    t.teardown(() => {
      delete process.env.STEAD_SANDBOX_CANARY;
    });
    const [r] = await renderInSandbox([{ searchPaths: [dir], source: '', name: 'probe' }], { workerPath: probe, maxOldSpaceMb: 96 });
    t.ok(r?.ok);
    const seen = JSON.parse(r?.ok ? r.output : '{}') as { env: Record<string, string>; argv: string[]; cwd: string };
    t.notOk(JSON.stringify(seen.env).includes('canary-4c1f'), 'no parent environment in the child');
    // tap's process-info plugin hooks fork() to add its own _TAPJS_* variables; nothing else may appear.
    t.same(Object.keys(seen.env).filter((k) => !k.startsWith('_TAPJS_') && k !== 'NODE_OPTIONS'), [], 'environment is empty');
    t.ok(seen.argv.includes('--max-old-space-size=96'), 'heap cap passed');
    t.equal(seen.cwd, '/');
  });

  t.test('abort and close', async (t) => {
    const sb = new RenderSandbox({ workerPath: worker, poolSize: 1, timeoutMs: 60_000 });
    const ac = new AbortController();
    const p = sb.render({ searchPaths: ['/'], source: '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}', name: 'slow.j2' }, ac.signal);
    setImmediate(() => ac.abort(new Error('stop')));
    await t.rejects(p, { message: 'stop' });
    t.same(await sb.render({ searchPaths: ['/'], source: 'ok', name: 'x' }), { ok: true, output: 'ok' });
    const pending = sb.render({ searchPaths: ['/'], source: '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}', name: 'slow.j2' });
    const rejected = t.rejects(pending, { code: 'SANDBOX_CLOSED' });
    await sb.close();
    await rejected;
    await t.rejects(sb.render({ searchPaths: ['/'], source: 'x', name: 'x' }), { code: 'SANDBOX_CLOSED' });
  });
}
