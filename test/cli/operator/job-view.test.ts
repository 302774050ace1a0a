/** What the CLI prints of a job: the --wait --json object, success, progress, the human view; and the wait loop. */
import t from 'tap';
import { OperatorError, operatorExitCodes } from '../../../cli/operator/errors.js';
import { asJobView, formatJob, jobSucceeded, progressLine, waitResult, type JobView } from '../../../cli/operator/job-view.js';
import { cell, inert, jsonText, table } from '../../../cli/operator/output.js';
import { waitForJob } from '../../../cli/operator/wait.js';

const job = (over: Partial<JobView> = {}): JobView => ({
  id: 'j1',
  name: 'uptime',
  state: 'succeeded',
  createdBy: 'admin',
  createdAt: '2026-12-06T10:00:00.000Z',
  targets: 'group:web',
  dryRun: false,
  steps: [{ index: 0, name: 'script', kind: 'script', state: 'succeeded', counts: { succeeded: 2 } }],
  hosts: [
    { host: 'web-1', state: 'succeeded', exitCode: 0, stdout: 'up 3 days\n', stderr: '' },
    { host: 'web-2', state: 'succeeded', exitCode: 0, stdout: 'up 9 days\n' },
  ],
  ...over,
});

t.test('the --wait --json object has exactly id, state and hosts[host, state, exitCode, stdout, stderr]', async (t) => {
  const r = waitResult(job({ hosts: [{ host: 'a', state: 'failed', exitCode: 3, stdout: 'o', stderr: 'e' }, { host: 'b', state: 'unreachable' }] }));
  t.same(Object.keys(r), ['id', 'state', 'hosts']);
  t.same(r.hosts, [
    { host: 'a', state: 'failed', exitCode: 3, stdout: 'o', stderr: 'e' },
    { host: 'b', state: 'unreachable', exitCode: null, stdout: '', stderr: '' },
  ]);
});

t.test('success means every host succeeded, and at least one', async (t) => {
  t.ok(jobSucceeded(job()));
  t.notOk(jobSucceeded(job({ state: 'failed' })));
  t.notOk(jobSucceeded(job({ hosts: [{ host: 'a', state: 'succeeded', exitCode: 0 }, { host: 'b', state: 'timeout', exitCode: null }] })));
  t.notOk(jobSucceeded(job({ hosts: [] })), 'no host is not a success');
  t.ok(jobSucceeded(job({ dryRun: true, hosts: [{ host: 'a', state: 'would-run' }] })), 'a dry run: would-run');
  t.notOk(jobSucceeded(job({ hosts: [{ host: 'a', state: 'would-run' }] })), 'would-run outside a dry run is not success');
});

t.test('asJobView refuses what is not a job view', async (t) => {
  for (const [v, why] of [
    [null, 'not an object'],
    [{ state: 'x' }, 'no id'],
    [{ id: 'j' }, 'no state'],
    [{ id: 'j', state: 's', hosts: {} }, 'hosts is not a list'],
    [{ id: 'j', state: 's', hosts: [{ host: 'a' }] }, 'a host without host or state'],
    [{ id: 'j', state: 's', hosts: [{ host: 'a', state: 's', exitCode: '0' }] }, 'exitCode'],
    [{ id: 'j', state: 's', hosts: [{ host: 'a', state: 's', stdout: 1 }] }, 'a stdout that is not text'],
    [{ id: 'j', state: 's', steps: 1 }, 'steps is not a list'],
    [{ id: 'j', state: 's', steps: [{ state: 'x' }] }, 'a step without index'],
  ] as const) {
    t.throws(() => asJobView(v), { code: 'BAD_RESPONSE', exitCode: operatorExitCodes.unavailable, message: new RegExp(why) });
  }
  t.equal(asJobView(job()).id, 'j1');
});

