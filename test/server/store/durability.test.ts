/**
 * Crash safety and cross-process atomicity of the embedded store, with real processes:
 *  - a writer (dist/test/helpers/store-writer.js) is SIGKILLed at a random point, five times
 *    over the same file; after each kill every acknowledged insert is present exactly once,
 *    the counter is at least its last acknowledged value, and PRAGMA integrity_check is ok;
 *  - four processes increment one counter concurrently: 200 distinct values, none lost;
 *  - four processes run optimistic compare-and-swap loops: no lost update.
 * The children run the compiled JS, so build first (`npx tsc -p tsconfig.json`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { SqliteStore } from '../../../server/store/sqlite/sqlite-store.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const writer = join(root, 'dist', 'test', 'helpers', 'store-writer.js');

/** The compiled files the children run, and whether any is missing or older than its source. */
function staleDist(): string[] {
  const sources = [join(root, 'test', 'helpers', 'store-writer.ts')];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.ts')) sources.push(join(dir, e.name));
    }
  };
  walk(join(root, 'server', 'store'));
  return sources.filter((src) => {
    const js = join(root, 'dist', relative(root, src)).replace(/\.ts$/, '.js');
    return !existsSync(js) || statSync(js).mtimeMs < statSync(src).mtimeMs;
  }).map((src) => relative(root, src));
}

function start(args: string[]): { child: ChildProcessWithoutNullStreams; lines: AsyncIterableIterator<string> } {
  const child = spawn(process.execPath, [writer, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => process.stderr.write(`[store-writer] ${d}`));
  const rl = createInterface({ input: child.stdout });
  return { child, lines: rl[Symbol.asyncIterator]() };
}

function exited(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

const stale = staleDist();
if (stale.length > 0) {
  t.fail(`dist/ is missing or older than: ${stale.join(', ')} — run \`npx tsc -p tsconfig.json\` before this test`);
} else {
  t.test('no acknowledged write is lost when the writer is killed with SIGKILL', async (tt) => {
    const path = join(tt.testdir(), 'crash.db');
    const acked = new Set<string>();
    let maxInc = 0;
    let unackedBefore = 0;
    for (let round = 1; round <= 5; round++) {
      const killAfter = 50 + Math.floor(Math.random() * 400); // a random point, counted in acks, not in time
      const { child, lines } = start(['write', path, `r${round}`]);
      let acksThisRound = 0;
      for await (const line of { [Symbol.asyncIterator]: () => lines }) {
        const [kind, value] = line.split(' ');
        if (kind === 'ack' && value !== undefined) {
          acked.add(value);
          if (++acksThisRound === killAfter) child.kill('SIGKILL');
        } else if (kind === 'inc') {
          maxInc = Math.max(maxInc, Number(value));
        }
      }
      const { signal } = await exited(child);
      tt.equal(signal, 'SIGKILL', `round ${round}: killed after ${killAfter} acks`);

      const store = SqliteStore.open({ path });
      try {
        tt.same(store.integrityCheck(), ['ok'], `round ${round}: integrity_check ok`);
        const items = await store.collection('items', [{ name: 'loop', fields: { loop: 1, i: 1 } }]);
        const stored = (await items.find({}, { projection: { _id: 1 } })).map((d) => d._id);
        const storedSet = new Set(stored);
        tt.equal(storedSet.size, stored.length, `round ${round}: every document stored once`);
        const lost = [...acked].filter((id) => !storedSet.has(id));
        tt.same(lost, [], `round ${round}: all ${acked.size} acknowledged inserts present`);
        const unacked = stored.length - acked.size - unackedBefore;
        unackedBefore += unacked;
        tt.ok(unacked >= 0 && unacked <= 4, `round ${round}: ${unacked} stored but not acknowledged (at most one in flight per write loop)`);
        const counter = await (await store.collection('counters')).findOne({ _id: 'writes' });
        tt.ok((counter?.['n'] as number) >= maxInc, `round ${round}: counter ${String(counter?.['n'])} ≥ last acknowledged ${maxInc}`);
      } finally {
        await store.close();
      }
    }
  });

  t.test('cross-process: 4 × 50 concurrent $inc give 200 distinct values', async (tt) => {
    const path = join(tt.testdir(), 'inc.db');
    const values = await runGroup(path, 'inc', 4, '50', 'val');
    tt.equal(values.length, 200);
    tt.same([...values].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1), 'exactly 1..200: none duplicated, none lost');
  });

  t.test('cross-process: 4 × 50 optimistic CAS increments lose no update', async (tt) => {
    const path = join(tt.testdir(), 'cas.db');
    const seed = SqliteStore.open({ path });
    await (await seed.collection('counters')).insertOne({ _id: 'ver', version: 0 });
    await seed.close();
    const versions = await runGroup(path, 'cas', 4, '50', 'won');
    tt.same([...versions].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1), 'each version won by exactly one process');
    const store = SqliteStore.open({ path });
    tt.equal((await (await store.collection('counters')).findOne({ _id: 'ver' }))?.['version'], 200, 'final version 200');
    await store.close();
  });
}

/** Starts n children in `mode`, releases them together, and collects the numbers after `tag`. */
async function runGroup(path: string, mode: string, n: number, arg: string, tag: string): Promise<number[]> {
  // create the schema once, so the children do not race on CREATE TABLE
  const init = SqliteStore.open({ path });
  await init.collection('items', [{ name: 'loop', fields: { loop: 1, i: 1 } }]);
  await init.collection('counters');
  await init.close();
  const kids = Array.from({ length: n }, () => start([mode, path, arg]));
  await Promise.all(kids.map(async ({ lines }) => {
    const first = await lines.next();
    if (first.value !== 'ready') throw new Error(`child said ${String(first.value)}`);
  }));
  for (const { child } of kids) child.stdin.end('go\n');
  const out: number[] = [];
  await Promise.all(kids.map(async ({ child, lines }) => {
    for await (const line of { [Symbol.asyncIterator]: () => lines }) {
      const [kind, value] = line.split(' ');
      if (kind === tag) out.push(Number(value));
    }
    const { code } = await exited(child);
    if (code !== 0) throw new Error(`child exited with ${String(code)}`);
  }));
  return out;
}
