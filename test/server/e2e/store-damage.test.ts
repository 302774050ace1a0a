/**
 * A damaged embedded store, with real `stead server` processes on real files (docs/store.md,
 * "Damage at start"):
 * - a zero-length or missing stead.db next to an existing admin-token refuses to start (exit 1),
 *   saying what is wrong and how to restore, and writes nothing;
 * - bytes overwritten in the middle of stead.db are found by the start-up quick_check: refused;
 *   damage the server meets by itself while starting (check skipped) is refused the same way;
 * - with a check budget too short to finish, the server starts and logs the damage loudly when
 *   the check ends.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { buildOnce, fleetRepository, freePort, mainJs, repoRoot, ServerProcess, waitFor } from '../../helpers/e2e-fleet.js';

await buildOnce();

/** `stead server` on `dataDir`; resolves its exit code and output (it must exit by itself). */
async function startExpectingExit(t: Test, dataDir: string, extra: string[] = []): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [mainJs, 'server', '--port', String(await freePort()), '--data-dir', dataDir, ...extra], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  // Before the fix the server started as a fresh install: stop it after a generous bound, and fail.
  const bound = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(bound);
  return { code, stderr };
}

/** A server that ran once: a published revision, tokens and an agent record in its store. */
async function usedDataDir(t: Test, dir: string): Promise<string> {
  const server = new ServerProcess(join(dir, 'data'), await freePort());
  await server.start(t);
  t.equal((await server.publish(fleetRepository())).status, 201);
  const statuses = new Set<number>();
  for (let i = 0; i < 300; i++) statuses.add((await server.api('POST', '/api/v1/bootstrap-tokens', { host: `host-${i}` })).status);
  t.same([...statuses], [201], '300 bootstrap tokens stored');
  t.equal(await server.stop(), 0, 'the first server stopped cleanly');
  return server.dataDir;
}

t.test('a zero-length or missing stead.db next to admin-token refuses to start', async (t) => {
  const dataDir = await usedDataDir(t, t.testdir());
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8');
  const db = join(dataDir, 'stead.db');
  rmSync(`${db}-wal`, { force: true });
  rmSync(`${db}-shm`, { force: true });
  truncateSync(db, 0);
  const empty = await startExpectingExit(t, dataDir);
  t.equal(empty.code, 1, 'exit 1');
  t.match(empty.stderr, /stead server: the store .*stead\.db is empty \(0 bytes\), but .*admin-token shows this data directory was used before/);
  t.match(empty.stderr, /Refusing to start as a fresh install/);
  t.match(empty.stderr, /Restore your latest backup: stop the server, copy the backup to .*stead\.db/);
  t.equal(statSync(db).size, 0, 'nothing was written to the empty store');
  t.equal(readFileSync(join(dataDir, 'admin-token'), 'utf8'), token, 'the admin token is untouched');

  rmSync(db);
  const missing = await startExpectingExit(t, dataDir);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /stead\.db is missing/);
  t.throws(() => statSync(db), 'no new store was created');
});

/**
 * Overwrites 8 pages in the middle of the file with 0xA5 bytes. The pages belong to a table the
 * server never reads (written here, after the server stopped), so only the integrity check can
 * find the damage: the server's own start-up reads cannot stumble on it first.
 */
function damageMiddle(db: string): void {
  const page = 4096;
  const before = Math.floor(statSync(db).size / page);
  const sql = new Database(db);
  sql.exec('CREATE TABLE doc_filler (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID');
  const insert = sql.prepare('INSERT INTO doc_filler VALUES (?, ?)');
  sql.transaction(() => {
    for (let i = 0; i < 2000; i++) insert.run(`f-${String(i).padStart(5, '0')}`, JSON.stringify({ pad: 'x'.repeat(1000), i }));
  })();
  sql.pragma('wal_checkpoint(TRUNCATE)');
  sql.close();
  const after = Math.floor(statSync(db).size / page);
  t.ok(after - before > 100, `the filler table spans pages enough to damage its middle (${after - before})`);
  const fd = openSync(db, 'r+');
  try {
    writeSync(fd, Buffer.alloc(8 * page, 0xa5), 0, 8 * page, Math.floor((before + after) / 2) * page);
  } finally {
    closeSync(fd);
  }
}

t.test('bytes overwritten mid-file: the start-up integrity check refuses to serve', async (t) => {
  const dataDir = await usedDataDir(t, t.testdir());
  const db = join(dataDir, 'stead.db');
  t.throws(() => statSync(`${db}-wal`), 'the clean stop checkpointed the WAL into stead.db');
  damageMiddle(db);
  const r = await startExpectingExit(t, dataDir);
  t.equal(r.code, 1, `exit 1 (stderr: ${r.stderr.slice(0, 500)})`);
  t.match(r.stderr, /stead server: the store .*stead\.db is damaged: SQLite's integrity check found \d+\+? problem\(s\), first: /);
  t.match(r.stderr, /Refusing to serve from a damaged store\. Restore your latest backup/);
});

t.test('damage met while starting, with the check skipped, is refused the same way', async (t) => {
  const dataDir = await usedDataDir(t, t.testdir());
  const db = join(dataDir, 'stead.db');
  const fd = openSync(db, 'r+');
  try {
    writeSync(fd, Buffer.alloc(100, 0xa5), 0, 100, 0); // the header: not a database any more
  } finally {
    closeSync(fd);
  }
  const r = await startExpectingExit(t, dataDir, ['--store-check-seconds', '0']);
  t.equal(r.code, 1, `exit 1 (stderr: ${r.stderr.slice(0, 500)})`);
  t.match(r.stderr, /stead server: the store .*stead\.db is damaged: .*SQLITE_NOTADB/);
  t.match(r.stderr, /Restore your latest backup/);
});

t.test('a check that outlasts its budget: the server starts, then logs the damage loudly', async (t) => {
  const dataDir = await usedDataDir(t, t.testdir());
  damageMiddle(join(dataDir, 'stead.db'));
  const child = spawn(process.execPath, [mainJs, 'server', '--port', String(await freePort()), '--data-dir', dataDir, '--store-check-seconds', '0.001'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  const line = await waitFor('the late verdict in the log', () => stderr.split('\n').find((l) => l.includes('THE STORE IS DAMAGED')) ?? (child.exitCode !== null ? `exited ${child.exitCode}: ${stderr}` : undefined));
  const rec = JSON.parse(line) as { level: string; msg: string };
  t.equal(rec.level, 'error');
  t.match(rec.msg, /Restore your latest backup/);
  child.kill('SIGTERM');
  await once(child, 'exit');
});
