/**
 * Runs the store contract against the embedded SQLite store (a real file in a test dir).
 */
import { join } from 'node:path';
import t from 'tap';
import { SqliteStore } from '../../../server/store/sqlite/sqlite-store.js';
import { runStoreContract } from './contract.js';

t.test('SQLite store satisfies the contract', async (tt) => {
  const store = SqliteStore.open({ path: join(tt.testdir(), 'contract.db') });
  tt.teardown(() => store.close());
  await runStoreContract(tt, store);
  tt.same(store.integrityCheck(), ['ok'], 'integrity_check after the suite');
});
