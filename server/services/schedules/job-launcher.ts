/**
 * The port through which a schedule launches work. The job service (server/services/jobs/)
 * implements it; compose.ts passes it in. Nothing in server/services/schedules knows how jobs run.
 */

/** What a schedule tells the launcher about one fire. */
export interface LaunchMeta {
  /** The schedule's id (stable across renames; JobView.scheduleId). */
  readonly scheduleId: string;
  /** The schedule's name (the audit log's actor of the launch is "schedule:<name>"). Optional for older callers. */
  readonly scheduleName?: string;
  /** `<scheduleId>@<scheduled ms>`: the same for a retried launch of one fire (idempotency key). */
  readonly fireId: string;
  /** The fire time the schedule computed (RFC 3339), not the moment of the launch. */
  readonly scheduledAt: string;
  /** Runs the schedule missed while no server ran, folded into this launch (policy run-once). */
  readonly missedRuns: number;
  /** Set when the schedule runs a saved plan: `body` is then the body of POST /api/v1/plans/:id/run. */
  readonly planId?: string;
}

/**
 * JobLauncher launches a job from a launch body (ADR 0014) or, with `meta.planId`, from a saved
 * plan. It resolves the new job's id, or rejects (audit block, unknown plan, no targets…): the
 * schedule records the message and does not retry that fire. `by` is the operator who created
 * the schedule.
 */
export interface JobLauncher {
  launch(body: unknown, by: string, meta: LaunchMeta): Promise<{ id: string }>;
  /** The current state of a job it launched (for listings); undefined when unknown. Optional. */
  state?(jobId: string): Promise<string | undefined>;
}
