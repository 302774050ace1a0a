/**
 * auditScript runs the audit in a worker thread under a hard time limit: a script that takes too
 * long is refused (block), the worker is replaced, and the next audit runs normally.
 */
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditPool, auditScript, closeAuditWorker } from '../../../compiler/audit/index.js';

t.test('a too-slow audit is refused and the pool recovers for the next one', async (t) => {
  const pool = new AuditPool({ timeoutMs: 300 });
  t.teardown(() => pool.close());
  const big = 'if [ -d /x ]; then\n  rm -rf "/srv/$i" && echo "done $i" | tee -a /var/log/x\nfi\n'.repeat(800);
  const slow = pool.audit({ lang: 'shell', source: big }, []);
  const next = pool.audit({ lang: 'shell', source: 'rm -rf /' }, []);
  const v = await slow;
  t.equal(v.verdict, 'block');
  t.match(v.parseError?.message, /took longer than 300 ms/);
  // The replacement worker loads the parser again; give it the default limit.
  const p2 = new AuditPool();
  t.teardown(() => p2.close());
  t.same((await p2.audit({ lang: 'shell', source: 'rm -rf /' }, [])).findings.map((f) => f.rule), ['rm-root']);
  const n = await next;
  t.equal(n.verdict, 'block', 'the queued audit is answered (refused in time, or audited), never lost');
});

t.test('a worker that fails to start refuses the script; close refuses what is queued', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-pool-'));
  const broken = join(dir, 'broken.mjs');
  writeFileSync(broken, 'throw new Error("no parser here");\n');
  const pool = new AuditPool({ workerPath: broken });
  const v = await pool.audit({ lang: 'shell', source: 'ls' }, []);
  t.equal(v.verdict, 'block');
  t.match(v.parseError?.message, /the audit (failed|worker stopped)/);
  const hang = join(dir, 'hang.mjs');
  writeFileSync(hang, 'setInterval(() => {}, 1000);\n');
  const p2 = new AuditPool({ workerPath: hang });
  const a = p2.audit({ lang: 'shell', source: 'ls' }, []);
  const b = p2.audit({ lang: 'shell', source: 'ls' }, []);
  await p2.close();
  t.match((await a).parseError?.message, /stopped/);
  t.match((await b).parseError?.message, /stopped/);
  await pool.close();
});

t.test('auditScript answers from the shared worker; bad input is refused before any worker', async (t) => {
  t.teardown(closeAuditWorker);
  const v = await auditScript({ lang: 'shell', source: "sh -c 'rm -rf /'" });
  t.same(v.findings.map((f) => [f.rule, f.line, f.column]), [['rm-root', 1, 8]]);
  t.match((await auditScript({ lang: 'shell', source: 'x'.repeat(1024 * 1024 + 1) })).parseError?.message, /bytes/);
  t.match((await auditScript({ lang: 'ruby' as never, source: 'x' })).parseError?.message, /unknown script language/);
  t.same(await auditScript({ lang: 'python', source: 'print(1)' }), { verdict: 'pass', findings: [] });
});
