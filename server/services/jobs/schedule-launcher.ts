/**
 * The job service as the schedules' JobLauncher (server/services/schedules/job-launcher.ts): a
 * fire launches its stored launch body, or a saved plan with its stored run body, exactly as
 * POST /api/v1/jobs and POST /api/v1/plans/:id/run would, validated again (a plan or the
 * library may have changed since the schedule was saved). The job is launched in the name of
 * the operator who created the schedule, from the address "schedule:<id>". A fire launched
 * again (its server died before recording the launch) answers the job of the first launch.
 */
import { jobLaunchSchema, type JobLaunch } from '../../../schemas/api/jobs.js';
import { planRunSchema, type PlanRun } from '../../../schemas/api/plans.js';
import { compileGuard, type Guard } from '../../../schemas/validate.js';
import { ApiError } from '../../domain/errors.js';
import type { JobLauncher, LaunchMeta } from '../schedules/job-launcher.js';
import type { JobService } from './job-service.js';
import type { PlanService } from './plan-service.js';

const launchGuard: Guard<JobLaunch> = compileGuard(jobLaunchSchema);
const planRunGuard: Guard<PlanRun> = compileGuard(planRunSchema);

function checked<T>(guard: Guard<T>, body: unknown, what: string): T {
  if (guard.is(body)) return body;
  const problems = guard.check(body);
  throw new ApiError('BAD_REQUEST', `the schedule's ${what} is no longer valid: ${problems.map((p) => `${p.path || '/'} ${p.message}`).join('; ').slice(0, 500)}`);
}

export function scheduleLauncher(jobs: JobService, plans: PlanService): JobLauncher {
  return {
    async launch(body: unknown, by: string, meta: LaunchMeta): Promise<{ id: string }> {
      // The job runs in its creator's name; the audit log names the schedule as the actor.
      const actor = { principal: { name: by, role: 'admin' as const }, address: `schedule:${meta.scheduleId}`, auditAs: `schedule:${meta.scheduleName ?? meta.scheduleId}` };
      let launch: JobLaunch;
      if (meta.planId !== undefined) {
        const { approve, ...overrides } = checked(planRunGuard, body ?? {}, 'plan run body');
        const id = await plans.resolveId(meta.planId);
        if (id === undefined) throw new ApiError('NOT_FOUND', `the schedule's plan ${meta.planId} no longer exists`);
        launch = { ...((await plans.toLaunchBody(id, overrides)) as JobLaunch), ...(approve ? { approve } : {}) };
      } else {
        launch = checked(launchGuard, body, 'launch body');
      }
      const job = await jobs.launch(launch, actor, { scheduleId: meta.scheduleId, fireId: meta.fireId });
      return { id: job.id };
    },
    async state(jobId: string): Promise<string | undefined> {
      try {
        return (await jobs.record(jobId)).state;
      } catch {
        return undefined;
      }
    },
  };
}
