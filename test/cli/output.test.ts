/** Human output of runs and progress, and the exit-code rule, on real report values. */
import { Writable } from 'node:stream';
import t from 'tap';
import { exitCode } from '../../cli/commands/apply.js';
import { createProgress } from '../../cli/output/progress.js';
import { formatStatus, formatSummary, shortValue } from '../../cli/output/run-report-text.js';
import type { ResourceStatus, RunReport } from '../../schemas/index.js';

function sink(isTTY: boolean): Writable & { text: string; isTTY: boolean } {
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      w.text += chunk.toString();
      cb();
    },
  }) as Writable & { text: string; isTTY: boolean };
  w.text = '';
  w.isTTY = isTTY;
  return w;
}

const report = (over: Partial<Omit<RunReport, 'counts'>> & { counts?: Partial<RunReport['counts']> }): RunReport => ({
  runId: 'run-1',
  host: 'h',
  catalogId: 'a'.repeat(64),
  revision: 'r1',
  mode: 'apply',
  startedAt: '2026-11-26T00:00:00.000Z',
  durationMs: 1234,
  outcome: 'changed',
  resources: [],
  ...over,
  counts: { total: 10, inSync: 8, changed: 1, wouldChange: 0, failed: 1, skipped: 0, corrective: 1, ...over.counts },
});

t.test('one line per resource, changes and a trimmed diff under it', async (t) => {
  const diff = ['--- /etc/motd', '+++ /etc/motd', '@@ -1,50 +1,50 @@', ...Array.from({ length: 50 }, (_, i) => `-line ${i}`)].join('\n');
  const s: ResourceStatus = {
    id: 'file:/etc/motd',
    type: 'file',
    state: 'changed',
    changes: [
      { property: 'content', before: `sha256:${'1'.repeat(64)}`, after: `sha256:${'2'.repeat(64)}`, corrective: true },
      { property: 'mode', before: '0600', after: '0644', corrective: false },
    ],
    diff: `Index: /etc/motd\n===================================================================\n${diff}\n`,
    durationMs: 3,
  };
  const lines = formatStatus(s, { maxDiffLines: 5 });
  t.same(lines, [
    'changed      file:/etc/motd',
    '    content sha256:11111111 -> sha256:22222222 (drift)',
    '    mode: 0600 -> 0644',
    '      --- /etc/motd',
    '      +++ /etc/motd',
    '      @@ -1,50 +1,50 @@',
    '      -line 0',
    '      -line 1',
    '      ... 48 more diff lines (the full diff is in the --json report)',
  ]);
  t.same(formatStatus({ ...s, state: 'in-sync', changes: [] }), [], 'in-sync prints nothing');
  const failed = formatStatus({ id: 'exec:x', type: 'exec', state: 'failed', changes: [], error: { code: 'EXEC_FAILED', message: 'exited 3' }, output: 'a\nb\n', durationMs: 1 });
  t.same(failed, ['failed       exec:x: EXEC_FAILED: exited 3', '      | a', '      | b']);
  const colored = formatStatus(s, { color: true, maxDiffLines: 4 });
  t.match(colored[0], /\u001b\[32mchanged/);
  t.match(colored[6], /\u001b\[31m-line 0/);
});

t.test('values are shortened and quoted only when needed', async (t) => {
  t.equal(shortValue(undefined), '(absent)');
  t.equal(shortValue('present'), 'present');
  t.equal(shortValue('two words'), '"two words"');
  t.equal(shortValue([1, 2]), '[1,2]');
  t.equal(shortValue('x'.repeat(100)).length, 60);
});

t.test('summary line', async (t) => {
  t.equal(
    formatSummary(report({ outcome: 'failed' })),
    `Failed: changed 1, failed 1, skipped 0, in sync 8 (of 10 resources; 1 corrective (drift)) in 1.23 s; run run-1, revision r1, catalog ${'a'.repeat(12)}`,
  );
  t.match(formatSummary(report({ mode: 'noop', outcome: 'would-change', counts: { wouldChange: 2, changed: 0, failed: 0, corrective: 0 } })), /^Would change: would change 2, failed 0, skipped 0, in sync 8 \(of 10 resources\) in 1\.23 s; noop run run-1/);
});

t.test('exit codes: plain and detailed', async (t) => {
  const none = report({ outcome: 'in-sync', counts: { changed: 0, failed: 0, corrective: 0 } });
  const changed = report({ counts: { failed: 0 } });
  const failed = report({ outcome: 'failed', counts: { changed: 0 } });
  const both = report({ outcome: 'failed' });
  const wouldChange = report({ mode: 'noop', outcome: 'would-change', counts: { changed: 0, wouldChange: 3, failed: 0 } });
  const skippedOnly = report({ outcome: 'failed', counts: { changed: 0, failed: 0, skipped: 2 } });
  t.same([none, changed, failed, both, wouldChange, skippedOnly].map((r) => exitCode(r, true)), [0, 2, 4, 6, 2, 4]);
  t.same([none, changed, failed, both, wouldChange, skippedOnly].map((r) => exitCode(r, false)), [0, 0, 1, 1, 0, 1]);
});

t.test('progress: a line every N resources off a terminal, a counter on one, nothing for small runs', async (t) => {
  const plain = sink(false);
  const p = createProgress(plain, 2500, { every: 1000 });
  for (let i = 0; i < 2500; i++) p.tick(`file:/f${i}`);
  p.done();
  t.equal(plain.text, 'progress: 1000/2500 resources\nprogress: 2000/2500 resources\n');

  const small = sink(false);
  const q = createProgress(small, 10);
  q.tick('x');
  q.done();
  t.equal(small.text, '');

  const tty = sink(true);
  let now = 0;
  const r = createProgress(tty, 100, { now: () => now });
  for (let i = 1; i <= 100; i++) {
    now += 30; // a redraw at most every 100 ms
    r.tick(`file:/f${i}`);
  }
  r.done();
  const draws = tty.text.split('\r\u001b[K').filter(Boolean);
  t.ok(draws.length >= 25 && draws.length <= 35, `throttled redraws (${draws.length})`);
  t.match(draws[draws.length - 1], /^\[100\/100\] file:\/f100$/, 'the last count is drawn');
  t.ok(tty.text.endsWith('\r\u001b[K'), 'the counter line is cleared at the end');
});
