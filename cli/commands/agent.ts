/**
 * `stead agent`: the agent daemon. Enrolls (or reuses its identity), then pulls its catalog,
 * converges the host with the engine and reports, every --interval (+ --splay) seconds, until
 * SIGTERM/SIGINT. See docs/agent.md.
 *
 * Output: JSON-lines logs on stderr; one human-readable summary line per run on stdout (a JSON
 * object per run with --json).
 *
 * Exit codes: 0 ok (or stopped by a signal); 1 the run failed (--once); 3 the server refused
 * this agent (bad bootstrap token, revoked); 4 no catalog could be fetched and none is cached
 * (--once); 64 usage.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AgentClient } from '../../agent/client/agent-client.js';
import { agentRun, type AgentRunResult, type Reconciler } from '../../agent/daemon/agent-run.js';
import { BlobCache } from '../../agent/daemon/blob-cache.js';
import { CatalogCache } from '../../agent/daemon/catalog-cache.js';
import { lockDataDir } from '../../agent/daemon/data-dir-lock.js';
import { EnrollmentRefusedError, ensureEnrolled } from '../../agent/daemon/enrollment.js';
import { FactsReporter } from '../../agent/daemon/facts-reporter.js';
import { createJsonLogger, errorFields, type LogLevel } from '../../agent/daemon/json-logger.js';
import { runPullLoop } from '../../agent/daemon/pull-loop.js';
import { reconcile } from '../../agent/engine/reconcile.js';
import { collectFacts } from '../../agent/facts/collect-facts.js';
import { createNodeHost } from '../../agent/host/node-host.js';
import { loadOrCreateIdentity } from '../../agent/identity/agent-identity.js';
import { ensurePrivateDir } from '../../agent/spool/atomic-file.js';
import { ReportSpool } from '../../agent/spool/report-spool.js';
import { UsageError, writeLine, type CliIo } from '../io.js';

export const usage = `Usage: stead agent --server URL --data-dir DIR [options]

Run the agent: enroll with the server, then every --interval pull this host's catalog,
converge, and report, until SIGINT or SIGTERM (with --once: one run, then exit).

Options:
  --server URL                 the Stead server (http:// or https://)
  --data-dir DIR               identity, cached catalog, blobs and report spool (created 0700)
  --root DIR                   confine every managed path under DIR (tests, demos); default /
  --host NAME                  this host's name in the inventory; default the system host name
  --bootstrap-token T          approve the enrollment at once with a bootstrap token
  --bootstrap-token-file F     read the bootstrap token from F (preferred: not visible in ps)
  --interval SECONDS           time between runs; default 300
  --splay SECONDS              random extra delay per run, up to SECONDS; default interval/10
  --once                       one run, then exit (0 ok, 1 failed, 4 no catalog)
  --noop                       compute and report changes, change nothing
  --ca FILE                    PEM CA bundle to trust for an https:// server
  --log-level LEVEL            debug | info | warn | error; default info
  --json                       one JSON summary per run on stdout instead of a line of text
  -h, --help                   show this help

Exit codes: 0 stopped, or the --once run succeeded; 1 the --once run failed; 3 enrollment
refused (rejected or revoked); 4 --once with no catalog; 64 usage error.`;

export const agentExitCodes = { ok: 0, failed: 1, refused: 3, noCatalog: 4 } as const;

const HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}(\.[A-Za-z0-9_][A-Za-z0-9_-]{0,62})*$/;

interface AgentOptions {
  server: string;
  dataDir: string;
  root: string;
  host: string;
  bootstrapToken: string | undefined;
  intervalMs: number;
  splayMs: number;
  once: boolean;
  noop: boolean;
  ca: Buffer | undefined;
  json: boolean;
  logLevel: LogLevel;
}

function seconds(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 86400 * 7) throw new UsageError(`${flag} must be a number of seconds between 0 and 604800, got ${JSON.stringify(v)}`);
  return n;
}

async function parseOptions(args: string[], io: CliIo): Promise<AgentOptions | 'help'> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        server: { type: 'string' },
        'data-dir': { type: 'string' },
        root: { type: 'string' },
        host: { type: 'string' },
        'bootstrap-token': { type: 'string' },
        'bootstrap-token-file': { type: 'string' },
        interval: { type: 'string' },
        splay: { type: 'string' },
        once: { type: 'boolean', default: false },
        noop: { type: 'boolean', default: false },
        ca: { type: 'string' },
        json: { type: 'boolean', default: false },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (!v.server) throw new UsageError('--server URL is required');
  if (!v['data-dir']) throw new UsageError('--data-dir DIR is required');
  let serverUrl: URL;
  try {
    serverUrl = new URL(v.server);
  } catch {
    throw new UsageError(`--server must be a URL, got ${JSON.stringify(v.server)}`);
  }
  if (serverUrl.protocol !== 'http:' && serverUrl.protocol !== 'https:') throw new UsageError('--server must be an http:// or https:// URL');
  const host = v.host ?? os.hostname();
  if (!HOST_NAME.test(host) || Buffer.byteLength(host) > 253) throw new UsageError(`--host ${JSON.stringify(host)} is not a valid host name (labels of letters, digits, "-" or "_", separated by ".")`);
  if (v['bootstrap-token'] !== undefined && v['bootstrap-token-file'] !== undefined) throw new UsageError('give --bootstrap-token or --bootstrap-token-file, not both');
  let bootstrapToken = v['bootstrap-token'] ?? io.env.STEAD_BOOTSTRAP_TOKEN;
  if (v['bootstrap-token-file'] !== undefined) {
    try {
      bootstrapToken = (await fsp.readFile(resolve(io.cwd, v['bootstrap-token-file']), 'utf8')).trim();
    } catch (err) {
      throw new UsageError(`cannot read --bootstrap-token-file: ${(err as Error).message}`);
    }
  }
  const root = resolve(io.cwd, v.root ?? '/');
  try {
    if (!(await fsp.stat(root)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new UsageError(`--root ${root} must be an existing directory`);
  }
  let ca: Buffer | undefined;
  if (v.ca !== undefined) {
    try {
      ca = await fsp.readFile(resolve(io.cwd, v.ca));
    } catch (err) {
      throw new UsageError(`cannot read --ca: ${(err as Error).message}`);
    }
  }
  const interval = seconds('--interval', v.interval, 300);
  if (interval < 1 && !v.once) throw new UsageError('--interval must be at least 1 second');
  const level = v['log-level'] ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError('--log-level must be debug, info, warn or error');
  return {
    server: serverUrl.toString(),
    dataDir: resolve(io.cwd, v['data-dir']),
    root,
    host,
    bootstrapToken: bootstrapToken || undefined,
    intervalMs: interval * 1000,
    splayMs: seconds('--splay', v.splay, interval / 10) * 1000,
    once: v.once === true,
    noop: v.noop === true,
    ca,
    json: v.json === true,
    logLevel: level as LogLevel,
  };
}

/** The one-line summary of a run printed on stdout. */
export function runSummary(host: string, r: AgentRunResult): string {
  const rep = r.report;
  if (!rep) return `${host} run ${r.runId}: no run (${r.error ?? 'unknown reason'}); reports queued: ${r.pendingReports}`;
  const c = rep.counts;
  const parts = [`${c.total} resources`, `${c.changed} changed`, `${c.corrective} corrective`, `${c.failed} failed`];
  if (c.wouldChange > 0) parts.push(`${c.wouldChange} would change`);
  if (c.skipped > 0) parts.push(`${c.skipped} skipped`);
  const where = r.catalogSource === 'cached' ? ', server unreachable: cached catalog' : '';
  const queued = r.pendingReports > 0 ? `; reports queued: ${r.pendingReports}` : '';
  return `${host} run ${r.runId}: ${rep.outcome} (${parts.join(', ')}) catalog ${rep.catalogId.slice(0, 12)} revision ${rep.revision}${where} in ${Math.round(rep.durationMs)} ms${queued}`;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const opts = await parseOptions(args, io);
  if (opts === 'help') {
    writeLine(io.stdout, usage);
    return agentExitCodes.ok;
  }
  const log = createJsonLogger({ stream: io.stderr, level: opts.logLevel, bindings: { component: 'agent', host: opts.host } });

  // Created 0700; an existing directory is not chmodded (it might be shared by mistake: say so instead).
  await fsp.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  if (((await fsp.stat(opts.dataDir)).mode & 0o077) !== 0) log.warn('the data dir is readable by other users; make it 0700', { dataDir: opts.dataDir });
  const lock = await lockDataDir(opts.dataDir);
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) return;
    log.info('stopping', { signal: sig });
    controller.abort(new Error(`received ${sig}`));
    // A run that ignores the abort must not keep the process past the service manager's patience.
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(agentExitCodes.failed);
    }, 20_000).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const signal = controller.signal;
  let client: AgentClient | undefined;
  try {
    const identity = await loadOrCreateIdentity(opts.dataDir);
    if (identity.created) log.info('generated a new agent key', { dir: identity.dir });
    client = new AgentClient({ serverUrl: opts.server, host: opts.host, privateKey: identity.privateKey, ca: opts.ca });
    const spool = new ReportSpool({ dir: join(opts.dataDir, 'spool'), onDrop: (e) => log.error('report spool full: dropped the oldest report', { reportRunId: e.runId }) });
    await spool.open();
    const blobs = new BlobCache(join(opts.dataDir, 'blobs'));
    await blobs.open();
    const catalogs = new CatalogCache(opts.dataDir);
    const stateDir = join(opts.dataDir, 'state');
    await ensurePrivateDir(stateDir);
    const host = createNodeHost({ root: opts.root });
    // Facts go again to a new server, host name or key (after a re-enrollment the server may have none).
    const destination = `${client.server} ${opts.host} ${createHash('sha256').update(identity.publicKeyPem).digest('hex')}`;
    const facts = new FactsReporter({ client, collect: () => collectFacts(), dataDir: opts.dataDir, log, destination });
    const engine: Reconciler = (catalog, o) => {
      const runLog = log.child({ runId: o.runId });
      return reconcile(catalog, {
        host,
        blobs,
        stateDir,
        hostName: opts.host,
        noop: o.noop,
        signal: o.signal,
        runId: o.runId,
        log: (e) => runLog[e.level](e.message, { ...(e.resource ? { resource: e.resource } : {}), ...e.fields }),
      });
    };

    const enrolled = await ensureEnrolled(
      {
        client,
        identity,
        log,
        bootstrapToken: opts.bootstrapToken,
        facts: async () => (await collectFacts()) as unknown as Record<string, unknown>,
        pollMaxMs: Math.min(30_000, Math.max(1000, opts.intervalMs)),
      },
      signal,
    );
    if (enrolled === 'aborted') return agentExitCodes.ok;

    const deps = { client, spool, catalogs, blobs, reconcile: engine, facts, log };
    const print = (r: AgentRunResult): void => {
      if (opts.json) {
        writeLine(io.stdout, JSON.stringify({ host: opts.host, runId: r.runId, catalogSource: r.catalogSource, serverReachable: r.serverReachable, pendingReports: r.pendingReports, ...(r.report ? { outcome: r.report.outcome, counts: r.report.counts, catalogId: r.report.catalogId, revision: r.report.revision } : {}), ...(r.error ? { error: r.error } : {}) }));
      } else {
        writeLine(io.stdout, runSummary(opts.host, r));
      }
    };

    if (opts.once) {
      const result = await agentRun(deps, opts.noop, signal);
      print(result);
      if (result.identityRefused) return agentExitCodes.refused;
      if (!result.report) return signal.aborted ? agentExitCodes.ok : agentExitCodes.noCatalog;
      return result.report.outcome === 'failed' ? agentExitCodes.failed : agentExitCodes.ok;
    }

    log.info('agent started', { server: client.server, root: opts.root, intervalSeconds: opts.intervalMs / 1000, splaySeconds: opts.splayMs / 1000, noop: opts.noop });
    const exit = await runPullLoop({ ...deps, onRun: print }, { intervalMs: opts.intervalMs, splayMs: opts.splayMs, noop: opts.noop }, signal);
    if (exit.reason === 'refused') {
      log.error('the server refuses this agent (revoked or unknown key); stopping. Re-enroll: move <data-dir>/identity aside and restart.', { message: exit.message });
      return agentExitCodes.refused;
    }
    log.info('agent stopped');
    return agentExitCodes.ok;
  } catch (err) {
    if (err instanceof EnrollmentRefusedError) {
      log.error('enrollment refused', { err: errorFields(err), serverCode: err.serverCode });
      return agentExitCodes.refused;
    }
    throw err;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    client?.close();
    await lock.release();
  }
}
