/**
 * The server side of bench:fleet: a real `stead server` process (embedded store in a temp data
 * directory, or a MongoDB-wire URL), agent identities seeded into its store before it starts,
 * and readings of the process from /proc (CPU time of all its threads, RSS, peak RSS).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { keyFingerprint } from '../../schemas/key-fingerprint.js';
import { openStore } from '../../server/store/open.js';

/** One simulated agent's identity. */
export interface FleetIdentity {
  readonly host: string;
  readonly key: KeyObject;
  readonly pem: string;
}

/** Ed25519 key pairs for the given host names (the agent's own key type: agent/identity). */
export function makeIdentities(hosts: readonly string[]): FleetIdentity[] {
  return hosts.map((host) => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return { host, key: privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
  });
}

/**
 * Writes every identity as an approved agent into the store through the server's own store
 * code (openStore → the `agents` collection, with its index), in the document shape
 * EnrollmentService keeps for a host enrolled with a bootstrap token. Done before the server
 * starts: 100,000 API enrollments (token + enroll) would take minutes; the enrollment route's
 * speed is bench:server's figure, not this bench's. Resolves the milliseconds it took.
 */
export async function seedApprovedAgents(where: { dataDir: string } | { mongodbUrl: string }, ids: readonly FleetIdentity[]): Promise<number> {
  const t0 = performance.now();
  const store = await openStore('dataDir' in where ? { dataDir: where.dataDir } : { mongodbUrl: where.mongodbUrl });
  try {
    const agents = await store.collection('agents', [{ name: 'by_status', fields: { status: 1 } }]);
    const now = Date.now();
    for (let i = 0; i < ids.length; i += 2000) {
      await agents.insertMany(ids.slice(i, i + 2000).map((a) => ({
        _id: a.host,
        status: 'approved',
        keys: [{ fingerprint: keyFingerprint(a.pem), pem: a.pem, status: 'approved', createdAt: now, approvedAt: now, via: 'bootstrap-token' }],
        version: 1,
        updatedAt: now,
      })));
    }
  } finally {
    await store.close();
  }
  return performance.now() - t0;
}

/** A running server process. */
export interface FleetServer {
  readonly url: URL;
  readonly pid: number;
  readonly adminToken: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `node dist/cli/main.js server` on a free port and resolves once it listens (after
 * publishing `repoDir`, when given). Extra node flags (e.g. --cpu-prof) go in `nodeArgs`.
 */
export async function startFleetServer(opts: { mainJs: string; dataDir: string; repoDir?: string; mongodbUrl?: string; nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv }): Promise<FleetServer> {
  const args = [...(opts.nodeArgs ?? []), opts.mainJs, 'server', '--port', '0', '--data-dir', opts.dataDir, '--json', '--log-level', 'warn'];
  if (opts.repoDir !== undefined) args.push('--repo', opts.repoDir);
  if (opts.mongodbUrl !== undefined) args.push('--mongodb-url', opts.mongodbUrl);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-4000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = /"event":"listening","url":"([^"]+)"/.exec(buf);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`server exited ${c} before listening: ${err}`)));
  });
  const adminToken = readFileSync(join(opts.dataDir, 'admin-token'), 'utf8').trim();
  return {
    url: new URL(url),
    pid: child.pid!,
    adminToken,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** CPU seconds (user + system, every thread) the process has used so far. */
export function cpuSeconds(pid: number, mainThreadOnly = false): number {
  // /proc/PID/stat counts every thread; /proc/PID/task/PID/stat the main thread (the event loop) alone.
  const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Resident set size now and its peak (VmHWM), MiB. */
export function rssMiB(pid: number): { now: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
  return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Bytes under a directory (the embedded store: stead.db, its WAL, blobs, checkouts). */
export function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += dirBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

/** The embedded store's own files only: stead.db and its -wal/-shm. */
export function sqliteBytes(dataDir: string): number {
  let total = 0;
  for (const name of readdirSync(dataDir)) if (name.startsWith('stead.db')) total += statSync(join(dataDir, name)).size;
  return total;
}

/** dbStats of a MongoDB database: dataSize + indexSize (what grows with reports). */
export async function mongoBytes(url: string): Promise<number> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    const s = await client.db().command({ dbStats: 1 });
    return Number(s['dataSize'] ?? 0) + Number(s['indexSize'] ?? 0);
  } finally {
    await client.close();
  }
}
