/** The services the HTTP edge calls; built by server/compose.ts only. */
import type { BlobRetention } from './blob-retention.js';
import type { Clock } from '../domain/clock.js';
import type { NonceCache } from '../domain/nonce-cache.js';
import type { RateLimiter } from '../domain/rate-limiter.js';
import type { ReportQuota } from '../domain/report-quota.js';
import type { AuditService } from './audit-service.js';
import type { CatalogService } from './catalog-service.js';
import type { ComplianceService } from './compliance-service.js';
import type { EnrollmentService } from './enrollment-service.js';
import type { HostStateService } from './host-state-service.js';
import type { JobTemplates } from './jobs/job-templates.js';
import type { PlanService } from './jobs/plan-service.js';
import type { TransferLimiter } from './jobs/transfer-limiter.js';
import type { OperatorAuthService } from './operator-auth-service.js';
import type { ReportService } from './report-service.js';
import type { ScheduleService } from './schedules/schedule-service.js';
import type { RevisionService } from './revision-service.js';
import type { SharedNonceStore } from './shared-nonce-store.js';
import type { AccountService } from './scripts/account-service.js';
import type { ScriptService } from './scripts/script-service.js';
import type { AuditLog } from './audit-log.js';
import type { JobService } from './jobs/job-service.js';
import type { FleetPlanService } from './fleet-plan/fleet-plan-service.js';
import type { RolloutService } from './rollouts/rollout-service.js';
import type { ManifestDrafts } from './manifests/manifest-drafts.js';
import type { GitService } from './git/git-service.js';
import type { InventoryService } from './inventory/inventory-service.js';
import type { SoftwareService } from './software/software-service.js';
import type { DriftService } from './drift-service.js';
import type { DashboardService } from './dashboard-service.js';

export interface Services {
  readonly clock: Clock;
  readonly nonces: NonceCache;
  /**
   * Nonces claimed in the store (they outlive a restart; on MongoDB every server sees them):
   * `nonces` consults it; housekeeping prunes it. A NonceLedger on a store this server has to itself (ADR 0025).
   */
  readonly sharedNonces?: Pick<SharedNonceStore, 'prune'>;
  /** Enrollments without a bootstrap token, per client address. */
  readonly enrollLimiter: RateLimiter;
  readonly enrollment: EnrollmentService;
  readonly operators: OperatorAuthService;
  readonly hostStates: HostStateService;
  readonly reports: ReportService;
  /** Size and rate limits of one host's reports. */
  readonly reportQuota: ReportQuota;
  readonly revisions: RevisionService;
  readonly catalogs: CatalogService;
  readonly compliance: ComplianceService;
  /** Saved job plans. */
  readonly plans: PlanService;
  /** Renders the template files of a job's files step (FilesStepContext.templates). */
  readonly jobTemplates: JobTemplates;
  /** Limits on serving job blobs: concurrent transfers and total bandwidth. */
  readonly jobTransfers: TransferLimiter;
  /** The script library (base and user scripts, versions). */
  readonly scripts: ScriptService;
  /** Execution accounts (run-as users of jobs). */
  readonly accounts: AccountService;
  /** The script safety audit and its rule settings (issue 9). */
  readonly audit: AuditService;
  /** Schedules (ADR 0014); they fire only on a server given a job launcher. */
  readonly schedules: ScheduleService;
  /** Who did what: launches, approvals, cancels, … */
  readonly auditLog: AuditLog;
  /** Jobs: the operator API, the plan driver and the agent job channel. */
  readonly jobs: JobService;
  /** Fleet plans of revisions and uploads; plans stored at publish, and the surprises reported against them (ADR 0017 §2). */
  readonly fleetPlans: FleetPlanService;
  /** Canary rollouts of revisions and jobs (ADR 0017). */
  readonly rollouts: RolloutService;
  /** The manifest history as git and /git/manifests.git (ADR 0017 §1); absent in embeddings without it. */
  readonly git?: GitService;
  /** Console drafts of manifest edits: check, preview, plan, commit, publish (issue 12); absent in embeddings without it. */
  readonly manifestDrafts?: ManifestDrafts;
  /** The inventory (CMDB, ADR 0018): store records, lifecycle, dynamic groups, import/export, search. */
  readonly inventory: InventoryService;
  /** Software and services: tracking, agent inventory reports, tables, upgrades and service actions (ADR 0018). */
  readonly software: SoftwareService;
  /** Drift history: events per host and resource from every report, top drifted (issue 12). */
  readonly drift: DriftService;
  /** The dashboard model (fleet now, failing hosts, running jobs and rollouts, top drifted). */
  readonly dashboard: DashboardService;
  /** Mark-and-sweep of unreferenced blobs (ADR 0022): stats, and the sweep housekeeping runs. */
  readonly blobRetention: BlobRetention;
}
