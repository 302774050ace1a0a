import t from 'tap';
import { compileGuard, runReportSchema, type RunReport } from '../../schemas/index.js';

const guard = compileGuard<RunReport>(runReportSchema);
const report = (runId: string): unknown => ({
  runId, host: 'web-1', catalogId: 'c', revision: 'r', mode: 'apply', startedAt: '2026-11-26T00:00:00Z', durationMs: 1,
  outcome: 'in-sync', counts: { total: 0, inSync: 0, changed: 0, wouldChange: 0, failed: 0, skipped: 0, corrective: 0 }, resources: [],
});

t.test('run ids are safe to use as a path segment or a file name', async (t) => {
  for (const ok of ['mwwx7ttp-9dc9f554bad0', 'a.b_c-1', '...', 'x..y']) t.ok(guard.is(report(ok)), `${ok} accepted`);
  for (const bad of ['.', '..', '../x', 'a/b', 'a%2fb', '', 'x'.repeat(129), 'a\u0000b']) t.notOk(guard.is(report(bad)), `${JSON.stringify(bad)} refused`);
});
