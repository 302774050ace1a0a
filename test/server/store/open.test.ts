/**
 * openStore: embedded by default in the data directory; multi-server without MongoDB refused.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { judgeServer, SERIALIZED_FERRETDB_SUFFIX } from '../../../server/store/mongo/mongo-store.js';
import { openStore, SQLITE_FILE_NAME } from '../../../server/store/open.js';
import { StoreError } from '../../../server/store/types.js';

t.test('embedded store in the data directory by default', async (tt) => {
  const dataDir = join(tt.testdir(), 'data', 'nested');
  const store = await openStore({ dataDir });
  tt.teardown(() => store.close());
  tt.equal(store.kind, 'sqlite');
  await (await store.collection('x')).insertOne({ _id: '1' });
  tt.ok(existsSync(join(dataDir, SQLITE_FILE_NAME)), 'stead.db created');
  tt.equal(statSync(dataDir).mode & 0o777, 0o700, 'data dir created 0700');
});

t.test('refused configurations', async (tt) => {
  const dataDir = tt.testdir();
  const cases: [string, Parameters<typeof openStore>[0]][] = [
    ['two servers without MongoDB', { dataDir, servers: 2 }],
    ['cluster mode without MongoDB', { dataDir, cluster: true }],
    ['no data dir and no MongoDB', {}],
    ['a URL that is not mongodb://', { mongodbUrl: 'http://localhost:27017' }],
    ['servers 0', { dataDir, servers: 0 }],
  ];
  for (const [name, config] of cases) {
    try {
      const s = await openStore(config);
      await s.close();
      tt.fail(`${name}: accepted`);
    } catch (err) {
      tt.ok(err instanceof StoreError && err.code === 'BAD_CONFIG', `${name}: BAD_CONFIG (${(err as Error).message})`);
    }
  }
  try {
    await openStore({ dataDir, servers: 3 });
  } catch (err) {
    tt.match((err as Error).message, /MongoDB/, 'the message says what to do');
  }
});

t.test('a MongoDB URL selects MongoDB (an unreachable one fails, it does not fall back)', async (tt) => {
  const { MongoStore } = await import('../../../server/store/mongo/mongo-store.js');
  await tt.rejects(MongoStore.connect({ url: 'mongodb://127.0.0.1:9/', serverSelectionTimeoutMs: 300 }), 'connection refused surfaces');
  const dataDir = tt.testdir();
  await tt.rejects(openStore({ dataDir, servers: 2, mongodbUrl: 'mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=300' }), 'openStore with a URL connects to MongoDB');
  tt.notOk(existsSync(join(dataDir, SQLITE_FILE_NAME)), 'no embedded file was created');
});

t.test('one server per data directory: a second open is refused until the first closes', async (tt) => {
  const dataDir = tt.testdir();
  const first = await openStore({ dataDir });
  await tt.rejects(openStore({ dataDir }), { code: 'BAD_CONFIG', message: /another Stead server is using the data directory/ }, 'second open refused');
  await first.close();
  const again = await openStore({ dataDir });
  tt.equal(again.kind, 'sqlite', 'open again after close');
  await again.close();
});

t.test('the data-directory lock dies with its process (kill -9 never leaves a stale lock)', async (tt) => {
  const openJs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist', 'server', 'store', 'open.js');
  if (!existsSync(openJs)) {
    tt.fail(`missing ${openJs}: run \`npx tsc -p tsconfig.json\` before this test`);
    return;
  }
  const dataDir = tt.testdir();
  const script = `import(${JSON.stringify(openJs)}).then((m) => m.openStore({ dataDir: ${JSON.stringify(dataDir)} })).then(() => { process.stdout.write('held\\n'); setInterval(() => {}, 1000); })`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [first] = await once(child.stdout, 'data') as [Buffer];
  tt.equal(first.toString().trim(), 'held', 'the child holds the store');
  await tt.rejects(openStore({ dataDir }), { code: 'BAD_CONFIG' }, 'refused while the child runs');
  child.kill('SIGKILL');
  await once(child, 'exit');
  const store = await openStore({ dataDir });
  tt.pass('opened after the holder was killed');
  await store.close();
});

t.test('FerretDB v1 is told apart by its version: stock (not atomic) and the test suite\'s serialized build', async (tt) => {
  const mongo = judgeServer(undefined);
  tt.same(mongo, { warning: undefined, atomicWrites: true }, 'MongoDB (no ferretdbVersion): atomic, no warning');
  const stock = judgeServer('v1.24.2');
  tt.equal(stock.atomicWrites, false, 'stock FerretDB v1: updates not atomic');
  tt.match(stock.warning, /FerretDB v1\.24\.2, whose updates are not atomic/);
  const patched = judgeServer(`v1.24.2${SERIALIZED_FERRETDB_SUFFIX}`);
  tt.equal(patched.atomicWrites, true, 'the serialized build: atomic');
  tt.match(patched.warning, /writes are serialized .*tests only/);
  tt.equal(judgeServer('v2.1.0').atomicWrites, true, 'FerretDB v2 (on DocumentDB, transactional) is not judged here');
  tt.equal(judgeServer(`v1.24.2-3-gabc${SERIALIZED_FERRETDB_SUFFIX}x`).atomicWrites, false, 'the marker must end the version');
});
