/**
 * `stead agent`: the agent daemon. Enrolls (or reuses its identity), then pulls its catalog,
 * converges the host with the engine and reports, every --interval (+ --splay) seconds, until
 * SIGTERM/SIGINT. See docs/agent.md.
 *
 * Output: JSON-lines logs on stderr; one human-readable summary line per run on stdout (a JSON
 * object per run with --json).
 *
 * Exit codes (agentExitCodes; docs/agent.md): 0 ok (or stopped by a signal); 1 the run failed
 * (--once) or an unexpected error; 3 the server refused this agent (bad bootstrap token,
 * rejected key); 4 the server answered without a catalog and none is cached (--once); 5 gave up:
 * the server could not be reached (or did not approve the enrollment) within --give-up-after and
 * no catalog is cached (--once); 6 the data dir is unsafe (owned or writable by another user);
 * 64 usage. A revoked (or forgotten) agent does not exit: it enrolls a new key and waits for
 * approval (ADR 0009).
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AgentClient } from '../../agent/client/agent-client.js';
import { agentRun, type AgentRunResult, type Reconciler } from '../../agent/daemon/agent-run.js';
import { Backoff, sleep } from '../../agent/daemon/backoff.js';
import { BlobCache } from '../../agent/daemon/blob-cache.js';
import { reconcileThenPrune } from '../../agent/daemon/backup-pruning.js';
import { defaultBackupRetention, type BackupRetention } from '../../agent/resources/backup-retention.js';
import { CatalogCache, catalogSealKey } from '../../agent/daemon/catalog-cache.js';
import { checkDataDir } from '../../agent/daemon/data-dir.js';
import { lockDataDir } from '../../agent/daemon/data-dir-lock.js';
import { EnrollmentRefusedError, ensureEnrolled, keyRefusedForGood, renewKey } from '../../agent/daemon/enrollment.js';
import { FactsReporter } from '../../agent/daemon/facts-reporter.js';
import { TrackingLoop } from '../../agent/daemon/tracking-loop.js';
import { createJsonLogger, errorFields, type LogLevel } from '../../agent/daemon/json-logger.js';
import { runPullLoop } from '../../agent/daemon/pull-loop.js';
import { runJobAgent } from '../../agent/jobs/job-agent.js';
import { reconcile } from '../../agent/engine/reconcile.js';
import { collectFacts } from '../../agent/facts/collect-facts.js';
import { createNodeHost } from '../../agent/host/node-host.js';
import { loadOrCreateIdentity, readEnrollment } from '../../agent/identity/agent-identity.js';
import { ensurePrivateDir } from '../../agent/spool/atomic-file.js';
import { UnsafePathError } from '../../agent/spool/owned-files.js';
import { ReportSpool } from '../../agent/spool/report-spool.js';
import { UsageError, writeLine, type CliIo } from '../io.js';

export const usage = `Usage: stead agent --server URL --data-dir DIR [options]

Runs the Stead agent: enrolls with the server under its own key, then every --interval pulls
this host's catalog, converges the host and reports, until SIGINT or SIGTERM (with --once: one
run, then exit). See docs/agent.md.

Options:
  --server URL                 the Stead server (http:// or https://)
  --data-dir DIR               identity, cached catalog, blobs and report spool (created 0700);
                               it and every directory above it must be owned by the agent's
                               user or root and not writable by group or others (sticky
                               parents such as /tmp excepted)
  --root DIR                   confine every managed path under DIR (tests, demos); default /
  --host NAME                  this host's name in the inventory; default the system host name
  --bootstrap-token T          approve the enrollment at once with a bootstrap token
  --bootstrap-token-file F     read the bootstrap token from F (preferred: not visible in ps)
  --interval SECONDS           time between runs; default 300
  --splay SECONDS              random extra delay per run, up to SECONDS; default interval/10
  --once                       one run, then exit; with the server unreachable, a cached
                               catalog is enforced offline
  --give-up-after SECONDS      with --once: stop waiting for the server (enrollment, catalog)
                               after SECONDS in all; default 60
  --noop                       compute and report changes, change nothing (jobs too: their
                               scripts are reported would-run, their files would-change)
  --no-jobs                    do not take jobs (scripts, file distribution) from the server;
                               by default the daemon long-polls for them beside its runs
  --full-reports               send every run report in full (by default the in-sync
                               resources are summarised against the catalog: ADR 0021)
  --no-inventory               do not report packages, services and virtual resources (the
                               tracking config's collectors); by default the daemon collects
                               what the server tracks every interval it sets, beside its runs
  --libvirt-uri URI            the libvirt connection the inventory lists domains of (when
                               virsh is installed); default qemu:///system
  --backup-keep N              file backups kept per managed path (newest first); default 10
  --backup-max-age-days D      file backups older than D days are removed; 0: no limit;
                               default 90
  --backup-max-size-mb M       total size of file backups kept, in MiB; 0: no cap; default 512
                               (the newest backup of each path is always kept: see
                               docs/agent.md "Backups")
  --ca FILE                    PEM CA bundle to trust for an https:// server
  --log-level LEVEL            debug | info | warn | error; default info
  --json                       one JSON summary per run on stdout instead of a line of text
  -h, --help                   show this help

Exit codes:
  0   ok; or stopped by SIGTERM/SIGINT
  1   --once: the run failed (a resource failed); or an unexpected error
  3   the server refused this agent (bad bootstrap token, rejected key); a revoked agent
      enrolls a new key and waits for approval instead
  4   --once: the server answered but has no catalog for this host, and none is cached
  5   --once: gave up: the server was not reached (or did not approve this agent) within
      --give-up-after seconds, and no catalog is cached
  6   the data dir is unsafe (owned or writable by another user, or a link): see the message
  64  usage error`;

export const agentExitCodes = { ok: 0, failed: 1, refused: 3, noCatalog: 4, gaveUp: 5, unsafeDataDir: 6 } as const;

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
  giveUpMs: number;
  noop: boolean;
  fullReports: boolean;
  jobs: boolean;
  inventory: boolean;
  libvirtUri: string;
  backupRetention: BackupRetention;
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

function libvirtUri(v: string | undefined): string {
  if (v === undefined) return 'qemu:///system';
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^\s]*$/.test(v) || v.length > 1024) throw new UsageError(`--libvirt-uri must be a libvirt URI such as qemu:///system, got ${JSON.stringify(v)}`);
  return v;
}

function wholeNumber(flag: string, v: string | undefined, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

function backupRetention(keep: string | undefined, age: string | undefined, sizeMb: string | undefined): BackupRetention {
  const d = defaultBackupRetention;
  return {
    keepPerPath: wholeNumber('--backup-keep', keep, d.keepPerPath, 1, 100_000),
    maxAgeDays: wholeNumber('--backup-max-age-days', age, d.maxAgeDays, 0, 36_500),
    maxTotalBytes: wholeNumber('--backup-max-size-mb', sizeMb, d.maxTotalBytes / 1048576, 0, 1_048_576) * 1048576,
  };
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
        'give-up-after': { type: 'string' },
        noop: { type: 'boolean', default: false },
        'no-jobs': { type: 'boolean', default: false },
        'full-reports': { type: 'boolean', default: false },
        'no-inventory': { type: 'boolean', default: false },
        'libvirt-uri': { type: 'string' },
        'backup-keep': { type: 'string' },
        'backup-max-age-days': { type: 'string' },
        'backup-max-size-mb': { type: 'string' },
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
  if (v['give-up-after'] !== undefined && !v.once) throw new UsageError('--give-up-after applies to --once only (the daemon never gives up: it keeps enforcing its cached catalog)');
  const giveUp = seconds('--give-up-after', v['give-up-after'], 60);
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
    giveUpMs: giveUp * 1000,
    noop: v.noop === true,
    fullReports: v['full-reports'] === true,
    jobs: v['no-jobs'] !== true,
    inventory: v['no-inventory'] !== true,
    libvirtUri: libvirtUri(v['libvirt-uri']),
    backupRetention: backupRetention(v['backup-keep'], v['backup-max-age-days'], v['backup-max-size-mb']),
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

  // Created 0700. An existing one, and every directory above it, must be safe (docs/adr/0011);
  // one that others can merely read is not chmodded (it might be shared by mistake: say so instead).
  let dataDir: string;
  let lock: Awaited<ReturnType<typeof lockDataDir>>;
  try {
    const checked = await checkDataDir(opts.dataDir);
    dataDir = checked.path;
    if (checked.readableByOthers) log.warn(`the data dir is readable by other users (cached catalogs may hold secrets). Fix: chmod 0700 ${dataDir}`, { dataDir });
    lock = await lockDataDir(dataDir);
  } catch (err) {
    if (err instanceof UnsafePathError) {
      log.error(err.message, { code: err.code, path: err.path });
      return agentExitCodes.unsafeDataDir;
    }
    throw err;
  }
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
    const identity = await loadOrCreateIdentity(dataDir);
    if (identity.created) log.info('generated a new agent key', { dir: identity.dir });
    client = new AgentClient({ serverUrl: opts.server, host: opts.host, privateKey: identity.privateKey, ca: opts.ca });
    const spool = new ReportSpool({ dir: join(dataDir, 'spool'), onDrop: (e) => log.error('report spool full: dropped the oldest report', { reportRunId: e.runId }) });
    await spool.open();
    const blobs = new BlobCache(join(dataDir, 'blobs'));
    await blobs.open();
    const catalogs = new CatalogCache(dataDir, { sealKey: catalogSealKey(identity.privateKey), onReject: (_path, reason) => log.error(reason) });
    const stateDir = join(dataDir, 'state');
    await ensurePrivateDir(stateDir);
    const host = createNodeHost({ root: opts.root });
    // Facts go again to a new server, host name or key (after a re-enrollment the server may have none).
    const destination = `${client.server} ${opts.host} ${createHash('sha256').update(identity.publicKeyPem).digest('hex')}`;
    const facts = new FactsReporter({ client, collect: () => collectFacts(), dataDir, log, destination });
    const engine: Reconciler = (catalog, o) => {
      const runLog = log.child({ runId: o.runId });
      return reconcileThenPrune(runLog, () => reconcile(catalog, {
        host,
        blobs,
        stateDir,
        hostName: opts.host,
        noop: o.noop,
        signal: o.signal,
        runId: o.runId,
        log: (e) => runLog[e.level](e.message, { ...(e.resource ? { resource: e.resource } : {}), ...e.fields }),
      }), o.noop ? undefined : { stateDir, policy: opts.backupRetention });
    };

    // --once waits for the server (enrollment, then the catalog) at most --give-up-after in all.
    const contact = opts.once ? AbortSignal.any([signal, AbortSignal.timeout(opts.giveUpMs)]) : signal;
    const enrollment = {
      client,
      log,
      facts: async () => (await collectFacts()) as unknown as Record<string, unknown>,
      pollMaxMs: Math.min(30_000, Math.max(1000, opts.intervalMs)),
    };
    // Revoked or forgotten by the server: a new key, pending until an operator approves it.
    const renew = (reason: { code: string; message: string }) => renewKey({ ...enrollment, dataDir: opts.dataDir }, reason, contact);
    const server = client.server;
    const gaveUpPending = async (): Promise<number> => {
      if (signal.aborted) return agentExitCodes.ok;
      const pending = (await readEnrollment(identity.dir, server, opts.host))?.status === 'pending';
      log.error(
        pending
          ? `gave up after ${opts.giveUpMs / 1000} s (--give-up-after): the enrollment is still pending; an operator must approve this agent (or give a bootstrap token)`
          : `gave up after ${opts.giveUpMs / 1000} s (--give-up-after): the server at ${server} could not be reached to enroll`,
        { server },
      );
      return agentExitCodes.gaveUp;
    };
    let enrolled: 'approved' | 'aborted';
    try {
      enrolled = await ensureEnrolled({ ...enrollment, identity, bootstrapToken: opts.bootstrapToken }, contact);
    } catch (err) {
      if (!(err instanceof EnrollmentRefusedError && keyRefusedForGood(err.serverCode))) throw err;
      enrolled = await renew({ code: err.serverCode, message: err.message });
    }
    if (enrolled === 'aborted') return gaveUpPending();

    const deps = { client, spool, catalogs, blobs, reconcile: engine, facts, log, fullReports: opts.fullReports };
    const print = (r: AgentRunResult): void => {
      if (opts.json) {
        writeLine(io.stdout, JSON.stringify({ host: opts.host, runId: r.runId, catalogSource: r.catalogSource, serverReachable: r.serverReachable, pendingReports: r.pendingReports, ...(r.report ? { outcome: r.report.outcome, counts: r.report.counts, catalogId: r.report.catalogId, revision: r.report.revision } : {}), ...(r.error ? { error: r.error } : {}) }));
      } else {
        writeLine(io.stdout, runSummary(opts.host, r));
      }
    };

    if (opts.once) {
      // One run. With nothing to enforce while the server is unreachable, try again (backoff)
      // until --give-up-after; a cached catalog is enforced offline at once, as the daemon does.
      const backoff = new Backoff({ minMs: 500, maxMs: 10_000 });
      const once = async (): Promise<AgentRunResult> => {
        let r = await agentRun(deps, opts.noop, signal, { contactSignal: contact });
        while (!r.report && !r.identityRefused && !r.serverReachable && !contact.aborted && (await sleep(backoff.next(), contact))) {
          r = await agentRun(deps, opts.noop, signal, { contactSignal: contact });
        }
        return r;
      };
      let result = await once();
      print(result);
      if (result.identityRefused && keyRefusedForGood(result.identityRefused.code)) {
        if ((await renew(result.identityRefused)) === 'aborted') return gaveUpPending();
        result = await once();
        print(result);
      }
      if (result.identityRefused) return agentExitCodes.refused;
      if (!result.report) {
        if (signal.aborted) return agentExitCodes.ok;
        if (result.serverReachable) return agentExitCodes.noCatalog;
        log.error(`gave up after ${opts.giveUpMs / 1000} s (--give-up-after): the server at ${client.server} could not be reached and no catalog is cached`, { server: client.server, lastError: result.error });
        return agentExitCodes.gaveUp;
      }
      return result.report.outcome === 'failed' ? agentExitCodes.failed : agentExitCodes.ok;
    }

    log.info('agent started', { server: client.server, root: opts.root, intervalSeconds: opts.intervalMs / 1000, splaySeconds: opts.splayMs / 1000, noop: opts.noop, jobs: opts.jobs, inventory: opts.inventory });
    // The job channel runs beside the pull loop (never waits on a run) until the daemon stops.
    const jobsStop = new AbortController();
    const stopJobs = (): void => jobsStop.abort();
    signal.addEventListener('abort', stopJobs, { once: true });
    // The inventory loop too: its own timers and processes, never waited on by a run.
    const tracking = opts.inventory ? new TrackingLoop({ client, host, dataDir, log: log.child({ component: 'inventory' }), libvirtUri: opts.libvirtUri, destination }) : undefined;
    if (tracking) client.onTrackingHint = (v) => tracking.hint(v);
    const inventory = tracking?.run(jobsStop.signal).catch((err: unknown) => log.error('the inventory loop failed; inventory is not reported until the agent restarts', { err: errorFields(err) }));
    const jobs = opts.jobs ? runJobAgent({ client, dataDir, host, blobs, stateDir, log, noop: opts.noop }, jobsStop.signal).catch((err: unknown) => log.error('the job channel failed; jobs are not taken until the agent restarts', { err: errorFields(err) })) : undefined;
    try {
      let exit = await runPullLoop({ ...deps, onRun: print }, { intervalMs: opts.intervalMs, splayMs: opts.splayMs, noop: opts.noop }, signal);
      while (exit.reason === 'refused' && keyRefusedForGood(exit.code)) {
        if ((await renew(exit)) === 'aborted') {
          if (signal.aborted) break; // stopped while waiting for approval: a clean stop
          return gaveUpPending();
        }
        exit = await runPullLoop({ ...deps, onRun: print }, { intervalMs: opts.intervalMs, splayMs: opts.splayMs, noop: opts.noop }, signal);
      }
      if (exit.reason === 'refused' && !signal.aborted) {
        log.error('the server refuses this agent; stopping (a clock out of step is refused too: check NTP)', { message: exit.message, serverCode: exit.code });
        return agentExitCodes.refused;
      }
    } finally {
      jobsStop.abort();
      signal.removeEventListener('abort', stopJobs);
      await jobs;
      await inventory;
    }
    log.info('agent stopped');
    return agentExitCodes.ok;
  } catch (err) {
    if (err instanceof UnsafePathError) {
      log.error(err.message, { code: err.code, path: err.path });
      return agentExitCodes.unsafeDataDir;
    }
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
