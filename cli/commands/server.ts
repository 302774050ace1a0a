/**
 * `stead server`: the manifest server. Embedded store in --data-dir unless --mongodb-url is
 * given; HTTPS when --tls-cert/--tls-key are given; optionally publishes --repo at start.
 * SIGTERM/SIGINT stop it gracefully: no new connections, in-flight requests finish (up to
 * 10 s), then the store closes. See docs/server.md.
 *
 * Output: human-readable start-up lines on stdout (one JSON object per event with --json);
 * JSON-lines logs on stderr. Exit codes: 0 stopped by a signal; 1 start-up failed (bad
 * repository with --repo, port in use, store; a lost, emptied or damaged store); 64 usage, or a configuration the store refuses
 * (--servers > 1 or --cluster without --mongodb-url, a data directory another server holds).
 */
import { promises as fsp } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { composeServer, defaultJobTransferConcurrency } from '../../server/compose.js';
import { isApiError } from '../../server/domain/errors.js';
import { reportMaxBytesRange, reportQuotaDefaults } from '../../server/domain/report-quota.js';
import { isStoreError } from '../../server/store/store-error.js';
import { SQLITE_FILE_NAME } from '../../server/store/open.js';
import { corrupt } from '../../server/store/sqlite/integrity-check.js';
import { createLogger, type LogLevel } from '../../server/log.js';
import { UsageError, writeLine, type CliIo } from '../io.js';

export const usage = `Usage: stead server --data-dir DIR [options]

Run the manifest server: the HTTP API, the web console and the agents' endpoints, on the
embedded store in --data-dir (or on MongoDB), until SIGINT or SIGTERM.

Options:
  --port PORT                  TCP port; default 8140 (0 picks a free one and prints it)
  --host ADDRESS               listen address; default 127.0.0.1
  --data-dir DIR               embedded store, revision checkouts and admin-token (created 0700)
  --mongodb-url URL            use MongoDB (mongodb:// or mongodb+srv://) instead of the embedded store
  --servers N                  how many servers share this state (default 1); more than 1 needs --mongodb-url
  --cluster                    one of several servers behind a load balancer; needs --mongodb-url
  --repo DIR                   publish this manifest repository at start (refused if invalid)
  --tls-cert FILE              PEM certificate chain: serve HTTPS (needs --tls-key)
  --tls-key FILE               PEM private key
  --secret-key-file FILE       the 32-byte key (64 hex characters) that decrypts manifest secrets
  --headers-timeout SECONDS    a client must send its request headers within this time; default 15
  --stale-after SECONDS        a host without a report for this long is "not reporting"; default 900
  --report-retention-days N    raw reports kept this long (each host's newest always); default 14
  --history-retention-days N   hourly compliance history kept this long; default 400
  --audit-retention-days N     audit log events kept this long; default 400
  --daily-retention-days N     daily compliance history (the 30-day and 12-month charts) kept this
                               long; default 1826 (5 years)
  --drift-retention-days N     drift events (host and resource drift history) kept this long; default 90
  --blob-retention-days N      blobs no revision, job or served catalog references are deleted
                               N days after they were last needed; 0: never; default 7
  --store-check-seconds N      embedded store: SQLite quick_check at start for at most N seconds (damage
                               refuses the start; a longer check goes on in the background); default 30, 0 none
  --pending-key-ttl SECONDS    an agent key not approved within this time expires (its agent enrolls
                               it again); default 86400
  --report-max-bytes N         largest run report accepted (413 beyond); default 4194304 (4 MiB)
  --reports-per-hour N         reports one host may send per hour, after a burst of 30 (429 beyond); default 360
  --job-transfer-concurrency N job file downloads served at once (more wait briefly, then 503 with
                               Retry-After); default 32
  --job-transfer-bandwidth RATE
                               bytes per second for all job file downloads together: a number with
                               an optional K, M or G suffix (powers of 1024); default 0 (unlimited)
  --log-level LEVEL            debug | info | warn | error; default info
  --json                       start-up events as JSON lines on stdout
  -h, --help                   show this help

Exit codes: 0 stopped by SIGINT/SIGTERM; 1 could not start (--repo not published, cannot
listen); 64 usage error, or a configuration the store refuses.`;

