/**
 * The composition root of the server: opens the store, builds every service, the Koa app and
 * the housekeeping timer, and makes sure an admin token exists. The only place that constructs
 * services. Used by `stead server` and by tests (with a ManualClock and a temporary data dir).
 */
import { promises as fsp } from 'node:fs';
import type http from 'node:http';
import { join, resolve } from 'node:path';
import { MongoStore } from './store/mongo/mongo-store.js';
import { openStore, SQLITE_FILE_NAME } from './store/open.js';
import { corrupt } from './store/sqlite/integrity-check.js';
import type { DocumentStore } from './store/types.js';
import { createApp, type SteadApp } from './app.js';
import type { ConsolePorts } from './web/console-ports.js';
import { createHttpServer, type HttpTimeouts } from './api/http-server.js';
import { systemClock, type Clock } from './domain/clock.js';
import { NonceCache } from './domain/nonce-cache.js';
import { RateLimiter } from './domain/rate-limiter.js';
import { ReportQuota, type ReportQuotaOptions } from './domain/report-quota.js';
import { newToken } from './domain/tokens.js';
import { createLogger, type Logger } from './log.js';
import { Housekeeping, type HousekeepingOptions } from './scheduler/housekeeping.js';
import { BlobMarks } from './services/blob-marks.js';
import { BLOB_MARK_REFRESH_MS, BlobRetention, jobBlobRoots } from './services/blob-retention.js';
import { AuditService } from './services/audit-service.js';
import { CatalogService } from './services/catalog-service.js';
import type { CompilerPort } from './services/compiler-port.js';
import { ComplianceService } from './services/compliance-service.js';
import { DriftService, type DriftOptions } from './services/drift-service.js';
import { DashboardService } from './services/dashboard-service.js';
import { EnrollmentService } from './services/enrollment-service.js';
import { HostStateService } from './services/host-state-service.js';
import { JobTemplates } from './services/jobs/job-templates.js';
import { PlanService } from './services/jobs/plan-service.js';
import { TransferLimiter } from './services/jobs/transfer-limiter.js';
import { OperatorAuthService } from './services/operator-auth-service.js';
import { UserService } from './services/users/user-service.js';
import { ScopeGuard } from './services/users/scope-guard.js';
import { ReportService } from './services/report-service.js';
import { CatalogIndexService } from './services/catalog-index.js';
import type { JobLauncher } from './services/schedules/job-launcher.js';
import type { ScheduleRunnerOptions } from './services/schedules/schedule-runner.js';
import { ScheduleService } from './services/schedules/schedule-service.js';
import { systemTimer, type Timer } from './services/schedules/timer.js';
import { RevisionService } from './services/revision-service.js';
import { NonceLedger } from './services/nonce-ledger.js';
import { SharedNonceStore } from './services/shared-nonce-store.js';
import { AccountService } from './services/scripts/account-service.js';
import { ScriptService } from './services/scripts/script-service.js';
import type { Services } from './services/services.js';
import { WorkerCompiler } from './services/worker-compiler.js';
import { AuditLog } from './services/audit-log.js';
import { JobChannel } from './services/jobs/job-channel.js';
import { openJobCollections } from './services/jobs/job-model.js';
import { JobService } from './services/jobs/job-service.js';
import { PlanDriver, type PlanDriverOptions } from './services/jobs/plan-driver.js';
import type { JobPorts } from './services/jobs/ports.js';
import { TargetResolver } from './services/jobs/targets.js';
import { realStepRunners } from './services/jobs/step-runners.js';
import { scheduleLauncher } from './services/jobs/schedule-launcher.js';
import { FleetPlanService, type FleetPlanOptions } from './services/fleet-plan/fleet-plan-service.js';
import { openRollouts } from './services/rollouts/rollout-model.js';
import { RolloutDriver, type ProbeRunner, type RolloutDriverOptions, type TargetFor } from './services/rollouts/rollout-driver.js';
import { RolloutService } from './services/rollouts/rollout-service.js';
import { RevisionTarget } from './services/rollouts/revision-target.js';
import { JobTarget } from './services/rollouts/job-target.js';
import { rolloutProbe } from './services/rollouts/probes.js';
import { GitService } from './services/git/git-service.js';
import { ManifestDrafts } from './services/manifests/manifest-drafts.js';
import { InventoryService } from './services/inventory/inventory-service.js';
import { planLauncher } from './services/inventory/plan-launcher.js';
import { SoftwareService, type SoftwareOptions } from './services/software/software-service.js';

