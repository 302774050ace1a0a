import t from 'tap';
import { ManualClock } from '../../../server/domain/clock.js';
import { openStore } from '../../../server/store/open.js';
import { AuditLog } from '../../../server/services/audit-log.js';

t.test('records and lists audit events', async (t) => {
  const store = await openStore({ dataDir: t.testdir() });
  t.teardown(() => store.close());
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  const log = await AuditLog.open(store, clock);
  const a = await log.record({ actor: 'alice', action: 'job.launch', target: 'job:1', address: '10.0.0.1', after: { 'a.b': 1, $x: 2 } });
  t.match(a, { actor: 'alice', action: 'job.launch', target: 'job:1', address: '10.0.0.1', at: clock.now(), after: { 'a.b': 1, $x: 2 } });
  clock.advance(1000);
  await log.record({ actor: 'bob', action: 'job.cancel', target: 'job:1', before: { state: 'running' }, details: 'x'.repeat(70_000) });
  clock.advance(1000);
  await log.record({ actor: 'bob', action: 'job.launch', target: 'job:2' });
  t.same((await log.list()).map((e) => e.actor + ':' + e.action), ['bob:job.launch', 'bob:job.cancel', 'alice:job.launch'], 'newest first');
  t.same((await log.list({ target: 'job:1' })).length, 2);
  t.same((await log.list({ action: 'job.launch', limit: 1 })).map((e) => e.target), ['job:2']);
  const big = (await log.list({ action: 'job.cancel' }))[0]!;
  t.match(big.details, { truncated: true }, 'large details are cut');
  t.same(big.before, { state: 'running' });
  t.notOk('address' in big);
});