/** "0", "1048576", "512K", "50M", "1G" (powers of 1024) → bytes per second; undefined when not a rate. */
export function parseRate(text: string): number | undefined {
  const m = /^(\d{1,15})([KMG]?)$/i.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * 1024 ** ['', 'K', 'M', 'G'].indexOf((m[2] ?? '').toUpperCase());
  return Number.isSafeInteger(n) ? n : undefined;
}

async function readSecretKey(file: string): Promise<Buffer> {
  const raw = await fsp.readFile(file);
  const text = raw.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (raw.length === 32) return raw;
  throw new UsageError(`${file} must hold 32 bytes or 64 hex characters`);
}

/** Reads a repository directory into path → bytes; refuses links and special files, skips .git. */
export async function readRepositoryDir(dir: string): Promise<Map<string, Buffer>> {
  const root = resolve(dir);
  const out = new Map<string, Buffer>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      const rel = relative(root, full).split('\\').join('/');
      if (e.isDirectory()) {
        if (e.name === '.git') continue;
        await walk(full);
      } else if (e.isFile()) out.set(rel, await fsp.readFile(full));
      else throw new Error(`${rel}: symbolic links and special files are not allowed in a manifest repository`);
    }
  };
  await walk(root);
  return out;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'mongodb-url': { type: 'string' },
      servers: { type: 'string' },
      cluster: { type: 'boolean' },
      'headers-timeout': { type: 'string' },
      repo: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'secret-key-file': { type: 'string' },
      'stale-after': { type: 'string' },
      'report-retention-days': { type: 'string' },
      'history-retention-days': { type: 'string' },
      'audit-retention-days': { type: 'string' },
      'daily-retention-days': { type: 'string' },
      'drift-retention-days': { type: 'string' },
      'blob-retention-days': { type: 'string' },
      'pending-key-ttl': { type: 'string' },
      'store-check-seconds': { type: 'string' },
      'report-max-bytes': { type: 'string' },
      'reports-per-hour': { type: 'string' },
      'job-transfer-concurrency': { type: 'string' },
      'job-transfer-bandwidth': { type: 'string' },
      'log-level': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    writeLine(io.stdout, usage);
    return 0;
  }
  const dataDir = values['data-dir'];
  if (!dataDir) throw new UsageError('--data-dir is required');
  const port = Number(values.port ?? '8140');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got ${JSON.stringify(values.port)}`);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError('--log-level must be debug, info, warn or error');
  const staleAfter = Number(values['stale-after'] ?? '900');
  if (!Number.isFinite(staleAfter) || staleAfter < 10) throw new UsageError('--stale-after must be at least 10 seconds');
  const retentionDays = Number(values['report-retention-days'] ?? '14');
  if (!Number.isFinite(retentionDays) || retentionDays <= 0) throw new UsageError('--report-retention-days must be positive');
  const historyDays = Number(values['history-retention-days'] ?? String(Math.max(400, retentionDays)));
  if (!Number.isFinite(historyDays) || historyDays < retentionDays) throw new UsageError('--history-retention-days must be a number of days, at least --report-retention-days');
  const auditDays = Number(values['audit-retention-days'] ?? '400');
  if (!Number.isFinite(auditDays) || auditDays < 1) throw new UsageError('--audit-retention-days must be a number of days, at least 1');
  const dailyDays = Number(values['daily-retention-days'] ?? '1826');
  if (!Number.isFinite(dailyDays) || dailyDays < 2) throw new UsageError('--daily-retention-days must be a number of days, at least 2');
  const driftDays = Number(values['drift-retention-days'] ?? '90');
  if (!Number.isFinite(driftDays) || driftDays < 1) throw new UsageError('--drift-retention-days must be a number of days, at least 1');
  const blobDays = Number(values['blob-retention-days'] ?? '7');
  if (!Number.isFinite(blobDays) || (blobDays !== 0 && blobDays < 1)) throw new UsageError('--blob-retention-days must be a number of days, at least 1 (or 0: never delete blobs)');
  const pendingKeyTtl = Number(values['pending-key-ttl'] ?? '86400');
  if (!Number.isFinite(pendingKeyTtl) || pendingKeyTtl < 60 || pendingKeyTtl > 365 * 86_400) throw new UsageError('--pending-key-ttl must be 60 seconds to 365 days, in seconds');
  const storeCheck = Number(values['store-check-seconds'] ?? '30');
  if (!Number.isFinite(storeCheck) || storeCheck < 0 || storeCheck > 86_400) throw new UsageError('--store-check-seconds must be 0-86400');
  const reportMaxBytes = Number(values['report-max-bytes'] ?? String(reportQuotaDefaults.maxBytes));
  if (!Number.isSafeInteger(reportMaxBytes) || reportMaxBytes < reportMaxBytesRange.min || reportMaxBytes > reportMaxBytesRange.max) throw new UsageError(`--report-max-bytes must be an integer ${reportMaxBytesRange.min}-${reportMaxBytesRange.max}`);
  const reportsPerHour = Number(values['reports-per-hour'] ?? String(reportQuotaDefaults.perHour));
  if (!Number.isFinite(reportsPerHour) || reportsPerHour < 1 || reportsPerHour > 1_000_000) throw new UsageError('--reports-per-hour must be a number 1-1000000');
  const transferConcurrency = Number(values['job-transfer-concurrency'] ?? String(defaultJobTransferConcurrency));
  if (!Number.isSafeInteger(transferConcurrency) || transferConcurrency < 1 || transferConcurrency > 10_000) throw new UsageError('--job-transfer-concurrency must be an integer 1-10000');
  const transferBandwidth = parseRate(values['job-transfer-bandwidth'] ?? '0');
  if (transferBandwidth === undefined) throw new UsageError('--job-transfer-bandwidth must be a number of bytes per second with an optional K, M or G suffix (e.g. 50M), or 0 for unlimited');
  const servers = Number(values.servers ?? '1');
  if (!Number.isSafeInteger(servers) || servers < 1 || servers > 1000) throw new UsageError(`--servers must be an integer 1-1000, got ${JSON.stringify(values.servers)}`);
  const headersTimeout = Number(values['headers-timeout'] ?? '15');
  if (!Number.isFinite(headersTimeout) || headersTimeout < 1 || headersTimeout > 120) throw new UsageError('--headers-timeout must be 1-120 seconds');
  const json = values.json === true;
  const say = (event: string, text: string, fields: Record<string, unknown> = {}): void => writeLine(io.stdout, json ? JSON.stringify({ event, ...fields }) : text);

  const tls = values['tls-cert'] !== undefined ? { cert: await fsp.readFile(values['tls-cert']), key: await fsp.readFile(values['tls-key']!) } : undefined;
  const secretKey = values['secret-key-file'] !== undefined ? await readSecretKey(values['secret-key-file']) : undefined;
  const log = createLogger({ level, write: (l) => void io.stderr.write(l) });
  let composed: Awaited<ReturnType<typeof composeServer>>;
  try {
    composed = await composeServer({
      dataDir: resolve(io.cwd, dataDir),
      ...(values['mongodb-url'] !== undefined ? { mongodbUrl: values['mongodb-url'] } : {}),
      servers,
      ...(values.cluster === true ? { cluster: true } : {}),
      http: { headersTimeoutMs: Math.round(headersTimeout * 1000) },
      log,
      ...(secretKey ? { secretKey } : {}),
      staleAfterMs: staleAfter * 1000,
      pendingKeyTtlMs: pendingKeyTtl * 1000,
      storeCheckMs: Math.round(storeCheck * 1000),
      reports: { maxBytes: reportMaxBytes, perHour: reportsPerHour },
      jobTransfer: { concurrency: transferConcurrency, bytesPerSecond: transferBandwidth },
      housekeeping: { reportRetentionMs: retentionDays * 86_400_000, historyRetentionMs: historyDays * 86_400_000, auditRetentionMs: auditDays * 86_400_000, dailyRetentionMs: dailyDays * 86_400_000, driftRetentionMs: driftDays * 86_400_000 },
      blobRetentionMs: blobDays * 86_400_000,
      secureCookies: tls !== undefined,
    });
  } catch (err) {
    // A lost, emptied or damaged embedded store: say what is wrong and how to restore; exit 1.
    if (isStoreError(err, 'CORRUPT')) {
      writeLine(io.stderr, `stead server: ${err.message}`);
      return 1;
    }
    // Damage the start-up check did not see (it was skipped, or a page it cannot judge) met at start.
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
      const db = join(resolve(io.cwd, dataDir), SQLITE_FILE_NAME);
      writeLine(io.stderr, `stead server: ${corrupt(db, [`${code}: ${(err as Error).message}`]).message}`);
      return 1;
    }
    // A configuration the store refuses (several servers without MongoDB, a data directory
    // another server holds, a malformed MongoDB URL) is the operator's to fix: exit 64.
    if (!isStoreError(err, 'BAD_CONFIG')) throw err;
    writeLine(io.stderr, `stead server: ${err.message}`);
    return 64;
  }
  say('admin-token', `Admin token: ${composed.adminToken.path}${composed.adminToken.created ? ' (created now; keep it secret)' : ''}`, { path: composed.adminToken.path, created: composed.adminToken.created });

  if (values.repo !== undefined) {
    const dir = resolve(io.cwd, values.repo);
    try {
      const files = await readRepositoryDir(dir);
      const r = await composed.services.revisions.publish(files, { createdBy: 'stead server --repo', message: `published at start from ${dir}` }, AbortSignal.timeout(300_000));
      say('published', `Published ${dir} as revision ${r.id} (${r.fileCount} files)`, { revision: r.id, files: r.fileCount });
    } catch (err) {
      writeLine(io.stderr, `stead server: --repo ${dir} was not published: ${(err as Error).message}`);
      if (isApiError(err)) {
        const problems = (err.details as { problems?: { file?: string; line?: number; message: string }[] } | undefined)?.problems ?? [];
        for (const p of problems.slice(0, 50)) writeLine(io.stderr, `  ${p.file ?? ''}${p.line !== undefined ? `:${p.line}` : ''}: ${p.message}`);
      }
      await composed.close();
      return 1;
    }
  }

  // Slow clients are cut off (--headers-timeout); idle keep-alive agents are kept long enough for a poll interval.
  const server = composed.createHttpServer(tls);
  try {
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(port, values.host ?? '127.0.0.1', () => res());
    });
  } catch (err) {
    writeLine(io.stderr, `stead server: cannot listen on ${values.host ?? '127.0.0.1'}:${port}: ${(err as Error).message}`);
    await composed.close();
    return 1;
  }
  const addr = server.address() as AddressInfo;
  const hostPart = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `${tls ? 'https' : 'http'}://${hostPart}:${addr.port}`;
  composed.housekeeping.start();
  say('listening', `Stead server listening on ${url} (store: ${composed.store.kind}; console: ${url}/)`, { url, port: addr.port, store: composed.store.kind });

  await new Promise<void>((resolveStop) => {
    const stop = (sig: string): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      log.info('shutting down', { signal: sig });
      server.close(() => resolveStop());
      server.closeIdleConnections();
      setTimeout(() => {
        server.closeAllConnections();
      }, 10_000).unref();
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
  });
  await composed.close();
  say('stopped', 'Stead server stopped', {});
  return 0;
}
