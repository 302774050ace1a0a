/**
 * The delivery pages' pure parts: the actions each rollout state offers, a batch's bar segments,
 * the plan and diff models' bounds, a multi-file unified diff cut into files, and every delivery
 * view escaping hostile text (host names, reasons, messages, paths, diffs).
 */
import t from 'tap';
import type { FleetPlan } from '../../../schemas/api/fleet-plan.js';
import type { RolloutView } from '../../../schemas/api/rollouts.js';
import { diffModel, historyRows, planModel, rolloutActions, rolloutModel } from '../../../server/web/delivery/delivery-model.js';
import { fileDiffs, splitUnified } from '../../../server/web/delivery/delivery-port.js';
import { diffView, historyView, planView, rolloutsListView, rolloutView } from '../../../server/web/delivery/delivery-views.js';

const evil = '<script>window.__pwned=1</script>"><img src=x onerror=alert(1)>{{7*7}}';

function rollout(o: Partial<RolloutView> = {}): RolloutView {
  return {
    id: 'r1',
    kind: 'revision',
    state: 'waiting',
    gate: 'manual',
    revision: 'a'.repeat(64),
    previous: 'b'.repeat(64),
    createdAt: '2026-12-07T02:00:00.000Z',
    createdBy: 'admin',
    updatedAt: '2026-12-07T02:01:00.000Z',
    policy: { batches: '1,25%,100%', gate: 'manual' },
    current: 0,
    hosts: 8,
    failures: 1,
    threshold: { overall: 0, batch: 0 },
    batches: [
      { index: 0, hosts: ['h1', 'h2', 'h3', 'h4'], state: 'running', failures: [{ host: 'h2', reason: 'no report within 600 s' }], succeeded: 2 },
      { index: 1, hosts: ['h5', 'h6', 'h7', 'h8'], state: 'pending', failures: [] },
    ],
    ...o,
  } as RolloutView;
}

t.test('actions per state', async (t) => {
  const names = (r: Parameters<typeof rolloutActions>[0]): string[] => rolloutActions(r).map((a) => `${a.action}:${a.label}`);
  t.same(names({ state: 'waiting', gate: 'manual', kind: 'revision' }), ['continue:Approve next batch', 'pause:Pause', 'abort:Abort']);
  t.same(names({ state: 'waiting', gate: 'timer', kind: 'revision' }), ['continue:Start next batch now', 'pause:Pause', 'abort:Abort']);
  t.same(names({ state: 'running', kind: 'revision' }), ['pause:Pause', 'abort:Abort']);
  t.same(names({ state: 'paused', kind: 'job' }), ['continue:Resume', 'abort:Abort']);
  t.same(names({ state: 'completed', kind: 'revision' }), ['rollback:Roll back']);
  t.same(names({ state: 'completed', kind: 'job' }), []);
  t.same(names({ state: 'aborted', kind: 'revision' }), []);
  t.same(names({ state: 'rolled-back', kind: 'revision' }), []);
});

t.test('a batch bar: passed, failed, the rest by the batch state', async (t) => {
  const m = rolloutModel(rollout());
  t.same(m.batches[0]!.segments, [
    { state: 'succeeded', n: 2, width: 50 },
    { state: 'failed', n: 1, width: 25 },
    { state: 'running', n: 1, width: 25 },
  ]);
  t.same(m.batches[1]!.segments, [{ state: 'pending', n: 4, width: 100 }]);
  t.equal(m.batches[0]!.current, true);
  t.equal(m.live, true);
  t.match(m.gate, /approve the next batch/);
  t.equal(rolloutModel(rollout({ state: 'completed' })).live, false);
});

t.test('diffs: cut into files, bounded', async (t) => {
  const text = 'diff --git a/x.yaml b/x.yaml\nindex 1..2 100644\n--- a/x.yaml\n+++ b/x.yaml\n@@ -1 +1 @@\n-a\n+b\ndiff --git a/new.txt b/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+n\n';
  const files = splitUnified(text);
  t.same(files.map((f) => [f.path, f.status]), [['x.yaml', 'modified'], ['new.txt', 'added']]);
  t.same(fileDiffs({ files: [{ path: 'p', status: 'removed', diff: '-x\n' }] }), [{ path: 'p', status: 'removed', diff: '-x\n' }]);
  const big = diffModel([{ path: 'big', status: 'modified', diff: `@@ -1 +1 @@\n${'+x\n'.repeat(5000)}` }]);
  t.equal(big.files[0]!.lines.length, 2000, 'a file shows at most 2000 lines');
  t.equal(big.truncated, true);
});

t.test('history rows: the previous distinct revision for the diff link', async (t) => {
  const rows = historyRows([
    { id: 'c'.repeat(64), createdAt: 3, live: true, commit: '3'.repeat(40) },
    { id: 'c'.repeat(64), createdAt: 2, live: false },
    { id: 'd'.repeat(64), createdAt: 1, live: false },
  ]);
  t.equal(rows[0]!.previous, 'd'.repeat(64), 'a re-activation diffs against the revision before it');
  t.equal(rows[0]!.commit, '333333333333');
  t.equal(rows[2]!.previous, undefined);
});

t.test('every delivery view escapes hostile text', async (t) => {
  const frame = { operator: evil, role: 'admin', nav: 'rollouts', now: evil };
  const plan: FleetPlan = {
    base: 'b'.repeat(64),
    target: 'a'.repeat(64),
    summary: { hosts: 2, changed: 1, unchanged: 1, failed: 1, resources: 1 },
    hosts: [
      { host: evil, status: 'fails', changes: [{ resource: `file:${evil}`, action: 'modify', attributes: [evil], diff: `@@ -1 +1 @@\n-${evil}\n+${evil}\n` }], problems: [{ code: 'X', severity: 'error', file: evil, line: 3, message: evil }] },
      { host: 'ok', status: 'unchanged', changes: [] },
    ],
  };
  const bad = rollout({ reason: evil, createdBy: evil, state: 'paused', batches: [{ index: 0, hosts: [evil], state: 'failed', failures: [{ host: evil, reason: evil }] }] });
  const pages = {
    history: historyView({ ...frame, rows: historyRows([{ id: 'a'.repeat(64), createdAt: 1, live: true, message: evil, author: evil, createdBy: evil }]), canWrite: true }),
    diff: diffView({ ...frame, from: { id: 'a', short: evil, message: evil }, to: { id: 'b', short: evil }, d: diffModel([{ path: evil, status: evil, diff: `@@ -1 +1 @@\n-${evil}\n` }]) }),
    plan: planView({ ...frame, rev: { id: 'a'.repeat(64), short: 'a'.repeat(12) }, plan, m: planModel(plan), surprises: { revision: 'a', planned: true, surprises: [{ host: evil, resource: evil, runId: evil, at: evil, reason: evil }] } }),
    rollouts: rolloutsListView({ ...frame, rollouts: [rolloutModel(bad)] }),
    rollout: rolloutView({ ...frame, m: rolloutModel(bad), canWrite: true }),
  };
  for (const [name, html] of Object.entries(pages)) {
    t.notMatch(html, /<script>window|<img src=x/, `${name}: no markup from data`);
    t.notMatch(html, />49</, `${name}: no template evaluation`);
    t.match(html, /&lt;script&gt;window.__pwned=1&lt;\/script&gt;/, `${name}: shown as text`);
  }
  t.match(pages.rollout, /data-action="continue">Resume<\/button>/);
});