export interface ServerConfig {
  /** Data directory: embedded store, revision checkouts, admin-token. */
  readonly dataDir: string;
  /** Use MongoDB instead of the embedded store. */
  readonly mongodbUrl?: string;
  /**
   * How many server processes share this state (default 1). More than one, or `cluster`,
   * needs `mongodbUrl`: the embedded store serves exactly one server (StoreError BAD_CONFIG).
   */
  readonly servers?: number;
  /** Several servers behind a load balancer (implies servers > 1; needs `mongodbUrl`). */
  readonly cluster?: boolean;
  /** Timeouts of the listening socket (createHttpServer); slow clients are cut off. */
  readonly http?: HttpTimeouts;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** The 32-byte key that decrypts secrets in manifests. */
  readonly secretKey?: Buffer;
  /** Largest clock difference of a signed agent request. Default 5 min. */
  readonly skewMs?: number;
  /** Hosts without a report for this long are not reporting. Default 15 min. */
  readonly staleAfterMs?: number;
  readonly housekeeping?: HousekeepingOptions;
  /**
   * Unreferenced blobs are deleted once their mark is older than this (ADR 0022); 0: never
   * deleted. Default 7 days. At least a day in practice (`--blob-retention-days` ≥ 1).
   */
  readonly blobRetentionMs?: number;
  /**
   * Cache TTLs (identity, live pointer); tests set 0 to see every change at once. Identity
   * undefined: 5 s on a shared store, 10 min on one only this server writes.
   */
  readonly identityTtlMs?: number | undefined;
  readonly liveTtlMs?: number;
  readonly defaultMetrics?: boolean;
  /**
   * Embedded store: SQLite's quick_check at start, for at most this long (0/absent: none). Damage
   * found refuses the start (StoreError CORRUPT); a check that outlasts it is logged when it ends.
   */
  readonly storeCheckMs?: number;
  /** A pending agent key not approved within this time expires and frees its slot (ADR 0009). Default 24 h. */
  readonly pendingKeyTtlMs?: number;
  /** Enrollments without a bootstrap token accepted per client address per minute. Default 120. */
  readonly enrollPerMinute?: number;
  readonly secureCookies?: boolean;
  /** Report size and per-host rate limits (defaults: 4 MiB, a burst of 30, 360 per hour). */
  readonly reports?: ReportQuotaOptions;
  /** Request-body bytes held at once before their senders are authenticated (503 beyond). Default 32 MiB. */
  readonly unauthenticatedBodyBytes?: number;
  /** Deadline of one host's compile in the worker. Default 30 s. */
  readonly compileTimeoutMs?: number;
  /** Deadline of validating a whole repository at publish. Default 10 min. */
  readonly validateTimeoutMs?: number;
  /** Compile worker threads (a runaway compile holds one; the others go on). Default 2. */
  readonly compileWorkers?: number;
  /** Replace the compiler (tests of the server alone never do; kept for embedding). */
  readonly compiler?: CompilerPort;
  readonly version?: string;
  /**
   * Serving job blobs (the files of files steps): transfers at once (default 32; more wait in a
   * short queue, then 503 with Retry-After) and bytes per second for all together (default 0:
   * unlimited).
   */
  readonly jobTransfer?: { readonly concurrency?: number; readonly bytesPerSecond?: number };
  /** The folder of base scripts seeded at start (default: the one shipped beside the server, ScriptService). */
  readonly baseScriptsDir?: string;
  /**
   * Launches the jobs schedules fire. Default: the job service (server/services/jobs/
   * schedule-launcher.ts); tests may record launches instead.
   */
  readonly jobLauncher?: JobLauncher;
  /** The schedule runner's timing (poll, grace, lease) and its timer (tests: a ManualClock's). */
  readonly schedules?: ScheduleRunnerOptions & { readonly timer?: Timer };
  /**
   * Ports of the job core (tests and embedding). Anything not given is the real service: the
   * safety audit, the script library, execution accounts and the step runners.
   */
  readonly jobs?: Partial<JobPorts> & { readonly driver?: PlanDriverOptions; readonly pollRecheckMs?: number };
  /** The rollout driver's timing, and its health probes (tests); default: real probes. */
  readonly rollouts?: { readonly driver?: RolloutDriverOptions; readonly probe?: ProbeRunner };
  /** Where this server keeps its git mirror (GIT_PROJECT_ROOT). Default <dataDir>/git. */
  readonly gitRootDir?: string;
  /** Bounds of fleet plans (compile concurrency, deadlines, diff budget): FleetPlanService's defaults otherwise. */
  readonly fleetPlan?: FleetPlanOptions;
  /** The console's inventory/software/services ports (tests only; by default the console builds them from the services). */
  readonly consolePorts?: ConsolePorts;
  /** Tests: a change route that does not record its declared audit actions answers 500. */
  readonly strictAudit?: boolean;
  /** Software service timing (tracking config cache, table refresh, drift grace). */
  readonly software?: SoftwareOptions;
  /** Drift history bounds (events kept per report). */
  readonly drift?: DriftOptions;
}

