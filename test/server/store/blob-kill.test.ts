/**
 * A server process killed in the middle of storing blobs leaves no half blob visible: a child
 * process stores 24 MiB blobs into a real SQLite store file and is SIGKILLed while a put is under
 * way; reopened, every key it started is either absent or complete (its bytes hash to the key),
 * and the file passes integrity_check.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { buildOnce, repoRoot } from '../../helpers/e2e-fleet.js';
import { SqliteStore } from '../../../server/store/sqlite/sqlite-store.js';

await buildOnce();

const child = `
const { SqliteStore } = await import(${JSON.stringify(join(repoRoot, 'dist/server/store/sqlite/sqlite-store.js'))});
const { createHash, randomBytes } = await import('node:crypto');
const store = SqliteStore.open({ path: process.argv[1] });
const blobs = await store.blobs('content');
for (let i = 0; ; i++) {
  const data = randomBytes(24 * 1024 * 1024);
  const key = createHash('sha256').update(data).digest('hex');
  process.stdout.write('start ' + key + '\\n');
  await blobs.put(key, data);
  process.stdout.write('done ' + key + '\\n');
}
`;

t.test('SIGKILL during puts: every started blob is absent or whole', async (t) => {
  const path = join(t.testdir(), 'store.db');
  const proc = spawn(process.execPath, ['--input-type=module', '-e', child, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const started: string[] = [];
  const done: string[] = [];
  let buf = '';
  await new Promise<void>((resolve) => {
    proc.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const [what, key] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        if (what === 'start') started.push(key!);
        if (what === 'done') done.push(key!);
        // killed right after a put has started, once one blob is complete
        if (what === 'start' && done.length >= 1) {
          proc.kill('SIGKILL');
          resolve();
        }
      }
    });
    proc.on('exit', () => resolve());
  });
  await new Promise((r) => proc.exitCode !== null || proc.signalCode !== null ? r(undefined) : proc.once('exit', r));
  t.equal(proc.signalCode, 'SIGKILL', 'the child was killed, not finished');
  t.ok(started.length >= 2, `puts started: ${started.length}, finished: ${done.length}`);

  const store = SqliteStore.open({ path });
  t.teardown(() => store.close());
  const blobs = await store.blobs('content');
  let whole = 0;
  for (const key of started) {
    const st = await blobs.stat(key);
    if (st === null) {
      t.equal(await blobs.has(key), false, `${key.slice(0, 12)}: absent`);
      continue;
    }
    const h = createHash('sha256');
    for await (const c of (await blobs.read(key))!.chunks) h.update(c);
    t.equal(h.digest('hex'), key, `${key.slice(0, 12)}: visible, so whole`);
    whole++;
  }
  t.ok(whole >= done.length, 'every put that finished is there');
  t.ok((await blobs.keys()).every((k) => started.includes(k)), 'no other key is visible');
  t.same(store.integrityCheck(), ['ok']);
});
