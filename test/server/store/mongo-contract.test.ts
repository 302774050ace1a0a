/**
 * Runs the store contract against a real MongoDB when MONGODB_URL is set (a fresh database,
 * dropped afterwards). Otherwise the run says so and is skipped: no MongoDB server can be
 * installed from npm or Debian here, and a wire-protocol imitation would not be MongoDB.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import t from 'tap';
import { MongoStore } from '../../../server/store/mongo/mongo-store.js';
import { runStoreContract } from './contract.js';

const url = process.env['MONGODB_URL'];
const SKIP_REASON = 'MONGODB_URL not set: MongoDB contract not run; no MongoDB server can be installed here';

if (url === undefined || url === '') {
  t.comment(SKIP_REASON);
  t.test('MongoDB store satisfies the contract', { skip: SKIP_REASON }, () => undefined);
} else {
  t.test('MongoDB store satisfies the contract', async (tt) => {
    const dbName = `stead_contract_${randomBytes(4).toString('hex')}`;
    const store = await MongoStore.connect({ url, dbName, serverSelectionTimeoutMs: 5000 });
    tt.teardown(async () => {
      await store.close();
      const client = await MongoClient.connect(url);
      await client.db(dbName).dropDatabase();
      await client.close();
    });
    tt.comment(`MongoDB contract against ${url.replace(/\/\/[^@/]*@/, '//***@')} database ${dbName}`);
    await runStoreContract(tt, store);
  });
}