t.test('progress lines and the human view', async (t) => {
  t.equal(progressLine(job({ state: 'running', hosts: [{ host: 'a', state: 'running' }, { host: 'b', state: 'succeeded' }, { host: 'c', state: 'running' }] })), 'job j1 running: 2 running, 1 succeeded (of 3 hosts)');
  t.equal(progressLine(job({ state: 'running', hosts: [] })), 'job j1 running');
  const two = job({
    state: 'running',
    steps: [
      { index: 0, name: 'stop', kind: 'script', state: 'succeeded', counts: { succeeded: 1 } },
      { index: 1, name: 'start', kind: 'script', state: 'running', counts: { running: 1 } },
    ],
    hosts: [{ host: 'a', state: 'running' }],
  });
  t.equal(progressLine(two), 'job j1 running: 1 running (of 1 host); step 2/2 start: running');
  const text = formatJob(job({ state: 'failed', redoOf: 'j0', unavailable: [{ host: 'db-9', reason: 'not enrolled' }], hosts: [{ host: 'web-1', state: 'failed', exitCode: 2, stdout: Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n'), stderr: 'boom \u001b[2J\n', stderrTruncated: true }] }), { output: true }).join('\n');
  t.match(text, /^Job j1: failed\n  name: {5}uptime\n  targets: {2}group:web\n  created: {2}2026-12-06T10:00:00.000Z by admin\n  redo of: {2}j0/);
  t.match(text, /Unavailable \(not run\):\n  HOST  REASON\n  db-9  not enrolled/);
  t.match(text, /  HOST {3}STATE {3}EXIT\n  web-1  failed {2}2/);
  t.match(text, /web-1 stdout:\n  \.\.\. 10 earlier lines \(stead job show j1 --json has them all\)\n  \| line 10\n/);
  t.match(text, /web-1 stderr \(cut by the server\):\n  \| boom \\x1b\[2J/, 'control characters are shown, not sent to the terminal');
  t.notMatch(text, /\u001b/);
  t.match(text, /1 host: 1 failed$/);
  t.match(formatJob(two).join('\n'), /Steps:\n  # {2}NAME {3}KIND {4}STATE {6}HOSTS\n  1  stop {3}script  succeeded  1 succeeded\n  2  start  script  running {4}1 running/);
  t.match(formatJob(job({ hosts: [], dryRun: true })).join('\n'), /^Job j1: succeeded \(dry run\)[^]*No hosts\.$/);
  t.notMatch(formatJob(job()).join('\n'), /stdout:/, 'output only when asked for');
});

t.test('output helpers make text inert', async (t) => {
  t.equal(inert('a\u001b[31mb\u0007\u009bc\n\td'), 'a\\x1b[31mb\\x07\\x9bc\n\td');
  t.equal(cell('a\nb\tc'), 'a\\nb\\tc');
  t.equal(cell(undefined), '-');
  t.equal(cell('x'.repeat(60), 10), 'xxxxxxx...');
  t.equal(jsonText({ s: '\u007f\u0085\u2028' }), '{"s":"\\u007f\\u0085\\u2028"}');
  t.same(JSON.parse(jsonText({ s: '\u007f\u0085' })), { s: '\u007f\u0085' }, 'still the same JSON value');
  t.same(table(['A', 'LONGER'], [['x', 1], ['yyyy', null]]), ['A     LONGER', 'x     1', 'yyyy  -']);
});

t.test('waitForJob: reports each change once, retries a failed poll, stops at the end', async (t) => {
  const views = [job({ state: 'running', hosts: [{ host: 'a', state: 'dispatched' }] }), job({ state: 'running', hosts: [{ host: 'a', state: 'dispatched' }] }), 'fail', job({ state: 'running', hosts: [{ host: 'a', state: 'running' }] }), job()] as const;
  let i = 0;
  const seen: string[] = [];
  const retries: string[] = [];
  const end = await waitForJob(
    async () => {
      const v = views[i++]!;
      if (v === 'fail') throw new OperatorError('NETWORK', 'cannot reach', operatorExitCodes.unavailable);
      return v;
    },
    { signal: new AbortController().signal, intervalMs: 1, onChange: (j) => seen.push(progressLine(j)), onRetry: (e) => retries.push(e.message) },
  );
  t.equal((end as JobView).state, 'succeeded');
  t.same(seen, ['job j1 running: 1 dispatched (of 1 host)', 'job j1 running: 1 running (of 1 host)', 'job j1 succeeded: 2 succeeded (of 2 hosts)']);
  t.same(retries, ['cannot reach']);
});

t.test('waitForJob: gives up after maxFailures, ends at once on a refusal, and on abort', async (t) => {
  const unavailable = async (): Promise<JobView> => {
    throw new OperatorError('TIMEOUT', 'no answer', operatorExitCodes.unavailable);
  };
  await t.rejects(waitForJob(unavailable, { signal: new AbortController().signal, intervalMs: 1, maxFailures: 3 }), { message: 'gave up waiting after 3 failed polls: no answer', exitCode: operatorExitCodes.unavailable });
  let calls = 0;
  const refused = async (): Promise<JobView> => {
    calls++;
    throw new OperatorError('FORBIDDEN', 'not allowed', operatorExitCodes.auth);
  };
  await t.rejects(waitForJob(refused, { signal: new AbortController().signal, intervalMs: 1 }), { code: 'FORBIDDEN' });
  t.equal(calls, 1, 'a refusal is not retried');
  const ac = new AbortController();
  const running = async (): Promise<JobView> => {
    setImmediate(() => ac.abort());
    return job({ state: 'running' });
  };
  t.equal(await waitForJob(running, { signal: ac.signal, intervalMs: 60_000 }), 'interrupted', 'an abort ends the sleep');
  const ac2 = new AbortController();
  const failing = async (): Promise<JobView> => {
    ac2.abort();
    throw new Error('aborted');
  };
  t.equal(await waitForJob(failing, { signal: ac2.signal }), 'interrupted', 'an abort during a poll');
  ac2.abort();
  t.equal(await waitForJob(running, { signal: ac2.signal }), 'interrupted', 'aborted before the first poll');
});
