/**
 * NonceLedger (ADR 0025): on a store the server has to itself, the nonces of one event-loop turn
 * are written as one row; a claim resolves only once its row is stored; preload() reads every
 * unexpired key back (a restart); prune() deletes rows whose keys all expired; a failed write
 * rejects every claim of its row. The store is the real embedded one.
 */
import { join } from 'node:path';
import t from 'tap';
import { NonceLedger } from '../../../server/services/nonce-ledger.js';
import { SqliteStore } from '../../../server/store/sqlite/sqlite-store.js';
import type { DocumentStore } from '../../../server/store/types.js';

type Row = { _id: string; expiresAtMs: number; keys: string[] };

async function rows(store: DocumentStore): Promise<Row[]> {
  return (await store.collection<Row>('request_nonce_batches')).find({}, { sort: { _id: 1 } });
}

t.test('one row per turn, durable before the claim resolves, read back after a restart, pruned when expired', async (t) => {
  const path = join(t.testdir(), 'stead.db');
  let store = SqliteStore.open({ path });
  const ledger = await NonceLedger.open(store);
  const turn1 = [ledger.claim('web-1/n1', 1000), ledger.claim('web-2/n1', 1100), ledger.claim('web-1/n2', 1050)];
  t.same(await rows(store), [], 'nothing written before the turn ends');
  t.same(await Promise.all(turn1), [true, true, true]);
  let r = await rows(store);
  t.equal(r.length, 1, 'one row for the turn');
  t.same(r[0]!.keys, ['web-1/n1', 'web-2/n1', 'web-1/n2']);
  t.equal(r[0]!.expiresAtMs, 1100, 'the row lives as long as its longest-lived key');
  t.equal(await ledger.claim('web-3/n1', 3000), true, 'a later turn');
  r = await rows(store);
  t.equal(r.length, 2, 'a second row');
  t.ok(r[0]!._id < r[1]!._id, 'row ids sort by time: rows are appended');

  await store.close();
  store = SqliteStore.open({ path });
  t.teardown(() => store.close());
  const again = await NonceLedger.open(store);
  const seen: [string, number][] = [];
  t.equal(await again.preload(1099, (k, e) => seen.push([k, e])), 4, 'every key of an unexpired row');
  t.same(seen.map(([k]) => k).sort(), ['web-1/n1', 'web-1/n2', 'web-2/n1', 'web-3/n1']);
  seen.length = 0;
  t.equal(await again.preload(1100, (k, e) => seen.push([k, e])), 1, 'a row expired by then is not read');
  t.same(seen, [['web-3/n1', 3000]]);
  t.equal(await again.prune(1100), 1, 'the expired row is deleted');
  t.equal((await rows(store)).length, 1);
});

t.test('preload pages through many rows; a burst over 2,000 keys writes more than one row', async (t) => {
  const store = SqliteStore.open({ path: join(t.testdir(), 'stead.db') });
  t.teardown(() => store.close());
  const ledger = await NonceLedger.open(store);
  for (let turn = 0; turn < 600; turn++) await ledger.claim(`h/${turn}`, 10_000);
  t.equal((await rows(store)).length, 600);
  await Promise.all(Array.from({ length: 4500 }, (_, i) => ledger.claim(`burst/${i}`, 10_000)));
  const all = await rows(store);
  t.equal(all.length, 603, 'three rows for 4,500 keys');
  t.ok(all.every((row) => row.keys.length <= 2000));
  const keys = new Set<string>();
  t.equal(await ledger.preload(0, (k) => keys.add(k)), 5100, 'every key, across pages of 500 rows');
  t.equal(keys.size, 5100);
});

t.test('a row that cannot be written rejects every claim in it', async (t) => {
  const store = SqliteStore.open({ path: join(t.testdir(), 'stead.db') });
  const ledger = await NonceLedger.open(store);
  await store.close();
  const claims = [ledger.claim('web-1/a', 1000), ledger.claim('web-1/b', 1000)];
  for (const c of claims) await t.rejects(c, { code: 'CLOSED' });
});
