/**
 * A MongoDB wire-protocol server for tests: the real MongoDB that MONGODB_URL names, or a
 * FerretDB process (binary path in STEAD_FERRETDB, built by test/mongo/build-ferretdb.sh; `npm
 * run test:mongo` sets it) on a free loopback port, with its SQLite backend in a temp dir or
 * its PostgreSQL backend (STEAD_FERRETDB_POSTGRESQL_URL, default postgres://127.0.0.1:5432/test;
 * each MongoDB database is a PostgreSQL schema there, so a fresh database name isolates a test).
 * FerretDB is told it is replica set rs0, so the URL has the production shape.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { freePort } from '../../cli/commands/demo.js';

/** Which server a test runs against. */
export type WireKind = 'mongodb' | 'ferretdb-sqlite' | 'ferretdb-postgresql';

/** A running (or external) MongoDB wire-protocol server. */
export interface MongoWire {
  readonly kind: WireKind;
  /** Connection URL without a database (tests pick a fresh database name). */
  readonly url: string;
  /** Stops a FerretDB this helper started and removes its files; no-op for MONGODB_URL. */
  stop(): Promise<void>;
}

/** The backends test:mongo runs: MONGODB_URL alone when set, else FerretDB on each backend. */
export function wireKinds(): { kind: WireKind; skip?: string }[] {
  if ((process.env['MONGODB_URL'] ?? '') !== '') return [{ kind: 'mongodb' }];
  const notBuilt = 'neither MONGODB_URL nor STEAD_FERRETDB is set: MongoDB-wire tests run with `npm run test:mongo`';
  if ((process.env['STEAD_FERRETDB'] ?? '') === '') {
    return [{ kind: 'ferretdb-sqlite', skip: notBuilt }, { kind: 'ferretdb-postgresql', skip: notBuilt }];
  }
  return [{ kind: 'ferretdb-sqlite' }, { kind: 'ferretdb-postgresql' }];
}

/** PostgreSQL URL of FerretDB's PostgreSQL backend. */
export function postgresqlUrl(): string {
  return process.env['STEAD_FERRETDB_POSTGRESQL_URL'] ?? 'postgres://127.0.0.1:5432/test';
}

/** Resolves why PostgreSQL cannot be reached (host:port of postgresqlUrl), or null when it can. */
export async function postgresqlUnreachable(): Promise<string | null> {
  const u = new URL(postgresqlUrl());
  const port = Number(u.port === '' ? 5432 : u.port);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port });
    s.setTimeout(5000, () => { s.destroy(); resolve(`PostgreSQL at ${u.hostname}:${port} did not answer in 5 s`); });
    s.once('connect', () => { s.end(); resolve(null); });
    s.once('error', (err) => resolve(`PostgreSQL at ${u.hostname}:${port}: ${err.message}`));
  });
}

/** Starts (or names) the server of that kind. Throws with FerretDB's output when it cannot start. */
export async function startMongoWire(kind: WireKind): Promise<MongoWire> {
  if (kind === 'mongodb') {
    const url = process.env['MONGODB_URL'];
    if (url === undefined || url === '') throw new Error('MONGODB_URL is not set');
    return { kind, url, stop: async () => undefined };
  }
  const binary = process.env['STEAD_FERRETDB'];
  if (binary === undefined || binary === '') throw new Error('STEAD_FERRETDB (the ferretdb binary) is not set');
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) { // a free port can be taken between probe and bind
    try {
      return await startFerretDB(binary, kind === 'ferretdb-sqlite' ? 'sqlite' : 'postgresql');
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** Starts one FerretDB process and waits until it answers `hello` (up to 60 s). */
export async function startFerretDB(binary: string, backend: 'sqlite' | 'postgresql'): Promise<MongoWire> {
  const dir = mkdtempSync(join(tmpdir(), 'stead-ferretdb-'));
  const port = await freePort();
  const args = [
    `--handler=${backend}`,
    `--listen-addr=127.0.0.1:${port}`,
    '--debug-addr=-',
    `--state-dir=${dir}`,
    '--telemetry=disable',
    '--repl-set-name=rs0',
    '--log-level=warn',
    backend === 'sqlite' ? `--sqlite-url=file:${dir}/` : `--postgresql-url=${postgresqlUrl()}`,
  ];
  // Through a tiny shell guard: FerretDB is stopped when its stdin (a pipe from this process)
  // closes, so it never outlives a test process that is killed (kill -9 runs no exit handler).
  const guard = 'exec 3<&0; "$0" "$@" </dev/null & pid=$!; (cat <&3 >/dev/null; kill -TERM $pid 2>/dev/null) & exec 3<&-; wait $pid';
  const child = spawn('/bin/sh', ['-c', guard, binary, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const keep = (b: Buffer): void => { output = (output + b.toString('utf8')).slice(-8000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killOnExit = (): void => { child.stdin?.destroy(); };
  process.once('exit', killOnExit);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(`ferretdb exited (${signal ?? `code ${code}`})`));
    child.once('error', (err) => resolve(`ferretdb did not start: ${err.message}`));
  });
  const url = `mongodb://127.0.0.1:${port}/?replicaSet=rs0`;
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    await stopChild(child, exited);
    rmSync(dir, { recursive: true, force: true });
  };
  const gone = { value: false };
  void exited.then(() => { gone.value = true; });
  const ready = await Promise.race([waitHello(url, 60_000, gone).then(() => null), exited]);
  if (ready !== null) {
    await stop();
    throw new Error(`FerretDB (${backend}) did not start: ${ready}\n${output}`);
  }
  return { kind: backend === 'sqlite' ? 'ferretdb-sqlite' : 'ferretdb-postgresql', url, stop };
}

async function waitHello(url: string, ms: number, gone: { value: boolean }): Promise<void> {
  const deadline = Date.now() + ms;
  while (!gone.value) {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
    try {
      await client.connect();
      await client.db('admin').command({ hello: 1 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`no answer on ${url} in ${ms} ms: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await client.close().catch(() => undefined);
    }
  }
}

/** Closes the guard's stdin (it stops FerretDB with SIGTERM and exits when FerretDB has). */
async function stopChild(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** The URL with `db` as its database (the path), keeping hosts and options. */
export function withDatabase(url: string, db: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]*)\/?[^?]*(\?.*)?$/.exec(url);
  if (m === null) throw new Error('not a mongodb:// URL');
  return `${m[1]}/${encodeURIComponent(db)}${m[2] ?? ''}`;
}
