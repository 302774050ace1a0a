/** The drift state machine of ADR 0018 §7 (server/services/software/drift.ts), step by step. */
import t from 'tap';
import { isDrift, nextMemory, type ServiceMemory, type ServiceState } from '../../../../server/services/software/drift.js';

/** Plays reports (state at time) and answers drift after each. */
function play(reports: readonly [ServiceState, number][], last?: { action: 'start' | 'stop' | 'restart'; at: number }, graceMs = 60_000): boolean[] {
  let m: ServiceMemory | undefined;
  return reports.map(([state, at]) => {
    m = nextMemory(m, state, at);
    return isDrift(state, m, last, graceMs);
  });
}

t.test('running then stopped or failed with no action is drift; running again clears it', async (t) => {
  t.same(play([['running', 1000], ['stopped', 2000]]), [false, true]);
  t.same(play([['running', 1000], ['failed', 2000], ['failed', 3000], ['running', 4000]]), [false, true, true, false]);
});

t.test('never seen running is not drift (a service that is simply off)', async (t) => {
  t.same(play([['stopped', 1000], ['stopped', 2000], ['failed', 3000]]), [false, false, false]);
});

t.test('unknown keeps the memory: a blind report neither starts nor clears drift', async (t) => {
  t.same(play([['running', 1000], ['unknown', 2000], ['stopped', 3000], ['unknown', 4000]]), [false, false, true, false]);
  const m = nextMemory(nextMemory(nextMemory(undefined, 'running', 1000), 'stopped', 3000), 'unknown', 4000);
  t.same(m, { lastRunningAt: 1000, stoppedSince: 3000 }, 'memory survives the unknown report');
});

t.test('a stop or restart since it was last seen running is not drift; a start is', async (t) => {
  t.same(play([['running', 1000], ['stopped', 5000]], { action: 'stop', at: 2000 }), [false, false]);
  t.same(play([['running', 1000], ['failed', 5000]], { action: 'restart', at: 1500 }), [false, false]);
  t.same(play([['running', 1000], ['stopped', 5000]], { action: 'start', at: 2000 }), [false, true], 'a start does not explain a stop');
});

t.test('an action before the last running report counts only within the grace before the stop was seen', async (t) => {
  // Stop launched at 900, a report at 1000 still saw it running (the job had not run yet), stopped at 1100.
  t.same(play([['running', 1000], ['stopped', 1100]], { action: 'stop', at: 900 }), [false, false]);
  // An old restart (an hour before) does not excuse a crash now.
  t.same(play([['running', 3_600_000], ['failed', 3_660_000]], { action: 'restart', at: 0 }), [false, true]);
});

t.test('stoppedSince is the first report that saw it down', async (t) => {
  let m = nextMemory(undefined, 'running', 10);
  m = nextMemory(m, 'stopped', 20);
  m = nextMemory(m, 'failed', 30);
  t.same(m, { lastRunningAt: 10, stoppedSince: 20 });
  m = nextMemory(m, 'restarting', 40);
  t.same(m, { lastRunningAt: 40 }, 'restarting counts as running');
});