/** Default of ServerConfig.jobTransfer.concurrency. */
export const defaultJobTransferConcurrency = 32;

export interface ComposedServer {
  readonly services: Services;
  readonly app: SteadApp;
  readonly housekeeping: Housekeeping;
  readonly store: DocumentStore;
  /** Where the admin token is, and whether this start created it. */
  readonly adminToken: { readonly path: string; readonly created: boolean; readonly token: string };
  /** A node:http(s) server for the app with the configured timeouts (not listening yet). */
  createHttpServer(tls?: { readonly cert: Buffer; readonly key: Buffer }): http.Server;
  close(): Promise<void>;
}

/** Reads <dataDir>/admin-token, creating it (mode 0600) with a fresh token when missing. */
export async function ensureAdminTokenFile(dataDir: string): Promise<{ path: string; created: boolean; token: string }> {
  const path = join(dataDir, 'admin-token');
  try {
    const token = (await fsp.readFile(path, 'utf8')).trim();
    if (token.length >= 16) return { path, created: false, token };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = newToken('sat_');
  const tmp = `${path}.tmp-${process.pid}`;
  await fsp.writeFile(tmp, `${token}\n`, { mode: 0o600 });
  await fsp.rename(tmp, path);
  return { path, created: true, token };
}

/** Identity cache lifetime on a store no other server writes: a backstop, as every change drops its entry. */
const exclusiveIdentityTtlMs = 10 * 60_000;

/**
 * Builds the server from its configuration. Throws StoreError BAD_CONFIG for a configuration
 * the store refuses (several servers or cluster mode without MongoDB, a data directory another
 * server uses), before anything else is started.
 */
export async function composeServer(config: ServerConfig): Promise<ComposedServer> {
  const clock = config.clock ?? systemClock;
  const log = config.log ?? createLogger({ clock });
  await fsp.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore({
    dataDir: config.dataDir,
    ...(config.mongodbUrl !== undefined ? { mongodbUrl: config.mongodbUrl } : {}),
    ...(config.servers !== undefined ? { servers: config.servers } : {}),
    ...(config.cluster !== undefined ? { cluster: config.cluster } : {}),
    ...(config.storeCheckMs !== undefined ? { startupCheckMs: config.storeCheckMs } : {}),
    onLateCheck: (verdict) => {
      const slog = log.child({ component: 'store' });
      if (verdict instanceof Error) slog.error('the store integrity check could not finish', { err: verdict.message });
      else if (verdict.problems.length > 0) slog.error(`THE STORE IS DAMAGED: ${corrupt(join(config.dataDir, SQLITE_FILE_NAME), verdict.problems).message}`, { problems: verdict.problems.slice(0, 10) });
      else slog.info('store integrity check finished: ok');
    },
  });
  if (store instanceof MongoStore && store.warning !== undefined) log.child({ component: 'store' }).warn(store.warning);
  // Other servers may write a MongoDB store (the embedded one is locked to this process): caches
  // of records they change live briefly, and the last-run index looks for their reports.
  const shared = store instanceof MongoStore;
  try {
    const hostStates = await HostStateService.open(store, clock);
    // Compiles run in a worker thread (started on first use): never on the event loop.
    const worker = config.compiler ? undefined : new WorkerCompiler({ ...(config.secretKey ? { secretKey: config.secretKey } : {}), log: log.child({ component: 'compiler' }), ...(config.compileTimeoutMs !== undefined ? { compileTimeoutMs: config.compileTimeoutMs } : {}), ...(config.validateTimeoutMs !== undefined ? { validateTimeoutMs: config.validateTimeoutMs } : {}), ...(config.compileWorkers !== undefined ? { workers: config.compileWorkers } : {}) });
    const compiler = config.compiler ?? worker!;
    // Blob retention (ADR 0022): puts into the pruned buckets mark the blob first.
    const blobMarks = await BlobMarks.open(store, clock);
    const markedStore = blobMarks.marking(store, new Set(['repo', 'content', 'job_blobs']));
    const revisions = await RevisionService.open(markedStore, config.dataDir, compiler, clock, log.child({ component: 'revisions' }), config.liveTtlMs !== undefined ? { liveTtlMs: config.liveTtlMs } : {});
    const drift = await DriftService.open(store, config.drift ?? {});
    // Compact reports (ADR 0021): the resource ids of every catalog served, to check and expand them.
    const catalogIndex = await CatalogIndexService.open(store, clock);
    const reports = await ReportService.open(store, clock, { beforeStore: (stored) => drift.record(stored), catalogIndex, syncEveryMs: shared ? 2000 : Infinity });
    const gitService = await GitService.open(store, config.dataDir, revisions, clock, log.child({ component: 'git' }), config.gitRootDir !== undefined ? { rootDir: config.gitRootDir } : {});
    // Nonces are claimed in the store as well as in memory, for the freshness window: a request
    // replayed after a restart, or to another server, finds its nonce taken; housekeeping prunes
    // expired claims (ADR 0008). On MongoDB one insert per signed request, which the store
    // refuses when another server holds it; on a store this server has to itself, one row per
    // event-loop turn, read back into memory at start (ADR 0025).
    const nonceWindowMs = config.skewMs ?? 5 * 60_000;
    const sharedNonces = shared ? await SharedNonceStore.open(store) : await NonceLedger.open(store);
    const nonces = new NonceCache(nonceWindowMs, (key, exp, now) => sharedNonces.claim(key, exp, now));
    if (sharedNonces instanceof NonceLedger) {
      const loaded = await sharedNonces.preload(clock.now(), (key, exp) => nonces.remember(key, exp));
      if (loaded > 0) log.info('request nonces of the freshness window loaded', { nonces: loaded });
    }
    const scripts = await ScriptService.open(store, clock, log.child({ component: 'scripts' }));
    // Base scripts ship with the server: created or brought up to date at every start (idempotent).
    // A missing or broken base folder (a packaging error) is logged; the library works without it.
    try {
      const seeded = await scripts.seedBase(config.baseScriptsDir);
      if (seeded.created.length + seeded.updated.length > 0) log.info('base scripts seeded', seeded);
    } catch (err) {
      log.error('the base scripts could not be seeded', { err: (err as Error).message });
    }
    const catalogs = await CatalogService.open(markedStore, revisions, hostStates, log.child({ component: 'catalogs' }), catalogIndex);
    catalogs.setBlobMarks({ touch: (b, ids, sig) => blobMarks.touch(b, ids, sig), now: () => clock.now(), refreshMs: BLOB_MARK_REFRESH_MS });
    const enrollment = await EnrollmentService.open(store, clock, { identityTtlMs: config.identityTtlMs ?? (shared ? 5000 : exclusiveIdentityTtlMs), ...(config.pendingKeyTtlMs !== undefined ? { pendingKeyTtlMs: config.pendingKeyTtlMs } : {}) });
    const auditLog = await AuditLog.open(store, clock);
    const jobCollections = await openJobCollections(markedStore);
    const jobChannel = new JobChannel(jobCollections, clock, config.jobs?.pollRecheckMs !== undefined ? { recheckMs: config.jobs.pollRecheckMs } : {});
    const jobTargets = new TargetResolver(revisions, enrollment, hostStates);
    const audit = await AuditService.open(store, clock, log.child({ component: 'audit' }));
    const accounts = await AccountService.open(store, clock);
    const jobTemplates = new JobTemplates(revisions, hostStates);
    const jobPorts: JobPorts = {
      auditor: config.jobs?.auditor ?? audit,
      scripts: config.jobs?.scripts ?? scripts,
      accounts: config.jobs?.accounts ?? accounts,
      runners: config.jobs?.runners ?? realStepRunners({ templates: jobTemplates, clock }),
    };
    const planDriver = new PlanDriver(jobCollections, clock, jobTargets, jobPorts.runners, jobChannel, log.child({ component: 'jobs' }), config.jobs?.driver ?? {});
    // Scoped operators' targets are checked against the inventory (made below, read late).
    let inventoryRef: InventoryService | undefined;
    const scopes = new ScopeGuard(async (signal) => (inventoryRef ? inventoryRef.all(signal) : []));
    const jobs = new JobService(jobCollections, clock, jobPorts, jobTargets, planDriver, jobChannel, auditLog, scopes);
    const plans = await PlanService.open(store, clock);
    // The inventory (ADR 0018): revisions load with its overlay, group: selectors see its dynamic
    // groups, and a host moved to online runs the on-online plan.
    const inventory = await InventoryService.open(store, { revisions, hostStates, auditLog, clock, log: log.child({ component: 'inventory' }), launcher: planLauncher(jobs, plans) });
    inventoryRef = inventory;
    revisions.setInventory(inventory);
    jobTargets.setInventoryGroups(inventory);
    // Rollouts (ADR 0017): one engine, a target per kind; hosts of started batches of the active
    // revision rollout are served its catalog.
    const rolloutDocs = await openRollouts(store);
    const rolloutTarget: TargetFor = (d) => (d.kind === 'revision' ? new RevisionTarget(d.revision ?? '', d.previous, revisions, reports, jobTargets, (id, by) => gitService.activate(id, by), d.policy.includeInactive === true) : new JobTarget(d.policy.includeInactive === true ? { ...d.job!, includeInactive: true } : d.job!, d.createdBy, jobs, jobTargets));
    const rolloutDriver = new RolloutDriver(rolloutDocs, clock, rolloutTarget, config.rollouts?.probe ?? rolloutProbe(jobPorts.scripts, clock), auditLog, log.child({ component: 'rollouts' }), config.rollouts?.driver ?? {});
    const rollouts = new RolloutService(rolloutDocs, clock, rolloutTarget, rolloutDriver, auditLog, scopes);
    catalogs.setRevisionPin(rollouts);
    // Schedules fire through the job service unless a test passes its own launcher.
    const jobLauncher = config.jobLauncher ?? scheduleLauncher(jobs, plans);
    const compliance = await ComplianceService.open(store, reports, revisions, clock, config.staleAfterMs !== undefined ? { staleAfterMs: config.staleAfterMs } : {});
    const fleetPlans = await FleetPlanService.open(store, config.dataDir, { revisions, hostStates, reports, compiler, clock, log: log.child({ component: 'fleet-plan' }) }, config.fleetPlan ?? {});
    const services: Services = {
      clock,
      nonces,
      sharedNonces,
      enrollLimiter: new RateLimiter(clock, config.enrollPerMinute ?? 120, 60_000),
      enrollment,
      operators: await OperatorAuthService.open(store, clock, { users: await UserService.open(store, clock, auditLog), auditLog }, config.identityTtlMs !== undefined ? { cacheTtlMs: config.identityTtlMs } : {}),
      hostStates,
      reports,
      reportQuota: new ReportQuota(clock, config.reports ?? {}),
      revisions,
      catalogs,
      compliance,
      plans,
      jobTemplates,
      jobTransfers: new TransferLimiter({ maxConcurrent: config.jobTransfer?.concurrency ?? defaultJobTransferConcurrency, bytesPerSecond: config.jobTransfer?.bytesPerSecond ?? 0 }),
      scripts,
      accounts,
      audit,
      schedules: await ScheduleService.open(store, clock, { launcher: jobLauncher }),
      auditLog,
      jobs,
      fleetPlans,
      rollouts,
      git: gitService,
      manifestDrafts: await ManifestDrafts.open(store, config.dataDir, { revisions, compiler, fleetPlans, rollouts, hostStates, git: gitService, auditLog, clock }),
      inventory,
      software: await SoftwareService.open(store, clock, { jobs, rollouts, auditLog }, config.software ?? {}),
      drift,
      dashboard: new DashboardService({ compliance, drift, jobs, rollouts, revisions, clock }),
      blobRetention: new BlobRetention(blobMarks, [
        { name: 'repo', blobs: await markedStore.blobs('repo'), roots: (sig) => revisions.referencedBlobs(sig) },
        { name: 'content', blobs: catalogs.blobStore },
        { name: 'job_blobs', blobs: jobCollections.blobs, roots: (sig) => jobBlobRoots(jobCollections, sig) },
      ], log.child({ component: 'blobs' }), config.blobRetentionMs !== undefined && config.blobRetentionMs > 0 ? { graceMs: config.blobRetentionMs } : config.blobRetentionMs === 0 ? {} : { graceMs: 7 * 86_400_000 }),
    };
    // Agent reports (software) feed the host page's virtual resources; the tables list the
    // effective inventory's hosts (ADR 0018 ports).
    inventory.setAgentInventory(services.software);
    services.software.setInventoryHosts(inventory);
    // A push goes through the same rules as an upload (ADR 0017): refused while a revision
    // rollout runs, `-o batches=…` starts a rollout, and its fleet plan is stored.
    gitService.setPushGuard(() => rollouts.assertNoActiveRevision());
    gitService.setRolloutStarter(
      async (revision, policy, by) => rollouts.startRevision({ revision, previous: await revisions.liveId(), policy }, { name: by }),
      async (revision, policy) => rollouts.checkRevision({ revision, previous: await revisions.liveId(), policy }),
    );
    gitService.onPushAccepted((revision, previous) => void services.fleetPlans.planPublished(revision, previous));
    // Operator changes are recorded in the audit log (base scripts seeded above are not).
    for (const svc of [scripts, accounts, plans, audit, enrollment, gitService, services.schedules]) svc.setAuditLog(auditLog);
    const adminToken = await ensureAdminTokenFile(config.dataDir);
    await services.operators.ensureToken(adminToken.token, 'admin', 'admin');
    const app = createApp({
      services,
      log,
      ...(config.version !== undefined ? { version: config.version } : {}),
      ...(config.skewMs !== undefined ? { skewMs: config.skewMs } : {}),
      ...(config.defaultMetrics !== undefined ? { defaultMetrics: config.defaultMetrics } : {}),
      ...(config.secureCookies !== undefined ? { secureCookies: config.secureCookies } : {}),
      ...(config.unauthenticatedBodyBytes !== undefined ? { unauthenticatedBodyBytes: config.unauthenticatedBodyBytes } : {}),
      privateDirs: [resolve(config.dataDir), await fsp.realpath(config.dataDir)],
      ...(config.consolePorts ? { consolePorts: config.consolePorts } : {}),
      ...(config.strictAudit !== undefined ? { strictAudit: config.strictAudit } : {}),
    });
    const housekeeping = new Housekeeping(services, log.child({ component: 'housekeeping' }), config.housekeeping);
    const { timer, ...runnerOpts } = config.schedules ?? {};
    services.schedules.startRunner(timer ?? systemTimer, log.child({ component: 'schedules' }), runnerOpts);
    // Running jobs resume here: the driver's first tick re-drives every running job.
    planDriver.start();
    // Rollouts resume here: the first tick re-drives every running or waiting rollout.
    rolloutDriver.start();
    return {
      services,
      app,
      housekeeping,
      store,
      adminToken,
      createHttpServer: (tls) => createHttpServer(app.app.callback(), config.http ?? {}, tls),
      async close() {
        jobChannel.close();
        await rolloutDriver.stop();
        await planDriver.stop();
        services.fleetPlans.close();
        await housekeeping.stop();
        await services.schedules.stopRunner();
        await worker?.close();
        await gitService.close();
        await services.fleetPlans.idle(10_000);
        // Handlers still running (long polls just ended, requests whose client left) finish their store calls first.
        await app.idle(10_000);
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
