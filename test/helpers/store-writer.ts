/**
 * A child process for the store's crash and cross-process tests (run compiled:
 * `node dist/test/helpers/store-writer.js MODE DB ARG`). Modes:
 *  - write DB PREFIX: four interleaved loops insert documents and bump a counter forever,
 *    printing `ack <id>` / `inc <n>` only after the store acknowledged each write.
 *  - inc DB N: prints `ready`, waits for `go` on stdin, then does N findOneAndUpdate $inc on
 *    document "seq", printing `val <n>` for each.
 *  - cas DB N: the same handshake, then N optimistic read/compare-and-swap increments of
 *    document "ver" (retrying on conflict), printing `won <version>` and `retries <n>`.
 */
import { once } from 'node:events';
import { setImmediate as tick } from 'node:timers/promises';
import { SqliteStore } from '../../server/store/sqlite/sqlite-store.js';

const [mode, path, arg] = process.argv.slice(2);
if (mode === undefined || path === undefined || arg === undefined) {
  process.stderr.write('usage: store-writer write|inc|cas DB ARG\n');
  process.exit(2);
}

const store = SqliteStore.open({ path, busyTimeoutMs: 30_000 });
const items = await store.collection('items', [{ name: 'loop', fields: { loop: 1, i: 1 } }]);
const counters = await store.collection('counters');

async function waitForGo(): Promise<void> {
  process.stdout.write('ready\n');
  let buf = '';
  process.stdin.setEncoding('utf8');
  while (!buf.includes('go')) buf += String((await once(process.stdin, 'data'))[0]);
}

if (mode === 'write') {
  const prefix = arg;
  const loop = async (n: number): Promise<void> => {
    for (let i = 0; ; i++) {
      const id = `${prefix}-${n}-${i}`;
      await items.insertOne({ _id: id, loop: n, i, payload: 'p'.repeat(200 + ((i * 37) % 800)) });
      process.stdout.write(`ack ${id}\n`);
      if (i % 5 === 0) {
        const c = await counters.findOneAndUpdate({ _id: 'writes' }, { $inc: { n: 1 } }, { upsert: true, returnDocument: 'after' });
        process.stdout.write(`inc ${String(c?.['n'])}\n`);
      }
      await tick();
    }
  };
  await Promise.all([0, 1, 2, 3].map(loop));
} else if (mode === 'inc') {
  await waitForGo();
  for (let i = 0; i < Number(arg); i++) {
    const d = await counters.findOneAndUpdate({ _id: 'seq' }, { $inc: { n: 1 } }, { upsert: true, returnDocument: 'after' });
    process.stdout.write(`val ${String(d?.['n'])}\n`);
    await tick();
  }
} else if (mode === 'cas') {
  await waitForGo();
  let retries = 0;
  for (let i = 0; i < Number(arg); i++) {
    for (;;) {
      const current = await counters.findOne({ _id: 'ver' });
      const version = current?.['version'] as number;
      const won = await counters.findOneAndUpdate({ _id: 'ver', version }, { $inc: { version: 1 } }, { returnDocument: 'after' });
      if (won !== null) {
        process.stdout.write(`won ${String(won['version'])}\n`);
        break;
      }
      retries++;
      await tick();
    }
    await tick();
  }
  process.stdout.write(`retries ${retries}\n`);
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
await store.close();
