/** Push options → rollout policy (server/services/git/push-options.ts). */
import t from 'tap';
import { policyFromPushOptions } from '../../server/services/git/push-options.js';

t.test('no options, or none about rollouts: published at once', async (t) => {
  t.equal(policyFromPushOptions([]), undefined);
});

t.test('batches, gate, max-failures, wait-between', async (t) => {
  t.same(policyFromPushOptions(['batches=1,10%,100%']), { batches: '1,10%,100%' });
  t.same(policyFromPushOptions(['batches=1,25%,100%', 'gate=manual', 'max-failures=10%', 'wait-between=60']), { batches: '1,25%,100%', gate: 'manual', maxFailures: { percent: 10 }, waitBetweenSeconds: 60 });
  t.same(policyFromPushOptions(['batches=2', 'max-failures=3']), { batches: '2', maxFailures: { count: 3 } });
  t.same(policyFromPushOptions(['batches=2', 'max-failures=2.5%']), { batches: '2', maxFailures: { percent: 2.5 } });
});

t.test('refused: unknown options, bad values, options without batches', async (t) => {
  t.throws(() => policyFromPushOptions(['colour=blue']), /unknown push option "colour"/);
  t.throws(() => policyFromPushOptions(['gate=manual']), /need batches=/);
  t.throws(() => policyFromPushOptions(['batches=lots']), /not form a valid rollout policy/);
  t.throws(() => policyFromPushOptions(['batches=1', 'gate=sometimes']), /not form a valid rollout policy/);
  t.throws(() => policyFromPushOptions(['batches=1', 'max-failures=many']), /max-failures/);
  t.throws(() => policyFromPushOptions(['batches=1', 'wait-between=-1']), /wait-between/);
});
