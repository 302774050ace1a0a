import t from 'tap';
import { Deadlines, type Expiring } from '../../../agent/engine/deadlines.js';

const entry = (log: string[], name: string): Expiring => ({ deadline: 0, expire: () => log.push(name) });
const waitFor = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};

t.test('entries expire in deadline order on one timer; deleted ones never do', async (t) => {
  const d = new Deadlines();
  const log: string[] = [];
  const slow = entry(log, 'slow');
  const fast = entry(log, 'fast');
  const gone = entry(log, 'gone');
  d.add(slow, 60);
  d.add(fast, 10); // earlier than the armed deadline: re-arms
  d.add(gone, 20);
  d.delete(gone);
  t.ok(fast.deadline < slow.deadline, 'deadlines are set by add');
  await waitFor(() => log.length === 2);
  t.same(log, ['fast', 'slow']);
  d.close();
});

t.test('close stops everything: nothing expires and no timer keeps the process alive', async (t) => {
  const d = new Deadlines();
  const log: string[] = [];
  d.add(entry(log, 'a'), 5);
  d.close();
  await new Promise((r) => setTimeout(r, 30));
  t.same(log, []);
});

t.test('an entry expiring adds no cost to the others: one fires, the other stays pending', async (t) => {
  const d = new Deadlines();
  const log: string[] = [];
  d.add(entry(log, 'short'), 5);
  d.add(entry(log, 'long'), 10 * 60_000);
  await waitFor(() => log.length === 1);
  t.same(log, ['short']);
  d.close();
});
