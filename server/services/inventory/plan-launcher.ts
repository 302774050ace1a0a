/**
 * The on-online plan launcher (ports.ts PlanLauncher) over saved job plans and the job service:
 * the plan runs on the one host, in the name of the operator who moved it, keyed by the
 * lifecycle event (the job's fireId), so a retry after a crash answers the first job.
 * `includeInactive`: the launch may run before the live revision shows the host online.
 */
import type { JobLaunch } from '../../../schemas/api/jobs.js';
import { ApiError } from '../../domain/errors.js';
import type { JobService } from '../jobs/job-service.js';
import type { PlanService } from '../jobs/plan-service.js';
import type { PlanLauncher } from './ports.js';

export function planLauncher(jobs: JobService, plans: PlanService): PlanLauncher {
  return {
    async launchOn(plan: string, host: string, by: string, key: string): Promise<string> {
      const id = await plans.resolveId(plan);
      if (id === undefined) throw new ApiError('NOT_FOUND', `the on-online plan ${JSON.stringify(plan.slice(0, 80))} does not exist`);
      const body = { ...((await plans.toLaunchBody(id, { targets: `host:${host}` })) as JobLaunch), includeInactive: true };
      const job = await jobs.launch(body, { principal: { name: by, role: 'admin' }, address: 'inventory:on-online' }, { fireId: `inventory:${key}` });
      return job.id;
    },
  };
}
